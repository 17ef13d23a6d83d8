"""Aalen–Johansen cumulative incidence with competing risks, ties handled exactly.

For one group with distinct times u_1 < ... < u_L (days), n_l at risk
(T_i >= u_l), d_kl events of cause k at u_l and d_l = sum_k d_kl:

    lambda_kl = d_kl / n_l,  S(u_l) = prod_{q <= l} (1 - d_q / n_q)   (all-cause KM)
    F_k(t) = sum_{u_l <= t} S(u_{l-1}) lambda_kl

All events of a day are processed together (no jitter), which is the textbook
estimator and what R's ``survfit(Surv(time, factor(status)) ~ 1)`` computes.

Variance: the infinitesimal jackknife (IJ), as R's multi-state ``survfit``
reports it: Var F_k(t) = sum_i U_ik(t)^2 with U_ik(t) = dF_k(t)/dw_i the
derivative of the weighted estimator in resident i's case weight. With
b_q = 1/(n_q (1 - lambda_q)), a_q = lambda_q b_q and resident i leaving at u_m
with status e,

    dlambda_kl = (1{l = m, e = k} - 1{l <= m} lambda_kl) / n_l
    dS(u_{l-1}) = -S(u_{l-1}) [1{m < l, e != 0} b_m - sum_{q <= min(l-1, m)} a_q]
    U_ik(t) = sum_{u_l <= t} dS(u_{l-1}) lambda_kl + S(u_{l-1}) dlambda_kl.

Residents sharing (u_m, e) have the same U, so the sum runs over those groups.
The 95% CI uses the log transform as R does: F exp(+-z se / F), capped at 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

__all__ = ["aalen_johansen"]


def aalen_johansen(
    time: ArrayLike, status: ArrayLike, *, causes: tuple[int, ...] = (1, 2), alpha: float = 0.05
) -> pd.DataFrame:
    """Cumulative incidence of each cause at every distinct time of one group.

    Parameters
    ----------
    time
        Time of leaving the initial state (days, ties allowed).
    status
        0 censored, otherwise the cause code (an element of ``causes``).

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
    u, inv = np.unique(t, return_inverse=True)
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
    cum_a = np.r_[0.0, np.cumsum(lam * b)]  # cum_a[x + 1] = sum_{q <= x} a_q
    # groups of residents sharing (time index m, status e)
    key = inv * (max(causes) + 1) + s
    g_keys, g_count = np.unique(key, return_counts=True)
    m = g_keys // (max(causes) + 1)
    e = g_keys % (max(causes) + 1)
    ll = np.arange(L)
    h = np.where((m[:, None] < ll[None, :]) & (e[:, None] != 0), b[m][:, None], 0.0)
    h -= cum_a[np.minimum(ll[None, :], m[:, None] + 1)]  # sum_{q <= min(l-1, m)} a_q
    at_risk = ll[None, :] <= m[:, None]
    z = stats.norm.ppf(1 - alpha / 2)
    out = []
    for row, k in enumerate(causes):
        jump = (ll[None, :] == m[:, None]) & (e[:, None] == k)
        dlam = (jump - at_risk * lam_k[row][None, :]) / n[None, :]
        infl = np.cumsum(-s_before * h * lam_k[row] + s_before * dlam, axis=1)
        se = np.sqrt(g_count @ infl**2)
        est = cif[row]
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = np.where(est > 0, est * np.exp(-z * se / est), np.nan)
            hi = np.where(est > 0, np.minimum(1.0, est * np.exp(z * se / est)), np.nan)
        out.append(
            pd.DataFrame(
                {
                    "cause": k,
                    "time": u,
                    "estimate": est,
                    "std_error": se,
                    "conf_low": lo,
                    "conf_high": hi,
                    "n_at_risk": n.astype(np.int64),
                    "n_events": d_k[row].astype(np.int64),
                }
            )
        )
    return pd.concat(out, ignore_index=True)
