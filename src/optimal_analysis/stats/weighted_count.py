"""Case-weighted Poisson and NB2 rate models (propensity-score weighted), scores and information.

The weighted log-likelihood :math:`\\ell_w = \\sum_i w_i \\ell_i(\\beta[, \\alpha])` with
:math:`\\mu_i = \\exp(x_i^\\top\\beta + o_i)`; with all w_i = 1 these are the fits of
:func:`optimal_analysis.stats.glm.fit_count_model` (checked in the tests). As R's
``glm(..., weights = w)`` and ``MASS::glm.nb(..., weights = w)`` (the NB2
dispersion α = 1/θ by weighted ML). The weights are treated as known: the
cluster-robust sandwich (:func:`optimal_analysis.stats.cluster.cr1_covariance`)
of the weighted scores :math:`w_i u_i` and the weighted information does not
carry the uncertainty of the estimated propensity scores. For the ATE with
inverse-probability weights this is conservative (Lunceford & Davidian 2004:
estimating the scores reduces the variance); for overlap weights it is usually
conservative too, but not guaranteed (Li, Morgan & Zaslavsky 2018) — say so
where the results are shown.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from optimal_analysis.stats.glm import CountFit, nb2_fit, poisson_fit

__all__ = ["fit_weighted_count", "weighted_count_scores_information"]

def fit_weighted_count(
    model: str,
    y: ArrayLike,
    x: ArrayLike,
    offset: ArrayLike,
    weight: ArrayLike,
    *,
    tol: float = 1e-10,
) -> CountFit:
    """Weighted ML fit of a Poisson or NB2 log-linear model with an offset.

    Maximises :math:`\\sum_i w_i \\ell_i` with the fitters of
    :mod:`optimal_analysis.stats.glm` given case weights (Newton–Raphson with
    step-halving; NB2 jointly in (β, log α) from the weighted Poisson fit). Column 0 of ``x`` is the
    intercept; weights must be >= 0 (0 drops a resident, e.g. after trimming).
    """
    if model not in ("poisson", "negbin"):
        raise ValueError(f"unknown count model {model!r}; expected 'poisson' or 'negbin'")
    ya = np.asarray(y, dtype=float)
    xm = np.asarray(x, dtype=float)
    off = np.asarray(offset, dtype=float)
    w = np.asarray(weight, dtype=float)
    if not (ya.shape == off.shape == w.shape == (xm.shape[0],)):
        raise ValueError("y, offset and weight need one value per row of x")
    if np.any(~np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be finite, >= 0 and not all 0")
    keep = w > 0
    ya, xm, off, w = ya[keep], xm[keep], off[keep], w[keep]
    beta, ok = poisson_fit(ya, xm, off, tol, w)
    if model == "poisson" or not ok:
        return CountFit(model, beta, float("nan"), ok)
    beta, alpha, ok_nb = nb2_fit(ya, xm, off, beta, tol, w)
    return CountFit("negbin", beta, alpha, ok and ok_nb)


def weighted_count_scores_information(
    model: str,
    y: ArrayLike,
    x: ArrayLike,
    offset: ArrayLike,
    weight: ArrayLike,
    params: ArrayLike,
    alpha: float = float("nan"),
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Weighted per-resident scores (n x K) and information (K x K) of β, α held fixed.

    Poisson: :math:`w_i (y_i - \\mu_i) x_i` and :math:`\\sum w_i \\mu_i x_i x_i^\\top`;
    NB2: :math:`w_i (y_i - \\mu_i)/(1 + \\alpha\\mu_i)\\,x_i` and
    :math:`\\sum w_i \\mu_i/(1 + \\alpha\\mu_i)\\,x_i x_i^\\top` — R's ``estfun.glm`` and
    ``bread.glm`` for a weighted ``glm``/``glm.nb`` (θ treated as known), so
    ``cr1_covariance(scores, inv(information), clusters)`` is
    ``sandwich::vcovCL(type = "HC1")``. Rows with weight 0 score 0; pass only
    the rows with positive weight to match R's count of observations.
    """
    ya = np.asarray(y, dtype=float)
    xm = np.asarray(x, dtype=float)
    w = np.asarray(weight, dtype=float)
    mu = np.exp(xm @ np.asarray(params, dtype=float) + np.asarray(offset, dtype=float))
    if model == "poisson":
        f = np.ones_like(mu)
    elif model == "negbin":
        f = 1 / (1 + alpha * mu)
    else:
        raise ValueError(f"unknown count model {model!r}; expected 'poisson' or 'negbin'")
    return (w * (ya - mu) * f)[:, None] * xm, (xm * (w * mu * f)[:, None]).T @ xm
