"""Multinomial logistic regression (baseline-category logit) by Newton–Raphson: the exact MLE.

For residents i = 1..n with class z_i in 0..K-1 (class 0 the reference) and
covariate rows x_i (p columns, the first the intercept),

.. math::

    e_{ik} = \\frac{\\exp(x_i^\\top\\beta_k)}{\\sum_{m=0}^{K-1}\\exp(x_i^\\top\\beta_m)},
    \\qquad \\beta_0 = 0,

    \\ell(\\beta) = \\sum_i w_i \\log e_{i z_i},\\quad
    \\frac{\\partial\\ell}{\\partial\\beta_a} = X^\\top W (Y_a - e_a),\\quad
    -\\frac{\\partial^2\\ell}{\\partial\\beta_a\\partial\\beta_b^\\top}
        = X^\\top W\\,\\mathrm{diag}\\{e_a(\\delta_{ab} - e_b)\\} X,

for a, b = 1..K-1 (Y_a the indicator of class a, W the case weights). The
log-likelihood is concave, so Newton's method with step-halving converges
quadratically to the MLE; the (K-1)^2 information blocks cost O(n p^2) each, no
loop over residents (400,000 residents, 3 classes, 7 columns: well under a second).
R's ``nnet::multinom`` maximises the same likelihood by BFGS (it stops short of the
MLE by ~1e-8 at ``reltol = 1e-16``; checked in the tests). The score equations are
what make overlap weights balance exactly with two classes
(:mod:`optimal_analysis.stats.weights`): they need the MLE itself, not an
approximation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MultinomFit", "fit_multinom", "multinom_probabilities"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MultinomFit:
    """A fitted baseline-category logit model.

    ``coef`` is p x (K-1): column a-1 holds beta_a, the log odds of class a
    versus class 0 per unit of each column of x. ``cov`` is the inverse
    information, (p(K-1)) square, ordered class by class (all p terms of class 1,
    then class 2, ...), as ``vcov`` of R's ``multinom``. ``converged`` is False
    when the Newton steps did not fall below ``tol`` (e.g. separation: a class
    perfectly predicted, coefficients drifting to infinity).
    """

    coef: NDArray[np.float64]
    cov: NDArray[np.float64]
    loglik: float
    n_iter: int
    converged: bool
    infinite: NDArray[np.bool_]

    @property
    def std_error(self) -> NDArray[np.float64]:
        """Model-based standard errors, shaped like ``coef``."""
        return np.sqrt(np.diag(self.cov)).reshape(self.coef.shape, order="F")


def multinom_probabilities(x: ArrayLike, coef: ArrayLike) -> NDArray[np.float64]:
    """Fitted class probabilities e_ik (n x K) for design ``x`` (n x p) and ``coef`` (p x (K-1)).

    Computed as a softmax of (0, x beta_1, ..., x beta_{K-1}) with the row maximum
    subtracted first (no overflow for large linear predictors).
    """
    x = np.asarray(x, dtype=float)
    b = np.asarray(coef, dtype=float)
    eta = np.column_stack([np.zeros(x.shape[0]), x @ b])
    eta -= eta.max(axis=1, keepdims=True)
    e = np.exp(eta)
    return e / e.sum(axis=1, keepdims=True)


def _loglik(z: NDArray[np.intp], x: NDArray[np.float64], b: NDArray[np.float64],
            w: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
    eta = np.column_stack([np.zeros(x.shape[0]), x @ b])
    top = eta.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(eta - top).sum(axis=1))
    own = eta[np.arange(z.size), z]
    probs = np.exp(eta - log_norm[:, None])
    return float(np.sum(w * (own - log_norm))), probs


def _score_information(z, x, probs, w) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n, p = x.shape
    k1 = probs.shape[1] - 1
    resid = -probs[:, 1:].copy()
    resid[np.arange(n), z - 1] += (z > 0)  # Y_a - e_a, without building Y
    score = (x.T @ (w[:, None] * resid)).ravel(order="F")
    info = np.empty((p * k1, p * k1))
    for a in range(k1):  # (K-1)^2 blocks of X' diag(w e_a (delta_ab - e_b)) X
        for b in range(a, k1):
            h = w * probs[:, a + 1] * ((a == b) - probs[:, b + 1])
            block = (x * h[:, None]).T @ x
            info[a * p:(a + 1) * p, b * p:(b + 1) * p] = block
            info[b * p:(b + 1) * p, a * p:(a + 1) * p] = block.T
    return score, info


def fit_multinom(
    z: ArrayLike,
    x: ArrayLike,
    *,
    n_classes: int | None = None,
    weight: ArrayLike | None = None,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> MultinomFit:
    """Maximum-likelihood fit of the baseline-category logit model of ``z`` on ``x``.

    Parameters
    ----------
    z
        Class codes 0..K-1 (0 the reference class), one per row.
    x
        Design matrix (n x p) with the intercept in column 0 and no aliased columns.
    n_classes
        K (default ``max(z) + 1``); every class must have at least one row.
    weight
        Case weights (default 1).
    tol, max_iter
        Converged when the largest Newton step is below ``tol``.

    Notes
    -----
    Starts from the intercept-only MLE (beta_a0 = log(n_a / n_0), slopes 0);
    each Newton step solves I step = U and is halved while the log-likelihood falls.
    """
    zc = np.asarray(z, dtype=np.intp)
    xm = np.asarray(x, dtype=float)
    n, p = xm.shape
    k = int(n_classes if n_classes is not None else zc.max() + 1)
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    problems = []
    if zc.shape != (n,) or w.shape != (n,):
        problems.append(f"z and weight need one value per row of x ({n})")
    elif zc.min() < 0 or zc.max() >= k:
        problems.append(f"class codes must be 0..{k - 1}")
    if not np.all(np.isfinite(xm)):
        problems.append("the design matrix has missing or infinite values")
    if problems:
        raise ValueError("fit_multinom: " + "; ".join(problems))
    size = np.bincount(zc, weights=w, minlength=k)
    if k < 2 or np.any(size <= 0):
        raise ValueError(f"fit_multinom: each of the {k} classes needs residents; sizes {size}")
    b = np.zeros((p, k - 1))
    b[0] = np.log(size[1:] / size[0])
    ll, probs = _loglik(zc, xm, b, w)
    converged = False
    n_iter = 0
    step = np.zeros(p * (k - 1))
    while n_iter < max_iter:
        n_iter += 1
        score, info = _score_information(zc, xm, probs, w)
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:  # fitted probabilities at 0/1 (separation)
            step = np.linalg.lstsq(info, score, rcond=None)[0]
        for _ in range(40):
            new_b = b + step.reshape((p, k - 1), order="F")
            new_ll, new_probs = _loglik(zc, xm, new_b, w)
            if new_ll >= ll - 1e-12 * abs(ll):
                break
            step /= 2
        flat = abs(new_ll - ll) <= 1e-15 * abs(ll)  # likelihood flat to rounding
        b, ll, probs = new_b, new_ll, new_probs
        if np.max(np.abs(step)) < tol or flat:
            converged = True
            break
    score, info = _score_information(zc, xm, probs, w)
    try:
        next_step = np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        next_step = np.linalg.lstsq(info, score, rcond=None)[0]
    next_step = next_step.reshape(b.shape, order="F")
    # diverging: the likelihood is flat yet Newton still moves the coefficient (as R's
    # coxph, eps 1e-9), or its effect over its column's range is beyond any finite odds
    spread = xm.max(axis=0) - xm.min(axis=0)
    infinite = ((np.abs(next_step) > 1e-9) & (np.abs(next_step) > np.sqrt(1e-9) * np.abs(b))) | (
        np.abs(b) * np.where(spread > 0, spread, 1.0)[:, None] > _INFINITE_LOGIT)
    if infinite.any():
        log.warning("fit_multinom: coefficient(s) diverging (separation) in column(s) %s",
                    sorted({int(j) for j in np.flatnonzero(infinite.any(axis=1))}))
        converged = False
    elif not converged:
        log.warning("fit_multinom: no convergence in %d Newton steps (last step %.3g)",
                    n_iter, np.max(np.abs(step)))
    try:
        cov = np.asarray(np.linalg.inv(info), dtype=np.float64)
    except np.linalg.LinAlgError:
        cov = np.full_like(info, np.nan)
    return MultinomFit(coef=b, cov=cov, loglik=ll, n_iter=n_iter, converged=converged,
                       infinite=infinite)


#: |coefficient x column range| above this is a diverging coefficient (odds beyond e^40).
_INFINITE_LOGIT = 40.0
