"""Rate-ratio models by care model and model-standardised rates.

Tables (see ``docs/developing.md`` for the extra columns):

* ``rate_ratios.csv``: one row per outcome × model (``poisson``, ``negbin``) ×
  adjustment (``crude``, ``adjusted``) × exposure × care-model term.
* ``standardised_rates.csv``: g-computation rates per care model and rate
  differences vs the reference, per 1,000 resident-years.
* ``caveats.csv``: design caveats the report must state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import product

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.rates import (
    check_cohort_columns,
    design_matrix,
    drop_aliased_columns,
    make_caveats,
)
from optimal_analysis.stats.cluster import cr1_covariance, wild_cluster_score_test
from optimal_analysis.stats.glm import count_scores_information, fit_count_model
from optimal_analysis.tidy import tidy_coefficients, wald_inference

__all__ = ["EXPOSURES", "RateFit", "RateModelResults", "fit_rate_model", "make_rate_models"]

log = logging.getLogger(__name__)

#: Exposure name -> (cohort column, divisor to person-years).
EXPOSURES: dict[str, tuple[str, float]] = {
    "person_years": ("person_years", 1.0),
    "days_at_risk": ("days_at_risk", 365.25),
}


@dataclass(frozen=True)
class RateModelResults:
    """The tables of :func:`make_rate_models`."""

    rate_ratios: pd.DataFrame
    standardised_rates: pd.DataFrame
    caveats: pd.DataFrame


@dataclass(frozen=True)
class RateFit:
    """One fitted rate model: coefficients, their CR1 covariance, and what was used."""

    names: list[str]
    params: np.ndarray
    cov: np.ndarray
    alpha: float
    converged: bool
    n_residents: int
    n_clusters: int


def fit_rate_model(
    model: str,
    y: np.ndarray,
    x: np.ndarray,
    log_exposure: np.ndarray,
    clusters: np.ndarray,
    names: Sequence[str],
    *,
    dispersion_fixed: bool = False,
) -> RateFit:
    """Fit a Poisson or NB2 rate model and its CR1 cluster-robust covariance.

    ``log_exposure`` is the offset (log person-years); ``clusters`` integer
    codes of care homes. For NB2 the covariance of β is the (β, β) block of the
    joint (β, α) sandwich unless ``dispersion_fixed`` (α treated as known, as R's
    ``sandwich::vcovCL`` on ``MASS::glm.nb`` does).
    """
    fit = fit_count_model(model, y, x, log_exposure)
    k = x.shape[1]
    cov = np.full((k, k), np.nan)
    if fit.converged:  # no covariance for an estimate that does not exist
        scores, info = count_scores_information(
            model, y, x, log_exposure, fit.params, fit.alpha, dispersion_fixed=dispersion_fixed
        )
        cov = cr1_covariance(scores, np.linalg.inv(info), clusters)[:k, :k]
    return RateFit(
        list(names),
        fit.params,
        cov,
        fit.alpha,
        fit.converged,
        len(y),
        int(np.unique(clusters).size),
    )


def _wild_p_value(
    model: str,
    y: np.ndarray,
    x: np.ndarray,
    offset: np.ndarray,
    clusters: np.ndarray,
    index: int,
    *,
    rng: np.random.Generator,
    replicates: int,
) -> float:
    """Refit with column ``index`` dropped (H0: β = 0), then the wild cluster score bootstrap."""
    restricted = fit_count_model(model, y, np.delete(x, index, axis=1), offset)
    if not restricted.converged:
        return float("nan")
    params = np.insert(restricted.params, index, 0.0)
    scores, info = count_scores_information(model, y, x, offset, params, restricted.alpha)
    return wild_cluster_score_test(scores, info, clusters, index, rng=rng, replicates=replicates)[1]


def _standardise(
    fit: RateFit,
    x: np.ndarray,
    weights: np.ndarray,
    levels: Sequence[str],
    reference: str,
    alpha: float,
) -> pd.DataFrame:
    """g-computation rates per 1,000 resident-years and differences vs ``reference``.

    rate_m = Σ w_i exp(x_i(m)ᵀβ) / Σ w_i, with x_i(m) resident i's covariates and
    care model set to m, w_i its exposure (person-years): the rate the analysed
    cohort would have had under care model m. Delta method with the CR1
    covariance: ∇rate_m = Σ w_i exp(x_i(m)ᵀβ) x_i(m) / Σ w_i. Rate CIs are
    formed on the log scale, differences on the linear scale.
    """
    levels = [m for m in levels if m == reference or m in fit.names]  # aliased models: none
    cm_cols = [fit.names.index(m) for m in levels if m != reference]
    base = x.copy()
    base[:, cm_cols] = 0.0
    w = weights / weights.sum()
    rates, grads = {}, {}
    for m in levels:
        xm = base.copy()
        if m != reference:
            xm[:, fit.names.index(m)] = 1.0
        pred = np.exp(xm @ fit.params) * w
        rates[m], grads[m] = 1000 * pred.sum(), 1000 * (pred @ xm)
    rows = []
    z = stats.norm.ppf(1 - alpha / 2)
    for m in levels:
        se = float(np.sqrt(grads[m] @ fit.cov @ grads[m]))
        rows.append(
            {
                "care_model": m,
                "measure": "rate",
                "estimate": rates[m],
                "std_error": se,
                "conf_low": rates[m] * np.exp(-z * se / rates[m]),
                "conf_high": rates[m] * np.exp(z * se / rates[m]),
                "p_value": np.nan,
            }
        )
        if m != reference:
            g = grads[m] - grads[reference]
            d, se_d = rates[m] - rates[reference], float(np.sqrt(g @ fit.cov @ g))
            low, high, p = wald_inference(d, se_d, alpha=alpha)
            rows.append(
                {
                    "care_model": m,
                    "measure": "rate_difference",
                    "estimate": d,
                    "std_error": se_d,
                    "conf_low": float(low),
                    "conf_high": float(high),
                    "p_value": float(p),
                }
            )
    return pd.DataFrame(rows)


def _rate_ratio_rows(
    fit: RateFit,
    *,
    levels: Sequence[str],
    reference: str,
    homes: pd.Series,
    few_clusters_threshold: int,
    alpha: float,
    wild: Callable[[int], float],
) -> pd.DataFrame:
    """Tidy rows of the care-model terms of one fit, with the few-cluster columns."""
    tidy = tidy_coefficients(fit.params, fit.cov, fit.names, exponentiate=True, alpha=alpha)
    tidy = tidy[tidy["term"].isin(levels)].reset_index(drop=True)
    comparison = np.array(
        [int(homes.get(t, 0) + homes.get(reference, 0)) for t in tidy["term"]], dtype=int
    )
    few = comparison < few_clusters_threshold
    with np.errstate(divide="ignore"):  # a non-converged estimate may be exp(-inf) = 0
        log_rr = np.log(tidy["estimate"].to_numpy())
    low_t, high_t, p_t = wald_inference(
        log_rr, tidy["std_error"], alpha=alpha, df=fit.n_clusters - 1
    )
    out = tidy.assign(
        n_residents=fit.n_residents,
        n_clusters=fit.n_clusters,
        n_clusters_comparison=comparison,
        few_clusters=few,
        conf_low_t=np.where(few, np.exp(low_t), np.nan),
        conf_high_t=np.where(few, np.exp(high_t), np.nan),
        p_value_t=np.where(few, p_t, np.nan),
        p_value_wild=[
            wild(fit.names.index(t)) if f and fit.converged else np.nan
            for t, f in zip(tidy["term"], few, strict=True)
        ],
        dispersion=fit.alpha,
        converged=fit.converged,
    )
    if not fit.converged:  # e.g. a care model without events: no finite estimate exists
        estimates = ["estimate", "std_error", "conf_low", "conf_high", "p_value"]
        out[[*estimates, "conf_low_t", "conf_high_t", "p_value_t"]] = np.nan
    return out


def make_rate_models(
    cohort: pd.DataFrame,
    *,
    reference: str,
    covariates: Sequence[str],
    outcomes: Sequence[str],
    few_clusters_threshold: int,
    wild_bootstrap_replicates: int,
    rng: np.random.Generator,
    care_models: Sequence[str] | None = None,
    models: Sequence[str] = ("poisson", "negbin"),
    exposures: Sequence[str] = ("person_years", "days_at_risk"),
    alpha: float = 0.05,
) -> RateModelResults:
    """Fit every rate model; return rate ratios, standardised rates and caveats.

    For each outcome × model × adjustment × exposure: a log-linear model of the
    resident's count with offset log(exposure in years), care model (reference
    from config) and, when ``adjusted``, ``covariates`` (complete cases);
    CR1 cluster-robust covariance by care home, Wald CIs. Exposure
    ``days_at_risk`` (days not in hospital / 365.25) is the sensitivity analysis;
    residents with no days at risk are dropped from it (counted in ``n_dropped``).
    Where a comparison has fewer care homes than ``few_clusters_threshold``
    (``few_clusters``), small-sample inference is added: a restricted wild
    cluster score bootstrap p-value (``p_value_wild``, Webb weights) and Wald
    limits and p-value with t(G − 1) quantiles (``conf_low_t``, ``conf_high_t``,
    ``p_value_t``). Residents are clustered by ``care_home_id``. Covariate
    columns aliased with earlier ones are dropped (logged); a fit that does not
    converge (e.g. no events under one care model) has empty estimates and
    ``converged`` false. See ``docs/developing.md`` for every column.
    """
    needed = ["care_model", "care_home_id", "region", *outcomes, *covariates]
    check_cohort_columns(cohort, [*needed, *(EXPOSURES[e][0] for e in exposures)])
    levels = [m for m in (care_models or []) if m in set(cohort["care_model"])]
    levels += sorted(set(cohort["care_model"].astype(str)) - set(levels))
    if reference not in levels:
        raise ValueError(
            f"reference care model {reference!r} has no residents; care models: {levels}"
        )
    caveats = make_caveats(cohort, reference=reference)
    confounded = dict(zip(caveats["care_model"], caveats["region_confounded"], strict=True))
    complete = cohort[list(covariates)].notna().all(axis=1).to_numpy()
    rr_rows, std_rows = [], []
    for exposure, adjustment in product(exposures, ("crude", "adjusted")):
        column, per_year = EXPOSURES[exposure]
        years = cohort[column].astype(float).to_numpy() / per_year
        keep = (years > 0) & (complete if adjustment == "adjusted" else True)
        data, offset = cohort.loc[keep], np.log(years[keep])
        x, names = design_matrix(
            data,
            levels=levels,
            reference=reference,
            covariates=covariates if adjustment == "adjusted" else (),
        )
        x, names, dropped = drop_aliased_columns(x, names)
        if dropped:
            log.warning("%s %s: aliased column(s) dropped: %s", adjustment, exposure, dropped)
        clusters = pd.factorize(data["care_home_id"])[0]
        homes = data.groupby("care_model")["care_home_id"].nunique()
        key = {"adjustment": adjustment, "exposure": exposure}
        for outcome, model in product(outcomes, models):
            y = data[outcome].astype(float).to_numpy()
            fit = fit_rate_model(model, y, x, offset, clusters, names)
            log.info(
                "%s %s %s %s: converged=%s", outcome, model, adjustment, exposure, fit.converged
            )

            wild = partial(
                _wild_p_value,
                model,
                y,
                x,
                offset,
                clusters,
                rng=rng,
                replicates=wild_bootstrap_replicates,
            )
            rows = _rate_ratio_rows(
                fit,
                levels=levels,
                reference=reference,
                homes=homes,
                few_clusters_threshold=few_clusters_threshold,
                alpha=alpha,
                wild=wild,
            )
            rr_rows.append(
                rows.assign(
                    outcome=outcome,
                    model=model,
                    **key,
                    n_dropped=len(cohort) - fit.n_residents,
                    region_confounded=[bool(confounded.get(t, False)) for t in rows["term"]],
                )
            )
            std = _standardise(fit, x, years[keep], levels, reference, alpha)
            if not fit.converged:
                std[["estimate", "std_error", "conf_low", "conf_high", "p_value"]] = np.nan
            std_rows.append(
                std.assign(
                    outcome=outcome,
                    model=model,
                    **key,
                    n_residents=fit.n_residents,
                    n_clusters=fit.n_clusters,
                )
            )
    return RateModelResults(_key_first(rr_rows), _key_first(std_rows), caveats)


def _key_first(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, with the model key (outcome, model, adjustment, exposure) first."""
    first = ["outcome", "model", "adjustment", "exposure"]
    out = pd.concat(frames, ignore_index=True)
    return out[[*first, *(c for c in out.columns if c not in first)]]
