"""Poisson and NB2 log-linear rate models with an offset: ML fits, scores, information.

Closed-form log-likelihood derivatives, so the cluster-robust covariance
(:mod:`optimal_analysis.stats.cluster`) is transparent; checked against R
(``glm``, ``MASS::glm.nb``, ``sandwich``) and statsmodels in the tests. The NB2
terms that involve the count, Σ_{j<y} f(j), are cumulative sums over
0..max(y) indexed by y: exact (no digamma cancellation as α → 0) and fast
(no special functions per resident).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

__all__ = [
    "CountFit",
    "count_scores_information",
    "fit_count_model",
    "nb2_fit",
    "nb2_loglik",
    "poisson_fit",
]

log = logging.getLogger(__name__)
_ALPHA_BOUNDARY = 1e-8  # NB2 dispersion below this: the ML estimate is at the Poisson boundary


@dataclass(frozen=True)
class CountFit:
    """A fitted count model. ``params`` are the regression coefficients (log scale);
    ``alpha`` the NB2 dispersion (NaN for Poisson); ``converged`` the optimiser's flag."""

    model: str
    params: np.ndarray
    alpha: float
    converged: bool


def _check(y: np.ndarray, x: np.ndarray, offset: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    problems = []
    if y.size == 0 or x.ndim != 2 or x.shape[1] == 0:
        problems.append("no observations or no columns: nothing to fit (e.g. no complete cases)")
    if np.any(~np.isfinite(y) | (y < 0) | (y != np.round(y))):
        problems.append("the outcome must be non-negative whole numbers")
    if not np.all(np.isfinite(offset)):
        problems.append("the offset (log exposure) must be finite: exposure > 0")
    if not np.all(np.isfinite(x)):
        problems.append("the design matrix has missing or infinite values")
    if x.shape[0] != y.size or offset.size != y.size:
        problems.append(f"lengths differ: y {y.size}, X {x.shape[0]}, offset {offset.size}")
    if problems:
        raise ValueError("; ".join(problems))
    return y


def _cumulative(y: np.ndarray, f_of_j: np.ndarray) -> np.ndarray:
    """Σ_{j=0}^{y_i − 1} f(j) for each i, from the table f(0..max y − 1)."""
    return np.concatenate([[0.0], np.cumsum(f_of_j)])[y.astype(np.int64)]


def nb2_loglik(
    y: np.ndarray, mu: np.ndarray, alpha: float, weight: np.ndarray | None = None
) -> float:
    """NB2 log-likelihood, variance μ + αμ², written to be stable as α → 0:

    .. math::

        \\ell = \\sum_i w_i\\Big[\\sum_{j<y_i}\\log(1+\\alpha j) - \\log y_i! + y_i\\log\\mu_i
                - (1/\\alpha + y_i)\\log(1+\\alpha\\mu_i)\\Big]

    with case weights :math:`w_i` (``weight``; all 1 when None).
    """
    j = np.arange(int(y.max()) if y.size else 0)
    terms = (
        _cumulative(y, np.log1p(alpha * j))
        - gammaln(y + 1)
        + y * np.log(mu)
        - (1 / alpha + y) * np.log1p(alpha * mu)
    )
    return float(np.sum(terms if weight is None else weight * terms))


def _nb2_derivatives(
    y: np.ndarray, x: np.ndarray, mu: np.ndarray, alpha: float, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Scores (N × (K+1)) and Hessian ((K+1) × (K+1)) of the NB2 log-likelihood in (β, α).

    With case weights (``weight``) every per-observation term is multiplied by w_i.

    With :math:`d_i = 1 + \\alpha\\mu_i`, :math:`A_i = \\sum_{j<y_i} j/(1+\\alpha j)`,
    :math:`B_i = \\sum_{j<y_i} j^2/(1+\\alpha j)^2`:
    ∂ℓ/∂η = (y − μ)/d; ∂²ℓ/∂η² = −μ(1 + αy)/d²; ∂²ℓ/∂η∂α = −(y − μ)μ/d²;
    ∂ℓ/∂α = A + log(d)/α² − (1/α + y)μ/d;
    ∂²ℓ/∂α² = −B − 2 log(d)/α³ + 2μ/(α² d) + (1/α + y)μ²/d².
    """
    j = np.arange(int(y.max()) if y.size else 0)
    a_sum = _cumulative(y, j / (1 + alpha * j))
    b_sum = _cumulative(y, (j / (1 + alpha * j)) ** 2)
    d = 1 + alpha * mu
    log_d = np.log1p(alpha * mu)
    s_eta = (y - mu) / d
    s_alpha = a_sum + log_d / alpha**2 - (1 / alpha + y) * mu / d
    h_eta = -mu * (1 + alpha * y) / d**2
    h_eta_alpha = -(y - mu) * mu / d**2
    h_alpha = (
        -b_sum - 2 * log_d / alpha**3 + 2 * mu / (alpha**2 * d) + (1 / alpha + y) * mu**2 / d**2
    )
    if weight is not None:
        s_eta, s_alpha, h_eta, h_eta_alpha, h_alpha = (
            weight * v for v in (s_eta, s_alpha, h_eta, h_eta_alpha, h_alpha)
        )
    scores = np.column_stack([s_eta[:, None] * x, s_alpha])
    k = x.shape[1]
    hess = np.empty((k + 1, k + 1))
    hess[:k, :k] = (x * h_eta[:, None]).T @ x
    hess[:k, k] = hess[k, :k] = h_eta_alpha @ x
    hess[k, k] = h_alpha.sum()
    return scores, hess


def poisson_fit(
    y: np.ndarray, x: np.ndarray, offset: np.ndarray, tol: float, weight: np.ndarray | None = None
) -> tuple[np.ndarray, bool]:
    """Newton–Raphson for the Poisson log-linear model (step-halving on the log-likelihood),
    maximising :math:`\\sum_i w_i \\ell_i` with case weights ``weight`` (all 1 when None)."""
    w = np.ones_like(y) if weight is None else weight
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max((w * y).sum(), 0.5) / (w * np.exp(offset)).sum())  # column 0: intercept

    def loglik(b: np.ndarray) -> float:
        eta = x @ b + offset
        return float(np.sum(w * (y * eta - np.exp(eta))))

    current = loglik(beta)
    for _ in range(100):
        mu = np.exp(x @ beta + offset)
        try:
            step = np.linalg.solve((x * (w * mu)[:, None]).T @ x, x.T @ (w * (y - mu)))
        except np.linalg.LinAlgError:  # fitted means underflow: the MLE is not finite
            return beta, False
        for _ in range(30):
            new = loglik(beta + step)
            if new >= current - 1e-12 * abs(current):
                break
            step /= 2
        beta, current = beta + step, new
        if np.max(np.abs(step)) < tol:
            return beta, True
    return beta, False


def nb2_fit(
    y: np.ndarray,
    x: np.ndarray,
    offset: np.ndarray,
    beta: np.ndarray,
    tol: float,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, float, bool]:
    """Joint Newton–Raphson in (β, log α) with step-halving, from Poisson β and a moment α;
    case weights ``weight`` (all 1 when None) multiply each resident's log-likelihood."""
    w = np.ones_like(y) if weight is None else weight
    mu = np.exp(x @ beta + offset)
    alpha = max(float(np.sum(w * ((y - mu) ** 2 - y)) / np.sum(w * mu**2)), 0.05)
    theta = np.r_[beta, np.log(alpha)]
    k = x.shape[1]

    def loglik(t: np.ndarray) -> float:
        return nb2_loglik(y, np.exp(x @ t[:k] + offset), float(np.exp(t[k])), weight)

    current = loglik(theta)
    for _ in range(200):
        alpha = float(np.exp(theta[k]))
        scores, hess = _nb2_derivatives(y, x, np.exp(x @ theta[:k] + offset), alpha, weight)
        grad = scores.sum(axis=0)
        # Chain rule to log α: g_a = α g_α; H_aa = α² H_αα + α g_α; H_βa = α H_βα.
        grad[k] *= alpha
        hess[:k, k] *= alpha
        hess[k, :k] *= alpha
        hess[k, k] = alpha**2 * hess[k, k] + grad[k]
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError:
            step = grad / np.maximum(np.abs(np.diag(hess)), 1.0)
        if hess[k, k] >= 0 or not np.all(np.isfinite(step)):  # not concave in log α here
            step[k] = np.sign(grad[k]) * 1.0
        for _ in range(40):
            new = loglik(theta + step)
            if new >= current - 1e-12 * abs(current):
                break
            step /= 2
        theta, current = theta + step, new
        if np.exp(theta[k]) < _ALPHA_BOUNDARY:
            log.info("NB2 dispersion at the Poisson boundary (alpha -> 0): Poisson fit")
            return theta[:k], _ALPHA_BOUNDARY, True
        if np.max(np.abs(step)) < tol:
            return theta[:k], float(np.exp(theta[k])), True
    return theta[:k], float(np.exp(theta[k])), False


def fit_count_model(
    model: str, y: np.ndarray, x: np.ndarray, offset: np.ndarray, *, tol: float = 1e-10
) -> CountFit:
    """Maximum-likelihood fit of a Poisson or NB2 log-linear model with an offset.

    :math:`\\log E[y_i] = x_i^\\top\\beta + o_i`; NB2 adds
    :math:`\\operatorname{Var}(y_i) = \\mu_i + \\alpha\\mu_i^2` with α estimated by
    maximum likelihood jointly with β (Newton–Raphson on (β, log α), from the
    Poisson fit), never fixed. Column 0 of ``x`` must be the intercept.
    Converged when every Newton step is below ``tol``.
    """
    if model not in ("poisson", "negbin"):
        raise ValueError(f"unknown count model {model!r}; expected 'poisson' or 'negbin'")
    offset = np.asarray(offset, dtype=float)
    y = _check(y, x, offset)
    beta, ok = poisson_fit(y, x, offset, tol)
    if model == "poisson" or not ok:
        return CountFit(model, beta, float("nan"), ok)
    beta, alpha, ok_nb = nb2_fit(y, x, offset, beta, tol)
    return CountFit("negbin", beta, alpha, ok and ok_nb)


def count_scores_information(
    model: str,
    y: np.ndarray,
    x: np.ndarray,
    offset: np.ndarray,
    params: np.ndarray,
    alpha: float = float("nan"),
    *,
    dispersion_fixed: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-observation scores (N × K') and the information matrix (K' × K').

    With :math:`\\mu_i = \\exp(x_i^\\top\\beta + o_i)`:

    * Poisson: :math:`u_i = (y_i - \\mu_i)x_i`, :math:`I = \\sum_i \\mu_i x_i x_i^\\top`
      (observed = expected information for the canonical link).
    * NB2, ``dispersion_fixed=True`` (α treated as known, as R's ``glm.nb`` +
      ``sandwich`` do: ``estfun.glm`` and ``bread.glm``, the latter the inverse
      of X'WX with the IWLS weights of the fit):
      :math:`u_i = (y_i - \\mu_i)/(1+\\alpha\\mu_i)\\,x_i`,
      :math:`I = \\sum_i \\mu_i/(1+\\alpha\\mu_i)\\,x_i x_i^\\top` (expected
      information). The rate tables' ``std_error``. Also used when α is at the
      Poisson boundary.
    * NB2 joint (default): parameters :math:`(\\beta, \\alpha)`, K' = K + 1;
      scores and the observed information (minus the Hessian, see
      :func:`_nb2_derivatives`), so the sandwich allows for α being estimated
      (the rate tables' ``std_error_joint``; differs from the R-reproducible one
      mostly through observed versus expected information).
    """
    y = np.asarray(y, dtype=float)
    mu = np.exp(x @ params + offset)
    if model == "poisson":
        return (y - mu)[:, None] * x, (x * mu[:, None]).T @ x
    if model != "negbin":
        raise ValueError(f"unknown count model {model!r}; expected 'poisson' or 'negbin'")
    if dispersion_fixed or alpha <= _ALPHA_BOUNDARY:
        w = 1 / (1 + alpha * mu)
        return ((y - mu) * w)[:, None] * x, (x * (mu * w)[:, None]).T @ x
    scores, hess = _nb2_derivatives(y, x, mu, alpha)
    return scores, -hess
