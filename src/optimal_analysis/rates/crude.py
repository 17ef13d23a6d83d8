"""Crude rates by care model (``tables/crude_rates.csv``).

The outcomes are the registry's (:mod:`optimal_analysis.outcomes`) of kind
``count`` or ``days``, in registry order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimal_analysis import outcomes as registry
from optimal_analysis.care_models import ALL_CARE_MODELS, care_model_order
from optimal_analysis.model_frame import check_cohort_columns
from optimal_analysis.stats.poisson import exact_poisson_rate_ci

__all__ = ["ALL_CARE_MODELS", "crude_rate_outcomes", "make_crude_rates"]

log = logging.getLogger(__name__)



def crude_rate_outcomes() -> dict[str, str]:
    """Outcome name -> cohort column of its per-resident count: the registry's ``count`` and
    ``days`` outcomes, in registry order."""
    return {o.name: o.column for o in registry.of_kind("count", "days")}


def make_crude_rates(
    cohort: pd.DataFrame,
    *,
    care_models: Sequence[str] | None = None,
    outcomes: Sequence[str] | None = None,
    alpha: float = 0.05,
    include_all: bool = True,
) -> pd.DataFrame:
    """Crude event rates per person-year by care model, with exact Poisson CIs.

    Parameters
    ----------
    cohort
        ``interim/cohort.parquet``: one row per resident with ``care_model``,
        ``person_years`` and the per-resident counts (``died`` for death).
    care_models
        Display order of care models (config ``care_models``); models in the
        data but not listed follow, sorted.
    outcomes
        Outcome names, keys of :func:`crude_rate_outcomes` (default: all).
    alpha
        One minus the confidence level.
    include_all
        Also give a whole-cohort row per outcome, ``care_model == "all"``.

    Returns
    -------
    pandas.DataFrame
        One row per outcome × care model: ``outcome, care_model, residents,
        events, person_years, rate, conf_low, conf_high``. ``rate`` is events
        per person-year, with Garwood exact limits
        (:func:`~optimal_analysis.stats.poisson.exact_poisson_rate_ci`);
        ``bed_days`` (all stays, days per person-year) has empty limits.
    """
    known = crude_rate_outcomes()
    outcomes = list(known) if outcomes is None else list(outcomes)
    unknown = [o for o in outcomes if o not in known]
    if unknown:
        raise ValueError(f"unknown crude-rate outcome(s) {unknown}; known: {list(known)}")
    columns = [known[o] for o in outcomes]
    check_cohort_columns(cohort, ["care_model", "person_years", *columns])
    if cohort.empty:
        raise ValueError("cohort table has no residents: no rates to compute")
    counts = cohort[columns].astype(float).to_numpy()
    if np.isnan(counts).any():
        bad = [c for c, m in zip(columns, np.isnan(counts).any(axis=0), strict=True) if m]
        raise ValueError(f"cohort has missing values in count column(s) {bad}")

    models = care_model_order(cohort["care_model"].astype(str).unique(), care_models)
    grouped = cohort.assign(_n=1).groupby(cohort["care_model"].astype(str), sort=False)
    sums = grouped[["_n", "person_years", *columns]].sum().reindex(models)
    if include_all:
        total = cohort.assign(_n=1)[["_n", "person_years", *columns]].sum()
        sums.loc[ALL_CARE_MODELS] = total
    sums.index.name = "care_model"
    sums = sums.reset_index()

    long = pd.concat(
        [
            pd.DataFrame(
                {
                    "outcome": outcome,
                    "care_model": sums["care_model"],
                    "residents": sums["_n"].astype("int64"),
                    "events": sums[column].astype(float),
                    "person_years": sums["person_years"].astype(float),
                }
            )
            for outcome, column in zip(outcomes, columns, strict=True)
        ],
        ignore_index=True,
    )
    _, low, high = exact_poisson_rate_ci(long["events"].round(), long["person_years"], alpha=alpha)
    long["events"] = long["events"].round().astype("int64")
    long["rate"] = long["events"] / long["person_years"]
    # days of one stay are not independent events: an exact Poisson interval would be far
    # too narrow, so outcomes without ``poisson_ci`` (bed days) have empty limits
    no_ci = long["outcome"].isin([o for o in outcomes if not registry.get(o).poisson_ci])
    no_ci = no_ci.to_numpy()
    long["conf_low"] = np.where(no_ci, np.nan, low)
    long["conf_high"] = np.where(no_ci, np.nan, high)
    log.info("crude rates: %d outcomes x %d care models", len(outcomes), len(models))
    return long


