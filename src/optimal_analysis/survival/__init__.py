"""Survival stage: time to first emergency admission with death competing, and all-cause death.

- :mod:`~optimal_analysis.survival.curves`: cumulative incidence, numbers at risk,
  Kaplan–Meier and its summary;
- :mod:`~optimal_analysis.survival.models`: Cox and Fine–Gray hazard ratios, PH tests;
- :mod:`~optimal_analysis.survival.inference`: small-sample inference of the hazard models;
- :mod:`~optimal_analysis.survival.checks`: the cohort columns they read;

:func:`make_survival_tables` (here, the stage's entry point) gives all six tables from one
read of the cohort.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimal_analysis import outcomes as registry
from optimal_analysis.care_models import care_model_levels
from optimal_analysis.survival.checks import check_survival_cohort
from optimal_analysis.survival.curves import (
    EVENTS,
    derived_cumulative_incidence,
    make_at_risk,
    make_cumulative_incidence,
    make_km,
    make_km_summary,
)
from optimal_analysis.survival.models import (
    HAZARD_RATIO_COLUMNS,
    SurvivalModelTables,
    make_survival_models,
)
from optimal_analysis.survival.weighted import (
    add_hazard_e_values,
    weighted_cumulative_incidence,
    weighted_hazard_ratios,
)

__all__ = [
    "EVENTS",
    "HAZARD_RATIO_COLUMNS",
    "SurvivalModelTables",
    "check_survival_cohort",
    "make_at_risk",
    "make_cumulative_incidence",
    "make_km",
    "make_km_summary",
    "make_survival_models",
    "make_survival_tables",
]


def make_survival_tables(
    cohort: pd.DataFrame,
    *,
    reference: str,
    covariates: Sequence[str],
    at_risk_days: Sequence[int],
    rmst_horizon_days: int,
    few_clusters_threshold: int,
    rng: np.random.Generator,
    wild_bootstrap_replicates: int,
    care_models: Sequence[str] | None = None,
    ph_transform: str = "km",
    alpha: float = 0.05,
    ps_weights: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of the survival stage, by its file name (one job, one read of the cohort).

    Keys: ``cumulative_incidence``, ``at_risk``, ``hazard_ratios``,
    ``ph_tests``, ``km``, ``km_summary``; see the ``make_*`` functions. A model
    that cannot be fitted (no events, no complete cases, one care home) gives
    NaN rows with a ``reason`` in ``hazard_ratios``, not an error. ``rng`` and
    ``wild_bootstrap_replicates`` drive the wild cluster score bootstrap of
    the few-cluster hazard-ratio rows. ``cumulative_incidence`` has an ``adjustment``
    column (``crude``); with ``ps_weights`` (the weighting stage's ``resident_id,
    weight``) both it and ``hazard_ratios`` gain ``adjustment = weighted`` rows
    (:mod:`optimal_analysis.survival.weighted`). Every hazard ratio gets ``e_value``
    and ``e_value_ci``. Each registered derived outcome (source ``diagnosis``) with
    enough events adds crude curves
    (:func:`~optimal_analysis.survival.curves.derived_cumulative_incidence`).
    """
    models = make_survival_models(
        cohort,
        reference=reference,
        covariates=covariates,
        care_models=care_models,
        ph_transform=ph_transform,
        few_clusters_threshold=few_clusters_threshold,
        alpha=alpha,
        rng=rng,
        wild_bootstrap_replicates=wild_bootstrap_replicates,
    )
    ci = make_cumulative_incidence(cohort, care_models=care_models, alpha=alpha)
    derived = [o.name for o in registry.OUTCOMES.values()  # derived outcomes of the code list
               if o.source == "diagnosis" and f"{o.name}_status" in cohort.columns]
    extra = derived_cumulative_incidence(cohort, derived, care_models=care_models, alpha=alpha)
    if len(extra):  # derived outcomes: time to first event, death competing (crude only)
        ci = pd.concat([ci, extra], ignore_index=True)
    ci.insert(2, "adjustment", "crude")
    hazard_ratios = models.hazard_ratios
    if ps_weights is not None:
        levels = care_model_levels(cohort, care_models)
        ci = pd.concat([ci, weighted_cumulative_incidence(
            cohort, ps_weights, levels=levels, columns=list(ci.columns), alpha=alpha,
        )], ignore_index=True)
        hazard_ratios = pd.concat([hazard_ratios, weighted_hazard_ratios(
            cohort, ps_weights, levels=levels, reference=reference,
            columns=list(hazard_ratios.columns), few_clusters_threshold=few_clusters_threshold,
            alpha=alpha,
        )], ignore_index=True)
    return {
        "cumulative_incidence": ci,
        "at_risk": make_at_risk(cohort, days=at_risk_days, care_models=care_models),
        "hazard_ratios": add_hazard_e_values(hazard_ratios),
        "ph_tests": models.ph_tests,
        "km": make_km(cohort, care_models=care_models, alpha=alpha),
        "km_summary": make_km_summary(
            cohort, rmst_horizon_days=rmst_horizon_days, care_models=care_models, alpha=alpha
        ),
    }
