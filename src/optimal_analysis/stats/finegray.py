"""Fine–Gray subdistribution hazard model as a weighted Cox model, without expanding the data.

R's ``survival::finegray`` (Therneau, Crowson & Atkinson, "Multi-state models
and competing risks", survival package vignette) writes each resident with the
competing event at time T_i as extra rows after T_i carrying the weight
``G(t-) / G(T_i-)``, where G is the Kaplan–Meier estimate of the censoring
distribution, and fits ``coxph(Surv(fgstart, fgstop, fgstatus) ~ ..., weights = fgwt)``.
Those rows only matter at event times, so the same fit is obtained by keeping the
competing-event resident in the risk set of every later event time t with weight
``G(t-) / G(T_i-)`` (:func:`optimal_analysis.stats.cox.fit_cox` with
``tail_weight``), which at national scale avoids tens of millions of rows.

Ties follow ``finegray``: an event at day t happens before a censoring at day t,
so G(t-) is the product over censoring days c < t of (1 - c_c / n_c), with n_c the
residents whose time is > c or who are censored at c.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from optimal_analysis.stats.cox import CoxFit, fit_cox

__all__ = ["censoring_survival_before", "fit_fine_gray"]


def censoring_survival_before(time: ArrayLike, status: ArrayLike):
    """Return ``G(t-)``, the censoring Kaplan–Meier just before ``t``, as a function.

    G(t-) = prod_{c < t} (1 - m_c / n_c), m_c the number censored (status 0) at
    day c and n_c = #{T_i > c} + m_c (events at c precede censorings at c).
    """
    t = np.asarray(time, dtype=float)
    cens = np.asarray(status) == 0
    days, inverse = np.unique(t, return_inverse=True)
    m = np.bincount(inverse, weights=cens.astype(float), minlength=days.size)
    count = np.bincount(inverse, minlength=days.size).astype(float)
    n_after = count[::-1].cumsum()[::-1] - count  # #{T > c}
    n_risk = n_after + m
    factor = np.where(m > 0, 1 - m / np.where(n_risk > 0, n_risk, 1), 1.0)
    surv_after = np.cumprod(factor)  # G at day c, after its censorings

    def g_before(at: ArrayLike) -> NDArray[np.float64]:
        idx = np.searchsorted(days, np.asarray(at, dtype=float), side="left")
        return np.r_[1.0, surv_after][idx]

    return g_before


def fit_fine_gray(
    time: ArrayLike,
    status: ArrayLike,
    x: ArrayLike,
    *,
    cause: int = 1,
    cluster: ArrayLike | None = None,
) -> CoxFit:
    """Fit the Fine–Gray model for ``cause`` (status 0 censored, other codes competing).

    The subdistribution risk set at t is {T_i >= t} plus the residents with a
    competing event before t, weighted G(t-)/G(T_i-); Efron ties on the events
    of ``cause``. The covariance with ``cluster`` is the robust sandwich of the
    weighted score residuals summed by cluster, as ``coxph(..., weights = fgwt,
    cluster = )`` on the ``finegray`` data (each resident's rows lie in one
    cluster).
    """
    t = np.asarray(time, dtype=float)
    s = np.asarray(status)
    g_before = censoring_survival_before(t, s)
    competing = (s != 0) & (s != cause)
    g_own = g_before(t)
    if np.any(competing & (g_own <= 0)):
        raise ValueError("fit_fine_gray: censoring survival is zero before a competing event")
    tail = np.where(competing, 1 / np.where(g_own > 0, g_own, 1), 0.0)
    return fit_cox(t, s == cause, x, cluster=cluster, tail_weight=tail, g_of_time=g_before)
