"""Combining regions: cross-region ids, cascades, accounting that balances, the stop gate."""

from __future__ import annotations

import pandas as pd
import pytest

from optimal_analysis.ingest import ingest_region
from optimal_analysis.ingest.quality import InputDataError, check_failures, combine_regions
from tests.helpers import CARE_MODELS, TINY, rename_ids, write_region


def _combine(root, regions):
    results = {r: ingest_region(root / r, care_models=CARE_MODELS) for r in regions}
    tables = {r: res.tables for r, res in results.items()}
    fails = pd.concat([res.failures for res in results.values()], ignore_index=True)
    files = {r: {t: f"{r}/{t}.csv" for t in TINY} for r in regions}
    return combine_regions(tables, fails, files)


def _balanced(acc):
    g = acc.groupby(["region", "table"])
    read = g["rows_read"].first()
    assert (g["rows_read"].nunique() == 1).all()
    pd.testing.assert_series_equal(read, g["rows_used"].sum() + g["rows_excluded"].sum(),
                                   check_names=False)


def test_two_clean_regions_stack(tmp_path):
    write_region(tmp_path, "north")
    write_region(tmp_path, "south", rename_ids(TINY, "s"))
    combined, fails, acc = _combine(tmp_path, ["north", "south"])
    assert fails.empty
    assert combined["residents"]["region"].tolist() == ["north"] * 3 + ["south"] * 3
    assert (acc["reason"] == "used").all()
    _balanced(acc)


def test_duplicate_resident_across_regions_sets_aside_both_and_their_events(tmp_path):
    write_region(tmp_path, "north")
    south = rename_ids(TINY, "s")
    south["residents"] = south["residents"].replace("R2s,", "R2,")
    south["contacts"] = south["contacts"].replace("R2s,", "R2,")
    south["admissions"] = south["admissions"].replace("R2s,", "R2,")
    write_region(tmp_path, "south", south)
    combined, fails, acc = _combine(tmp_path, ["north", "south"])
    dup = fails[fails["problem"] == "duplicate_id_across_regions"]
    assert sorted(dup["region"]) == ["north", "south"]
    assert "north line 3" in dup["message"].iloc[0] and "south line 3" in dup["message"].iloc[0]
    assert "R2" not in set(combined["residents"]["resident_id"])
    assert "R2" not in set(combined["contacts"]["resident_id"])
    excl = acc.set_index(["region", "table", "reason"])["rows_excluded"]
    assert excl[("north", "contacts", "resident_excluded")] == 1
    assert excl[("south", "admissions", "resident_excluded")] == 1
    _balanced(acc)


def test_accounting_balances_with_many_reasons(tmp_path):
    res = TINY["residents"].replace("R3,H2,F,88.5", "R3,H2,F,188.5")
    con = TINY["contacts"] + "R1,2014-01-01,gp_visit,1\nR9,2015-01-01,gp_visit,1\n"
    write_region(tmp_path, "north", residents=res, contacts=con)
    _, fails, acc = _combine(tmp_path, ["north"])
    _balanced(acc)
    con_acc = acc[acc["table"] == "contacts"].set_index("reason")
    assert con_acc.loc["used", "rows_used"] == 3
    assert con_acc.loc["resident_excluded", "rows_excluded"] == 1  # R3's contact
    assert con_acc.loc["before_entry", "rows_excluded"] == 1
    assert con_acc.loc["unknown_resident", "rows_excluded"] == 1


def test_stop_mode_message_names_file_line_column_value_and_count(tmp_path):
    res = TINY["residents"].replace("M,90", "M,190").replace("F,88.5", "F,188.5")
    write_region(tmp_path, "north", residents=res)
    _, fails, _ = _combine(tmp_path, ["north"])
    with pytest.raises(InputDataError) as exc:
        check_failures(fails, on_invalid="stop", failures_file="results/data_quality/failures.csv")
    msg = str(exc.value)
    # two rows alike with different values: each value listed with its count
    assert ("north/residents.csv, line 3, column age: age must be between 60 and 115: "
            "'188.5' (1 row), '190' (1 row)") in msg
    assert "(2 rows like this; also lines 4)" in msg
    assert "results/data_quality/failures.csv" in msg
    assert "on_invalid=exclude" in msg
    # exclude mode goes on, and says what it set aside
    summary = check_failures(fails, on_invalid="exclude", failures_file="f.csv")
    assert summary.startswith("2 invalid rows set aside")


def test_fatal_problems_stop_even_in_exclude_mode(tmp_path):
    write_region(tmp_path, "north", admissions=None)
    _, fails, _ = _combine(tmp_path, ["north"])
    with pytest.raises(InputDataError, match="north/admissions.csv: file not found"):
        check_failures(fails, on_invalid="exclude", failures_file="f.csv")


def test_warnings_never_stop(tmp_path):
    homes = TINY["care_homes"].replace("beds\n", "beds,extra\n").replace("30\n", "30,x\n")
    write_region(tmp_path, "north", care_homes=homes.replace("20\n", "20,y\n"))
    _, fails, _ = _combine(tmp_path, ["north"])
    summary = check_failures(fails, on_invalid="stop", failures_file="f.csv")
    assert summary == ("no invalid rows\n1 warning (the run goes on; see f.csv):\n"
                       "  north/care_homes.csv: column extra not in the data contract; ignored")
