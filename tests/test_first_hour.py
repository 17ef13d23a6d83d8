"""A commissioner's first hour (issue 15): dates in another layout, exclude mode that would
drop a region, start-up config errors, clear last lines. Each message's text is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from optimal_analysis.ingest import check_failures, ingest_region
from optimal_analysis.ingest.share import check_excluded_share
from tests.conftest import REPO, run_workflow
from tests.helpers import CARE_MODELS, TINY, ingest_dataset, rename_ids, write_region

ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _ddmmyyyy(text: str) -> str:
    return ISO.sub(lambda m: f"{m[3]}/{m[2]}/{m[1]}", text)


def _excel_saved(tables: dict[str, str]) -> dict[str, str]:
    """The tables as a spreadsheet saves them: every date DD/MM/YYYY."""
    return {k: _ddmmyyyy(v) for k, v in tables.items()}


def _dataset(root: Path, north: dict[str, str] | None = None,
             south: dict[str, str] | None = None) -> Path:
    write_region(root, "north", north or TINY)
    write_region(root, "south", south or rename_ids(TINY, "s"))
    return root


# ---------------------------------------------------------------------------
# function level


def test_dates_in_another_layout_are_named_with_the_fix(tmp_path):
    _dataset(tmp_path, north=_excel_saved(TINY))
    res = ingest_region(tmp_path / "north", care_models=CARE_MODELS)
    layout = res.failures[res.failures["problem"] == "date_layout"]
    # every date cell of every table: 3 residents x 2, 4 contacts, 3 admissions + 2 discharges
    assert len(layout) == 15
    assert set(layout["table"]) == {"residents", "contacts", "admissions"}
    # contacts alone (all days <= 12) would be ambiguous: the region's files decide together
    advice = ("the dates are DD/MM/YYYY (e.g. '01/01/2015', '01/06/2015'; this layout reads "
              "100% of 15 values), not YYYY-MM-DD: save them as YYYY-MM-DD, or declare the "
              'layout: --config "date_format={north: DD/MM/YYYY}"')
    contacts = layout[layout["table"] == "contacts"]
    assert contacts["message"].iloc[0] == ("contact_date is not a valid date (expected "
                                           f"YYYY-MM-DD); {advice}")
    with pytest.raises(Exception) as exc:
        check_failures(res.failures, on_invalid="stop", failures_file="failures.csv")
    msg = str(exc.value)
    assert advice in msg
    assert ("Dates in another layout are not invalid rows: declare the layout (config "
            "date_format, per region) or save the dates as YYYY-MM-DD; setting them aside "
            "would drop every row they are in.") in msg
    assert "on_invalid=exclude" not in msg  # the advice that loses a region is not given


def test_a_declared_layout_reads_the_region(tmp_path):
    _dataset(tmp_path, north=_excel_saved(TINY))
    res = ingest_region(tmp_path / "north", care_models=CARE_MODELS, date_format="DD/MM/YYYY")
    assert res.failures.empty or (res.failures["severity"] != "error").all()
    iso = ingest_region(tmp_path / "south", care_models=CARE_MODELS)
    assert (res.tables["residents"]["entry_date"].tolist()
            == iso.tables["residents"]["entry_date"].tolist())
    # a cell that is not a date in the declared layout says so
    bad = _excel_saved(TINY) | {"contacts": _ddmmyyyy(TINY["contacts"]).replace(
        "01/03/2015", "2015-03-01")}
    write_region(tmp_path, "west", rename_ids(bad, "w"))
    res = ingest_region(tmp_path / "west", care_models=CARE_MODELS, date_format="DD/MM/YYYY")
    err = res.failures[res.failures["severity"] == "error"]
    assert err[["line", "value", "problem", "message"]].values.tolist() == [
        [3, "2015-03-01", "invalid_date",
         "contact_date is not a valid date in the declared layout DD/MM/YYYY (config "
         "date_format)"]]


def test_a_typo_in_an_iso_file_is_not_a_layout(tmp_path):
    _dataset(tmp_path, north={**TINY, "residents": TINY["residents"].replace(
        "2015-06-30", "2015-06-31")})
    res = ingest_region(tmp_path / "north", care_models=CARE_MODELS)
    err = res.failures[res.failures["severity"] == "error"]
    assert err[["problem", "message"]].values.tolist() == [
        ["invalid_date", "exit_date is not a valid date (expected YYYY-MM-DD)"]]


def test_unknown_care_model_suggests_adding_it(tmp_path):
    homes = TINY["care_homes"].replace("H2,dedicated_team", "H2,hub_model")
    _dataset(tmp_path, north={**TINY, "care_homes": homes})
    res = ingest_region(tmp_path / "north", care_models=CARE_MODELS)
    err = res.failures[res.failures["problem"] == "unknown_code"]
    assert err["message"].tolist() == [
        "care_model is not one of the care models in config (dedicated_team, paid_gp, "
        "usual_care); if it is a care model of the study, add it to care_models: --config "
        '"care_models=[dedicated_team, paid_gp, usual_care, hub_model]"; otherwise correct the '
        "value"]


def test_exclude_mode_stops_when_a_region_is_mostly_set_aside(tmp_path):
    # south: both homes' care model unknown -> every south resident, contact and stay set aside
    south = rename_ids(TINY, "s")
    south["care_homes"] = south["care_homes"].replace("usual_care", "hub").replace(
        "dedicated_team", "hub")
    _dataset(tmp_path, south=south)
    _, failures, accounting = ingest_dataset(tmp_path)
    check_failures(failures, on_invalid="exclude", failures_file="f.csv")  # rows alone: fine
    with pytest.raises(Exception) as exc:
        check_excluded_share(accounting, failures, max_share=0.05, failures_file="f.csv")
    msg = str(exc.value)
    assert msg.startswith("on_invalid=exclude would set aside more than 5% of the rows of "
                          "region 'south' (config max_excluded_share); nothing was analysed.")
    assert ("  region 'south', residents: 3 of 3 rows (100%) would be set aside: their care "
            "home was set aside (3 rows)") in msg
    assert ("  region 'south', care_homes: 2 of 2 rows (100%) would be set aside: care_model: "
            "care_model is not one of the care models in config") in msg
    assert "north" not in msg.split("\n", 1)[1]


# ---------------------------------------------------------------------------
# through the workflow: what a user sees, and that it stops


def _tail(out: str, n: int = 3) -> list[str]:
    return [line for line in out.strip().splitlines() if line.strip()][-n:]


@pytest.mark.slow
def test_workflow_on_an_excel_saved_extract(tmp_path):
    data = _dataset(tmp_path / "data", north=_excel_saved(TINY))
    cohort = "interim/cohort.parquet"
    # stop mode: the layout and the fix are named, and the output ends with them
    proc = run_workflow(data, tmp_path / "r1", targets=(str(tmp_path / "r1" / cohort),),
                        check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert 'declare the layout: --config "date_format={north: DD/MM/YYYY}"' in out
    assert _tail(out, 1)[0].startswith("Every problem is listed in")
    assert "Dates in another layout are not invalid rows" in _tail(out, 1)[0]
    # exclude mode, as the old message advised: stops instead of dropping north
    proc = run_workflow(data, tmp_path / "r2", "on_invalid=exclude",
                        targets=(str(tmp_path / "r2" / cohort),), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert ("on_invalid=exclude would set aside more than 5% of the rows of region 'north' "
            "(config max_excluded_share); nothing was analysed.") in out
    assert "  region 'north', residents: 3 of 3 rows (100%) would be set aside: entry_date: " \
           "entry_date is not a valid date (expected YYYY-MM-DD); the dates are DD/MM/YYYY" in out
    assert _tail(out, 1)[0].endswith("raise the limit, e.g. --config max_excluded_share=1.")
    assert not (tmp_path / "r2" / cohort).exists()
    # declared: north is read, nothing set aside
    run_workflow(data, tmp_path / "r3", "date_format={north: DD/MM/YYYY}",
                 targets=(str(tmp_path / "r3" / cohort),))
    residents = pd.read_parquet(tmp_path / "r3" / cohort)
    assert sorted(residents["region"].unique()) == ["north", "south"]
    assert len(residents) == 6


def _dry_run(*config: str, data: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "snakemake", "-n", "--nolock", "--cores", "1", "--quiet",
           "rules", "--config", f"data_dir={data or REPO / 'data' / 'synthetic'}",
           "results_dir=/tmp/first-hour-dry-run", *config]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_startup_checks_name_the_problem_and_the_values_available(tmp_path):
    costs = pd.read_csv(REPO / "config" / "unit_costs" / "unit_costs_2015.csv")
    partial = tmp_path / "my_costs.csv"
    costs[~costs["item"].isin(["podiatry", "pharmacist"])].to_csv(partial, index=False)
    proc = _dry_run("price_year=2026", f"unit_costs={partial}")
    assert proc.returncode == 1
    err = proc.stderr
    assert ("  price_year 2026 is not in config/unit_costs/inflation_index.csv (years "
            "2012–2024); set price_year to one of them, e.g. --config price_year=2024, or add "
            "2026 to the index") in err
    assert (f"  {partial} has no unit cost for 2 of the data contract's services: podiatry, "
            "pharmacist; add a row for each (item, unit, cost, price_year, source; "
            "docs/unit_costs.md)") in err
    assert err.strip().splitlines()[-1] == "Nothing was run."
    assert "Traceback" not in err and "File " not in err


@pytest.mark.slow
def test_nested_key_on_the_command_line_works_as_from_a_file():
    proc = _dry_run("disclosure={suppress_max: 9}", "survival={rmst_horizon_days: 180}")
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.slow
def test_data_dir_above_the_regions_and_a_missing_file(tmp_path):
    proc = _dry_run(data=REPO / "data")
    assert proc.returncode == 1
    assert (f"  data_dir '{REPO / 'data'}': 'synthetic' was taken as a region, but only the "
            "folders below hold tables (midlands, north, south): did you mean "
            f"data_dir={REPO / 'data' / 'synthetic'}?") in proc.stderr
    data = _dataset(tmp_path / "d")
    write_region(data, "west", rename_ids(TINY, "w"), residents=None)
    proc = _dry_run(data=data)
    assert proc.returncode == 1
    assert (f"  region 'west' has no residents file (residents.csv or residents.parquet in "
            f"{data / 'west'}); add it, or leave the region out: --config "
            '"regions=[north, south]"') in proc.stderr


def test_report_top_states_what_was_set_aside():
    from optimal_analysis.report.set_aside import set_aside_lines

    flow = pd.DataFrame(
        [("north", "residents", "read", 800), ("north", "residents", "excluded: invalid_date", 795),
         ("north", "residents", "analysed", 5), ("north", "contacts", "read", 3300),
         ("north", "contacts", "excluded: resident_excluded", 3290),
         ("north", "contacts", "excluded: after_exit", "[c]"),
         ("north", "contacts", "analysed", 5), ("south", "residents", "read", 400),
         ("south", "residents", "analysed", 400)],
        columns=["region", "table", "step", "rows"])
    assert set_aside_lines({"data_flow": flow}) == [
        "north: 795 of 800 residents (invalid date 795); at least 3,290 of 3,300 contacts "
        "(resident excluded 3,290, after exit [c])"]
    assert set_aside_lines({"data_flow": flow[flow["region"] == "south"]}) == []
