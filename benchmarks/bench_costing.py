"""Time the costing bootstrap (and optionally the whole costing stage) at national scale.

    .venv/bin/python benchmarks/bench_costing.py                 # bootstrap only
    .venv/bin/python benchmarks/bench_costing.py --full          # + make_cost_tables

Bootstrap: per-home totals of 400,000 residents in 15,000 care homes (3 care
models x 5,000 homes, 23 cost items + total), 1,000 replicates resampling homes
within care model. --full also builds a synthetic events table (default 10
event rows per resident) and times the whole stage, both hospital schemes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from optimal_analysis.costing import SERVICE_GROUPS, make_cost_tables
from optimal_analysis.stats.bootstrap import cluster_bootstrap_ratio, percentile_interval


def bench_bootstrap(homes: int, residents: int, models: int, items: int, replicates: int,
                    seed: int) -> float:
    rng = np.random.default_rng(seed)
    per_model = homes // models
    person_years = rng.gamma(4.0, residents / homes / 4.0 * 0.8, size=(models, per_model))
    costs = rng.gamma(1.5, 2000.0, size=(models, per_model, items))
    boot_rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for m in range(models):  # a loop over care models, as in make_costs
        y = np.column_stack([costs[m], costs[m].sum(axis=1)])
        reps = cluster_bootstrap_ratio(y, person_years[m], replicates=replicates, rng=boot_rng)
        percentile_interval(reps)
    return time.perf_counter() - t0


def bench_bootstrap_pandas(homes: int, residents: int, models: int, items: int, replicates: int,
                           seed: int) -> float:
    """The obvious pandas alternative, timed on the same per-home totals: one replicate at a
    time, ``DataFrame.sample`` of the care homes with replacement, column sums, ratio.
    Returns seconds for ``replicates`` replicates."""
    rng = np.random.default_rng(seed)
    per_model = homes // models
    person_years = rng.gamma(4.0, residents / homes / 4.0 * 0.8, size=(models, per_model))
    costs = rng.gamma(1.5, 2000.0, size=(models, per_model, items))
    t0 = time.perf_counter()
    for m in range(models):
        frame = pd.DataFrame(costs[m]).assign(total=costs[m].sum(axis=1), py=person_years[m])
        reps = []
        for b in range(replicates):
            draw = frame.sample(n=len(frame), replace=True, random_state=seed + b)
            sums = draw.sum()
            reps.append(sums.drop("py") / sums["py"])
        pd.DataFrame(reps).quantile([0.025, 0.975])
    return time.perf_counter() - t0


def synthetic_stage_inputs(homes: int, residents: int, events_per_resident: int, seed: int):
    rng = np.random.default_rng(seed)
    home = np.sort(rng.integers(0, homes, size=residents))
    models = np.array(["dedicated_team", "paid_gp", "usual_care"])
    cohort = pd.DataFrame({
        "resident_id": pd.array([f"r{i}" for i in range(residents)], dtype="string"),
        "care_home_id": pd.array([f"h{h}" for h in home], dtype="string"),
        "care_model": pd.array(models[home % 3], dtype="string"),
        "person_years": rng.uniform(0.05, 2.0, size=residents),
    })
    n = residents * events_per_resident
    who = rng.integers(0, residents, size=n)
    is_adm = rng.random(n) < 0.05
    contact_items = np.array([k for k, g in SERVICE_GROUPS.items() if g != "hospital inpatient"])
    adm_items = np.array(["emergency_admission", "elective_admission"])
    events = pd.DataFrame({
        "resident_id": cohort["resident_id"].to_numpy()[who],
        "care_home_id": cohort["care_home_id"].to_numpy()[who],
        "care_model": cohort["care_model"].to_numpy()[who],
        "event_type": np.where(is_adm, "admission", "contact"),
        "item": np.where(is_adm, adm_items[rng.integers(0, 2, n)],
                         contact_items[rng.integers(0, len(contact_items), n)]),
        "n": np.where(is_adm, 1, rng.integers(1, 3, n)),
        "bed_days": np.where(is_adm, rng.geometric(0.12, n) - 1, 0),
    })
    return events, cohort


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--homes", type=int, default=15_000)
    ap.add_argument("--residents", type=int, default=400_000)
    ap.add_argument("--replicates", type=int, default=1_000)
    ap.add_argument("--items", type=int, default=23)
    ap.add_argument("--seed", type=int, default=20170529)
    ap.add_argument("--full", action="store_true", help="also time make_cost_tables")
    ap.add_argument("--events-per-resident", type=int, default=10)
    ap.add_argument("--pandas-replicates", type=int, default=100,
                    help="replicates of the pandas alternative, scaled up (0 skips it)")
    args = ap.parse_args()
    secs = bench_bootstrap(args.homes, args.residents, 3, args.items, args.replicates, args.seed)
    print(f"bootstrap: {args.replicates} replicates, {args.homes} homes in 3 care models, "
          f"{args.items + 1} cost columns: {secs:.2f} s")
    if args.pandas_replicates:
        n = min(args.pandas_replicates, args.replicates)
        slow = bench_bootstrap_pandas(args.homes, args.residents, 3, args.items, n, args.seed)
        slow_all = slow * args.replicates / n
        print(f"pandas bootstrap (one replicate at a time, DataFrame.sample): {n} replicates "
              f"{slow:.2f} s, so {slow_all:.1f} s for {args.replicates}: speed-up "
              f"{slow_all / secs:.0f}x")
    if args.full:
        events, cohort = synthetic_stage_inputs(args.homes, args.residents,
                                                args.events_per_resident, args.seed)
        unit_costs = pd.read_csv("config/unit_costs/unit_costs_2015.csv")
        inflation = pd.read_csv("config/unit_costs/inflation_index.csv")
        t0 = time.perf_counter()
        make_cost_tables(events, cohort, unit_costs, inflation, price_year=2024, scheme="spell",
                         replicates=args.replicates, rng=np.random.default_rng(args.seed))
        print(f"make_cost_tables (both schemes): {len(events):,} event rows, "
              f"{args.residents:,} residents: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
