"""cProfile one stage's package function on a benchmark dataset (the evidence in profile_notes.md).

    .venv/bin/python benchmarks/run_benchmarks.py --sizes large --keep-data --alternatives-size none
    .venv/bin/python benchmarks/profile_stage.py ingest_region --region london
    .venv/bin/python benchmarks/profile_stage.py make_cohort      # also: describe, costs

Reads the kept dataset and results of ``--size`` under ``--work-dir``, calls the
function the rule's script calls (inputs read outside the profile), and prints
wall and CPU seconds, the process's peak RSS and the top of the cumulative profile.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from optimal_analysis.io import read_parquet

REPO = Path(__file__).resolve().parents[1]
MODELS = ["dedicated_team", "paid_gp", "usual_care"]
TABLES = ("care_homes", "residents", "contacts", "admissions")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_call(stage: str, data: Path, results: Path, region: str):
    """The stage's function with its inputs bound, as its workflow script calls it."""
    interim = results / "interim"
    if stage == "ingest_region":
        from optimal_analysis.ingest import ingest_region

        return lambda: ingest_region(str(data / region), region=region, care_models=MODELS,
                                     service_code_map={})
    if stage == "make_cohort":
        from optimal_analysis.cohort import INPUT_COLUMNS, make_cohort

        tables = [read_parquet(interim / f"{t}.parquet", columns=INPUT_COLUMNS[t]) for t in TABLES]
        return lambda: make_cohort(*tables)
    cohort = read_parquet(interim / "cohort.parquet")
    if stage == "describe":
        from optimal_analysis.describe import make_describe_tables

        events = read_parquet(interim / "events.parquet",
                              columns=["resident_id", "event_type", "item", "n"])
        dq = pd.read_csv(results / "data_quality" / "data_quality.csv", keep_default_na=False,
                         na_values=[""])
        return lambda: make_describe_tables(cohort, events, dq, reference="usual_care",
                                            care_models=MODELS)
    if stage == "costs":
        from optimal_analysis.costing import make_cost_tables

        events = read_parquet(interim / "events.parquet",
                              columns=["resident_id", "care_home_id", "care_model", "event_type",
                                       "item", "n", "bed_days"])
        unit = pd.read_csv(REPO / "config" / "unit_costs" / "unit_costs_2015.csv")
        infl = pd.read_csv(REPO / "config" / "unit_costs" / "inflation_index.csv")
        return lambda: make_cost_tables(events, cohort, unit, infl, price_year=2024,
                                        scheme="spell", replicates=1000,
                                        rng=np.random.default_rng(20170529))
    raise SystemExit(f"unknown stage {stage!r}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stage", choices=["ingest_region", "make_cohort", "describe", "costs"])
    p.add_argument("--size", default="large")
    p.add_argument("--region", default="london")
    p.add_argument("--work-dir", type=Path, default=REPO / "benchmarks" / "work")
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args()
    call = stage_call(a.stage, a.work_dir / f"data_{a.size}", a.work_dir / f"results_{a.size}",
                      a.region)
    print(f"inputs read; peak RSS so far {_peak_mb():,.0f} MB")
    prof = cProfile.Profile()
    t0, c0 = time.perf_counter(), time.process_time()
    prof.enable()
    call()
    prof.disable()
    print(f"{a.stage}: {time.perf_counter() - t0:.2f} s wall, {time.process_time() - c0:.2f} s "
          f"CPU, peak RSS {_peak_mb():,.0f} MB")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(a.top)


if __name__ == "__main__":
    main()
