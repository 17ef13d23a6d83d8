"""Fine–Gray subdistribution hazard model as a weighted Cox model, without expanding the data.

The subdistribution risk set at an event time t holds everyone still event-free
(T_i >= t, weight 1) and every resident whose competing event came first
(T_i < t), with the inverse-probability-of-censoring weight

    w_i(t) = G_{r_i}(t-) / G_{r_i}(T_i-),

where G_r is the Kaplan–Meier estimate of the censoring distribution *within
the resident's censoring group* r_i (here the region: regions have their own
study windows, so censoring depends on region). This is the estimator of
``cmprsk::crr(ftime, fstatus, cov1, cengroup = region)`` (Fine & Gray 1999,
section 3; crr's ``uuu`` weights, G evaluated just before the time), here with
Efron ties rather than crr's Breslow, and a cluster-robust (care home)
covariance. Without ``censoring_group`` it is the one-G estimator of R's
``survival::finegray`` + weighted ``coxph`` (the same as crr without
``cengroup``). The resident stays in the risk set of every later event time
(:func:`optimal_analysis.stats.cox.fit_cox` with ``tail_weight`` and
``tail_group``), which at national scale avoids tens of millions of rows.
This module gives the weights; the fits are :func:`optimal_analysis.stats.cox.fit_fine_gray`
and :func:`optimal_analysis.stats.cox.fine_gray_score_information` (the Cox engine with them).

Not equivalent: R ``finegray(Surv(...) ~ . + strata(region))`` followed by an
*unstratified* ``coxph``. ``finegray`` with strata writes a competing-event
resident's tail rows only over intervals holding events of their own region
(what a stratified ``coxph`` needs), so the resident is missing from the risk
set on other regions' event days, where crr (and this module) keep them with
weight G_r(t-)/G_r(T_i-). Checked on tests/reference/survival/finegray_strata_data.csv:
92 of 142 competing-event residents lack a row on some such day, and the
coefficient differs from crr's by 0.005 (finegray_strata.csv).

Ties follow ``finegray``: an event at day t happens before a censoring at day t,
so G(t-) is the product over censoring days c < t of (1 - m_c / n_c), with n_c the
residents whose time is > c or who are censored at c. crr's censoring
Kaplan–Meier (``survfit(Surv(ftime, cenind) ~ 1)``) counts events on day c in
n_c instead; the two agree whenever no event shares a day with a censoring.

``std_error`` from these fits (the sandwich of the weighted score residuals) does
not include the variability of the estimated G_r, as ``coxph`` on ``finegray``
data; the model-based ``cov`` (inverse weighted information) is not a valid
Fine–Gray variance at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["censoring_survival_before", "fine_gray_weights"]


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


def fine_gray_weights(
    time: ArrayLike, status: ArrayLike, *, cause: int = 1, censoring_group: ArrayLike | None = None
):
    """IPCW pieces of the Fine–Gray risk set: ``(tail_weight, group_codes, g_of_time)``.

    ``group_codes`` (0..R-1) index the censoring groups (one group when
    ``censoring_group`` is None); G_r is :func:`censoring_survival_before` on
    the residents of group r; ``tail_weight`` is 1/G_{r_i}(T_i-) for a
    competing event (status not 0 and not ``cause``), 0 otherwise;
    ``g_of_time(times)`` returns the R x len(times) array G_r(t-).
    """
    t = np.asarray(time, dtype=float)
    s = np.asarray(status)
    if censoring_group is None:
        codes = np.zeros(t.size, dtype=np.intp)
        n_groups = 1
    else:
        labels = np.asarray(censoring_group)
        if labels.shape != t.shape:
            raise ValueError("fit_fine_gray: censoring_group must have one label per row")
        codes, uniq = pd.factorize(labels, sort=True)
        if (codes < 0).any():
            raise ValueError("fit_fine_gray: censoring_group labels must not be missing")
        codes = codes.astype(np.intp)
        n_groups = uniq.size
    g_funcs = [censoring_survival_before(t[codes == r], s[codes == r]) for r in range(n_groups)]
    g_own = np.empty(t.size)
    for r, g in enumerate(g_funcs):  # a handful of regions
        g_own[codes == r] = g(t[codes == r])
    competing = (s != 0) & (s != cause)
    if np.any(competing & (g_own <= 0)):
        raise ValueError("fit_fine_gray: censoring survival is zero before a competing event")
    tail = np.where(competing, 1 / np.where(g_own > 0, g_own, 1), 0.0)

    def g_of_time(at: ArrayLike) -> NDArray[np.float64]:
        return np.vstack([g(at) for g in g_funcs])

    return tail, codes, g_of_time
