"""Poisson regression with absorbed (fixed) effects and a cluster-robust covariance.

The one fitter behind the scheme evaluation: home × calendar-month counts with
home and month fixed effects and a log person-time offset. The home effects
are *concentrated out* in closed form, so the cost of a Newton step does not
grow with the number of homes (15,000 homes × 24 months: a fraction of a
second), and the month effects (a few dozen) are ordinary sparse columns.

For rows :math:`r` in absorbed group :math:`h(r)` with count :math:`y_r`,
offset :math:`o_r` and regressors :math:`x_r`, the model is
:math:`E[y_r] = \\exp(\\alpha_{h(r)} + o_r + x_r^\\top\\beta)`. Given
:math:`\\beta`, the Poisson ML group effect is
:math:`\\hat\\alpha_h = \\log(n_h / S_h)`, :math:`n_h = \\sum_{r\\in h} y_r`,
:math:`S_h = \\sum_{r\\in h} e^{\\eta_r}`, :math:`\\eta_r = o_r + x_r^\\top\\beta`,
and the profile log-likelihood, score and information are

.. math::

    \\ell(\\beta) = \\sum_r y_r \\eta_r - \\sum_h n_h \\log S_h + \\text{const},\\quad
    U = X^\\top (y - \\mu),\\quad
    I = X^\\top \\operatorname{diag}(\\mu) X - \\sum_h \\frac{a_h a_h^\\top}{n_h},

with :math:`\\mu_r = n_h e^{\\eta_r} / S_h` and :math:`a_h = \\sum_{r\\in h}
\\mu_r x_r`. This is exactly the Poisson MLE with one dummy per group (the
Poisson "incidental parameters" result; Hausman, Hall & Griliches 1984), and
:math:`I^{-1}` is the :math:`\\beta` block of the full inverse information.
Groups with no events (:math:`n_h = 0`) have :math:`\\hat\\alpha_h = -\\infty`
and carry no information on :math:`\\beta`: they are dropped, as R ``fixest``
and Stata ``ppmlhdfe`` do; so are the rows of a month without events.

Cluster-robust covariance:

.. math::

    V = \\frac{G}{G-1}\\, I^{-1} \\Big(\\sum_g s_g s_g^\\top\\Big) I^{-1},\\qquad
    s_g = \\sum_{r \\in g} x_r (y_r - \\mu_r),

R ``sandwich::vcovCL(fit, cluster = ~home, type = "HC0", cadjust = TRUE)`` on
``glm(y ~ x + factor(home) + factor(month) + offset(o), poisson)`` (and Stata's
``vce(cluster)`` after ML estimators). When the absorbed groups are nested in
the clusters, the group-dummy scores sum to zero within every cluster at the
MLE, so the concentrated :math:`s_g` give the full model's sandwich exactly;
otherwise (e.g. one absorbed intercept, clusters = homes) the sandwich of the
full :math:`(\\beta, \\alpha)` information and scores is formed and its
:math:`\\beta` block returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.special import gammaln

__all__ = ["FEPoissonFit", "fit_fepois", "month_dummies"]


class FEPoissonError(ValueError):
    """The model cannot be fitted as specified (named columns, counts)."""


@dataclass(frozen=True)
class FEPoissonFit:
    """A fitted fixed-effects Poisson model.

    ``coef`` and ``vcov`` are for ``terms`` (the regressors given, then the
    month effects named ``month[<code>]`` vs the first month); ``mu`` the fitted
    means of the rows used (``used`` marks them among the rows given);
    ``n_clusters`` the clusters with a row used; ``pearson_dispersion``
    :math:`\\sum (y-\\mu)^2/\\mu` over (rows − groups − columns).
    """

    terms: list[str]
    coef: np.ndarray
    vcov: np.ndarray
    mu: np.ndarray
    used: np.ndarray
    n_obs: int
    n_groups: int
    n_clusters: int
    loglik: float
    pearson_dispersion: float
    iterations: int
    converged: bool

    def std_error(self) -> np.ndarray:
        """Cluster-robust standard errors of ``coef``."""
        return np.sqrt(np.diag(self.vcov))

    def index(self, term: str) -> int:
        """Position of ``term`` in ``coef``."""
        return self.terms.index(term)


def month_dummies(month: npt.ArrayLike) -> tuple[sparse.csr_matrix, list[str]]:
    """Sparse dummies for every month code but the first (the reference)."""
    codes = np.asarray(month, dtype=np.int64)
    levels, inv = np.unique(codes, return_inverse=True)
    keep = inv > 0
    rows = np.flatnonzero(keep)
    mat = sparse.csr_matrix(
        (np.ones(rows.size), (rows, inv[keep] - 1)), shape=(codes.size, max(levels.size - 1, 0))
    )
    return mat, [f"month[{lv}]" for lv in levels[1:]]


def _indicator(codes: np.ndarray, n_levels: int) -> sparse.csr_matrix:
    return sparse.csr_matrix(
        (np.ones(codes.size), (np.arange(codes.size), codes)), shape=(codes.size, n_levels)
    )


def _profile(eta: np.ndarray, y: np.ndarray, grp: np.ndarray, n_g: np.ndarray, n_groups: int):
    """Group-profiled means and log-likelihood kernel at linear predictor ``eta``."""
    # Shift by the group maximum so exp() cannot overflow; the shift cancels in mu.
    shift = np.full(n_groups, -np.inf)
    np.maximum.at(shift, grp, eta)
    e = np.exp(eta - shift[grp])
    s = np.bincount(grp, weights=e, minlength=n_groups)
    mu = n_g[grp] * e / s[grp]
    ll = float(y @ (eta - shift[grp]) - n_g @ np.log(s))
    return mu, ll


def fit_fepois(
    y: npt.ArrayLike,
    offset: npt.ArrayLike,
    x: npt.ArrayLike | sparse.spmatrix | None,
    terms: Sequence[str],
    *,
    absorb: npt.ArrayLike,
    month: npt.ArrayLike | None = None,
    cluster: npt.ArrayLike,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> FEPoissonFit:
    """Fit ``log E[y] = alpha[absorb] + offset + x @ beta (+ month effects)`` by Newton.

    Parameters
    ----------
    y
        Counts (non-negative), one per row (e.g. home-month).
    offset
        Log person-time (any unit: it only shifts the absorbed effects).
    x
        (rows × k) regressors, dense or scipy sparse; ``None`` for none.
    terms
        Names of the ``k`` columns of ``x``.
    absorb
        Integer or label codes of the absorbed groups (homes); all rows of a
        group with no events are dropped.
    month
        Codes of the month fixed effects (dummies vs the lowest code), or None.
    cluster
        Cluster labels for the robust covariance (homes).
    tol, max_iter
        Convergence: the largest Newton step below ``tol`` (log scale).

    Returns
    -------
    FEPoissonFit

    Raises
    ------
    FEPoissonError
        Negative or non-finite counts or offsets, fewer than two clusters, or
        regressors not identified (the columns named).
    """
    y = np.asarray(y, dtype=float)
    offset = np.asarray(offset, dtype=float)
    if y.ndim != 1 or offset.shape != y.shape:
        raise FEPoissonError("y and offset must be 1-d arrays of one length")
    if np.any(~np.isfinite(y) | (y < 0)) or np.any(~np.isfinite(offset)):
        raise FEPoissonError("counts must be finite and non-negative, offsets finite")
    grp_all = np.unique(np.asarray(absorb), return_inverse=True)[1].ravel()
    n_all = np.bincount(grp_all, weights=y)
    used = n_all[grp_all] > 0
    if month is not None:  # a month without events: its effect is -inf, its rows uninformative
        m_codes = np.unique(np.asarray(month), return_inverse=True)[1].ravel()
        used &= (np.bincount(m_codes, weights=np.where(used, y, 0.0)) > 0)[m_codes]
    blocks, names = [], list(terms)
    if x is not None:
        xs = sparse.csr_matrix(x, dtype=float)
        if xs.shape != (y.size, len(names)):
            raise FEPoissonError(f"x has shape {xs.shape}; expected ({y.size}, {len(names)})")
        blocks.append(xs[used])
    elif names:
        raise FEPoissonError("terms given without x")
    if month is not None:
        md, mnames = month_dummies(np.asarray(month)[used])
        blocks.append(md)
        names += mnames
    y_u, off_u = y[used], offset[used]
    grp = np.unique(grp_all[used], return_inverse=True)[1].ravel()
    n_groups = int(grp.max()) + 1 if grp.size else 0
    clu = np.unique(np.asarray(cluster)[used], return_inverse=True)[1].ravel()
    n_clusters = int(clu.max()) + 1 if clu.size else 0
    if n_clusters < 2:
        raise FEPoissonError(
            "the cluster-robust covariance needs at least two clusters with events")
    xm = sparse.hstack(blocks, format="csr") if blocks else sparse.csr_matrix((y_u.size, 0))
    k = xm.shape[1]
    n_g = np.bincount(grp, weights=y_u, minlength=n_groups)
    hg = _indicator(grp, n_groups)
    beta = np.zeros(k)
    mu, ll = _profile(off_u, y_u, grp, n_g, n_groups)
    converged, it = k == 0, 0

    def information(mu_: np.ndarray) -> np.ndarray:
        xw = xm.multiply(mu_[:, None]).tocsr()
        a = (hg.T @ xw).toarray() if k else np.zeros((n_groups, 0))
        info = (xm.T @ xw).toarray() - (a / n_g[:, None]).T @ a
        return (info + info.T) / 2

    while not converged and it < max_iter:
        it += 1
        info = information(mu)
        score = xm.T @ (y_u - mu)
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            step = np.full(k, np.nan)
        if not np.all(np.isfinite(step)) or np.linalg.matrix_rank(info) < k:
            raise FEPoissonError(_unidentified(info, names))
        t = 1.0
        while True:  # step halving: the profile log-likelihood is concave
            mu_new, ll_new = _profile(off_u + xm @ (beta + t * step), y_u, grp, n_g, n_groups)
            if ll_new >= ll - 1e-12 * abs(ll) or t < 1e-8:
                break
            t /= 2
        beta = beta + t * step
        mu, ll = mu_new, ll_new
        converged = float(np.max(np.abs(t * step))) < tol
    nested = np.unique(grp * n_clusters + clu).size == n_groups
    if nested or not k:
        bread = np.linalg.inv(information(mu)) if k else np.zeros((0, 0))
        xs_ = xm
    else:  # group scores do not sum to 0 within clusters: sandwich of the full (beta, alpha)
        if n_groups > 2000:
            raise FEPoissonError("absorbed groups not nested in clusters: at most 2,000 groups")
        xs_ = sparse.hstack([xm, hg], format="csr")
        full = (xs_.T @ xs_.multiply(mu[:, None])).toarray()
        bread = np.linalg.inv((full + full.T) / 2)
    s = (_indicator(clu, n_clusters).T @ xs_.multiply((y_u - mu)[:, None])).toarray()
    v = (n_clusters / (n_clusters - 1) * bread @ (s.T @ s) @ bread)[:k, :k]
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(np.sum((y_u - mu) ** 2 / mu) / max(y_u.size - n_groups - k, 1))
    # Full Poisson log-likelihood at the profiled group effects.
    full_ll = float(np.sum(np.where(y_u > 0, y_u * np.log(np.where(mu > 0, mu, 1.0)), 0.0))
                    - mu.sum() - gammaln(y_u + 1).sum())
    return FEPoissonFit(
        terms=names, coef=beta, vcov=(v + v.T) / 2, mu=mu, used=used, n_obs=int(y_u.size),
        n_groups=n_groups, n_clusters=n_clusters, loglik=full_ll,
        pearson_dispersion=pearson, iterations=it, converged=converged,
    )


def _unidentified(info: np.ndarray, names: list[str]) -> str:
    """Name the columns in the null space of the information (aliased or separated)."""
    w, vecs = np.linalg.eigh(info)
    small = w < max(w.max(), 1.0) * 1e-10
    involved = np.flatnonzero(np.any(np.abs(vecs[:, small]) > 1e-3, axis=1))
    culprits = sorted({names[j] for j in involved})
    return ("regressors not identified given the fixed effects (aliased with them or with each "
            f"other, or all-zero counts): {culprits}")
