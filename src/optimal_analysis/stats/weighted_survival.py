"""Case-weighted Aalen–Johansen curves and Fine–Gray fits (propensity-score weighted survival).

Weighted Aalen–Johansen for one group: as :mod:`optimal_analysis.stats.aalen_johansen`
with weighted counts, n_l = sum of w_i over {T_i >= u_l} and d_kl = sum of w_i over the
events of cause k at u_l. The IJ influence of resident i is w_i times the derivative
U_ik(l) of that module's docstring (evaluated at the weighted n and d), so the
cluster-robust variance is sum_h (sum_{i in h} w_i U_ik(l))^2 — R's
``survfit(Surv(time, factor(status)) ~ 1, weights = w, cluster = home)`` (checked in
the tests). With all w_i = 1 it is the unweighted estimator. Weights are treated as
fixed (the estimation of the propensity scores is not propagated).

Weighted Fine–Gray: the Fine–Gray risk set with the censoring distribution G
estimated *unweighted* and every row's weight multiplied by w_i, as R's
``finegray(..., weights = w)`` then ``coxph(..., weights = fgwt, cluster = )``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from optimal_analysis.stats.cox import CoxFit, fit_cox
from optimal_analysis.stats.curve_influence import cluster_codes, log_interval
from optimal_analysis.stats.finegray import fine_gray_weights

__all__ = ["fit_fine_gray_weighted", "weighted_aalen_johansen", "weighted_cluster_sum_of_squares"]


def weighted_cluster_sum_of_squares(
    cluster: NDArray[np.int64],
    exit_index: NDArray[np.int64],
    weight: NDArray[np.float64],
    alpha: NDArray[np.float64],
    slope: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``sum_h V_h(l)^2`` with weighted influence: V_h(l) = sum_{i in h} w_i U_i(l).

    As :func:`optimal_analysis.stats.curve_influence.cluster_sum_of_squares` with
    U_i(l) = x_l before resident i's exit index m_i and alpha_i + c_i y_l from it on:
    V_h(l) = N_h(l) x_l + A_h(l) + C_h(l) y_l with N_h the *weight* of h's residents
    still at risk after u_l and A_h, C_h the sums of w_i alpha_i, w_i c_i of those
    who left. O(residents + L) memory.
    """
    L = x.size
    g = np.asarray(cluster, dtype=np.int64)
    m = np.asarray(exit_index, dtype=np.int64)
    w = np.asarray(weight, dtype=float)
    order = np.lexsort((m, g))
    g_s, m_s = g[order], m[order]
    first = np.r_[True, (g_s[1:] != g_s[:-1]) | (m_s[1:] != m_s[:-1])]
    grp = np.cumsum(first) - 1
    grp_g, grp_m = g_s[first], m_s[first]
    home_weight = np.bincount(g, weights=w).astype(float)

    def within_home(delta):
        return pd.Series(delta).groupby(grp_g, sort=False).cumsum().to_numpy()

    def track(values, start):
        d = np.bincount(grp, weights=values[order])
        after = start + within_home(d)
        return after, after - d

    n_after, n_before = track(-w, home_weight[grp_g])
    a_after, a_before = track(w * alpha, 0.0)
    c_after, c_before = track(w * slope, 0.0)
    pairs = {
        "NN": (n_after, n_after, n_before, n_before, float(np.sum(home_weight**2))),
        "AA": (a_after, a_after, a_before, a_before, 0.0),
        "CC": (c_after, c_after, c_before, c_before, 0.0),
        "NA": (n_after, a_after, n_before, a_before, 0.0),
        "NC": (n_after, c_after, n_before, c_before, 0.0),
        "AC": (a_after, c_after, a_before, c_before, 0.0),
    }
    q = {k: start + np.cumsum(np.bincount(grp_m, weights=xa * ya - xb * yb, minlength=L))
         for k, (xa, ya, xb, yb, start) in pairs.items()}
    var = (x**2 * q["NN"] + q["AA"] + y**2 * q["CC"] + 2 * x * q["NA"] + 2 * x * y * q["NC"]
           + 2 * y * q["AC"])
    return np.maximum(var, 0.0)


