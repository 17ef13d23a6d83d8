"""Ingest of one region: parsing, column rules, row rules, messages that name the problem."""

from __future__ import annotations

import pandas as pd
import pytest

from optimal_analysis.ingest import ingest_region
from tests.helpers import CARE_MODELS, TINY, write_region


def _drop_column(text, i):
    return "".join(",".join(c for j, c in enumerate(line.split(",")) if j != i) + "\n"
                   for line in text.splitlines())


def _ingest(folder, **kw):
    return ingest_region(folder, care_models=CARE_MODELS, **kw)


def _fail(result, problem):
    f = result.failures
    return f[f["problem"] == problem]


def test_clean_region_has_no_failures_and_parses_types(tmp_path):
    r = _ingest(write_region(tmp_path, "north"))
    assert r.failures.empty
    res = r.tables["residents"]
    assert res["_reason"].isna().all()
    assert res["_line"].tolist() == [2, 3, 4]  # header is line 1
    assert res["dementia"].tolist() == [True, False, True]  # "yes" is true
    assert res["barthel"].isna().tolist() == [False, True, False]
    assert str(res["entry_date"].dtype) == "datetime64[ns]"
    # a missing n defaults to 1
    assert r.tables["contacts"]["n"].tolist() == [2, 1, 1, 1]


def test_unparseable_date_names_file_line_column_value(tmp_path):
    bad = TINY["residents"].replace("2015-06-30,moved_out", "2015-02-30,moved_out")
    r = _ingest(write_region(tmp_path, "north", residents=bad))
    f = _fail(r, "invalid_date")
    assert f[["file", "line", "column", "value"]].values.tolist() == [
        ["north/residents.csv", 4, "exit_date", "2015-02-30"]]
    assert "not a valid date" in f["message"].iloc[0]
    # the resident is set aside, and so are its events (cascade, not failures)
    assert r.tables["residents"].set_index("resident_id").loc["R3", "_reason"] == "invalid_date"
    c = r.tables["contacts"]
    assert c.loc[c["resident_id"] == "R3", "_reason"].tolist() == ["resident_excluded"]


@pytest.mark.parametrize(
    ("table", "old", "new", "problem", "column", "value"),
    [
        ("residents", "R2,H2,M,90", "R2,H2,M,130", "out_of_range", "age", "130"),
        ("residents", ",4,2015-06-01", ",21,2015-06-01", "out_of_range", "barthel", "21"),
        ("residents", "R2,H2,M,", "R2,H2,X,", "unknown_code", "sex", "X"),
        ("residents", "2015-01-10,died", "2015-01-10,dead", "unknown_code", "exit_reason", "dead"),
        ("residents", "R2,H2,M,90,false", "R2,H2,M,90,maybe", "invalid_bool", "dementia", "maybe"),
        ("residents", "R2,H2,M,90", "R2,H2,M,ninety", "invalid_float", "age", "ninety"),
        ("residents", "R2,H2,M,90,false,,2015-01-01", "R2,H2,M,90,false,,1015-01-01",
         "date_out_of_range", "entry_date", "1015-01-01"),
        ("residents", "R2,H2,", "R2,H9,", "unknown_care_home", "care_home_id", "H9"),
        ("residents", "2015-01-01,2015-01-10", "2015-01-11,2015-01-10", "exit_before_entry",
         "exit_date", "2015-01-10"),
        ("residents", "R3,H2", "R2,H2", "duplicate_id", "resident_id", "R2"),
        ("care_homes", "H2,dedicated_team", "H2,integrated_care", "unknown_code", "care_model",
         "integrated_care"),
        ("care_homes", "false,20", "false,0", "out_of_range", "beds", "0"),
        ("contacts", "R3,2015-06-01,ae,1", "R3,2015-06-01,ae,0", "out_of_range", "n", "0"),
        ("contacts", "R3,2015-06-01,ae,1", "R3,2015-06-01,ae,-2", "out_of_range", "n", "-2"),
        ("contacts", "R3,2015-06-01,ae,1", "R3,2015-06-01,ae,1.5", "invalid_int", "n", "1.5"),
        ("contacts", "R3,2015-06-01,ae", "R3,2015-06-01,walk_in", "unknown_code", "service",
         "walk_in"),
        ("contacts", "R3,2015-06-01", "R9,2015-06-01", "unknown_resident", "resident_id", "R9"),
        ("admissions", "2015-07-01,2015-07-01", "2015-07-01,2015-06-01",
         "discharge_before_admission", "discharge_date", "2015-06-01"),
        ("admissions", "R1,2015-07-01", "R1,2015-03-03", "overlapping_stay", "admission_date",
         "2015-03-03"),
        ("admissions", "elective", "planned", "unknown_code", "method", "planned"),
    ],
)
def test_each_bad_value_is_reported_with_its_line(tmp_path, table, old, new, problem, column,
                                                  value):
    assert old in TINY[table]
    r = _ingest(write_region(tmp_path, "north", **{table: TINY[table].replace(old, new, 1)}))
    f = _fail(r, problem)
    assert len(f) >= 1, r.failures
    row = f.iloc[-1]
    assert (row["file"], row["column"], row["value"]) == (f"north/{table}.csv", column, value)
    lines = TINY[table].replace(old, new, 1).splitlines()
    assert new in lines[int(row["line"]) - 1]  # the line number points at the bad row
    assert row["severity"] == "error"
    assert row["message"]
    assert (r.tables[table]["_reason"] == problem).sum() >= 1


