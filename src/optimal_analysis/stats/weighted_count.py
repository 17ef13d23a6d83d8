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
from scipy.special import gammaln

from optimal_analysis.stats.glm import CountFit

__all__ = ["fit_weighted_count", "weighted_count_scores_information"]

_ALPHA_BOUNDARY = 1e-8


def _cum(y: NDArray[np.float64], table: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate([[0.0], np.cumsum(table)])[y.astype(np.int64)]


def _poisson(y, x, off, w, tol) -> tuple[NDArray[np.float64], bool]:
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(np.sum(w * y), 0.5) / np.sum(w * np.exp(off)))

    def ll(b):
        eta = x @ b + off
        return float(np.sum(w * (y * eta - np.exp(eta))))

    cur = ll(beta)
    for _ in range(100):
        mu = np.exp(x @ beta + off)
        try:
            step = np.linalg.solve((x * (w * mu)[:, None]).T @ x, x.T @ (w * (y - mu)))
        except np.linalg.LinAlgError:
            return beta, False
        for _ in range(30):
            new = ll(beta + step)
            if new >= cur - 1e-12 * abs(cur):
                break
            step /= 2
        beta, cur = beta + step, new
        if np.max(np.abs(step)) < tol:
            return beta, True
    return beta, False


def _nb2_ll(y, mu, alpha, w) -> float:
    j = np.arange(int(y.max()) if y.size else 0)
    li = (_cum(y, np.log1p(alpha * j)) - gammaln(y + 1) + y * np.log(mu)
          - (1 / alpha + y) * np.log1p(alpha * mu))
    return float(np.sum(w * li))


def _nb2_grad_hess(y, x, mu, alpha, w):
    """Weighted gradient and Hessian in (β, log α); per-resident terms as in stats.glm."""
    j = np.arange(int(y.max()) if y.size else 0)
    a_sum = _cum(y, j / (1 + alpha * j))
    b_sum = _cum(y, (j / (1 + alpha * j)) ** 2)
    d = 1 + alpha * mu
    log_d = np.log1p(alpha * mu)
    s_eta = (y - mu) / d
    s_alpha = a_sum + log_d / alpha**2 - (1 / alpha + y) * mu / d
    h_eta = -mu * (1 + alpha * y) / d**2
    h_eta_alpha = -(y - mu) * mu / d**2
    h_alpha = (-b_sum - 2 * log_d / alpha**3 + 2 * mu / (alpha**2 * d)
               + (1 / alpha + y) * mu**2 / d**2)
    k = x.shape[1]
    grad = np.r_[x.T @ (w * s_eta), np.sum(w * s_alpha)]
    hess = np.empty((k + 1, k + 1))
    hess[:k, :k] = (x * (w * h_eta)[:, None]).T @ x
    hess[:k, k] = hess[k, :k] = (w * h_eta_alpha) @ x
    hess[k, k] = np.sum(w * h_alpha)
    # chain rule to log α
    grad[k] *= alpha
    hess[:k, k] *= alpha
    hess[k, :k] *= alpha
    hess[k, k] = alpha**2 * hess[k, k] + grad[k]
    return grad, hess


def _nb2(y, x, off, w, beta, tol) -> tuple[NDArray[np.float64], float, bool]:
    mu = np.exp(x @ beta + off)
    alpha = max(float(np.sum(w * ((y - mu) ** 2 - y)) / np.sum(w * mu**2)), 0.05)
    theta = np.r_[beta, np.log(alpha)]
    k = x.shape[1]

    def ll(t):
        return _nb2_ll(y, np.exp(x @ t[:k] + off), float(np.exp(t[k])), w)

    cur = ll(theta)
    for _ in range(200):
        grad, hess = _nb2_grad_hess(y, x, np.exp(x @ theta[:k] + off), float(np.exp(theta[k])), w)
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError:
            step = grad / np.maximum(np.abs(np.diag(hess)), 1.0)
        if hess[k, k] >= 0 or not np.all(np.isfinite(step)):
            step[k] = np.sign(grad[k]) * 1.0
        for _ in range(40):
            new = ll(theta + step)
            if new >= cur - 1e-12 * abs(cur):
                break
            step /= 2
        theta, cur = theta + step, new
        if np.exp(theta[k]) < _ALPHA_BOUNDARY:
            return theta[:k], _ALPHA_BOUNDARY, True
        if np.max(np.abs(step)) < tol:
            return theta[:k], float(np.exp(theta[k])), True
    return theta[:k], float(np.exp(theta[k])), False


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

    Maximises :math:`\\sum_i w_i \\ell_i`; Newton–Raphson with step-halving (NB2:
    jointly in (β, log α) from the weighted Poisson fit). Column 0 of ``x`` is the
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
    beta, ok = _poisson(ya, xm, off, w, tol)
    if model == "poisson" or not ok:
        return CountFit(model, beta, float("nan"), ok)
    beta, alpha, ok_nb = _nb2(ya, xm, off, w, beta, tol)
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
