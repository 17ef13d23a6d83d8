"""Cluster sums of squared influence values of a survival curve, without a residents × times matrix.

The infinitesimal-jackknife (IJ) influence of Kaplan–Meier and Aalen–Johansen
estimates at the distinct times u_0 < ... < u_{L-1} has, for resident i leaving
at time index m_i, the shape

    U_i(l) = x_l                       for l < m_i   (still at risk after u_l)
    U_i(l) = alpha_i + c_i y_l         for l >= m_i  (left at or before u_l)

with curves x, y common to everyone (see :mod:`~optimal_analysis.stats.km` and
:mod:`~optimal_analysis.stats.aalen_johansen` for each estimator's x, y, alpha,
c). Summed within cluster h (care home),

    V_h(l) = N_h(l) x_l + A_h(l) + C_h(l) y_l,

N_h(l) residents of h with m_i > l, A_h(l) = sum_{i in h, m_i <= l} alpha_i and
C_h(l) the same sum of c_i. The cluster-robust variance is

    Var(l) = sum_h V_h(l)^2 = x^2 Q_NN + Q_AA + y^2 Q_CC + 2x Q_NA + 2xy Q_NC + 2y Q_AC,

Q_XY(l) = sum_h X_h(l) Y_h(l). Each Q changes only where some home has an exit,
so it is its start value plus the cumulative sum over l of the changes
X_after Y_after - X_before Y_before of the (home, time index) groups: work and
memory are O(residents + L), never residents × L or homes × L.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["cluster_codes", "cluster_sum_of_squares", "log_interval", "product_limit"]


def cluster_codes(cluster: ArrayLike | None, n: int) -> NDArray[np.int64]:
    """Integer codes 0..G-1 of ``cluster``; ``None`` makes every resident its own cluster."""
    if cluster is None:
        return np.arange(n, dtype=np.int64)
    codes, _ = pd.factorize(pd.Series(np.asarray(cluster)), sort=False)
    if codes.size != n:
        raise ValueError(f"cluster has {codes.size} values for {n} residents")
    if (codes < 0).any():
        raise ValueError("cluster has missing values")
    return codes.astype(np.int64)


def cluster_sum_of_squares(
    cluster: NDArray[np.int64],
    exit_index: NDArray[np.int64],
    alpha: NDArray[np.float64],
    slope: NDArray[np.float64] | None,
    x: NDArray[np.float64],
    y: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """``sum_h V_h(l)^2`` at every time index l (module docstring), vectorised.

    Parameters
    ----------
    cluster
        Cluster code (0..G-1) of each resident.
    exit_index
        Time index m_i at which each resident leaves the risk set.
    alpha, slope
        Per-resident alpha_i and c_i (``slope=None``: c_i = 0, and ``y`` unused).
    x, y
        The common curves x_l, y_l (length L).

    Returns
    -------
    ndarray of length L, clipped at 0 (rounding can make a zero variance -1e-20).
    """
    L = x.size
    g = np.asarray(cluster, dtype=np.int64)
    m = np.asarray(exit_index, dtype=np.int64)
    order = np.lexsort((m, g))
    g_s, m_s = g[order], m[order]
    first = np.r_[True, (g_s[1:] != g_s[:-1]) | (m_s[1:] != m_s[:-1])]
    grp = np.cumsum(first) - 1
    grp_g, grp_m = g_s[first], m_s[first]
    home_size = np.bincount(g).astype(float)

    def within_home(delta: NDArray[Any]) -> NDArray[np.float64]:
        return pd.Series(delta).groupby(grp_g, sort=False).cumsum().to_numpy()

    d_n = -np.bincount(grp).astype(float)
    n_after = home_size[grp_g] + within_home(d_n)
    n_before = n_after - d_n
    d_a = np.bincount(grp, weights=np.asarray(alpha, float)[order])
    a_after = within_home(d_a)
    a_before = a_after - d_a
    terms = {"NN": (n_after, n_after, n_before, n_before, float(np.sum(home_size**2))),
             "AA": (a_after, a_after, a_before, a_before, 0.0),
             "NA": (n_after, a_after, n_before, a_before, 0.0)}
    if slope is not None:
        d_c = np.bincount(grp, weights=np.asarray(slope, float)[order])
        c_after = within_home(d_c)
        c_before = c_after - d_c
        terms |= {"CC": (c_after, c_after, c_before, c_before, 0.0),
                  "NC": (n_after, c_after, n_before, c_before, 0.0),
                  "AC": (a_after, c_after, a_before, c_before, 0.0)}
    q = {k: start + np.cumsum(np.bincount(grp_m, weights=xa * ya - xb * yb, minlength=L))
         for k, (xa, ya, xb, yb, start) in terms.items()}
    var = x**2 * q["NN"] + q["AA"] + 2 * x * q["NA"]
    if slope is not None:
        assert y is not None  # given with slope (see Parameters)
        var = var + y**2 * q["CC"] + 2 * x * y * q["NC"] + 2 * y * q["AC"]
    return np.maximum(var, 0.0)


def log_interval(
    est: np.ndarray, se: np.ndarray, q: float, *, upper_cap: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Log-scale limits ``est exp(-+q se / est)``, the upper capped; NaN where est is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(est > 0, est * np.exp(-q * se / est), np.nan)
        hi = np.where(est > 0, np.minimum(upper_cap, est * np.exp(q * se / est)), np.nan)
    return lo, hi


def product_limit(
    time: ArrayLike, event: ArrayLike
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Kaplan–Meier product-limit pieces of one group at its distinct times.

    Returns ``(u, inv, n, d, surv)``: the sorted distinct times ``u``, each
    resident's index into ``u``, the numbers at risk ``n_l`` (time >= u_l) and
    of events ``d_l`` at each, and S(u_l) = prod_{k<=l} (1 - d_k / n_k).
    """
    t = np.asarray(time, dtype=float)
    ev = np.asarray(event, dtype=bool)
    u, inv = np.unique(t, return_inverse=True)
    inv = inv.ravel()
    n = np.bincount(inv, minlength=u.size)[::-1].cumsum()[::-1].astype(float)
    d = np.bincount(inv, weights=ev.astype(float), minlength=u.size)
    return u, inv, n, d, np.cumprod(1 - d / n)
