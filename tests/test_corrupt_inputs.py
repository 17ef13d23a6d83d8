"""Corrupted inputs: every failure mode of docs/failure-modes.md, in stop and exclude mode.

Each case starts from a valid two-region dataset (tests/helpers.py TINY as
``north`` and a disjoint copy as ``south``), breaks one thing, and checks:

- the failure row: region, file, line, column, value, problem, severity and
  words of the message (and how many rows are alike);
- ``on_invalid: stop``: the run stops (fatal and error) with a message that
  names file, line, column and value, or goes on (warning);
- ``on_invalid: exclude``: fatal still stops; otherwise the run goes on, the
  accounting balances, the bad rows are set aside with their reason, and the
  cohort can be built from what is left.

TINY line numbers (the header is line 1): residents R1 2, R2 3, R3 4;
contacts R1 gp_visit 2, R1 ae 3, R2 ambulance 4, R3 ae 5; admissions R1 2,
R1 3, R2 4; care_homes H1 2, H2 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from optimal_analysis.cohort import make_cohort
from optimal_analysis.ingest.quality import InputDataError, check_failures
from optimal_analysis.io import read_events
from tests.helpers import (
    CARE_MODELS,
    TINY,
    assert_balanced,
    ingest_dataset,
    rename_ids,
    write_region,
)

FAILURES_FILE = "results/data_quality/failures.csv"


def _drop_column(text: str, name: str) -> str:
    rows = [line.split(",") for line in text.splitlines()]
    i = rows[0].index(name)
    return "".join(",".join(c for j, c in enumerate(r) if j != i) + "\n" for r in rows)


def _replace(table: str, old: str, new: str, count: int = 1) -> dict[str, str]:
    assert TINY[table].count(old) >= count, (table, old)
    return {table: TINY[table].replace(old, new, count)}


def _write(root: Path, north: dict[str, str | None] | None = None,
           south: dict[str, str | None] | None = None) -> Path:
    write_region(root, "north", **(north or {}))
    write_region(root, "south", rename_ids(TINY, "s"), **(south or {}))
    return root


@dataclass
class Case:
    """One corruption and its documented outcome."""

    name: str
    north: dict[str, str | None]
    problem: str
    severity: str  # fatal, error, warning
    file: str
    line: int | None
    column: str
    value: str
    words: str  # in the failure message
    count: int = 1  # failures with this problem
    excluded: dict[tuple[str, str], int] = field(default_factory=dict)  # exclude mode
    south: dict[str, str | None] = field(default_factory=dict)
    region: str = "north"


R, C, A, H = TINY["residents"], TINY["contacts"], TINY["admissions"], TINY["care_homes"]

CASES = [
    # --- whole files: fatal in both modes
    Case("missing file", {"residents": None}, "missing_file", "fatal", "north/residents.csv",
         None, "", "", "file not found (expected residents.csv or residents.parquet"),
    Case("empty file", {"contacts": ""}, "unreadable_file", "fatal", "north/contacts.csv", None,
         "", "", "the file is empty (0 bytes)"),
    Case("missing required column", {"residents": _drop_column(R, "sex")}, "missing_column",
         "fatal", "north/residents.csv", None, "", "", "missing required column sex (found: "),
    Case("two missing required columns", {"admissions": _drop_column(_drop_column(A, "method"),
                                                                     "admission_date")},
         "missing_column", "fatal", "north/admissions.csv", None, "", "",
         "missing required columns admission_date, method"),
    Case("semicolon delimiter", {"care_homes": H.replace(",", ";")}, "unreadable_file", "fatal",
         "north/care_homes.csv", None, "", "", "uses semicolons"),
    Case("tab delimiter", {"contacts": C.replace(",", "\t")}, "unreadable_file", "fatal",
         "north/contacts.csv", None, "", "", "uses tabs"),
    Case("row with an extra field", _replace("contacts", "R1,2015-03-01,ae,",
                                             "R1,2015-03-01,ae,,x"),
         "unreadable_file", "fatal", "north/contacts.csv", None, "", "",
         "line 3 has 5 fields but the header has 4"),
    Case("truncated file", {"admissions": A[: A.index("R2,2015-01-05") + 8]}, "unreadable_file",
         "fatal", "north/admissions.csv", None, "", "", "line 4 has 2 fields but the header has 4"),
    Case("column named twice", {"care_homes": H.replace("beds\n", "nursing\n")}, "unreadable_file",
         "fatal", "north/care_homes.csv", None, "", "", "names column 'nursing' more than once"),
    # --- columns and lines that are harmless: warnings
    Case("extra unknown column", {"care_homes": H.replace("beds\n", "beds,postcode\n")
                                  .replace("30\n", "30,AB1\n").replace("20\n", "20,AB2\n")},
         "unknown_column", "warning", "north/care_homes.csv", None, "postcode", "",
         "column postcode not in the data contract; ignored"),
    Case("blank line", {"contacts": C.replace("R2,2015-01-03", "\nR2,2015-01-03")}, "blank_line",
         "warning", "north/contacts.csv", 4, "", "", "the line is empty; ignored",
         excluded={("contacts", "blank_line"): 1}),
    # --- values: errors
    Case("unparseable date", _replace("residents", "2015-06-30", "2015-02-30"), "invalid_date",
         "error", "north/residents.csv", 4, "exit_date", "2015-02-30",
         "exit_date is not a valid date (expected YYYY-MM-DD)",
         excluded={("residents", "invalid_date"): 1, ("contacts", "resident_excluded"): 1}),
    Case("date in another format", _replace("contacts", "2015-02-01", "01/02/2015"),
         "invalid_date", "error", "north/contacts.csv", 2, "contact_date", "01/02/2015",
         "not a valid date (expected YYYY-MM-DD)", excluded={("contacts", "invalid_date"): 1}),
    Case("date before 1990", _replace("admissions", "2015-07-01,2015-07-01",
                                      "2015-07-01,1915-07-01"),
         "date_out_of_range", "error", "north/admissions.csv", 3, "discharge_date", "1915-07-01",
         "outside the plausible range 1990-01-01 to 2100-12-31",
         excluded={("admissions", "date_out_of_range"): 1}),
    Case("date beyond any calendar", _replace("residents", "R1,H1,F,85,true,10,2015-01-01",
                                              "R1,H1,F,85,true,10,3015-01-01"),
         "date_out_of_range", "error", "north/residents.csv", 2, "entry_date", "3015-01-01",
         "outside the plausible range",
         excluded={("residents", "date_out_of_range"): 1, ("contacts", "resident_excluded"): 2,
                   ("admissions", "resident_excluded"): 2}),
    Case("exit before entry", _replace("residents", "2015-01-01,2015-01-10",
                                       "2015-01-11,2015-01-10"),
         "exit_before_entry", "error", "north/residents.csv", 3, "exit_date", "2015-01-10",
         "exit_date 2015-01-10 is before entry_date 2015-01-11",
         excluded={("residents", "exit_before_entry"): 1, ("contacts", "resident_excluded"): 1,
                   ("admissions", "resident_excluded"): 1}),
    Case("unknown exit reason", _replace("residents", "died", "deceased"), "unknown_code", "error",
         "north/residents.csv", 3, "exit_reason", "deceased",
         "exit_reason must be one of died, moved_out, study_end",
         excluded={("residents", "unknown_code"): 1}),
    Case("age out of range", _replace("residents", "M,90", "M,9"), "out_of_range", "error",
         "north/residents.csv", 3, "age", "9", "age must be between 60 and 115",
         excluded={("residents", "out_of_range"): 1}),
    Case("barthel out of range", _replace("residents", ",10,2015", ",25,2015"), "out_of_range",
         "error", "north/residents.csv", 2, "barthel", "25", "barthel must be between 0 and 20",
         excluded={("residents", "out_of_range"): 1, ("contacts", "resident_excluded"): 2}),
    Case("barthel not whole", _replace("residents", ",10,2015", ",10.5,2015"), "invalid_int",
         "error", "north/residents.csv", 2, "barthel", "10.5", "barthel is not a whole number"),
    Case("sex unknown", _replace("residents", "R3,H2,F", "R3,H2,female"), "unknown_code", "error",
         "north/residents.csv", 4, "sex", "female", "sex must be one of F, M"),
    Case("required value empty", _replace("residents", "F,85,true", "F,85,"), "missing_value",
         "error", "north/residents.csv", 2, "dementia", "", "dementia is required but empty"),
    Case("duplicate resident id", {"residents": R + R.splitlines()[2] + "\n"}, "duplicate_id",
         "error", "north/residents.csv", 3, "resident_id", "R2",
         "resident_id appears 2 times in this file (lines 3, 5)", count=2,
         excluded={("residents", "duplicate_id"): 2, ("contacts", "resident_excluded"): 1,
                   ("admissions", "resident_excluded"): 1}),
    Case("duplicate resident id across regions", {},
         "duplicate_id_across_regions", "error", "north/residents.csv", 3, "resident_id", "R2",
         "resident_id is used in more than one region (north line 3, south line 3)", count=2,
         south={t: text.replace("R2s,", "R2,") for t, text in rename_ids(TINY, "s").items()},
         excluded={("residents", "duplicate_id_across_regions"): 1,
                   ("contacts", "resident_excluded"): 1, ("admissions", "resident_excluded"): 1}),
    Case("duplicate care home", {"care_homes": H + "H1,paid_gp,false,12\n"}, "duplicate_id",
         "error", "north/care_homes.csv", 2, "care_home_id", "H1", "appears 2 times", count=2,
         excluded={("care_homes", "duplicate_id"): 2, ("residents", "care_home_excluded"): 1}),
    Case("resident in an unknown care home", _replace("residents", "R1,H1", "R1,H7"),
         "unknown_care_home", "error", "north/residents.csv", 2, "care_home_id", "H7",
         "care_home_id is not in this region's care_homes file",
         excluded={("residents", "unknown_care_home"): 1}),
    Case("care model not in config", _replace("care_homes", "usual_care", "enhanced_care"),
         "unknown_code", "error", "north/care_homes.csv", 2, "care_model", "enhanced_care",
         "care_model is not one of the care models in config (dedicated_team, paid_gp, usual_care)",
         excluded={("care_homes", "unknown_code"): 1, ("residents", "care_home_excluded"): 1,
                   ("contacts", "resident_excluded"): 2, ("admissions", "resident_excluded"): 2}),
    Case("beds zero", _replace("care_homes", "false,20", "false,0"), "out_of_range", "error",
         "north/care_homes.csv", 3, "beds", "0", "beds must be a whole number > 0"),
    Case("contact of an unknown resident", _replace("contacts", "R3,2015-06-01", "R9,2015-06-01"),
         "unknown_resident", "error", "north/contacts.csv", 5, "resident_id", "R9",
         "resident_id is not in this region's residents file",
         excluded={("contacts", "unknown_resident"): 1}),
    Case("admission of a resident of another region",
         _replace("admissions", "R2,2015-01-05", "R2s,2015-01-05"), "unknown_resident", "error",
         "north/admissions.csv", 4, "resident_id", "R2s", "not in this region's residents file",
         excluded={("admissions", "unknown_resident"): 1}),
    Case("n zero", _replace("contacts", "ambulance,1", "ambulance,0"), "out_of_range", "error",
         "north/contacts.csv", 4, "n", "0", "n must be a whole number >= 1",
         excluded={("contacts", "out_of_range"): 1}),
    Case("n negative", _replace("contacts", "gp_visit,2", "gp_visit,-2"), "out_of_range", "error",
         "north/contacts.csv", 2, "n", "-2", "n must be a whole number >= 1"),
    Case("n infinite", _replace("contacts", "gp_visit,2", "gp_visit,inf"), "invalid_int",
         "error", "north/contacts.csv", 2, "n", "inf", "n is not a whole number"),
    Case("unknown service code", _replace("contacts", "gp_visit", "GPV"), "unknown_code", "error",
         "north/contacts.csv", 2, "service", "GPV",
         "service codes not in the contract (data-contract.md) or the region's map "
         "(config service_code_map)", excluded={("contacts", "unknown_code"): 1}),
    Case("overlapping stays", _replace("admissions", "R1,2015-07-01", "R1,2015-03-03"),
         "overlapping_stay", "error", "north/admissions.csv", 3, "admission_date", "2015-03-03",
         "stay starting 2015-03-03 overlaps an earlier stay of the same resident (line 2)",
         excluded={("admissions", "overlapping_stay"): 1}),
    Case("discharge before admission", _replace("admissions", "2015-03-01,2015-03-05",
                                                "2015-03-01,2015-02-05"),
         "discharge_before_admission", "error", "north/admissions.csv", 2, "discharge_date",
         "2015-02-05", "discharge_date 2015-02-05 is before admission_date 2015-03-01",
         excluded={("admissions", "discharge_before_admission"): 1}),
    Case("unknown admission method", _replace("admissions", "elective", "day_case"),
         "unknown_code", "error", "north/admissions.csv", 3, "method", "day_case",
         "method must be one of emergency, elective"),
    # --- events after death: set aside in both modes, with a warning
    Case("contact after death", {"contacts": C + "R2,2015-01-12,gp_visit,1\n"}, "after_death",
         "warning", "north/contacts.csv", 6, "contact_date", "2015-01-12",
         "contact_date 2015-01-12 is after the resident's death on 2015-01-10; set aside",
         excluded={("contacts", "after_death"): 1}),
    Case("admission after death", {"admissions": A.replace("2015-01-05,,", "2015-01-05,2015-01-08,")
                                   + "R2,2015-02-01,2015-02-03,emergency\n"},
         "after_death", "warning", "north/admissions.csv", 5, "admission_date", "2015-02-01",
         "after the resident's death on 2015-01-10", excluded={("admissions", "after_death"): 1}),
    # --- a region folder with no residents
    Case("region with no residents", {"residents": R.splitlines()[0] + "\n",
                                      "contacts": C.splitlines()[0] + "\n",
                                      "admissions": A.splitlines()[0] + "\n"},
         "no_residents", "error", "north/residents.csv", None, "", "",
         "region 'north' has no residents (header only)"),
]


def _case_ids(cases: list[Case]) -> list[str]:
    return [c.name.replace(" ", "_") for c in cases]


@pytest.fixture(scope="module", params=CASES, ids=_case_ids(CASES))
def case_run(request, tmp_path_factory):
    case: Case = request.param
    root = _write(tmp_path_factory.mktemp("case"), case.north, case.south)
    return case, ingest_dataset(root)


def _failure(case: Case, failures: pd.DataFrame) -> pd.DataFrame:
    return failures[failures["problem"] == case.problem]


def test_failure_names_region_file_line_column_value(case_run):
    case, (_, failures, _) = case_run
    found = _failure(case, failures)
    assert len(found) == case.count, failures
    row = found[found["region"] == case.region].iloc[0]
    assert row["file"] == case.file
    assert row["severity"] == case.severity
    assert (None if pd.isna(row["line"]) else int(row["line"])) == case.line
    assert row["column"] == case.column
    if case.line is not None:
        assert row["value"] == case.value
    assert case.words in row["message"], row["message"]
    # nothing else went wrong: the corruption is reported once, as itself
    others = failures[(failures["problem"] != case.problem) & (failures["severity"] != "warning")]
    assert others.empty, others


def _expected_text(case: Case) -> str:
    text = case.file if case.line is None else f"{case.file}, line {case.line}"
    return text + (f", column {case.column}" if case.column and case.line else "")


def test_stop_mode(case_run):
    case, (_, failures, _) = case_run
    if case.severity == "warning":
        summary = check_failures(failures, on_invalid="stop", failures_file=FAILURES_FILE)
        assert summary.startswith("no invalid rows\n")
        assert _expected_text(case) in summary and case.words in summary
        return
    with pytest.raises(InputDataError) as exc:
        check_failures(failures, on_invalid="stop", failures_file=FAILURES_FILE)
    msg = str(exc.value)
    assert msg.startswith("The input data break the data contract: ")
    assert "Nothing was analysed." in msg and FAILURES_FILE in msg
    assert _expected_text(case) in msg and case.words in msg, msg
    if case.line is not None and case.count == 1:
        assert f"value {case.value!r}" in msg
    if case.count > 1 and not case.south:  # rows alike in one file are counted
        assert f"({case.count} rows like this" in msg
    if case.severity == "error":
        assert "--config on_invalid=exclude" in msg


def test_exclude_mode(case_run):
    case, (combined, failures, accounting) = case_run
    assert_balanced(accounting)
    if case.severity == "fatal":
        with pytest.raises(InputDataError) as exc:
            check_failures(failures, on_invalid="exclude", failures_file=FAILURES_FILE)
        assert case.words in str(exc.value)
        assert "stop the run in both on_invalid modes" in str(exc.value)
        return
    summary = check_failures(failures, on_invalid="exclude", failures_file=FAILURES_FILE)
    if case.severity == "error":
        n = int((failures["severity"] == "error").sum())
        assert summary.startswith(f"{n} invalid rows set aside (on_invalid: exclude):\n")
    assert _expected_text(case) in summary
    acc = accounting.set_index(["region", "table", "reason"])["rows_excluded"]
    for (table, reason), n in case.excluded.items():
        assert acc[(case.region, table, reason)] == n, accounting
    # what is left is a valid cohort
    cohort, events = make_cohort(*(combined[t] for t in TINY))
    used = accounting[accounting["reason"] == "used"].groupby("table")["rows_used"].sum()
    assert len(cohort) == used["residents"]
    assert len(events) == used["contacts"] + used["admissions"]


# ---------------------------------------------------------------------------
# failure modes that need more than one edit


def test_wrong_encoding_in_a_row_names_the_line(tmp_path):
    _write(tmp_path)
    homes = H.replace("beds\n", "beds,name\n").replace("30\n", "30,Oak\n")
    homes = homes.replace("20\n", "20,Caf\u00e9 Lodge\n")
    (tmp_path / "north" / "care_homes.csv").write_bytes(homes.encode("cp1252"))
    _, failures, accounting = ingest_dataset(tmp_path)
    f = failures[failures["severity"] == "fatal"]
    assert f[["file", "problem"]].values.tolist() == [["north/care_homes.csv", "unreadable_file"]]
    assert "is not UTF-8 text (line 3 has byte 0xe9" in f["message"].iloc[0]
    assert_balanced(accounting)
    with pytest.raises(InputDataError, match="save it as UTF-8 CSV"):
        check_failures(failures, on_invalid="exclude", failures_file=FAILURES_FILE)


def test_utf16_file_is_not_utf8(tmp_path):
    _write(tmp_path)
    (tmp_path / "south" / "residents.csv").write_text(rename_ids(TINY, "s")["residents"],
                                                      encoding="utf-16")
    _, failures, _ = ingest_dataset(tmp_path)
    f = failures[failures["severity"] == "fatal"]
    assert f["file"].tolist() == ["south/residents.csv"]
    assert "is not UTF-8 text (byte 0xff in the header)" in f["message"].iloc[0]


def test_utf8_bom_crlf_and_spaces_in_the_header_are_fine(tmp_path):
    _write(tmp_path)
    text = "\ufeff" + R.replace("resident_id,care_home_id", "resident_id, care_home_id")
    (tmp_path / "north" / "residents.csv").write_bytes(text.replace("\n", "\r\n").encode())
    combined, failures, _ = ingest_dataset(tmp_path)
    assert failures.empty, failures
    assert combined["residents"]["resident_id"].tolist()[:3] == ["R1", "R2", "R3"]


def test_both_csv_and_parquet_is_fatal(tmp_path):
    _write(tmp_path)
    pd.read_csv(tmp_path / "north" / "contacts.csv").to_parquet(
        tmp_path / "north" / "contacts.parquet")
    _, failures, _ = ingest_dataset(tmp_path)
    f = failures[failures["problem"] == "ambiguous_file"]
    assert f["severity"].tolist() == ["fatal"]
    assert "both contacts.csv and contacts.parquet exist; keep one" in f["message"].iloc[0]


def test_unreadable_parquet_is_fatal(tmp_path):
    _write(tmp_path, north={"admissions": None})
    (tmp_path / "north" / "admissions.parquet").write_bytes(b"PAR1 not really")
    _, failures, _ = ingest_dataset(tmp_path)
    f = failures[failures["severity"] == "fatal"]
    assert f["file"].tolist() == ["north/admissions.parquet"]
    assert "not a readable Parquet file" in f["message"].iloc[0]


def test_blank_line_keeps_later_line_numbers_right(tmp_path):
    con = C.replace("R2,2015-01-03", "\n\nR2,2015-01-03").replace("R3,2015-06-01,ae,1",
                                                                  "R3,2015-06-01,ae,0")
    _write(tmp_path, north={"contacts": con})
    _, failures, accounting = ingest_dataset(tmp_path)
    bad = failures[failures["severity"] == "error"]
    # R3's contact was line 5; two blank lines above it make it line 7
    assert bad[["line", "column", "value"]].values.tolist() == [[7, "n", "0"]]
    assert failures.loc[failures["problem"] == "blank_line", "line"].tolist() == [4, 5]
    assert_balanced(accounting)


def test_unknown_service_codes_are_listed_with_their_counts(tmp_path):
    con = C + "".join(f"R1,2015-04-0{i},XYZ,1\n" for i in range(1, 4)) + "R1,2015-05-01,ABC,2\n"
    _write(tmp_path, north={"contacts": con})
    _, failures, accounting = ingest_dataset(tmp_path)
    with pytest.raises(InputDataError) as exc:
        check_failures(failures, on_invalid="stop", failures_file=FAILURES_FILE)
    assert ("  north/contacts.csv, line 6, column service: service codes not in the contract "
            "(data-contract.md) or the region's map (config service_code_map): "
            "'XYZ' (3 rows), 'ABC' (1 row) (4 rows like this; also lines 7, 8, 9)"
            ) in str(exc.value)
    summary = check_failures(failures, on_invalid="exclude", failures_file=FAILURES_FILE)
    assert "'XYZ' (3 rows), 'ABC' (1 row)" in summary
    acc = accounting.set_index(["region", "table", "reason"])["rows_excluded"]
    assert acc[("north", "contacts", "unknown_code")] == 4
    assert_balanced(accounting)


def test_service_code_map_is_per_region(tmp_path):
    """north maps its local codes; south uses the same local code without a map: an error there."""
    _write(tmp_path, north={"contacts": C.replace("gp_visit", "GPV").replace("ae,", "A&E,")},
           south={"contacts": rename_ids(TINY, "s")["contacts"].replace("gp_visit", "GPV")})
    maps = {"north": {"GPV": "gp_visit", "A&E": "ae"}}
    combined, failures, _ = ingest_dataset(tmp_path, service_code_map=maps)
    assert failures[["region", "line", "value", "problem"]].values.tolist() == [
        ["south", 2, "GPV", "unknown_code"]]
    north = combined["contacts"][combined["contacts"]["region"] == "north"]
    assert sorted(north["service"]) == ["ae", "ae", "ambulance", "gp_visit"]
    # a map onto a code that is not in the contract is no way round the contract
    _, failures, _ = ingest_dataset(tmp_path, service_code_map={"north": {"GPV": "gp_house_call",
                                                                          "A&E": "ae"},
                                                                "south": {"GPV": "gp_visit"}})
    assert failures[["region", "line", "value"]].values.tolist() == [["north", 2, "GPV"]]


def test_care_model_with_no_residents_is_a_warning(tmp_path):
    """paid_gp is in config but no home has it: the run goes on without it."""
    _write(tmp_path)
    combined, failures, accounting = ingest_dataset(tmp_path, care_models=CARE_MODELS)
    assert failures[["region", "file", "column", "problem", "severity"]].values.tolist() == [
        ["", "all regions", "care_model", "care_model_without_residents", "warning"]]
    summary = check_failures(failures, on_invalid="stop", failures_file=FAILURES_FILE)
    assert ("all regions, column care_model: care model 'paid_gp' (config care_models) has no "
            "residents; the result tables have no rows for it") in summary
    cohort, _ = make_cohort(*(combined[t] for t in TINY))
    assert set(cohort["care_model"]) == {"dedicated_team", "usual_care"}
    from optimal_analysis.rates import make_crude_rates

    rates = make_crude_rates(cohort, care_models=CARE_MODELS)
    assert set(rates["care_model"]) - {"all"} == {"dedicated_team", "usual_care"}


def test_reference_care_model_with_no_residents_is_fatal(tmp_path):
    """Every home of usual_care (the reference) set aside: no ratio can be estimated."""
    _write(tmp_path, north={"care_homes": H.replace("true", "perhaps")},
           south={"care_homes": rename_ids(TINY, "s")["care_homes"].replace("true", "perhaps")})
    _, failures, accounting = ingest_dataset(tmp_path, care_models=CARE_MODELS)
    assert_balanced(accounting)
    with pytest.raises(InputDataError) as exc:
        check_failures(failures, on_invalid="exclude", failures_file=FAILURES_FILE)
    msg = str(exc.value)
    assert ("all regions, column care_model: the reference care model 'usual_care' (config "
            "reference_care_model) has no residents") in msg
    assert "set reference_care_model to one of dedicated_team" in msg


def test_region_whose_rows_are_all_set_aside_is_a_warning_in_exclude_mode(tmp_path):
    _write(tmp_path, south={"care_homes": rename_ids(TINY, "s")["care_homes"]
                            .replace("usual_care", "x").replace("dedicated_team", "y")})
    combined, failures, accounting = ingest_dataset(tmp_path)
    warn = failures[failures["problem"] == "region_without_residents"]
    assert warn[["region", "severity"]].values.tolist() == [["south", "warning"]]
    assert "none of its 3 residents can be analysed" in warn["message"].iloc[0]
    summary = check_failures(failures, on_invalid="exclude", failures_file=FAILURES_FILE)
    assert "2 invalid rows set aside" in summary and "none of its 3 residents" in summary
    assert set(combined["residents"]["region"]) == {"north"}
    assert_balanced(accounting)


def test_many_problems_are_reported_together(tmp_path):
    """Every region is read before the gate: the user sees all problems in one run."""
    _write(tmp_path, north=_replace("residents", "M,90", "M,190"),
           south={"contacts": None})
    _, failures, _ = ingest_dataset(tmp_path)
    with pytest.raises(InputDataError) as exc:
        check_failures(failures, on_invalid="stop", failures_file=FAILURES_FILE)
    msg = str(exc.value)
    assert "2 problems in 2 files" in msg
    assert "north/residents.csv, line 3, column age, value '190'" in msg
    assert "south/contacts.csv: file not found" in msg


# ---------------------------------------------------------------------------
# through the real workflow (slow): what a user sees


def _run(data: Path, results: Path, *config: str, target: str):
    from tests.conftest import run_workflow

    proc = run_workflow(data, results, *config, targets=(str(results / target),), check=False)
    return proc, proc.stdout + proc.stderr


@pytest.mark.slow
def test_workflow_stops_on_unmapped_codes_and_goes_on_once_mapped(tmp_path):
    contacts = C.replace("gp_visit", "GPV") + "R1,2015-04-01,TEL,1\nR1,2015-04-02,TEL,1\n"
    _write(tmp_path / "data", north={"contacts": contacts})
    proc, out = _run(tmp_path / "data", tmp_path / "r1", target="interim/cohort.parquet")
    assert proc.returncode != 0
    assert ("north/contacts.csv, line 2, column service: service codes not in the contract "
            "(data-contract.md) or the region's map (config service_code_map): 'TEL' (2 rows), "
            "'GPV' (1 row) (3 rows like this; also lines 6, 7)") in out
    assert "Traceback" not in out
    failures = pd.read_csv(tmp_path / "r1" / "data_quality" / "failures.csv")
    errors = failures[failures["severity"] == "error"]
    assert errors[["line", "value"]].values.tolist() == [[2, "GPV"], [6, "TEL"], [7, "TEL"]]
    # TINY has no paid_gp home: a warning, listed but not stopping
    assert failures.loc[failures["severity"] == "warning", "problem"].tolist() == [
        "care_model_without_residents"]
    assert not (tmp_path / "r1" / "interim" / "cohort.parquet").exists()
    # mapped per region on the command line, the same data run through
    proc, out = _run(tmp_path / "data", tmp_path / "r2",
                     "service_code_map={north: {GPV: gp_visit, TEL: gp_phone}}",
                     target="interim/cohort.parquet")
    assert proc.returncode == 0, out[-3000:]
    events = read_events(sorted((tmp_path / "r2" / "interim" / "regions").glob("*/events.parquet")))
    assert (events["item"] == "gp_phone").sum() == 2


@pytest.mark.slow
def test_workflow_stops_readably_when_the_reference_model_has_no_residents(tmp_path):
    _write(tmp_path / "data", north={"care_homes": H.replace("true", "perhaps")},
           south={"care_homes": rename_ids(TINY, "s")["care_homes"].replace("true", "perhaps")})
    proc, out = _run(tmp_path / "data", tmp_path / "r", "on_invalid=exclude",
                     target="interim/cohort.parquet")
    assert proc.returncode != 0
    assert "the reference care model 'usual_care' (config reference_care_model) has no " \
           "residents" in out
    assert "Traceback" not in out


@pytest.mark.slow
def test_workflow_without_one_care_model_warns_and_tables_lack_it(tmp_path):
    """paid_gp is in config, but the dataset has no paid_gp home: a warning, then results."""
    from tests.conftest import make_synthetic
    from tests.helpers import workflow_targets

    data = make_synthetic(tmp_path / "data", n_residents=160, n_homes=6, seed=3,
                          regions={"north": "dedicated_team", "south": "usual_care"})
    results = tmp_path / "r"
    wanted = [t for t in workflow_targets(data, results)
              if t in ("tables/crude_rates.csv", "tables/rate_ratios.csv", "tables/costs.csv")]
    assert "tables/crude_rates.csv" in wanted
    from tests.conftest import run_workflow

    proc = run_workflow(data, results, targets=tuple(str(results / t) for t in wanted),
                        check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    checked = (results / "data_quality" / "check_input.txt").read_text()
    assert "care model 'paid_gp' (config care_models) has no residents; the result tables " \
           "have no rows for it" in checked
    for t in wanted:
        table = pd.read_csv(results / t)
        models = set(table["care_model"] if "care_model" in table else table["term"])
        assert "paid_gp" not in models and models & {"dedicated_team", "usual_care"}, (t, models)
