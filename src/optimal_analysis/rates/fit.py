"""One fitted rate model: ML fit, CR1 and CR2 covariances, wild p-value, standardised rates.

Used by :mod:`optimal_analysis.rates.models`, which builds the tables.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.stats.cluster import cr1_covariance, wild_cluster_score_test
from optimal_analysis.stats.cr2 import cr2_satterthwaite
from optimal_analysis.stats.glm import count_scores_information, fit_count_model
from optimal_analysis.tidy import wald_inference

__all__ = ["RateFit", "fit_rate_model", "standardise", "wild_p_value"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateFit:
    """One fitted rate model: coefficients, their covariances, and what was used.

    ``cov`` is the CR1 covariance R reproduces (``sandwich::vcovCL(type = "HC1")``
    on ``glm`` / ``MASS::glm.nb``); ``cov_joint`` the NB2 joint (β, α) CR1 sandwich
    (NaN for Poisson); ``cov_cr2`` and ``df_cr2`` the CR2 covariance and the
    Satterthwaite df of each coefficient (``clubSandwich``, see
    :func:`~optimal_analysis.stats.cr2.cr2_satterthwaite`).
    """

    names: list[str]
    params: np.ndarray
    cov: np.ndarray
    alpha: float
    converged: bool
    n_residents: int
    n_clusters: int
    cov_joint: np.ndarray
    cov_cr2: np.ndarray
    df_cr2: np.ndarray


def fit_rate_model(
    model: str,
    y: np.ndarray,
    x: np.ndarray,
    log_exposure: np.ndarray,
    clusters: np.ndarray,
    names: Sequence[str],
) -> RateFit:
    """Fit a Poisson or NB2 rate model and its cluster-robust covariances.

    ``log_exposure`` is the offset (log person-years); ``clusters`` integer
    codes 0..G−1 of care homes. With :math:`\\hat\\mu_i` the fitted mean and, for
    NB2, α held at its ML estimate:

    * ``cov`` (CR1, R-reproducible): bread the inverse *expected* information
      :math:`(\\sum_i w_i x_i x_i^\\top)^{-1}`, :math:`w_i = \\mu_i/(1+\\alpha\\mu_i)`
      (the IWLS weights of the ``glm.nb`` fit; Poisson: α = 0), scores
      :math:`(y_i-\\mu_i)/(1+\\alpha\\mu_i)\\,x_i`, factor G/(G−1)·(N−1)/(N−K):
      ``sandwich::vcovCL(fit, cluster = ~care_home_id, type = "HC1")`` (``cadjust``
      on). As R, it treats α as known.
    * ``cov_joint`` (NB2 only): the (β, β) block of the joint (β, α) CR1 sandwich
      with the observed information, factor with K + 1 parameters (statsmodels'
      ``NegativeBinomial(...).fit(cov_type="cluster")``). On the reference data
      (tests/reference/rates) its SEs differ from ``cov``'s by up to 12.5%,
      mostly through the observed versus expected information (fixed α,
      observed information: up to 12.6%); allowing for α being estimated
      moves them by at most 4.8%.
    * ``cov_cr2``, ``df_cr2``: CR2 with Satterthwaite df, as
      ``clubSandwich::coef_test(fit, vcov = "CR2", test = "Satterthwaite")``.
    """
    fit = fit_count_model(model, y, x, log_exposure)
    k = x.shape[1]
    cov, cov_joint, cov_cr2 = (np.full((k, k), np.nan) for _ in range(3))
    df_cr2 = np.full(k, np.nan)
    if (
        fit.converged and np.unique(clusters).size >= 2
    ):  # no covariance for an estimate that does not exist
        scores, info = count_scores_information(
            model, y, x, log_exposure, fit.params, fit.alpha, dispersion_fixed=True
        )
        cov = cr1_covariance(scores, np.linalg.inv(info), clusters)
        if model == "negbin":
            scores, info = count_scores_information(
                model, y, x, log_exposure, fit.params, fit.alpha
            )
            cov_joint = cr1_covariance(scores, np.linalg.inv(info), clusters)[:k, :k]
        mu = np.exp(x @ fit.params + log_exposure)
        variance = mu if model == "poisson" else mu + fit.alpha * mu**2
        try:
            cr2 = cr2_satterthwaite(x, y, mu, variance, pd.factorize(clusters)[0])
            cov_cr2, df_cr2 = cr2.cov, cr2.df
        except np.linalg.LinAlgError as err:  # e.g. fitted means underflowing to 0
            log.warning("CR2 covariance not computed (%s): small-sample columns empty", err)
    return RateFit(
        list(names),
        fit.params,
        cov,
        fit.alpha,
        fit.converged,
        len(y),
        int(np.unique(clusters).size),
        cov_joint,
        cov_cr2,
        df_cr2,
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
    df: int | None = None,
) -> pd.DataFrame:
    """g-computation rates per 1,000 resident-years and differences vs ``reference``.

    rate_m = Σ w_i exp(x_i(m)ᵀβ) / Σ w_i, with x_i(m) resident i's covariates and
    care model set to m, w_i its exposure (person-years): the rate the analysed
    cohort would have had under care model m. Delta method with the CR1
    covariance: ∇rate_m = Σ w_i exp(x_i(m)ᵀβ) x_i(m) / Σ w_i. Rate CIs are
    formed on the log scale, differences on the linear scale, with the normal
    quantile, or t(``df``) when ``df`` is given (few care homes: df = G − 1).
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
    z = (stats.norm if df is None else stats.t(df)).ppf(1 - alpha / 2)
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
            low, high, p = wald_inference(d, se_d, alpha=alpha, df=df)
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
