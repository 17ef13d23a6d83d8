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

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.care_models import care_model_levels
from optimal_analysis.stats.aalen_johansen import aalen_johansen, log_interval
from optimal_analysis.stats.km import kaplan_meier, km_median, restricted_mean_clustered
from optimal_analysis.survival.checks import check_survival_cohort

__all__ = [
    "DERIVED_CURVE_MIN_EVENTS",
    "EVENTS",
    "competing_death_event",
    "derived_cumulative_incidence",
    "make_at_risk",
    "make_cumulative_incidence",
    "make_km",
    "make_km_summary",
]

log = logging.getLogger(__name__)

#: The columns of a curve table (cumulative_incidence, km) after its keys.
_CURVE_COLUMNS = [
    "time",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "n_at_risk",
    "n_events",
    "conf_low_small",
    "conf_high_small",
    "n_clusters",
]

#: ``admission_status`` code -> ``event`` label in the tables.
EVENTS: dict[int, str] = {1: "emergency_admission", 2: "death"}


def _small_sample_limits(table: pd.DataFrame, n_homes: int, alpha: float) -> pd.DataFrame:
    """``conf_low_small, conf_high_small, n_clusters`` of a curve table of one care model.

    The cluster-robust variance times G/(G-1) and the t(G-1) quantile on the log
    scale: est exp(-+t_{G-1} se sqrt(G/(G-1)) / est), upper capped at 1 (G = care
    homes of the care model; NaN if G < 2). Chosen by measured coverage
    (benchmarks/sim_curves_coverage.py: ~0.92 -> ~0.95 at 12 homes).
    """
    est = table["estimate"].to_numpy(float)
    if n_homes < 2:
        lo = hi = np.full(est.size, np.nan)
    else:
        se = table["std_error"].to_numpy(float) * np.sqrt(n_homes / (n_homes - 1))
        lo, hi = log_interval(est, se, float(stats.t.ppf(1 - alpha / 2, n_homes - 1)))
        lo = np.where(table["conf_low"].isna(), np.nan, lo)  # empty where the CI is empty
        hi = np.where(table["conf_high"].isna(), np.nan, hi)
    return table.assign(conf_low_small=lo, conf_high_small=hi, n_clusters=n_homes)


