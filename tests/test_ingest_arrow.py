"""Arrow-native ingest (ingest/parse.py): the same failures and marked tables as before.

The reference is the ingest before this change (commit a770b63), stored as
``tests/reference/ingest_equivalence/expected.json.gz`` for corrupted datasets
in CSV and Parquet (see that folder's ``make_expected.py``); the unit tests
compare each fast path with the rule it replaces
(:func:`optimal_analysis.ingest.schemas.parse_column`, pandera's lazy validation).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from optimal_analysis.ingest import ingest_region, parse, schemas
from optimal_analysis.ingest.read import read_raw
from tests.helpers import CARE_MODELS, TINY, write_region

REF = Path(__file__).parent / "reference" / "ingest_equivalence"

JUNK = ["", " ", "  x ", "\u00a0", "\u00a0R1", "R1\u3000", "\t", "NA", "x", "é", "-1", "0", "1",
        "1.5", "1.0", "2e0", "1e400", "inf", "-inf", "nan", "+3", "99999999999999999999", "1,000",
        "true", "TRUE", " Yes ", "n", "maybe", "2015-13-45", "2015-02-29", "2016-02-29",
        "31/12/2014", "1900-01-01", "2300-01-01", "1600-01-01", "99999-01-01", "2014-4-5",
        "20140405", "2014-04-05 10:00", " 2014-06-01 ", "2014-06-01"]


def _load_reference_module():
    spec = importlib.util.spec_from_file_location("make_expected", REF / "make_expected.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixture_datasets_give_the_failures_and_marked_tables_of_before():
    """Every region of the corrupted fixtures: failures and marked tables, value for value."""
    make_expected = _load_reference_module()
    with gzip.open(REF / "expected.json.gz", "rt", encoding="utf-8") as fh:
        expected = json.load(fh)
    got = json.loads(json.dumps(make_expected.ingest_all(REF / "data"), sort_keys=True))
    # a missing file's message names the folder: where the fixtures were when the expected
    # values were made, and where this checkout keeps them, are the same folder
    for parts in (expected, got):
        for value in parts.values():
            value["failures"]["message"] = [
                re.sub(r" in \S*ingest_equivalence/data/", " in <fixtures>/", m)
                for m in value["failures"]["message"]]
    assert got.keys() == expected.keys()
    for key in expected:
        for part in expected[key]:
            assert got[key][part] == expected[key][part], (key, part)
    problems = {p for v in expected.values() for p in v["failures"]["problem"]}
    # the fixtures reach every kind of cell and row failure (guards the test's reach)
    assert {"invalid_date", "date_layout", "date_out_of_range", "invalid_int", "invalid_float",
            "invalid_bool", "invalid_icd10", "unknown_code", "missing_value", "out_of_range",
            "duplicate_id", "blank_line", "unknown_resident", "unknown_care_home",
            "place_without_death", "exit_before_entry", "unknown_column"} <= problems
    formats = {p.suffix for p in (REF / "data").rglob("*.*") if p.suffix != ".json"}
    assert formats == {".csv", ".parquet"}


def _reference_text(values: list) -> pd.Series:
    return pd.Series(values, dtype="string[pyarrow]")


@pytest.mark.parametrize("kind", ["string", "date", "bool", "int", "float"])
def test_arrow_text_parses_as_the_reference_rule(kind):
    rng = np.random.default_rng(7)
    values = _reference_text(list(rng.choice(JUNK, size=500)) + [None])
    parsed, bad = parse.parse_column(values, kind, schemas.parse_column)
    ref_parsed, ref_bad = schemas.parse_column(values.astype(object), kind)
    assert parsed.astype(object).where(parsed.notna(), None).tolist() == \
        ref_parsed.astype(object).where(ref_parsed.notna(), None).tolist()
    assert bad.tolist() == ref_bad.tolist()
    assert bad.any() or kind == "string"
    if kind == "string":
        assert parsed.dtype == "string[pyarrow]" and parsed.array.dtype.storage == "pyarrow"


def test_text_dates_and_typed_dates_are_parsed_once_per_distinct_value():
    seen = []

    def spy(values, kind):
        seen.append(len(values))
        return schemas.parse_column(values, kind)

    text = _reference_text(["2015-01-01", "2015-01-02", "2300-01-01"] * 10_000)
    parsed, bad = parse.parse_column(text, "date", spy)
    days = pa.array([16436, 16437, None] * 10_000, pa.date32())
    typed = pd.Series(days.to_pandas(types_mapper=pd.ArrowDtype))
    parsed_typed, bad_typed = parse.parse_column(typed, "date", spy)
    assert seen == [3, 2]  # distinct values only (a missing typed date is not parsed)
    assert bad.sum() == 10_000  # beyond a nanosecond timestamp: not a date of the data
    assert parsed.iloc[:2].tolist() == [pd.Timestamp("2015-01-01"), pd.Timestamp("2015-01-02")]
    assert not bad_typed.any() and parsed_typed.isna().sum() == 10_000
    assert parsed_typed.iloc[1] == pd.Timestamp("2015-01-02")


def test_typed_parquet_date_beyond_timestamps_is_reported_as_before(tmp_path):
    """A date32 of 2300 cannot be a nanosecond timestamp: date_out_of_range, value as read."""
    folder = write_region(tmp_path, "north", contacts=None)
    days = pa.array([16467, 120000, 16436, None], pa.date32())  # 2015-02-01, 2298-07-20, ...
    pq.write_table(pa.table({"resident_id": ["R1", "R1", "R2", "R3"], "contact_date": days,
                             "service": ["gp_visit", "ae", "ambulance", "ae"],
                             "n": pa.array([2, 1, 1, None], pa.int64())}),
                   folder / "contacts.parquet")
    r = ingest_region(folder, care_models=CARE_MODELS)
    f = r.failures.set_index("problem")
    assert f.loc["date_out_of_range", "line"] == 2
    assert f.loc["date_out_of_range", "value"] == "2298-07-20"
    assert f.loc["missing_value", "line"] == 4 and f.loc["missing_value", "value"] == ""
    contacts = r.tables["contacts"]
    assert contacts["contact_date"].iloc[0] == pd.Timestamp("2015-02-01")
    assert contacts["n"].tolist() == [2, 1, 1, 1]  # a missing n is 1


def _as_table(text: str) -> pd.DataFrame:
    from io import StringIO

    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def test_typed_and_text_parquet_and_csv_give_the_same_marked_tables(tmp_path):
    csv_dir = write_region(tmp_path, "csv")
    text_dir, typed_dir = tmp_path / "text", tmp_path / "typed"
    text_dir.mkdir()
    typed_dir.mkdir()
    kinds = {c.name: c.kind for t in schemas.COLUMNS.values() for c in t}
    for table, text in TINY.items():
        df = _as_table(text)
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False),
                       text_dir / f"{table}.parquet")
        cols = {}
        for c in df.columns:
            s = df[c].replace("", None)
            if kinds[c] == "date":
                cols[c] = pa.array(pd.to_datetime(s).dt.date, pa.date32())
            elif kinds[c] in ("int", "float"):
                cols[c] = pa.array(pd.to_numeric(s), pa.float64() if kinds[c] == "float"
                                   else pa.int64(), from_pandas=True) \
                    if kinds[c] == "float" or s.notna().all() else \
                    pa.array(pd.to_numeric(s), pa.float64(), from_pandas=True)
            elif kinds[c] == "bool":
                cols[c] = pa.array(s.str.lower().isin(["true", "yes", "1"]), pa.bool_())
            else:
                cols[c] = pa.array(s, pa.string())
        pq.write_table(pa.table(cols), typed_dir / f"{table}.parquet")
    runs = {d.name: ingest_region(d, care_models=CARE_MODELS)
            for d in (csv_dir, text_dir, typed_dir)}
    for r in runs.values():
        assert r.failures.empty
    for table in TINY:
        base = runs["csv"].tables[table].assign(_line=lambda d: d["_line"] - 1)  # header line
        for name in ("text", "typed"):
            pd.testing.assert_frame_equal(runs[name].tables[table], base)
    assert runs["typed"].tables["residents"]["resident_id"].dtype == "string[pyarrow]"


def test_csv_bom_crlf_quotes_and_a_quoted_newline_read_as_before(tmp_path):
    text = ('\ufeff"care_home_id","care_model","nursing","beds"\r\n'
            '"H1","usual_care",TRUE,"30"\r\n'
            'H2," dedicated_team ",false,20\r\n'
            'H3,"paid_gp, x",no,\r\n'
            '"H4","paid\n_gp",yes,3\r\n'
            ' , ,\t, \r\n')
    folder = write_region(tmp_path, "north", care_homes=text)
    raw = read_raw(folder / "care_homes.csv")
    assert list(raw.columns) == ["care_home_id", "care_model", "nursing", "beds", "_line"]
    assert raw["care_model"].tolist()[2:4] == ["paid_gp, x", "paid\n_gp"]
    assert raw["_line"].tolist() == [2, 3, 4, 5, 6]
    r = ingest_region(folder, care_models=CARE_MODELS)
    homes = r.tables["care_homes"]
    assert homes["care_model"].tolist()[:2] == ["usual_care", "dedicated_team"]
    assert homes["nursing"].tolist()[:4] == [True, False, False, True]
    f = r.failures
    unknown = f[f["problem"] == "unknown_code"]
    assert unknown[["line", "value"]].values.tolist() == [[4, "paid_gp, x"], [5, "paid\n_gp"]]
    blank = f[f["problem"] == "blank_line"]
    assert blank["line"].tolist() == [6] and blank["severity"].tolist() == ["warning"]
    assert homes["_reason"].tolist()[4] == "blank_line"


def test_failing_cells_follow_pandera_lazy_validation():
    """Same (column, check) groups, in the same order, with the same rows in the same order."""
    rng = np.random.default_rng(3)
    n = 200
    df = pd.DataFrame({
        "resident_id": pd.array(np.where(rng.random(n) < 0.1, None, "R"), dtype="string"),
        "contact_date": pd.Series(pd.to_datetime(
            rng.choice(["2015-01-01", "1980-01-01", "2200-01-01", None], size=n))
            ).astype("datetime64[ns]"),
        "service": pd.array(rng.choice(["ae", "gp_visit", "GPV", None], size=n).tolist(),
                            dtype="string"),
        "n": pd.array(rng.choice([1, 0, -1, 3], size=n), dtype="Int64"),
    })
    schema = schemas.input_schema("contacts", CARE_MODELS)
    with pytest.raises(pandera.errors.SchemaErrors) as exc:
        schema.validate(df, lazy=True)
    cases = exc.value.failure_cases
    expected = [(col, str(check), grp["index"].astype(np.int64).unique().tolist())
                for (col, check), grp in cases.groupby(["column", "check"], sort=False)]
    arrow = df.astype({"resident_id": "string[pyarrow]", "service": "string[pyarrow]"})
    got = [(col, check, pos.tolist()) for col, check, pos in parse.failing_cells(arrow, schema)]
    assert got == expected
    assert len(expected) == 6 and sum(len(p) for *_, p in expected) > 100


def test_service_code_map_applies_to_whole_values_once_per_distinct_value():
    values = _reference_text([" GPV", "GPV", "gpv", None, "", "ae"])
    mapping = {"GPV": "gp_visit", "": "ae"}
    mapped = parse.map_codes(values, mapping)
    reference = values.astype("string[python]").str.strip().replace(mapping)  # the rule before
    assert mapped.tolist() == reference.tolist()
    assert mapped.tolist() == ["gp_visit", "gp_visit", "gpv", pd.NA, "ae", "ae"]
    assert mapped.dtype == "string[pyarrow]"
