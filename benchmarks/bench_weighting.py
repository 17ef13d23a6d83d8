"""Time the weighting stage and the weighted models at national scale (issue 17).

    .venv/bin/python benchmarks/bench_weighting.py                 # 400,000 residents
    .venv/bin/python benchmarks/bench_weighting.py --residents 40000

Simulates a ``cohort.parquet``-shaped table directly (15,000 care homes in 7 regions,
three care models given to homes by a multinomial logit in the homes' case mix, ~8%
missing Barthel, four count outcomes over person-years and days at risk, time to first
emergency admission with death competing), then times what issue 17 adds to a run:
the weighting stage (multinomial propensity model, overlap weights, balance, summary,
overlap table), the weighted rate ratios (4 outcomes x Poisson and NB x 2 exposures),
the weighted hazard ratios (cause-specific Cox, Fine–Gray, death Cox), the weighted
Aalen–Johansen curves and, separately, the regions stage.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from optimal_analysis.rates.models import EXPOSURES
from optimal_analysis.rates.weighted import weighted_rate_ratios
from optimal_analysis.regions import make_region_effects
from optimal_analysis.survival.weighted import (
    weighted_cumulative_incidence,
    weighted_hazard_ratios,
)
from optimal_analysis.weighting import make_weights

MODELS = ["dedicated_team", "paid_gp", "usual_care"]
COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]
OUTCOMES = ["emergency_admission", "ae", "ambulance", "elective_admission"]


def simulate_cohort(n: int, n_homes: int, rng: np.random.Generator) -> pd.DataFrame:
    home = rng.integers(0, n_homes, n)
    frail = rng.normal(0, 1, n_homes)
    eta = np.column_stack([0.8 * frail, 0.4 * frail, np.zeros(n_homes)])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    home_model = (rng.random(n_homes)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    model = np.array(MODELS)[home_model[home]]
    age = rng.normal(85 + 2 * frail[home], 7)
    sex = np.where(rng.random(n) < 0.3, "M", "F")
    dementia = rng.random(n) < 1 / (1 + np.exp(-(0.4 + 0.5 * frail[home])))
    nursing = (home % 2) == 0
    barthel = np.clip(np.round(rng.normal(10 - 2 * frail[home], 5)), 0, 20)
    lp = np.log(np.select([model == "dedicated_team", model == "paid_gp"], [0.75, 0.9], 1.0))
    lp += 0.02 * (age - 85) + 0.2 * (sex == "M") - 0.03 * (barthel - 10)
    follow = rng.integers(30, 366, n)
    years = follow / 365.25
    counts = {o: rng.poisson(years * r * np.exp(lp)) for o, r in
              zip(OUTCOMES, [1.0, 1.5, 1.2, 0.2], strict=True)}
    t_adm = np.ceil(rng.exponential(365 / np.exp(lp))).astype(np.int64).clip(1)
    t_death = np.ceil(rng.exponential(365 / 0.3 / np.exp(0.04 * (age - 85)))).astype(np.int64)
    end = np.minimum(follow, t_death.clip(1))
    admitted = t_adm <= end
    barthel[rng.random(n) < 0.08] = np.nan
    return pd.DataFrame({
        "resident_id": np.arange(n).astype(str),
        "region": pd.array([f"r{h % 7}" for h in home], dtype="string"),
        "care_home_id": pd.array([f"h{h}" for h in home], dtype="string"),
        "care_model": pd.array(model, dtype="string"),
        "age": age, "sex": sex, "dementia": dementia, "nursing": nursing,
        "barthel": pd.array(barthel, dtype="Int64"),
        "person_years": end / 365.25, "days_at_risk": end - rng.integers(0, 5, n).clip(0, end - 1),
        **counts,
        "follow_up_days": end, "died": t_death <= follow,
        "time_to_admission_days": np.where(admitted, t_adm, end),
        "admission_status": np.select([admitted, t_death <= follow], [1, 2], 0).astype("int8"),
    })


def _timed(label: str, fn, results: list):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    results.append((label, time.perf_counter() - t0, time.process_time() - c0))
    print(f"{label:<52s} {results[-1][1]:7.2f} s wall {results[-1][2]:7.2f} s cpu", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=400_000)
    parser.add_argument("--homes", type=int, default=15_000)
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    cohort = simulate_cohort(args.residents, args.homes, np.random.default_rng(args.seed))
    print(f"== {args.residents:,} residents, {args.homes:,} care homes ==")
    res: list = []
    w = _timed("weighting stage (propensity model, weights, tables)", lambda: make_weights(
        cohort, covariates=COVARIATES, care_models=MODELS, reference="usual_care"), res)
    weights = w.weights[["resident_id", "weight"]]
    _timed("weighted rate ratios (4 outcomes x 2 models x 2 exp.)", lambda: weighted_rate_ratios(
        cohort, weights, outcomes=OUTCOMES, levels=MODELS, reference="usual_care",
        exposures=EXPOSURES, few_clusters_threshold=30), res)
    cols = ["outcome", "model", "adjustment", "term", "estimate", "std_error", "conf_low",
            "conf_high", "n_residents", "n_events", "n_clusters", "small_sample_method"]
    _timed("weighted hazard ratios (cox, fine_gray, death cox)", lambda: weighted_hazard_ratios(
        cohort, weights, levels=MODELS, reference="usual_care", columns=cols,
        few_clusters_threshold=30), res)
    ci_cols = ["care_model", "event", "time", "estimate", "std_error", "n_at_risk"]
    _timed("weighted cumulative incidence (3 care models)", lambda: weighted_cumulative_incidence(
        cohort, weights, levels=MODELS, columns=ci_cols), res)
    total = sum(r[1] for r in res)
    print(f"{'weighting stage + weighted models together':<52s} {total:7.2f} s wall")
    print(f"largest |SMD| after weighting: {w.balance['smd_weighted'].abs().max():.4f} "
          f"(before {w.balance['smd_crude'].abs().max():.3f})")
    _timed("regions stage (4 outcomes, 7 regions, REML)", lambda: make_region_effects(
        cohort, outcomes=OUTCOMES, covariates=COVARIATES, reference="usual_care"), [])


if __name__ == "__main__":
    main()