def make_cumulative_incidence(
    cohort: pd.DataFrame,
    *,
    care_models: Sequence[str] | None = None,
    alpha: float = 0.05,
    time_col: str = "time_to_admission_days",
    status_col: str = "admission_status",
    events: dict[int, str] | None = None,
) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of first emergency admission and of death, by care model.

    One row per care model × event × day on which either estimate changes, after
    a day-0 row (estimate 0, CI empty, everyone at risk) so that a care model
    without events still has its curve: ``care_model, event, time, estimate,
    std_error, conf_low, conf_high, n_at_risk, n_events, conf_low_small,
    conf_high_small, n_clusters`` (small-sample limits: :func:`_small_sample_limits`,
    G = ``n_clusters`` care homes of the care model). Ties: all events of a
    day together (exact). ``std_error`` is cluster-robust by care home: the
    per-resident infinitesimal-jackknife influence values (R's
    ``survfit(Surv(time, factor(status)) ~ 1, id = resident_id, influence = TRUE)``)
    summed within care home, Var = sum over homes of the squared sums; CI on the
    log scale (R's default), see
    :func:`optimal_analysis.stats.aalen_johansen.aalen_johansen`.

    ``time_col``, ``status_col`` and ``events`` (status code -> ``event``
    label, default :data:`EVENTS`) pick another time to first event with
    death competing, e.g. a derived outcome's (:func:`derived_cumulative_incidence`).
    """
    check_survival_cohort(cohort)
    events = EVENTS if events is None else events
    parts = []
    for model in care_model_levels(cohort, care_models):
        sub = cohort[cohort["care_model"].astype(str) == model]
        aj = aalen_johansen(
            sub[time_col],
            sub[status_col].astype(int),
            causes=tuple(events),
            cluster=sub["care_home_id"],
            alpha=alpha,
        )
        changes = aj.groupby("time")["n_events"].transform("sum") > 0
        aj = aj[changes]  # filter first: assigning a Series to an empty frame adds its rows
        start = pd.DataFrame(
            {
                "cause": list(events),
                "time": 0.0,
                "estimate": 0.0,
                "std_error": 0.0,
                "conf_low": np.nan,
                "conf_high": np.nan,
                "n_at_risk": len(sub),
                "n_events": 0,
            }
        )
        aj = _small_sample_limits(pd.concat([start, aj], ignore_index=True),
                                  sub["care_home_id"].nunique(), alpha)
        parts.append(aj.assign(care_model=model, event=aj["cause"].map(events)))
    cols = ["care_model", "event", *_CURVE_COLUMNS]
    out = pd.concat(parts, ignore_index=True)[cols]
    out["time"] = out["time"].astype(np.int64)
    return out.astype({"n_at_risk": np.int64, "n_events": np.int64, "n_clusters": np.int64})


#: A derived outcome needs at least this many events (all care models) to get curves.
DERIVED_CURVE_MIN_EVENTS = 10


def competing_death_event(name: str) -> str:
    """``event`` label of death before the first event of derived outcome ``name``."""
    return f"death_before_{name}"


def derived_cumulative_incidence(
    cohort: pd.DataFrame,
    names: Sequence[str],
    *,
    care_models: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Aalen–Johansen curves of time to the first event of each derived outcome.

    For each derived outcome ``name`` (docs/outcome_codes.md) whose cohort
    status column has at least :data:`DERIVED_CURVE_MIN_EVENTS` events,
    :func:`make_cumulative_incidence` on ``time_to_{name}_days`` and
    ``{name}_status`` (1 event, 2 death first: competing, 0 censored): rows
    with ``event`` = ``name`` and ``event`` = ``death_before_{name}``
    (:func:`competing_death_event`; the competing curve is kept so the
    published curve can be rebuilt from its rounded counts). Same columns and
    cluster-robust errors as the emergency-admission curves. Empty (those
    columns) when no outcome qualifies.
    """
    parts = []
    for name in names:
        time_col, status_col = f"time_to_{name}_days", f"{name}_status"
        n_events = int((cohort[status_col] == 1).sum())
        if n_events < DERIVED_CURVE_MIN_EVENTS:
            log.info("%s: %d events, fewer than %d: no cumulative incidence curve", name,
                     n_events, DERIVED_CURVE_MIN_EVENTS)
            continue
        parts.append(make_cumulative_incidence(
            cohort, care_models=care_models, alpha=alpha, time_col=time_col,
            status_col=status_col, events={1: name, 2: competing_death_event(name)}))
    if not parts:
        return pd.DataFrame(columns=["care_model", "event", *_CURVE_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def make_at_risk(
    cohort: pd.DataFrame, *, days: Sequence[int], care_models: Sequence[str] | None = None
) -> pd.DataFrame:
    """Residents still at risk at each display day, by care model and time scale.

    One row per ``care_model × scale × time``: ``n_at_risk`` is the number with
    time ≥ day (``scale`` ``admission``: not yet admitted, alive, followed;
    ``death``: alive and followed). Day 0 counts everyone. These are the rows
    under the survival figures.
    """
    check_survival_cohort(cohort)
    grid = np.asarray(sorted(set(int(d) for d in days)), dtype=float)
    rows = []
    for model in care_model_levels(cohort, care_models):
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

    Each care model starts with a day-0 row (estimate 1, CI [1, 1], everyone at
    risk), so a care model without deaths still has its curve.
    ``care_model, time, estimate, std_error, conf_low, conf_high, n_at_risk,
    n_events, conf_low_small, conf_high_small, n_clusters`` (as in
    :func:`make_cumulative_incidence`); time ``follow_up_days``, event ``died``.
    ``std_error`` (of S) is cluster-robust by care home: the IJ influence of S
    (R's ``survfit(..., id = resident_id, influence = TRUE)$influence.surv``)
    summed within care home; log CI, S exp(+-z se / S).
    """
    check_survival_cohort(cohort)
    parts = []
    for model in care_model_levels(cohort, care_models):
        sub = cohort[cohort["care_model"].astype(str) == model]
        km = kaplan_meier(
            sub["follow_up_days"], sub["died"].astype(bool), cluster=sub["care_home_id"],
            alpha=alpha,
        )
        start = pd.DataFrame(
            {
                "time": [0.0],
                "estimate": 1.0,
                "std_error": 0.0,
                "conf_low": 1.0,
                "conf_high": 1.0,
                "n_at_risk": len(sub),
                "n_events": 0,
            }
        )
        km = _small_sample_limits(pd.concat([start, km[km["n_events"] > 0]]),
                                  sub["care_home_id"].nunique(), alpha)
        parts.append(km.assign(care_model=model))
    out = pd.concat(parts, ignore_index=True)
    out = out.astype({"time": np.int64, "n_at_risk": np.int64, "n_events": np.int64,
                      "n_clusters": np.int64})
    return out[["care_model", *_CURVE_COLUMNS]]


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
    rmst_horizon_days``. Median NaN when survival stays above 1/2; its CI is
    read off the cluster-robust confidence curves of :func:`make_km`.
    ``rmst_std_error`` is cluster-robust by care home (the influence of the
    area, summed within home); RMST CI is Wald (normal quantile).
    """
    check_survival_cohort(cohort)
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for model in care_model_levels(cohort, care_models):
        sub = cohort[cohort["care_model"].astype(str) == model]
        time, died, home = sub["follow_up_days"], sub["died"].astype(bool), sub["care_home_id"]
        km = kaplan_meier(time, died, cluster=home, alpha=alpha)
        med, med_lo, med_hi = km_median(km)
        rmst, se = restricted_mean_clustered(time, died, home, rmst_horizon_days)
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
