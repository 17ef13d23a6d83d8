"""The workflow end to end: dry run, full run, another dataset's layout, stop and exclude."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import REPO, make_synthetic, run_workflow
from tests.helpers import TINY, rename_ids, write_region

pytestmark = pytest.mark.slow


def test_dry_run_of_the_shipped_config_resolves():
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--nolock", "--cores", "1", "--quiet"],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_full_run_writes_the_contract_outputs(synthetic_results):
    tables = synthetic_results / "tables"
    crude = pd.read_csv(tables / "crude_rates.csv")
    assert {"outcome", "care_model", "residents", "events", "person_years", "rate", "conf_low",
            "conf_high"} <= set(crude.columns)
    assert set(crude["care_model"]) >= {"dedicated_team", "paid_gp", "usual_care"}
    acc = pd.read_csv(synthetic_results / "data_quality" / "data_quality.csv")
    g = acc.groupby(["region", "table"])
    assert (g["rows_read"].first() == g["rows_used"].sum() + g["rows_excluded"].sum()).all()
    assert list((synthetic_results / "figures").glob("*.png"))
    assert (synthetic_results / "logs").is_dir()


def test_other_layout_region_names_and_mixed_models(tmp_path):
    data = make_synthetic(tmp_path / "data", n_residents=200, n_homes=8,
                          regions=("east_of_england", "london"), mixed_models=True, seed=11)
    results = tmp_path / "results"
    run_workflow(data, results, targets=(str(results / "tables" / "crude_rates.csv"),))
    cohort = pd.read_parquet(results / "interim" / "cohort.parquet")
    assert set(cohort["region"]) == {"east_of_england", "london"}
    assert cohort.groupby("region")["care_model"].nunique().min() > 1
    assert cohort["entry_date"].nunique() > 1
    assert not (REPO / "results" / "interim" / "regions" / "london").exists()


def _bad_dataset(root):
    write_region(root, "north", residents=TINY["residents"].replace("M,90", "M,190"))
    south = rename_ids(TINY, "s")
    south["residents"] = south["residents"].replace("2015-06-30,moved", "2015-06-31,moved")
    write_region(root, "south", south)
    return root


def test_stop_mode_stops_with_a_message_naming_the_problem(tmp_path):
    data = _bad_dataset(tmp_path / "data")
    results = tmp_path / "results"
    proc = run_workflow(data, results, targets=(str(results / "interim" / "cohort.parquet"),),
                        check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "north/residents.csv, line 3, column age, value '190'" in out
    assert "south/residents.csv, line 4, column exit_date, value '2015-06-31'" in out
    assert "on_invalid=exclude" in out
    failures = pd.read_csv(results / "data_quality" / "failures.csv")
    errors = failures[failures["severity"] == "error"]
    assert sorted(errors["problem"]) == ["invalid_date", "out_of_range"]
    # the tiny dataset has no paid_gp home: said, but not a reason to stop
    assert set(failures.loc[failures["severity"] != "error", "severity"]) <= {"warning"}
    assert not (results / "interim" / "cohort.parquet").exists()


def test_exclude_mode_completes_and_the_accounting_balances(tmp_path):
    data = _bad_dataset(tmp_path / "data")
    results = tmp_path / "results"
    run_workflow(data, results, "on_invalid=exclude", "max_excluded_share=0.5",
                 targets=(str(results / "interim" / "cohort.parquet"),))
    cohort = pd.read_parquet(results / "interim" / "cohort.parquet")
    assert sorted(cohort["resident_id"]) == ["R1", "R1s", "R2s", "R3"]
    acc = pd.read_csv(results / "data_quality" / "data_quality.csv")
    g = acc.groupby(["region", "table"])
    assert (g["rows_read"].first() == g["rows_used"].sum() + g["rows_excluded"].sum()).all()
    res = acc[acc["table"] == "residents"].set_index(["region", "reason"])["rows_excluded"]
    assert res[("north", "out_of_range")] == 1 and res[("south", "invalid_date")] == 1


def test_a_results_dir_elsewhere_leaves_the_repository_results_alone(tmp_path):
    data = tmp_path / "data"
    for region in ("a", "b"):
        write_region(data, region, rename_ids(TINY, region))
    before = sorted(p for p in (REPO / "results").rglob("*")) if (REPO / "results").exists() else []
    results = tmp_path / "out"
    run_workflow(data, results, targets=(str(results / "interim" / "cohort.parquet"),))
    after = sorted(p for p in (REPO / "results").rglob("*")) if (REPO / "results").exists() else []
    assert before == after
    shutil.rmtree(results)


def test_a_commissioners_own_care_model_and_label_need_no_code_change(tmp_path):
    """Care models dedicated_team, enhanced_practice, usual_care; one label from config."""
    data = make_synthetic(tmp_path / "data", n_residents=240, n_homes=12, seed=3)
    for homes in data.glob("*/care_homes.csv"):
        homes.write_text(homes.read_text().replace("paid_gp", "enhanced_practice"))
    results = tmp_path / "results"
    run_workflow(data, results, "care_models=[dedicated_team, enhanced_practice, usual_care]",
                 "care_model_labels={enhanced_practice: Enhanced GP practice}", cores=2)
    crude = pd.read_csv(results / "tables" / "crude_rates.csv")
    assert list(dict.fromkeys(crude["care_model"])) == [
        "dedicated_team", "enhanced_practice", "usual_care", "all"]
    html = (results / "report.html").read_text(encoding="utf-8")
    assert "Enhanced GP practice" in html and "Dedicated care home team" in html
    assert "paid_gp" not in (results / "tables" / "rate_ratios.csv").read_text()
