"""Rates stage: crude rates by care model (``tables/crude_rates.csv``) and model design.

The design pieces (model matrix, aliased columns, region caveats) are used by the
rate-ratio models and standardised rates in :mod:`optimal_analysis.rate_models`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimal_analysis.figures.style import care_model_order
from optimal_analysis.stats.poisson import exact_poisson_rate_ci

__all__ = [
    "ALL_CARE_MODELS",
    "CRUDE_RATE_OUTCOMES",
    "INTERCEPT",
    "REASONS",
    "analysis_set_reason",
    "check_cohort_columns",
    "design_matrix",
    "drop_aliased_columns",
    "make_caveats",
    "make_crude_rates",
    "term_reasons",
]

log = logging.getLogger(__name__)

#: Outcome name in the table -> cohort column holding its count per resident.
CRUDE_RATE_OUTCOMES: dict[str, str] = {
    "emergency_admission": "emergency_admission",
    "elective_admission": "elective_admission",
    "ae": "ae",
    "ambulance": "ambulance",
    "death": "died",
    "bed_days": "bed_days",
}
#: Name of the intercept column of a model matrix.
INTERCEPT = "(Intercept)"
#: ``care_model`` value of the whole-cohort row of each outcome.
ALL_CARE_MODELS = "all"
#: Why a rate-ratio or standardised-rate row has empty values (its ``reason`` column;
#: empty when the row is fine). "Analysed set": residents with exposure > 0 and,
#: when adjusted, every covariate (complete cases).
REASONS: dict[str, str] = {
    "no_complete_cases": "no resident has every covariate; the detail after ': ' names the "
    "covariates missing for everyone (else those with any missing value)",
    "no_reference_residents": "the reference care model has no resident in the analysed set",
    "no_residents": "this care model has no resident in the analysed set",
    "no_reference_events": "the reference care model has no event of this outcome",
    "no_events": "this care model has no event of this outcome (its residents are left out "
    "of the fit; the other contrasts are kept)",
    "aliased": "care-model indicators are aliased (linearly dependent): no contrast is identified",
    "not_converged": "the model fit did not converge",
    "single_cluster": "this care model or the reference has fewer than 2 care homes in the fit: "
    "estimate kept, but its cluster score sums to 0, so std_error, CIs and p-values are empty",
}
# Bed days are not Poisson counts (days of one stay are not independent events),
# so an exact Poisson interval would be far too narrow: the CI is left empty.
_NO_POISSON_CI = {"bed_days"}


def check_cohort_columns(
    cohort: pd.DataFrame, columns: Sequence[str], *, table: str = "cohort"
) -> None:
    """Raise ``ValueError`` naming every column of ``columns`` missing from ``cohort``."""
    missing = [c for c in dict.fromkeys(columns) if c not in cohort.columns]
    if missing:
        raise ValueError(f"{table} table lacks column(s) {missing}; it has {list(cohort.columns)}")


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
        Outcome names, keys of :data:`CRUDE_RATE_OUTCOMES` (default: all).
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
    outcomes = list(CRUDE_RATE_OUTCOMES) if outcomes is None else list(outcomes)
    unknown = [o for o in outcomes if o not in CRUDE_RATE_OUTCOMES]
    if unknown:
        raise ValueError(
            f"unknown crude-rate outcome(s) {unknown}; known: {list(CRUDE_RATE_OUTCOMES)}"
        )
    columns = [CRUDE_RATE_OUTCOMES[o] for o in outcomes]
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
    no_ci = long["outcome"].isin(_NO_POISSON_CI).to_numpy()
    long["conf_low"] = np.where(no_ci, np.nan, low)
    long["conf_high"] = np.where(no_ci, np.nan, high)
    log.info("crude rates: %d outcomes x %d care models", len(outcomes), len(models))
    return long


def design_matrix(
    data: pd.DataFrame, *, levels: Sequence[str], reference: str, covariates: Sequence[str] = ()
) -> tuple[np.ndarray, list[str]]:
    """Model matrix: intercept, care-model indicators (``reference`` omitted), covariates.

    Care-model columns are named by the care model. Covariates: booleans as
    0/1; numbers as they are (linear); text as treatment indicators named
    ``<column>_<level>`` against the first level in sorted order (``sex_M`` for
    ``F``/``M``). Rows must have no missing covariates (see complete cases).
    """
    care = data["care_model"].astype(str).to_numpy()
    cols = [np.ones(len(data))]
    names = [INTERCEPT]
    for level in levels:
        if level != reference:
            cols.append((care == level).astype(float))
            names.append(level)
    for cov in covariates:
        s = data[cov]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            cols.append(s.astype(float).to_numpy())
            names.append(cov)
        else:
            values = s.astype(str).to_numpy()
            for level in sorted(np.unique(values))[1:]:
                cols.append((values == level).astype(float))
                names.append(f"{cov}_{level}")
    return np.column_stack(cols), names


def drop_aliased_columns(
    x: np.ndarray, names: Sequence[str], *, tol: float = 1e-10
) -> tuple[np.ndarray, list[str], list[str]]:
    """Drop columns that are linear combinations of earlier ones (as R's ``lm``/``glm`` alias).

    Columns are taken in order (intercept, care models, covariates), each kept
    if it raises the rank of the correlation-scaled cross-product matrix, so
    a covariate constant within the data or confounded with care model is the
    one dropped. Returns the reduced matrix, its names and the dropped names.
    """
    gram = x.T @ x
    scale = np.sqrt(np.diag(gram))
    keep: list[int] = []
    for j in range(x.shape[1]):  # a handful of columns, never rows
        if scale[j] == 0:
            continue
        trial = [*keep, j]
        sub = gram[np.ix_(trial, trial)] / np.outer(scale[trial], scale[trial])
        if np.linalg.matrix_rank(sub, tol=tol) == len(trial):
            keep.append(j)
    dropped = [n for k, n in enumerate(names) if k not in keep]
    return x[:, keep], [names[k] for k in keep], dropped


def make_caveats(cohort: pd.DataFrame, *, reference: str) -> pd.DataFrame:
    """Design caveats: one row per care model other than the reference.

    ``region_confounded`` is true when no region has homes of both that care
    model and the reference: the comparison is then between regions as much as
    between care models, and the two cannot be separated. Columns:
    ``care_model, reference, regions, regions_with_both, region_confounded, caveat``.
    """
    pairs = cohort[["region", "care_model"]].astype(str).drop_duplicates()
    by_region = pairs.groupby("region")["care_model"].agg(set)
    rows = []
    for m in sorted(set(pairs["care_model"]) - {reference}):
        both = int(sum({m, reference} <= s for s in by_region))
        regions = sorted(pairs.loc[pairs["care_model"] == m, "region"])
        text = (
            f"{m} and {reference} never share a region: care model and region cannot be separated"
            if both == 0
            else f"{m} and {reference} share {both} region(s)"
        )
        rows.append(
            {
                "care_model": m,
                "reference": reference,
                "regions": ";".join(regions),
                "regions_with_both": both,
                "region_confounded": both == 0,
                "caveat": text,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "care_model",
            "reference",
            "regions",
            "regions_with_both",
            "region_confounded",
            "caveat",
        ],
    )


def analysis_set_reason(
    data: pd.DataFrame, cohort: pd.DataFrame, *, reference: str, covariates: Sequence[str]
) -> str:
    """Reason (a key of :data:`REASONS`) that no model can be fitted to ``data``, or ``""``.

    ``data`` is the analysed subset of ``cohort`` (exposure > 0, complete cases of
    ``covariates``). ``no_complete_cases`` when the covariates leave nobody, with the
    covariates missing for everyone named (else those with any missing value);
    ``no_reference_residents`` when the reference care model is not in ``data``.
    """
    if data.empty and len(covariates) and not cohort[list(covariates)].notna().all(axis=1).any():
        missing = cohort[list(covariates)].isna()
        named = [c for c in covariates if missing[c].all()] or [
            c for c in covariates if missing[c].any()
        ]
        return "no_complete_cases: " + ", ".join(named)
    if not (data["care_model"].astype(str) == reference).any():
        return "no_reference_residents"
    return ""


def term_reasons(
    data: pd.DataFrame, outcome: str, *, levels: Sequence[str], reference: str, set_reason: str
) -> dict[str, str]:
    """Per care model of ``levels``, the reason (:data:`REASONS`) it has no estimate, or ``""``.

    The reference's entry is the reason no model can be fitted at all:
    ``set_reason`` (from :func:`analysis_set_reason`), else
    ``no_reference_events`` when the reference has no event of ``outcome``; both
    then apply to every care model. Otherwise ``no_residents`` / ``no_events``
    per care model.
    """
    events = data.groupby(data["care_model"].astype(str))[outcome].sum()
    if not set_reason and events.get(reference, 0) == 0:
        set_reason = "no_reference_events"
    if set_reason:
        return {m: set_reason for m in levels}
    return {
        m: "no_residents" if m not in events.index else "no_events" if events[m] == 0 else ""
        for m in levels
    }
