"""cProfile one stage's package function on a benchmark dataset (the evidence in profile_notes.md).

    .venv/bin/python benchmarks/run_benchmarks.py --sizes large --keep-data --alternatives-size none
    .venv/bin/python benchmarks/profile_stage.py ingest_region --region london
    .venv/bin/python benchmarks/profile_stage.py cohort_region --region london
    .venv/bin/python benchmarks/profile_stage.py costs            # also: describe

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


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_call(stage: str, data: Path, results: Path, region: str):
    """The stage's function with its inputs bound, as its workflow script calls it."""
    interim = results / "interim"
    if stage == "ingest_region":
        from optimal_analysis.ingest import ingest_region

        return lambda: ingest_region(str(data / region), region=region, care_models=MODELS,
                                     service_code_map={})
    if stage == "cohort_region":  # as workflow/scripts/cohort_region.py
        from optimal_analysis.cohort import INPUT_COLUMNS, make_cohort
        from optimal_analysis.ingest.combine import residents_used, used_events

        only = [("region", "==", region)]
        homes = read_parquet(interim / "care_homes.parquet", columns=INPUT_COLUMNS["care_homes"],
                             filters=only)
        res = read_parquet(interim / "residents.parquet", columns=INPUT_COLUMNS["residents"],
                           filters=only)
        used = residents_used(res, region)
        ev = {t: used_events(read_parquet(interim / "regions" / region / f"{t}.parquet",
                                          columns=[*INPUT_COLUMNS[t], "_reason"]), used)
              for t in ("contacts", "admissions")}
        return lambda: make_cohort(homes, res, **ev)
    cohort = read_parquet(interim / "cohort.parquet")
    paths = sorted((interim / "regions").glob("*/events.parquet"))  # one region at a time
    if stage == "describe":
        from optimal_analysis.describe import service_use_counts

        cols = ["resident_id", "event_type", "item", "n"]
        return lambda: [service_use_counts(read_parquet(p, columns=cols), cohort) for p in paths]
    if stage == "costs":
        from optimal_analysis.costing.regional import (
            COHORT_COLUMNS,
            EVENT_COLUMNS,
            make_cost_tables_by_region,
        )

        unit = pd.read_csv(REPO / "config" / "unit_costs" / "unit_costs_2015.csv")
        infl = pd.read_csv(REPO / "config" / "unit_costs" / "inflation_index.csv")
        return lambda: make_cost_tables_by_region(
            (read_parquet(p, columns=EVENT_COLUMNS) for p in paths), cohort[COHORT_COLUMNS],
            unit, infl, price_year=2024, scheme="spell", replicates=1000,
            rng=np.random.default_rng(20170529))
    raise SystemExit(f"unknown stage {stage!r}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stage", choices=["ingest_region", "cohort_region", "describe", "costs"])
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
