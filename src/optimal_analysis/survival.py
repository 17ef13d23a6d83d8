"""Survival stage: time to first emergency admission with death competing, and all-cause death.

Every function takes ``interim/cohort.parquet`` (one row per resident) and returns
a tidy results table. Time is in days from entry: an event on the day of entry
is at day 1 (``time_to_admission_days`` = first emergency admission − entry + 1,
else ``follow_up_days``). ``admission_status`` is 0 censored (moved out, study
end), 1 emergency admission, 2 death before admission.

Which question each answers:

- ``cumulative_incidence.csv`` (Aalen–Johansen): the probability of having been
  admitted (or having died without admission) by day t, the quantity a
  commissioner plans with. 1 − Kaplan–Meier would overstate it.
- ``hazard_ratios.csv`` ``cox`` on ``emergency_admission``: cause-specific hazard
  ratio, the effect on the admission rate among residents still alive and not yet
  admitted (death censors); ``fine_gray``: subdistribution hazard ratio, the
  effect on the cumulative incidence of admission (it mixes effects on
  admission and on death); ``cox`` on ``death``: all-cause mortality.
- ``km.csv`` / ``km_summary.csv``: all-cause survival, median and restricted
  mean survival time (days) up to a horizon.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.rate_models import design_matrix
from optimal_analysis.rates import check_cohort_columns
from optimal_analysis.stats.aalen_johansen import aalen_johansen
from optimal_analysis.stats.cox import CoxFit, fit_cox
from optimal_analysis.stats.cox_zph import cox_zph
from optimal_analysis.stats.finegray import fit_fine_gray
from optimal_analysis.stats.km import kaplan_meier, km_median, restricted_mean
from optimal_analysis.tidy import tidy_coefficients

__all__ = [
    "EVENTS",
    "make_at_risk",
    "make_cumulative_incidence",
    "make_km",
    "make_km_summary",
    "make_survival_models",
    "SurvivalModelTables",
]

log = logging.getLogger(__name__)

#: ``admission_status`` code -> ``event`` label in the tables.
EVENTS: dict[int, str] = {1: "emergency_admission", 2: "death"}
_SURVIVAL_COLUMNS = [
    "care_model",
    "care_home_id",
    "time_to_admission_days",
    "admission_status",
    "follow_up_days",
    "died",
]


def _levels(cohort: pd.DataFrame, care_models: Sequence[str] | None) -> list[str]:
    present = set(cohort["care_model"].astype(str))
    levels = [m for m in (care_models or []) if m in present]
    return levels + sorted(present - set(levels))


def _check(cohort: pd.DataFrame, extra: Sequence[str] = ()) -> None:
    check_cohort_columns(cohort, [*_SURVIVAL_COLUMNS, *extra])
    problems = []
    status = cohort["admission_status"].astype(int)
    if not status.isin([0, 1, 2]).all():
        problems.append(f"admission_status values {sorted(set(status) - {0, 1, 2})} are not 0/1/2")
    for col in ("time_to_admission_days", "follow_up_days"):
        if (cohort[col] < 1).any() or cohort[col].isna().any():
            problems.append(f"{col} has missing values or values below 1 day")
    if (cohort["time_to_admission_days"] > cohort["follow_up_days"]).any():
        problems.append("time_to_admission_days exceeds follow_up_days for some residents")
    if problems:
        raise ValueError("cohort cannot be analysed for survival: " + "; ".join(problems))


def make_cumulative_incidence(
    cohort: pd.DataFrame, *, care_models: Sequence[str] | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of first emergency admission and of death, by care model.

    One row per care model × event × day on which either estimate changes:
    ``care_model, event, time, estimate, std_error, conf_low, conf_high,
    n_at_risk, n_events``. Ties: all events of a day together (exact);
    variance: infinitesimal jackknife; CI: log transform (both as R's
    ``survfit(Surv(time, factor(status)) ~ care_model)``), see
    :func:`optimal_analysis.stats.aalen_johansen.aalen_johansen`.
    """
    _check(cohort)
    parts = []
    for model in _levels(cohort, care_models):
        sub = cohort[cohort["care_model"].astype(str) == model]
        aj = aalen_johansen(
            sub["time_to_admission_days"],
            sub["admission_status"].astype(int),
            causes=tuple(EVENTS),
            alpha=alpha,
        )
        changes = aj.groupby("time")["n_events"].transform("sum") > 0
        aj = aj[changes].assign(care_model=model, event=aj["cause"].map(EVENTS))
        parts.append(aj)
    cols = [
        "care_model",
        "event",
        "time",
        "estimate",
        "std_error",
        "conf_low",
        "conf_high",
        "n_at_risk",
        "n_events",
    ]
    out = pd.concat(parts, ignore_index=True)[cols]
    out["time"] = out["time"].astype(np.int64)
    return out


