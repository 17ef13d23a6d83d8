"""The benchmark harness's own arithmetic: job times from Snakemake's log, overlap of jobs."""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import bench_law  # noqa: E402
import bench_report  # noqa: E402
import run_benchmarks  # noqa: E402

LOG = """\
[Mon Nov 23 11:18:06 2026]
localrule ingest_region:
    input: d/north/contacts.csv
    output: r/interim/regions/north/contacts.parquet
    log: r/logs/ingest_region/north.log
    jobid: 5
    benchmark: r/benchmarks/ingest_region/north.tsv
    wildcards: region=north
    resources: tmpdir=/tmp

[Mon Nov 23 11:18:06 2026]
localrule ingest_region:
    jobid: 7
    wildcards: region=south
    resources: tmpdir=/tmp
2026-11-23 11:18:30,563 INFO optimal_analysis: region north: 0 failures
[Mon Nov 23 11:18:31 2026]
Finished jobid: 5 (Rule: ingest_region)
1 of 3 steps (33%) done

[Mon Nov 23 11:18:31 2026]
rule combine_regions:
    jobid: 2
    resources: tmpdir=/tmp
[Mon Nov 23 11:18:40 2026]
Finished jobid: 7 (Rule: ingest_region)
"""


def test_job_start_and_finish_times_are_read_from_snakemakes_log():
    jobs = run_benchmarks.parse_snakemake_log(LOG).set_index("jobid")
    assert sorted(jobs.index) == [2, 5, 7]
    assert jobs.loc[5, "rule"] == "ingest_region" and jobs.loc[5, "wildcards"] == "region=north"
    assert jobs.loc[5, "log"].endswith("r/logs/ingest_region/north.log")  # names the job's process
    # north: 11:18:06 -> 11:18:31 = 25 s; south: 11:18:06 -> 11:18:40 = 34 s
    secs = (jobs["log_end"] - jobs["log_start"]).dt.total_seconds()
    assert secs[5] == 25 and secs[7] == 34
    assert jobs.loc[2, "rule"] == "combine_regions" and pd.isna(jobs.loc[2, "log_end"])


def test_max_concurrency_counts_overlapping_jobs():
    # [0,10) [2,5) [4,12) overlap 3-deep on [4,5); [12,13) starts as [4,12) ends -> not 2
    start, end = np.array([0, 2, 4, 12.0]), np.array([10, 5, 12, 13.0])
    assert bench_report.max_concurrency(start, end) == 3
    # back to back: one at a time
    assert bench_report.max_concurrency(np.array([0, 5.0]), np.array([5, 9.0])) == 1
    assert bench_report.max_concurrency(np.array([]), np.array([])) == 0


def test_rule_table_maps_every_rule_to_its_stage_and_script():
    rules = run_benchmarks.rule_table().set_index("rule")
    assert rules.loc["ingest_region", "stage"] == "ingest"
    assert rules.loc["ingest_region", "script"] == "ingest_region"
    assert rules.loc["make_cohort", "stage"] == "cohort"


def test_new_per_region_rule_names_map_to_their_stage_by_prefix():
    # per-region cohort rules and the rule combining them: "cohort" in any rule file
    assert bench_law.stage_of("make_cohort_region", "cohort_region") == "cohort"
    assert bench_law.stage_of("combine_cohort", "combine") == "cohort"
    assert bench_law.stage_of("ingest_region_arrow", "arrow") == "ingest"
    assert bench_law.stage_of("check_input", "checks") == "ingest"
    # no prefix: the rule file names the stage; no file either (the Snakefile's all): none
    assert bench_law.stage_of("costs", "costing") == "costing"
    assert bench_law.stage_of("costs_region", "costing") == "costing"
    assert bench_law.stage_of("all", None) is None
    # the rule table of the real rule files: every rule, by prefix, else in its file's stage
    rules = run_benchmarks.rule_table().set_index("rule")
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for name in re.findall(r"^rule (\w+):", smk.read_text(), flags=re.M):
            prefixed = [st for pre, st in bench_law.STAGE_PREFIXES if name.startswith(pre)]
            assert rules.loc[name, "stage"] == (prefixed[0] if prefixed else smk.stem), name


def _jobs(rows):
    cols = ["rule", "region", "stage", "start_s", "end_s", "seconds", "cpu_seconds",
            "max_rss_mb"]
    df = pd.DataFrame(rows, columns=cols)
    df["key"] = df["region"].fillna("")
    return df


JOBS = _jobs([
    ("ingest_region", "a", "ingest", 2.0, 9.0, 7.0, 6.5, 800.0),
    ("ingest_region", "b", "ingest", 2.5, 12.0, 9.5, 9.0, 900.0),
    ("combine_regions", None, "ingest", 12.5, 20.0, 7.5, 7.0, 1500.0),
    ("check_input", None, "ingest", 20.5, 21.5, 1.0, 0.9, 150.0),
    ("ingest_history", None, "ingest", 22.0, 40.0, 18.0, 1.0, 100.0),  # beside the cohort
    ("make_cohort", None, "cohort", 22.0, 35.0, 13.0, 12.0, 4400.0),
    ("costs", None, "costing", 35.5, 45.0, 9.5, 9.0, 1500.0),
])


