"""Time the rates stage on a simulated national-size cohort table.

    .venv/bin/python benchmarks/bench_rates.py --residents 400000 --homes 15000

Simulates ``interim/cohort.parquet``-shaped data directly (vectorised: care-home
effect, gamma frailty, covariates, ~8% missing Barthel) and times
``make_crude_rates`` and ``make_rate_models`` (4 outcomes × 2 models × 2
adjustments × 2 exposures, with standardised rates). Prints one line per step
(wall time; CPU time too for the models, since a shared machine inflates wall time).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from optimal_analysis.rates import make_crude_rates
from optimal_analysis.rates.models import make_rate_models

MODELS = np.array(["dedicated_team", "paid_gp", "usual_care"])


def simulate_cohort(n_residents: int, n_homes: int, rng: np.random.Generator) -> pd.DataFrame:
    """A cohort table with the interim columns the rates stage reads."""
    home = rng.integers(0, n_homes, n_residents)
    home_model = rng.integers(0, 3, n_homes)
    home_effect = rng.normal(0, 0.2, n_homes)
    nursing = rng.random(n_homes) < 0.45
    age = rng.normal(85.5, 7, n_residents).clip(60, 110)
    male = rng.random(n_residents) < 0.26
    dementia = rng.random(n_residents) < 0.75
    barthel = pd.array(rng.integers(0, 21, n_residents), dtype="Int64")
    barthel[rng.random(n_residents) < 0.08] = pd.NA
    days = rng.integers(1, 366, n_residents)
    bed_days = np.minimum(rng.poisson(4, n_residents), days - 1)
    years = days / 365.25
    eta = (
        np.log(0.8)
        + np.array([-0.3, -0.1, 0.0])[home_model[home]]
        + home_effect[home]
        + 0.02 * (age - 85)
        + 0.2 * male
        + 0.15 * dementia
    )
    frailty = rng.gamma(2.0, 0.5, n_residents)
    mu = years * np.exp(eta) * frailty
    return pd.DataFrame(
        {
            "resident_id": np.arange(n_residents).astype(str),
            "region": (home % 7).astype(str),
            "care_home_id": home.astype(str),
            "care_model": MODELS[home_model[home]],
            "nursing": nursing[home],
            "sex": np.where(male, "M", "F"),
            "age": age,
            "dementia": dementia,
            "barthel": barthel,
            "person_years": years,
            "days_at_risk": days - bed_days,
            "bed_days": bed_days,
            "died": rng.random(n_residents) < 0.3,
            "emergency_admission": rng.poisson(mu),
            "elective_admission": rng.poisson(0.1 * mu),
            "ae": rng.poisson(1.3 * mu),
            "ambulance": rng.poisson(1.1 * mu),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=400_000)
    parser.add_argument("--homes", type=int, default=15_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--compare-residents", type=int, default=40_000,
                        help="residents of the statsmodels comparison (0 skips it)")
    parser.add_argument("--compare-homes", type=int, default=1_500,
                        help="care homes of the statsmodels comparison")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    cohort = simulate_cohort(args.residents, args.homes, rng)
    t1 = time.perf_counter()
    make_crude_rates(cohort)
    t2, cpu2 = time.perf_counter(), time.process_time()
    out = make_rate_models(
        cohort,
        reference="usual_care",
        covariates=["age", "sex", "dementia", "nursing", "barthel"],
        outcomes=["emergency_admission", "ae", "ambulance", "elective_admission"],
        few_clusters_threshold=30,
        wild_bootstrap_replicates=999,
        rng=rng,
    )
    t3, cpu3 = time.perf_counter(), time.process_time()
    print(f"simulate cohort ({args.residents:,} residents, {args.homes:,} homes): {t1 - t0:.1f} s")
    print(f"crude rates: {t2 - t1:.2f} s")
    print(
        f"rate models ({len(out.rate_ratios)} rate ratios, {len(out.standardised_rates)} "
        f"standardised rows; 32 fits): {t3 - t2:.1f} s wall, {cpu3 - cpu2:.1f} s CPU"
    )
    if args.compare_residents:
        bench_compare(args.compare_residents, args.compare_homes, args.seed)


def bench_compare(n_residents: int, n_homes: int, seed: int) -> None:
    """Adjusted Poisson and NB2 with CR1 cluster-robust SEs: ours against statsmodels."""
    import warnings

    import statsmodels.api as sm

    from optimal_analysis.model_frame import design_matrix
    from optimal_analysis.stats.cluster import cr1_covariance
    from optimal_analysis.stats.glm import count_scores_information, fit_count_model

    cohort = simulate_cohort(n_residents, n_homes, np.random.default_rng(seed)).dropna()
    x, _ = design_matrix(cohort, levels=list(MODELS), reference="usual_care",
                         covariates=["age", "sex", "dementia", "nursing", "barthel"])
    y = cohort["emergency_admission"].to_numpy(float)
    offset = np.log(cohort["person_years"].to_numpy())
    groups = pd.factorize(cohort["care_home_id"])[0]
    print(f"\n== slow path, adjusted rate models: {len(y):,} residents, {n_homes:,} homes ==")
    for model in ("poisson", "negbin"):
        t0 = time.perf_counter()
        fit = fit_count_model(model, y, x, offset)
        scores, info = count_scores_information(model, y, x, offset, fit.params, fit.alpha)
        cov = cr1_covariance(scores, np.linalg.inv(info), groups)
        ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if model == "poisson":
                ref = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit(
                    cov_type="cluster", cov_kwds={"groups": groups})
            else:
                ref = sm.NegativeBinomial(y, x, offset=offset, loglike_method="nb2").fit(
                    cov_type="cluster", cov_kwds={"groups": groups}, method="newton", disp=0,
                    maxiter=200)
        theirs = time.perf_counter() - t0
        k = x.shape[1]
        d_coef = np.max(np.abs(fit.params - np.asarray(ref.params)[:k]))
        d_se = np.max(np.abs(np.sqrt(np.diag(cov))[:k] - np.asarray(ref.bse)[:k]))
        print(f"{model}: ours {ours:.2f} s, statsmodels {theirs:.2f} s: speed-up "
              f"{theirs / ours:.0f}x; max |coef diff| {d_coef:.1e}, max |cluster SE diff| "
              f"{d_se:.1e}")


if __name__ == "__main__":
    main()
