"""Kaplan–Meier survival with Greenwood or cluster-robust variance, median and restricted mean.

At the distinct times u_l (days) with n_l at risk and d_l events:

    S(t) = prod_{u_l <= t} (1 - d_l / n_l)
    Var log S(t) = sum_{u_l <= t} d_l / (n_l (n_l - d_l))          (Greenwood)
    95% CI  S exp(+-z sqrt(Var log S)), capped at 1                 (R's conf.type = "log")

Clustered (``cluster=``, care home): the infinitesimal-jackknife influence of
S(u_l) of resident i leaving at u_m (event indicator e_i), with
a_q = d_q / (n_q (n_q - d_q)), A(m) = sum_{q <= m} a_q and b_m = 1 / (n_m - d_m),

    U_i(l) = S(u_l) [A(min(l, m)) - 1{e_i, m <= l} b_m]

(R's ``survfit(..., id =, influence = TRUE)$influence.surv``), summed within
cluster h: Var S(u_l) = sum_h (sum_{i in h} U_i(l))^2, computed by
:func:`~optimal_analysis.stats.curve_influence.cluster_sum_of_squares`; the CI is
S exp(+-z se_S / S), the same log transform with se(log S) = se_S / S. With one
resident per cluster this is the unclustered IJ variance (close to, not equal
to, Greenwood). Where S = 0 the influence is 0.

Median: the first time S <= 1/2; if S equals 1/2 exactly on a flat step, the
midpoint of that time and the next drop (R's ``survmean`` rule); its CI
limits are the same functional of the upper and lower confidence curves.

Restricted mean survival to tau: RMST = integral_0^tau S(t) dt, with
    Var = sum_{u_l <= tau} A_l^2 d_l / (n_l (n_l - d_l)),   A_l = integral_{u_l}^tau S(t) dt,
as R's ``print(survfit, rmean = tau)``. Clustered: the influence of the area,
I_i = sum_{u_l <= tau} w_l U_i(l) (w_l the width of the step after u_l, ended at
tau), summed within cluster, Var = sum_h (sum_{i in h} I_i)^2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from optimal_analysis.stats.curve_influence import (
    cluster_codes,
    cluster_sum_of_squares,
    log_interval,
    product_limit,
)

__all__ = ["kaplan_meier", "km_median", "restricted_mean", "restricted_mean_clustered"]

_TOL = np.sqrt(np.finfo(float).eps)


class _KM:
    """Kaplan–Meier pieces of one group: times, exit index, n, d, S, A(l), b_l, z_i."""

    def __init__(self, time: ArrayLike, event: ArrayLike) -> None:
        self.event = np.asarray(event, dtype=bool)
        self.u, self.inv, self.n, self.d, self.surv = product_limit(time, self.event)
        # b_l = 1/(n_l - d_l); where everyone at risk dies S = 0 from there on and U = 0,
        # so any finite b, a do (0 is used)
        alive = self.n > self.d
        self.b = np.where(alive, 1 / np.where(alive, self.n - self.d, 1.0), 0.0)
        self.cum_a = np.cumsum(self.d * self.b / self.n)  # A(l)
        # U_i(l) = S_l (A_l (l < m_i) or z_i (l >= m_i)), z_i = A(m_i) - e_i b_{m_i}
        self.z = self.cum_a[self.inv] - np.where(self.event, self.b[self.inv], 0.0)

    def clustered_se(self, g: np.ndarray) -> np.ndarray:
        """Cluster-robust IJ standard error of S at every distinct time."""
        var = cluster_sum_of_squares(g, self.inv, self.z, None, self.cum_a, None)
        return self.surv * np.sqrt(var)


def kaplan_meier(
    time: ArrayLike, event: ArrayLike, *, cluster: ArrayLike | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """Kaplan–Meier table at every distinct time of one group.

    Returns ``time, estimate, std_error (of S), conf_low, conf_high, n_at_risk,
    n_events``. ``std_error`` is Greenwood's without ``cluster``, the
    cluster-robust infinitesimal jackknife with it (module docstring); log CI.
    """
    km = _KM(time, event)
    surv, n, d = km.surv, km.n, km.d
    z = stats.norm.ppf(1 - alpha / 2)
    if cluster is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            var_log = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
        se_log = np.sqrt(var_log)
        with np.errstate(invalid="ignore"):
            lo = np.where(surv > 0, surv * np.exp(-z * se_log), np.nan)
            hi = np.where(surv > 0, np.minimum(1.0, surv * np.exp(z * se_log)), np.nan)
        se = np.where(surv > 0, surv * np.where(np.isfinite(se_log), se_log, 0.0), np.nan)
    else:
        se = km.clustered_se(cluster_codes(cluster, km.inv.size))
        lo, hi = log_interval(surv, se, z)
        se = np.where(surv > 0, se, np.nan)
    return pd.DataFrame(
        {
            "time": km.u,
            "estimate": surv,
            "std_error": se,
            "conf_low": lo,
            "conf_high": hi,
            "n_at_risk": n.astype(np.int64),
            "n_events": d.astype(np.int64),
        }
    )


def _first_below_half(curve: ArrayLike, time: ArrayLike) -> float:
    y = np.asarray(curve, dtype=float)
    x = np.asarray(time, dtype=float)
    keep = ~np.isnan(y) & (y < 0.5 + _TOL)
    if not keep.any():
        return float("nan")
    x, y = x[keep], y[keep]
    if abs(y[0] - 0.5) < _TOL and np.any(y < y[0]):
        return float((x[0] + x[np.argmax(y < y[0])]) / 2)
    return float(x[0])


def km_median(table: pd.DataFrame) -> tuple[float, float, float]:
    """Median survival and its 95% CI (days) from a :func:`kaplan_meier` table.

    NaN where the curve (or a confidence limit) never reaches 1/2.
    """
    return (
        _first_below_half(table["estimate"], table["time"]),
        _first_below_half(table["conf_low"], table["time"]),
        _first_below_half(table["conf_high"], table["time"]),
    )


def restricted_mean(table: pd.DataFrame, tau: float) -> tuple[float, float]:
    """Restricted mean survival time to ``tau`` (days) and its standard error."""
    keep = table["time"].to_numpy() <= tau
    u = table["time"].to_numpy()[keep]
    s = table["estimate"].to_numpy()[keep]
    n = table["n_at_risk"].to_numpy(dtype=float)[keep]
    d = table["n_events"].to_numpy(dtype=float)[keep]
    # S is 1 on [0, u_1) and s_l on [u_l, u_{l+1}); the last piece ends at tau
    edges = np.r_[0.0, u, tau]
    heights = np.r_[1.0, s]
    pieces = np.diff(edges) * heights
    rmst = float(pieces.sum())
    area_after = np.cumsum(pieces[::-1])[::-1][1:]  # A_l = integral from u_l to tau
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where((d > 0) & (n > d), d / (n * (n - d)), 0.0)
    return rmst, float(np.sqrt(np.sum(area_after**2 * h)))


def restricted_mean_clustered(
    time: ArrayLike, event: ArrayLike, cluster: ArrayLike | None, tau: float
) -> tuple[float, float]:
    """Restricted mean survival time to ``tau`` and its cluster-robust IJ standard error.

    The influence of the area (module docstring) is, for resident i leaving at u_m,
    I_i = K(m - 1) + z_i B(m), with K(x) = sum_{l <= x} w_l S_l A(l),
    B(m) = sum_{l >= m} w_l S_l (l restricted to u_l <= tau) and
    z_i = A(m) - e_i b_m; Var = sum_h (sum_{i in h} I_i)^2. ``cluster=None``:
    every resident its own cluster (the unclustered IJ).
    """
    km = _KM(time, event)
    keep = km.u <= tau
    u, s = km.u[keep], km.surv[keep]
    width = np.diff(np.r_[u, tau])  # the step after u_l, ended at tau
    rmst = float(np.sum(np.diff(np.r_[0.0, u, tau]) * np.r_[1.0, s]))
    ws = width * s
    k_before = np.r_[0.0, np.cumsum(ws * km.cum_a[keep])]  # K(m - 1) at index m
    b_from = np.r_[np.cumsum(ws[::-1])[::-1], 0.0]  # B(m); 0 beyond tau
    m = np.minimum(km.inv, u.size)  # exits after tau: at risk over the whole range
    infl = k_before[m] + np.where(km.inv < u.size, km.z, 0.0) * b_from[m]
    g = cluster_codes(cluster, km.inv.size)
    return rmst, float(np.sqrt(np.sum(np.bincount(g, weights=infl) ** 2)))
