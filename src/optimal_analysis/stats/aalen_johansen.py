"""Aalen–Johansen cumulative incidence with competing risks, ties handled exactly.

For one group with distinct times u_1 < ... < u_L (days), n_l at risk
(T_i >= u_l), d_kl events of cause k at u_l and d_l = sum_k d_kl:

    lambda_kl = d_kl / n_l,  S(u_l) = prod_{q <= l} (1 - d_q / n_q)   (all-cause KM)
    F_k(t) = sum_{u_l <= t} S(u_{l-1}) lambda_kl

All events of a day are processed together (no jitter), which is the textbook
estimator and what R's ``survfit(Surv(time, factor(status)) ~ 1)`` computes.

Variance: the infinitesimal jackknife (IJ), as R's multi-state ``survfit``
with ``influence = TRUE``: U_ik(t) = dF_k(t)/dw_i, the derivative of the
weighted estimator in resident i's case weight. With b_q = 1/(n_q (1 - lambda_q)),
a_q = lambda_q b_q, A(m) = sum_{q <= m} a_q, w_kq = S(u_{q-1}) lambda_kq and
resident i leaving at u_m with status e, differentiating lambda and S gives

    U_ik(l) = P_k(l)                                              l < m
    U_ik(l) = P_k(m) + 1{e = k} S(u_{m-1}) / n_m + c_i (F_k(l) - F_k(m))   l >= m
    P_k(l) = sum_{q <= l} w_kq (A(q-1) - 1/n_q),   c_i = A(m) - 1{e != 0} b_m.

Clustered (``cluster=`` care home): V_hk(l) = sum_{i in h} U_ik(l) and
Var F_k(l) = sum_h V_hk(l)^2, computed without a residents × times matrix by
:func:`~optimal_analysis.stats.curve_influence.cluster_sum_of_squares`. Without
``cluster`` every resident is its own cluster: R's unclustered IJ std.err.
The 95% CI uses the log transform as R does: F exp(+-q se / F), capped at 1,
q the normal quantile, or Student's t with ``df`` degrees of freedom if given.
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
)

__all__ = ["aalen_johansen", "log_interval"]


def aalen_johansen(
    time: ArrayLike,
    status: ArrayLike,
    *,
    causes: tuple[int, ...] = (1, 2),
    cluster: ArrayLike | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Cumulative incidence of each cause at every distinct time of one group.

    Parameters
    ----------
    time
        Time of leaving the initial state (days, ties allowed).
    status
        0 censored, otherwise the cause code (an element of ``causes``).
    cluster
        Cluster (care home) of each resident: standard errors are the
        cluster-robust IJ (influence values summed within cluster). ``None``:
        residents independent (R's multi-state ``survfit`` default).

    Returns
    -------
    DataFrame with one row per cause x distinct time: ``cause, time, estimate,
    std_error, conf_low, conf_high, n_at_risk, n_events`` (``n_events`` the
    events of that cause at that time). CI limits are NaN where the estimate is 0.
    """
    t = np.asarray(time, dtype=float)
    s = np.asarray(status, dtype=np.int64)
    unknown = sorted(set(np.unique(s)) - {0, *causes})
    if unknown:
        raise ValueError(
            f"aalen_johansen: status codes {unknown} are neither 0 nor in causes {causes}"
        )
    g = cluster_codes(cluster, t.size)
    u, inv = np.unique(t, return_inverse=True)
    inv = inv.ravel()
    L = u.size
    count = np.bincount(inv, minlength=L).astype(float)
    n = count[::-1].cumsum()[::-1]
    d_k = np.vstack([np.bincount(inv, weights=(s == k).astype(float), minlength=L) for k in causes])
    lam_k = d_k / n
    lam = lam_k.sum(axis=0)
    surv = np.cumprod(1 - lam)
    s_before = np.r_[1.0, surv[:-1]]
    cif = np.cumsum(s_before * lam_k, axis=1)
    one_minus = np.where(lam < 1, 1 - lam, 1.0)  # lambda = 1 only at the last time; b unused there
    b = 1 / (n * one_minus)
    cum_a = np.r_[0.0, np.cumsum(lam * b)]  # cum_a[x + 1] = A(x) = sum_{q <= x} a_q
    slope = cum_a[inv + 1] - np.where(s != 0, b[inv], 0.0)  # c_i
    z = stats.norm.ppf(1 - alpha / 2)
    out = []
    for row, k in enumerate(causes):
        w = s_before * lam_k[row]
        p_curve = np.cumsum(w * (cum_a[:-1] - 1 / n))  # P_k(l)
        f = cif[row]
        alpha_i = p_curve[inv] + np.where(s == k, s_before[inv] / n[inv], 0.0) - slope * f[inv]
        se = np.sqrt(cluster_sum_of_squares(g, inv, alpha_i, slope, p_curve, f))
        lo, hi = log_interval(f, se, z)
        out.append(
            pd.DataFrame(
                {
                    "cause": k,
                    "time": u,
                    "estimate": f,
                    "std_error": se,
                    "conf_low": lo,
                    "conf_high": hi,
                    "n_at_risk": n.astype(np.int64),
                    "n_events": d_k[row].astype(np.int64),
                }
            )
        )
    return pd.concat(out, ignore_index=True)