def make_at_risk(
    cohort: pd.DataFrame, *, days: Sequence[int], care_models: Sequence[str] | None = None
) -> pd.DataFrame:
    """Residents still at risk at each display day, by care model and time scale.

    One row per ``care_model × scale × time``: ``n_at_risk`` is the number with
    time ≥ day (``scale`` ``admission``: not yet admitted, alive, followed;
    ``death``: alive and followed). Day 0 counts everyone. These are the rows
    under the survival figures.
    """
    _check(cohort)
    grid = np.asarray(sorted(set(int(d) for d in days)), dtype=float)
    rows = []
    for model in _levels(cohort, care_models):
        sub = cohort[cohort["care_model"].astype(str) == model]
        for scale, col in (("admission", "time_to_admission_days"), ("death", "follow_up_days")):
            t = np.sort(sub[col].to_numpy(dtype=float))
            n = t.size - np.searchsorted(t, grid, side="left")
            rows.append(
                pd.DataFrame(
                    {
                        "care_model": model,
                        "scale": scale,
                        "time": grid.astype(np.int64),
                        "n_at_risk": n,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def make_km(
    cohort: pd.DataFrame, *, care_models: Sequence[str] | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """Kaplan–Meier all-cause survival by care model, one row per care model × day with a death.

    ``care_model, time, estimate, std_error, conf_low, conf_high, n_at_risk,
    n_events``; time ``follow_up_days``, event ``died``; Greenwood variance, log CI.
    """
    _check(cohort)
    parts = []
    for model in _levels(cohort, care_models):
        sub = cohort[cohort["care_model"].astype(str) == model]
        km = kaplan_meier(sub["follow_up_days"], sub["died"].astype(bool), alpha=alpha)
        parts.append(km[km["n_events"] > 0].assign(care_model=model))
    out = pd.concat(parts, ignore_index=True)
    out["time"] = out["time"].astype(np.int64)
    return out[
        [
            "care_model",
            "time",
            "estimate",
            "std_error",
            "conf_low",
            "conf_high",
            "n_at_risk",
            "n_events",
        ]
    ]


def make_km_summary(
    cohort: pd.DataFrame,
    *,
    rmst_horizon_days: int,
    care_models: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Median survival and restricted mean survival time to ``rmst_horizon_days``, by care model.

    ``care_model, n_residents, n_events, median_days, median_conf_low,
    median_conf_high, rmst_days, rmst_std_error, rmst_conf_low, rmst_conf_high,
    rmst_horizon_days``. Median NaN when survival stays above 1/2; RMST CI is
    Wald (normal quantile).
    """
    _check(cohort)
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for model in _levels(cohort, care_models):
        sub = cohort[cohort["care_model"].astype(str) == model]
        km = kaplan_meier(sub["follow_up_days"], sub["died"].astype(bool), alpha=alpha)
        med, med_lo, med_hi = km_median(km)
        rmst, se = restricted_mean(km, rmst_horizon_days)
        rows.append(
            {
                "care_model": model,
                "n_residents": len(sub),
                "n_events": int(sub["died"].sum()),
                "median_days": med,
                "median_conf_low": med_lo,
                "median_conf_high": med_hi,
                "rmst_days": rmst,
                "rmst_std_error": se,
                "rmst_conf_low": rmst - z * se,
                "rmst_conf_high": rmst + z * se,
                "rmst_horizon_days": int(rmst_horizon_days),
            }
        )
    return pd.DataFrame(rows)


def _model_data(
    cohort: pd.DataFrame,
    adjustment: str,
    covariates: Sequence[str],
    levels: list[str],
    reference: str,
):
    covs = list(covariates) if adjustment == "adjusted" else []
    data = cohort[cohort[covs].notna().all(axis=1)] if covs else cohort
    x, names = design_matrix(data, levels=levels, reference=reference, covariates=covs)
    return data, x[:, 1:], names[1:]  # Cox has no intercept


def _fit(model: str, outcome: str, data: pd.DataFrame, x: np.ndarray) -> CoxFit:
    cluster = data["care_home_id"].astype(str).to_numpy()
    if outcome == "death":
        return fit_cox(data["follow_up_days"], data["died"].astype(bool), x, cluster=cluster)
    status = data["admission_status"].astype(int).to_numpy()
    if model == "fine_gray":
        return fit_fine_gray(data["time_to_admission_days"], status, x, cause=1, cluster=cluster)
    return fit_cox(data["time_to_admission_days"], status == 1, x, cluster=cluster)


_MODELS = [("emergency_admission", "cox"), ("emergency_admission", "fine_gray"), ("death", "cox")]


def _each_model(cohort, reference, covariates, care_models):
    levels = _levels(cohort, care_models)
    if reference not in levels:
        raise ValueError(
            f"reference care model {reference!r} has no residents; care models: {levels}"
        )
    for adjustment in ("crude", "adjusted"):
        data, x, names = _model_data(cohort, adjustment, covariates, levels, reference)
        for outcome, model in _MODELS:
            fit = _fit(model, outcome, data, x)
            log.info(
                "%s %s %s: %d residents, %d events, %d iterations",
                outcome,
                model,
                adjustment,
                fit.n,
                fit.n_events,
                fit.n_iter,
            )
            yield outcome, model, adjustment, data, names, levels, fit


@dataclass(frozen=True)
class SurvivalModelTables:
    """``hazard_ratios`` and ``ph_tests`` tables from one pass of model fits."""

    hazard_ratios: pd.DataFrame
    ph_tests: pd.DataFrame


def make_survival_models(
    cohort: pd.DataFrame,
    *,
    reference: str,
    covariates: Sequence[str],
    care_models: Sequence[str] | None = None,
    ph_transform: str = "km",
    alpha: float = 0.05,
) -> SurvivalModelTables:
    """Hazard ratios of each care model against ``reference`` and the proportional-hazards tests.

    ``hazard_ratios``: one row per outcome × model × adjustment × care-model term,
    ``outcome, model, adjustment, term, estimate, std_error, conf_low,
    conf_high, p_value, std_error_model, n_residents, n_events, n_clusters,
    converged``.
    ``estimate`` is the hazard ratio; ``std_error`` (log scale) is cluster-robust
    by care home, as R's ``coxph(..., cluster = care_home_id)`` (sandwich of the
    Efron score residuals summed by home, no small-sample factor), Wald CI and
    p-value with the normal quantile; ``std_error_model`` the model-based one.
    Models: ``cox`` for ``emergency_admission`` (cause-specific: death and other
    exits censor) and for ``death`` (all-cause, time ``follow_up_days``), Efron
    ties; ``fine_gray`` for ``emergency_admission`` with death competing, as R's
    ``finegray`` + weighted ``coxph`` (:mod:`optimal_analysis.stats.finegray`).
    ``adjusted`` adds ``covariates`` (complete cases; ``n_residents`` counts those
    used); ``crude`` has care model only.

    ``ph_tests``: for each Cox model, one row per term and ``GLOBAL``:
    ``outcome, model, adjustment, transform, term, chisq, df, p_value``; R's
    ``cox.zph`` (survival >= 3) score test with time transform ``ph_transform``
    (``km``: 1 − KM, R's default, or ``identity``); care model is one term with
    several df. Fine–Gray models are not tested.
    """
    if ph_transform not in ("km", "identity"):
        raise ValueError(f"ph_transform must be 'km' or 'identity', not {ph_transform!r}")
    _check(cohort, [*covariates])
    hr_rows, ph_rows = [], []
    for outcome, model, adjustment, data, names, levels, fit in _each_model(
        cohort, reference, covariates, care_models
    ):
        tidy = tidy_coefficients(fit.coef, fit.robust_cov, names, exponentiate=True, alpha=alpha)
        tidy["std_error_model"] = np.sqrt(np.diag(fit.cov))
        tidy = tidy[tidy["term"].isin(levels)]
        hr_rows.append(
            tidy.assign(
                outcome=outcome,
                model=model,
                adjustment=adjustment,
                n_residents=fit.n,
                n_events=fit.n_events,
                n_clusters=fit.n_clusters,
                converged=fit.converged,
            )
        )
        if model == "cox":
            ph_rows.append(
                _ph_test(fit, outcome, adjustment, data, names, levels, covariates, ph_transform)
            )
    hr = pd.concat(hr_rows, ignore_index=True)
    first = ["outcome", "model", "adjustment"]
    ph = pd.concat(ph_rows, ignore_index=True)
    return SurvivalModelTables(
        hazard_ratios=hr[first + [c for c in hr.columns if c not in first]],
        ph_tests=ph[
            ["outcome", "model", "adjustment", "transform", "term", "chisq", "df", "p_value"]
        ],
    )


def _ph_test(fit, outcome, adjustment, data, names, levels, covariates, transform) -> pd.DataFrame:
    terms: dict[str, list[int]] = {"care_model": [i for i, n in enumerate(names) if n in levels]}
    for cov in covariates if adjustment == "adjusted" else []:
        terms[cov] = [i for i, n in enumerate(names) if n == cov or n.startswith(f"{cov}_")]
    if outcome == "death":
        time, event = data["follow_up_days"], data["died"].astype(bool)
    else:
        time, event = data["time_to_admission_days"], data["admission_status"].astype(int) == 1
    z = cox_zph(fit, time, event, terms, transform=transform)
    return z.assign(outcome=outcome, model="cox", adjustment=adjustment, transform=transform)


def make_survival_tables(
    cohort: pd.DataFrame,
    *,
    reference: str,
    covariates: Sequence[str],
    at_risk_days: Sequence[int],
    rmst_horizon_days: int,
    care_models: Sequence[str] | None = None,
    ph_transform: str = "km",
    alpha: float = 0.05,
) -> dict[str, pd.DataFrame]:
    """Every table of the survival stage, by its file name (one job, one read of the cohort).

    Keys: ``cumulative_incidence``, ``at_risk``, ``hazard_ratios``,
    ``ph_tests``, ``km``, ``km_summary``; see the ``make_*`` functions.
    """
    models = make_survival_models(cohort, reference=reference, covariates=covariates,
                                  care_models=care_models, ph_transform=ph_transform,
                                  alpha=alpha)
    return {
        "cumulative_incidence": make_cumulative_incidence(cohort, care_models=care_models,
                                                          alpha=alpha),
        "at_risk": make_at_risk(cohort, days=at_risk_days, care_models=care_models),
        "hazard_ratios": models.hazard_ratios,
        "ph_tests": models.ph_tests,
        "km": make_km(cohort, care_models=care_models, alpha=alpha),
        "km_summary": make_km_summary(cohort, rmst_horizon_days=rmst_horizon_days,
                                      care_models=care_models, alpha=alpha),
    }
