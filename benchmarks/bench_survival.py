"""Time the survival stage at national scale and against the slow path.

    .venv/bin/python benchmarks/bench_survival.py          # 400,000 and 40,000 residents
    .venv/bin/python benchmarks/bench_survival.py --residents 400000 --compare-residents 40000

Simulates a ``cohort.parquet``-shaped table directly (15,000 care homes, daily
times over two years, emergency admission and death competing, administrative
and random censoring, ~8% missing Barthel), then times every survival table and
each model at ``--residents``. At ``--compare-residents`` it times the adjusted
cause-specific Cox model clustered by care home with our engine, lifelines'
``CoxPHFitter(cluster_col=)`` and statsmodels' ``PHReg(...).fit(groups=)``
(both Efron ties), reports the ratios, and the largest differences in
coefficients and model-based standard errors.
"""

from __future__ import annotations

import argparse
import time
import warnings
from functools import partial

import numpy as np
import pandas as pd

from optimal_analysis.care_models import care_model_levels as _levels
from optimal_analysis.model_frame import design_matrix
from optimal_analysis.survival import (
    make_at_risk,
    make_cumulative_incidence,
    make_km,
    make_km_summary,
    make_survival_models,
)
from optimal_analysis.survival.models import _complete_cases
from optimal_analysis.survival.models import _fit_model as _fit


def _model_data(cohort, adjustment, covariates, levels, reference):
    """Complete cases and the Cox design matrix (no intercept), as survival_models._fit_one."""
    covs = list(covariates) if adjustment == "adjusted" else []
    data, _, _ = _complete_cases(cohort, covs, levels, reference)
    order = [reference, *(m for m in levels if m != reference)]
    x, names = design_matrix(data, levels=order, reference=reference, covariates=covs)
    return data, x[:, 1:], names[1:]

MODELS = np.array(["dedicated_team", "paid_gp", "usual_care"])
COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]


def simulate_cohort(n: int, n_homes: int, rng: np.random.Generator) -> pd.DataFrame:
    home = rng.integers(0, n_homes, n)
    model = MODELS[home % 3]
    age = rng.normal(85, 7, n)
    sex = np.where(rng.random(n) < 0.3, "M", "F")
    dementia = rng.random(n) < 0.6
    nursing = (home % 2) == 0
    barthel = rng.integers(0, 21, n).astype(float)
    lp = np.log(np.select([model == "dedicated_team", model == "paid_gp"], [0.75, 0.9], 1.0))
    lp += (
        0.02 * (age - 85)
        + 0.2 * (sex == "M")
        - 0.03 * (barthel - 10)
        + rng.normal(0, 0.2, n_homes)[home]
    )
    t_adm = rng.exponential(365 / 0.8 / np.exp(lp))
    t_death = rng.exponential(365 / 0.3 / np.exp(0.04 * (age - 85) + 0.2 * dementia))
    t_end = np.where(rng.random(n) < 0.1, rng.uniform(0, 730, n), rng.uniform(30, 730, n))
    follow = np.ceil(np.minimum(t_death, t_end)).astype(np.int64).clip(1)
    adm_day = np.ceil(t_adm).astype(np.int64).clip(1)
    admitted = adm_day <= follow
    died = t_death <= t_end
    barthel[rng.random(n) < 0.08] = np.nan
    return pd.DataFrame(
        {
            "care_home_id": pd.array([f"h{h}" for h in home], dtype="string"),
            "care_model": pd.array(model, dtype="string"),
            "age": age,
            "sex": sex,
            "dementia": dementia,
            "nursing": nursing,
            "barthel": pd.array(barthel, dtype="Int64"),
            "follow_up_days": follow,
            "died": died,
            "time_to_admission_days": np.where(admitted, adm_day, follow),
            "admission_status": np.select([admitted, died], [1, 2], 0).astype("int8"),
        }
    )


def _timed(label: str, fn, results: list):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    results.append((label, time.perf_counter() - t0, time.process_time() - c0))
    print(f"{label:<48s} {results[-1][1]:8.2f} s wall {results[-1][2]:8.2f} s cpu", flush=True)
    return out


