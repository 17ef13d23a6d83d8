"""One fitted rate model: ML fit, CR1 covariance, wild p-value, standardised rates.

Used by :mod:`optimal_analysis.rate_models`, which builds the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.stats.cluster import cr1_covariance, wild_cluster_score_test
from optimal_analysis.stats.glm import count_scores_information, fit_count_model
from optimal_analysis.tidy import wald_inference

__all__ = ["RateFit", "fit_rate_model", "standardise", "wild_p_value"]


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
    if (
        fit.converged and np.unique(clusters).size >= 2
    ):  # no covariance for an estimate that does not exist
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


def wild_p_value(
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


def standardise(
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
        with np.errstate(invalid="ignore"):  # rounding below 0 where the meat is singular
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
            with np.errstate(invalid="ignore"):
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