def weighted_aalen_johansen(
    time: ArrayLike,
    status: ArrayLike,
    weight: ArrayLike,
    *,
    causes: tuple[int, ...] = (1, 2),
    cluster: ArrayLike | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Weighted cumulative incidence of each cause at every distinct time of one group.

    Same output as :func:`optimal_analysis.stats.aalen_johansen.aalen_johansen`
    (``cause, time, estimate, std_error, conf_low, conf_high, n_at_risk, n_events``)
    except that ``n_at_risk`` and ``n_events`` are the *unweighted* counts (for
    disclosure control) and the estimate uses the weighted ones (module docstring).
    Residents with weight 0 are dropped.
    """
    t = np.asarray(time, dtype=float)
    s = np.asarray(status, dtype=np.int64)
    w = np.asarray(weight, dtype=float)
    if w.shape != t.shape or np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weighted_aalen_johansen: one finite weight >= 0 per resident")
    g_all = cluster_codes(cluster, t.size)
    keep = w > 0
    t, s, w, g = t[keep], s[keep], w[keep], g_all[keep]
    unknown = sorted(set(np.unique(s)) - {0, *causes})
    if unknown:
        raise ValueError(f"weighted_aalen_johansen: status codes {unknown} not in {causes}")
    u, inv = np.unique(t, return_inverse=True)
    inv = inv.ravel()
    L = u.size
    n = np.bincount(inv, weights=w, minlength=L)[::-1].cumsum()[::-1]
    n_count = np.bincount(inv, minlength=L)[::-1].cumsum()[::-1]
    d_k = np.vstack([np.bincount(inv, weights=w * (s == k), minlength=L) for k in causes])
    d_count = np.vstack([np.bincount(inv, weights=(s == k) * 1.0, minlength=L) for k in causes])
    lam_k = d_k / n
    lam = lam_k.sum(axis=0)
    s_before = np.r_[1.0, np.cumprod(1 - lam)[:-1]]
    cif = np.cumsum(s_before * lam_k, axis=1)
    one_minus = np.where(lam < 1 - 1e-14, 1 - lam, 1.0)
    b = 1 / (n * one_minus)
    cum_a = np.r_[0.0, np.cumsum(lam * b)]
    slope = cum_a[inv + 1] - np.where(s != 0, b[inv], 0.0)
    z = stats.norm.ppf(1 - alpha / 2)
    out = []
    for row, k in enumerate(causes):
        p_curve = np.cumsum(s_before * lam_k[row] * (cum_a[:-1] - 1 / n))
        f = cif[row]
        alpha_i = p_curve[inv] + np.where(s == k, s_before[inv] / n[inv], 0.0) - slope * f[inv]
        se = np.sqrt(weighted_cluster_sum_of_squares(g, inv, w, alpha_i, slope, p_curve, f))
        lo, hi = log_interval(f, se, z)
        out.append(pd.DataFrame({
            "cause": k, "time": u, "estimate": f, "std_error": se, "conf_low": lo,
            "conf_high": hi, "n_at_risk": n_count.astype(np.int64),
            "n_events": d_count[row].astype(np.int64),
        }))
    return pd.concat(out, ignore_index=True)


def fit_fine_gray_weighted(
    time: ArrayLike,
    status: ArrayLike,
    x: ArrayLike,
    weight: ArrayLike,
    *,
    cause: int = 1,
    cluster: ArrayLike | None = None,
    censoring_group: ArrayLike | None = None,
) -> CoxFit:
    """Fine–Gray fit with case weights ``weight`` (unweighted censoring distribution G).

    The subdistribution risk set at t: {T_i >= t} with weight w_i, plus residents
    with a competing event before t with weight w_i G_r(t-)/G_r(T_i-), G_r the
    (unweighted) censoring Kaplan–Meier of the resident's ``censoring_group`` r
    (one G when None: R's ``finegray(weights =)``); robust covariance from the
    weighted score residuals summed by ``cluster``. With all weights 1 this is
    :func:`optimal_analysis.stats.cox.fit_fine_gray`.
    """
    tail, codes, g_of_time = fine_gray_weights(
        time, status, cause=cause, censoring_group=censoring_group
    )
    return fit_cox(time, np.asarray(status) == cause, x, weight=weight, cluster=cluster,
                   tail_weight=tail, g_of_time=g_of_time, tail_group=codes)