def bench_national(n: int, n_homes: int, seed: int) -> None:
    cohort = simulate_cohort(n, n_homes, np.random.default_rng(seed))
    print(
        f"\n== {n:,} residents, {n_homes:,} care homes, "
        f"{int((cohort.admission_status == 1).sum()):,} admissions, "
        f"{int(cohort.died.sum()):,} deaths =="
    )
    res: list = []
    levels = _levels(cohort, list(MODELS))
    for adjustment in ("crude", "adjusted"):
        data, x, _ = _model_data(cohort, adjustment, COVARIATES, levels, "usual_care")
        for outcome, model in [
            ("emergency_admission", "cox"),
            ("emergency_admission", "fine_gray"),
            ("death", "cox"),
        ]:
            fit = partial(_fit, model, outcome, data, x)
            _timed(f"fit {outcome} {model} {adjustment}", fit, res)
    models_only = sum(r[1] for r in res)
    _timed(
        "make_survival_models (6 fits + PH tests)",
        lambda: make_survival_models(
            cohort, reference="usual_care", covariates=COVARIATES, care_models=list(MODELS)
        ),
        res,
    )
    _timed(
        "make_cumulative_incidence",
        lambda: make_cumulative_incidence(cohort, care_models=list(MODELS)),
        res,
    )
    _timed("make_km", lambda: make_km(cohort, care_models=list(MODELS)), res)
    _timed("make_km_summary", lambda: make_km_summary(cohort, rmst_horizon_days=365), res)
    _timed("make_at_risk", lambda: make_at_risk(cohort, days=[0, 90, 180, 270, 365]), res)
    print(f"{'six model fits together':<48s} {models_only:8.2f} s wall")
    print(f"{'whole stage (tables, models once)':<48s} {sum(r[1] for r in res[6:]):8.2f} s wall")


def bench_compare(n: int, n_homes: int, seed: int) -> None:
    from lifelines import CoxPHFitter
    from statsmodels.duration.hazard_regression import PHReg

    cohort = simulate_cohort(n, n_homes, np.random.default_rng(seed))
    levels = _levels(cohort, list(MODELS))
    data, x, names = _model_data(cohort, "adjusted", COVARIATES, levels, "usual_care")
    t = data["time_to_admission_days"].to_numpy(float)
    e = (data["admission_status"] == 1).to_numpy()
    g = pd.factorize(data["care_home_id"])[0]
    print(f"\n== slow path, adjusted Cox: {len(data):,} residents, {n_homes:,} homes")
    res: list = []
    ours = _timed("ours", lambda: _fit("cox", "emergency_admission", data, x), res)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])]).assign(
        T=t, E=e.astype(int), g=g
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ll = _timed(
            "lifelines CoxPHFitter(cluster_col)",
            lambda: CoxPHFitter().fit(frame, "T", "E", cluster_col="g"),
            res,
        )
        sm = _timed(
            "statsmodels PHReg(ties='efron').fit(groups)",
            lambda: PHReg(t, x, status=e.astype(int), ties="efron").fit(groups=g),
            res,
        )
        sm_model = PHReg(t, x, status=e.astype(int), ties="efron").fit()
    print(f"speed-up vs lifelines {res[1][1] / res[0][1]:.0f}x, ", end="")
    print(f"vs statsmodels {res[2][1] / res[0][1]:.0f}x")
    print(
        f"max |coef - lifelines| {np.max(np.abs(ours.coef - ll.params_.to_numpy())):.2e}; "
        f"|coef - statsmodels| {np.max(np.abs(ours.coef - sm.params)):.2e}; "
        f"|model SE - statsmodels| {np.max(np.abs(np.sqrt(np.diag(ours.cov)) - sm_model.bse)):.2e}"
    )
    se = np.sqrt(np.diag(ours.robust_cov))
    print(
        f"max |robust SE - lifelines| {np.max(np.abs(se - ll.standard_errors_.to_numpy())):.2e}; "
        f"|robust SE - statsmodels| {np.max(np.abs(se - sm.bse)):.2e} (with tied days the "
        "libraries differ from R; ours match R to 1e-15, tests/test_survival_reference.py)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--residents", type=int, default=400_000)
    p.add_argument("--homes", type=int, default=15_000)
    p.add_argument(
        "--compare-residents", type=int, default=40_000, help="0 skips the slow-path comparison"
    )
    p.add_argument("--compare-homes", type=int, default=1_500,
                   help="care homes of the slow-path comparison")
    p.add_argument("--seed", type=int, default=20170529)
    a = p.parse_args()
    bench_national(a.residents, a.homes, a.seed)
    if a.compare_residents:
        bench_compare(a.compare_residents, a.compare_homes, a.seed)


if __name__ == "__main__":
    main()
