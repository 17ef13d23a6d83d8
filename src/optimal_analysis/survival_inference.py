"""Small-sample inference for clustered Cox and Fine–Gray hazard ratios.

The contract's ``std_error`` is the cluster-robust sandwich (R's ``coxph(...,
cluster = )``, no small-sample factor) with normal quantiles; with few care
homes it is too small and the normal quantile too narrow. Beside it, every
hazard-ratio row gets (results contract, "Small-sample intervals"):

- ``t(G-1)``: the robust SE times sqrt(G/(G-1)) with t(G-1) quantiles, G the
  care homes in the fitted model (``n_clusters``);
- where the comparison has few homes (``few_clusters``), also the restricted
  wild cluster score bootstrap p-value of the care-model coefficient
  (``p_value_wild``; Kline & Santos 2012: refit with the coefficient fixed at
  0, Cox / Fine–Gray score residuals and information at that fit, Webb
  weights; :func:`optimal_analysis.stats.cluster.wild_cluster_score_test`).

Which interval and which p-value were chosen by the coverage simulation in
``benchmarks/sim_hazard_small_sample.py`` (see :data:`SIMULATION`); the
delete-one-home jackknife is implemented there for the comparison
(:func:`jackknife_cov`, :func:`one_step_jackknife_cov`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from optimal_analysis.stats.cluster import wild_cluster_score_test
from optimal_analysis.stats.cox import cox_score_information, fit_cox
from optimal_analysis.stats.finegray import fine_gray_score_information, fit_fine_gray
from optimal_analysis.tidy import wald_inference

__all__ = [
    "SIMULATION",
    "jackknife_cov",
    "one_step_jackknife_cov",
    "small_sample_columns",
    "wild_p",
]

T_METHOD = "t(G-1)"
WILD_METHOD = "wild-score-bootstrap p"

#: Measured by benchmarks/sim_hazard_small_sample.py (filled in below).
SIMULATION = """TODO"""


def jackknife_cov(
    refit: Callable[[NDArray[np.bool_]], NDArray[np.float64]], clusters: ArrayLike
) -> NDArray[np.float64]:
    """Delete-one-cluster jackknife covariance from exact refits.

    V = (G-1)/G sum_g (b_(g) - b_bar)(b_(g) - b_bar)', b_(g) = ``refit(keep)`` with
    ``keep`` False on the rows of cluster g, b_bar the mean of the b_(g).
    """
    codes, uniq = pd.factorize(np.asarray(clusters))
    g = uniq.size
    b = np.array([refit(codes != k) for k in range(g)])  # one refit per cluster
    d = b - b.mean(axis=0)
    return (g - 1) / g * d.T @ d


def one_step_jackknife_cov(
    score_info: Callable[[NDArray[np.bool_]], tuple[NDArray, NDArray]],
    clusters: ArrayLike,
) -> NDArray[np.float64]:
    """Delete-one-cluster jackknife with each b_(g) one Newton step from the full estimate.

    ``score_info(keep)`` returns the score residuals and information of the
    rows ``keep`` at the full-data estimate b; b_(g) - b = I_(g)^-1 U_(g), the
    Newton step of the data without cluster g (risk sets and censoring weights
    recomputed without it). V as in :func:`jackknife_cov`.
    """
    codes, uniq = pd.factorize(np.asarray(clusters))
    g = uniq.size
    steps = []
    for k in range(g):  # one evaluation (no iteration) per cluster
        resid, info = score_info(codes != k)
        steps.append(np.linalg.solve(info, resid.sum(axis=0)))
    d = np.array(steps)
    d = d - d.mean(axis=0)
    return (g - 1) / g * d.T @ d


def wild_p(
    model: str,
    time: ArrayLike,
    status: ArrayLike,
    x: ArrayLike,
    clusters: ArrayLike,
    index: int,
    *,
    rng: np.random.Generator,
    replicates: int,
    censoring_group: ArrayLike | None = None,
) -> float:
    """Restricted wild cluster score bootstrap p-value of H0: beta_index = 0.

    ``model`` ``cox`` (event: ``status == 1``) or ``fine_gray`` (cause 1,
    others competing, censoring by ``censoring_group``). The model is refitted
    without column ``index``; the score residuals (for Fine–Gray with the
    weighted contributions of competing-event residents to later risk sets)
    and the information of the full model are evaluated at that estimate with
    beta_index = 0, and passed to
    :func:`optimal_analysis.stats.cluster.wild_cluster_score_test`. NaN when
    the restricted fit does not converge.
    """
    t = np.asarray(time, dtype=float)
    s = np.asarray(status)
    X = np.asarray(x, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    rest = np.delete(X, index, axis=1)
    if rest.shape[1] == 0:
        beta = np.zeros(1)
    else:
        if model == "cox":
            restricted = fit_cox(t, s == 1, rest)
        else:
            restricted = fit_fine_gray(t, s, rest, censoring_group=censoring_group)
        if not restricted.converged:
            return float("nan")
        beta = np.insert(restricted.coef, index, 0.0)
    if model == "cox":
        resid, info = cox_score_information(t, s == 1, X, beta)
    else:
        resid, info = fine_gray_score_information(t, s, X, beta, censoring_group=censoring_group)
    codes = pd.factorize(np.asarray(clusters))[0]
    return wild_cluster_score_test(resid, info, codes, index, rng=rng, replicates=replicates)[1]


def small_sample_columns(
    rows: pd.DataFrame,
    *,
    wild: Callable[[str], float] | None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Add :data:`~optimal_analysis.tidy.SMALL_SAMPLE_COLUMNS` and ``p_value_wild`` to ``rows``.

    ``rows`` are hazard-ratio rows (``term, estimate`` (hazard ratio),
    ``std_error`` (robust, log scale), ``n_clusters``, ``few_clusters``). With
    G = ``n_clusters`` (the care homes in the fitted model):

        se_small = std_error * sqrt(G / (G - 1)),
        limits   = exp(log HR -/+ t_{G-1, 1-alpha/2} se_small),
        p_small  = 2 P(T_{G-1} > |log HR| / se_small),      df_small = G - 1,

    (:func:`optimal_analysis.tidy.wald_inference` with ``df``). Where
    ``few_clusters`` and a robust SE exists, ``p_value_wild = wild(term)`` (the
    restricted wild cluster score bootstrap) and it is also ``p_value_small``:
    :data:`SIMULATION` shows its size closer to 5% than the t test's with 12
    homes. A row without a robust SE (e.g. one care home in an arm) keeps every
    small-sample column NaN and ``small_sample_method`` empty; its ``reason``
    says why.
    """
    out = rows.copy()
    g = out["n_clusters"].to_numpy(dtype=float)
    ok = np.isfinite(out["std_error"].to_numpy(dtype=float)) & (g >= 2)
    g_safe = np.where(ok, g, 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_hr = np.log(out["estimate"].to_numpy(dtype=float))
        se = out["std_error"].to_numpy(dtype=float) * np.sqrt(g_safe / (g_safe - 1))
    low, high, p = wald_inference(log_hr, se, alpha=alpha, df=g_safe - 1)
    few = out["few_clusters"].to_numpy(dtype=bool) & ok
    p_wild = np.full(len(out), np.nan)
    if wild is not None:
        for i in np.flatnonzero(few):  # a handful of care-model terms
            p_wild[i] = wild(str(out["term"].iloc[i]))
    use_wild = few & np.isfinite(p_wild)
    out["conf_low_small"] = np.where(ok, np.exp(low), np.nan)
    out["conf_high_small"] = np.where(ok, np.exp(high), np.nan)
    out["p_value_small"] = np.where(use_wild, p_wild, np.where(ok, p, np.nan))
    out["df_small"] = np.where(ok, g - 1, np.nan)
    out["small_sample_method"] = np.where(
        use_wild, f"{T_METHOD}; {WILD_METHOD}", np.where(ok, T_METHOD, "")
    )
    out["p_value_wild"] = p_wild
    return out
