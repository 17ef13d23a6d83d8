"""The benchmark harness's own arithmetic: job times from Snakemake's log, overlap of jobs."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
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