def test_transfer_on_discharge_day_is_not_an_overlap(tmp_path):
    adm = TINY["admissions"] + "R1,2015-03-05,2015-03-08,emergency\n"
    r = _ingest(write_region(tmp_path, "north", admissions=adm))
    assert _fail(r, "overlapping_stay").empty


def test_stay_without_discharge_overlaps_a_later_one(tmp_path):
    adm = TINY["admissions"] + "R1,2015-08-01,,emergency\nR1,2015-09-01,2015-09-02,elective\n"
    r = _ingest(write_region(tmp_path, "north", admissions=adm))
    assert _fail(r, "overlapping_stay")["line"].tolist() == [6]


def test_events_outside_follow_up_are_set_aside_and_after_death_warned(tmp_path):
    con = (TINY["contacts"] + "R2,2015-02-01,gp_visit,1\nR1,2014-12-31,gp_visit,1\n"
           "R3,2015-07-05,ae,1\n")
    r = _ingest(write_region(tmp_path, "north", contacts=con))
    # only the contact after R2's death (2015-01-10) is a failure, and only a warning
    assert r.failures[["line", "column", "value", "problem", "severity"]].values.tolist() == [
        [6, "contact_date", "2015-02-01", "after_death", "warning"]]
    assert "after the resident's death on 2015-01-10" in r.failures["message"].iloc[0]
    reasons = r.tables["contacts"]["_reason"].tolist()[-3:]
    assert reasons == ["after_death", "before_entry", "after_exit"]


@pytest.mark.parametrize(
    ("override", "problem", "words"),
    [
        ({"residents": None}, "missing_file", "file not found"),
        ({"contacts": ""}, "unreadable_file", "empty"),
        ({"residents": _drop_column(TINY["residents"], 2)}, "missing_column",
         "missing required column sex"),
        ({"care_homes": TINY["care_homes"].replace(",", ";")}, "unreadable_file", "semicolons"),
    ],
)
def test_unusable_files_are_fatal_with_a_reason(tmp_path, override, problem, words):
    r = _ingest(write_region(tmp_path, "north", **override))
    f = _fail(r, problem)
    assert len(f) == 1 and f["severity"].iloc[0] == "fatal"
    assert words in f["message"].iloc[0]


def test_not_utf8_is_fatal(tmp_path):
    folder = write_region(tmp_path, "north")
    (folder / "residents.csv").write_bytes(
        TINY["residents"].replace("resident_id", "r\xe9sident_id").encode("latin-1"))
    r = _ingest(folder)
    f = _fail(r, "unreadable_file")
    assert "UTF-8" in f["message"].iloc[0]


def test_extra_column_is_a_warning_and_ignored(tmp_path):
    homes = TINY["care_homes"].replace("beds\n", "beds,postcode\n").replace("30\n", "30,AB1\n")
    homes = homes.replace("20\n", "20,AB2\n")
    r = _ingest(write_region(tmp_path, "north", care_homes=homes))
    assert r.failures["severity"].tolist() == ["warning"]
    assert "postcode" in r.failures["message"].iloc[0]
    assert "postcode" not in r.tables["care_homes"].columns
    assert r.tables["care_homes"]["_reason"].isna().all()


def test_service_code_map_applies_before_validation(tmp_path):
    con = TINY["contacts"].replace("gp_visit", "GPV")
    r = _ingest(write_region(tmp_path, "north", contacts=con), service_code_map={"GPV": "gp_visit"})
    assert r.failures.empty
    assert "gp_visit" in r.tables["contacts"]["service"].tolist()


def test_parquet_input_matches_csv(tmp_path):
    csv_dir = write_region(tmp_path / "csv", "north")
    pq_dir = tmp_path / "pq" / "north"
    pq_dir.mkdir(parents=True)
    for name in TINY:
        df = pd.read_csv(csv_dir / f"{name}.csv")
        for col in [c for c in df.columns if c.endswith("_date")]:
            df[col] = pd.to_datetime(df[col])
        if name == "residents":
            df["dementia"] = df["dementia"].map({"true": True, "false": False, "yes": True})
        df.to_parquet(pq_dir / f"{name}.parquet")
    a, b = _ingest(csv_dir), _ingest(pq_dir)
    assert b.failures.empty
    for name in TINY:
        cols = [c for c in a.tables[name].columns if c != "_line"]
        pd.testing.assert_frame_equal(a.tables[name][cols], b.tables[name][cols],
                                      check_dtype=False)