def test_ingest_window_is_first_ingest_start_to_last_ingest_end():
    # 2.0 (first region) -> 21.5 (check_input); ingest_history (to 40 s) is not in it
    assert bench_law.ingest_seconds(JOBS) == 19.5
    # renamed rules: whatever maps to the ingest stage counts
    renamed = JOBS.assign(rule=JOBS["rule"].replace({"check_input": "validate_all"}))
    assert bench_law.ingest_seconds(renamed) == 19.5
    assert np.isnan(bench_law.ingest_seconds(JOBS[JOBS["stage"] != "ingest"]))


def test_largest_jobs_are_ordered_by_max_rss_then_wall_time():
    top = bench_law.largest_jobs(JOBS, 3)
    # 1,500 MB tie between costs (9.5 s) and combine_regions (7.5 s): the longer first
    assert list(top["rule"]) == ["make_cohort", "costs", "combine_regions"]
    assert list(top["max_rss_mb"]) == [4400.0, 1500.0, 1500.0]
    shorter = JOBS.assign(seconds=JOBS["seconds"].where(JOBS["rule"] != "costs", 1.0))
    assert list(bench_law.largest_jobs(shorter, 3)["rule"]) == [
        "make_cohort", "combine_regions", "costs"]
    assert list(bench_law.largest_jobs(JOBS, 2)["key"]) == ["", ""]


def test_fit_line_by_hand():
    # y = 0.2 + 0.42 x exactly
    b, a, r = bench_law.fit_line([1.0, 10.0, 50.0], [0.62, 4.4, 21.2])
    assert b == pytest.approx(0.42) and a == pytest.approx(0.2) and r == pytest.approx(0, abs=1e-12)
    # (0,0), (1,1), (2,1): xbar 1, ybar 2/3, Sxy = 1, Sxx = 2 -> b 0.5, a 1/6; residuals
    # -1/6, 1/3, -1/6
    b, a, r = bench_law.fit_line([0, 1, 2], [0, 1, 1])
    assert (b, a, r) == pytest.approx((0.5, 1 / 6, 1 / 3))
    b, a, r = bench_law.fit_line([3.0], [2.0])  # one point: no slope
    assert np.isnan(b) and a == 2.0 and r == 0.0


def test_memory_law_separates_per_region_and_global_jobs():
    def run(size, contacts, by_region, scale, peak):
        j = JOBS.copy()
        j["max_rss_mb"] = j["max_rss_mb"] * scale
        return {"size": size, "contacts": contacts, "contacts_by_region": by_region,
                "residents": contacts / 50,
                "n_regions": 2, "peak_sum_mb": peak, "jobs": j}

    runs = [run("large", 10_000_000, {"a": 4_000_000, "b": 6_000_000}, 1.0, 4 * 1024),
            run("five_years", 50_000_000, {"a": 20_000_000, "b": 30_000_000}, 2.0, 8 * 1024)]
    law = bench_law.memory_law(runs).set_index("law")
    per = law.loc["largest per-region job vs its region's contacts"]
    # region b is the largest per-region job: 900 MB at 6 M rows, 1,800 MB at 30 M rows
    assert per["GB per million"] == pytest.approx((1800 - 900) / 1024 / 24)
    glob = law.loc["largest global job vs all contacts"]  # make_cohort: 4,400 -> 8,800 MB
    assert glob["GB per million"] == pytest.approx(4400 / 1024 / 40)
    assert glob["intercept, GB"] == pytest.approx(4400 / 1024 - 10 * 4400 / 1024 / 40)
    res = law.loc["largest global job vs residents (x: millions of residents)"]
    assert res["GB per million"] == pytest.approx(4400 / 1024 / 0.8)  # 0.2 -> 1.0 M
    peak = law.loc["peak of all running jobs vs all contacts"]
    assert peak["GB per million"] == pytest.approx(0.1) and peak["points"] == 2
    assert "make_cohort" in glob["sizes"] and "ingest_region" in per["sizes"]
    # without region counts a region is assumed to hold an equal share of the contacts
    runs[1]["contacts_by_region"] = {}
    per = bench_law.memory_law(runs).set_index("law").loc[
        "largest per-region job vs its region's contacts"]
    assert per["GB per million"] == pytest.approx((1800 - 900) / 1024 / 19)
    rules = bench_law.rule_memory_law(runs).set_index("rule")
    assert rules.loc["make_cohort", "kind"] == "global"
    assert rules.loc["ingest_region", "kind"] == "per region"
    assert rules.loc["make_cohort", "five_years"] == pytest.approx(8800 / 1024)
    assert rules.index[0] == "make_cohort"  # sorted by the last size, largest first
    # a job without a memory record (a rule with no benchmark file, gone before sampling)
    runs[0]["jobs"] = pd.concat([runs[0]["jobs"], _jobs([("report", None, "report", 50.0,
                                                           50.5, 0.5, 0.4, np.nan)])])
    assert "report" not in bench_law.rule_memory_law(runs)["rule"].to_numpy()
    assert len(bench_law.memory_law(runs)) == 4
