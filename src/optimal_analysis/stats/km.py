"""Kaplan–Meier survival with Greenwood variance, median survival and restricted mean.

At the distinct times u_l (days) with n_l at risk and d_l events:

    S(t) = prod_{u_l <= t} (1 - d_l / n_l)
    Var log S(t) = sum_{u_l <= t} d_l / (n_l (n_l - d_l))          (Greenwood)
    95% CI  S exp(+-z sqrt(Var log S)), capped at 1                 (R's conf.type = "log")

Median: the first time S <= 1/2; if S equals 1/2 exactly on a flat step, the
midpoint of that time and the next drop (R's ``survmean`` rule); its CI
limits are the same functional of the upper and lower confidence curves.

Restricted mean survival to tau: RMST = integral_0^tau S(t) dt, with
    Var = sum_{u_l <= tau} A_l^2 d_l / (n_l (n_l - d_l)),   A_l = integral_{u_l}^tau S(t) dt,
as R's ``print(survfit, rmean = tau)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

__all__ = ["kaplan_meier", "km_median", "restricted_mean"]

_TOL = np.sqrt(np.finfo(float).eps)


def kaplan_meier(time: ArrayLike, event: ArrayLike, *, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan–Meier table at every distinct time of one group.

    Returns ``time, estimate, std_error (of S), conf_low, conf_high, n_at_risk, n_events``.
    """
    t = np.asarray(time, dtype=float)
    ev = np.asarray(event, dtype=bool)
    u, inv = np.unique(t, return_inverse=True)
    count = np.bincount(inv, minlength=u.size).astype(float)
    d = np.bincount(inv, weights=ev.astype(float), minlength=u.size)
    n = count[::-1].cumsum()[::-1]
    surv = np.cumprod(1 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_log = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
    se_log = np.sqrt(var_log)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore"):
        lo = np.where(surv > 0, surv * np.exp(-z * se_log), np.nan)
        hi = np.where(surv > 0, np.minimum(1.0, surv * np.exp(z * se_log)), np.nan)
    return pd.DataFrame(
        {
            "time": u,
            "estimate": surv,
            "std_error": np.where(
                surv > 0, surv * np.where(np.isfinite(se_log), se_log, 0.0), np.nan
            ),
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
