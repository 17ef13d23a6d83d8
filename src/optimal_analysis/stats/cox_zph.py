"""Test of proportional hazards from scaled Schoenfeld residuals (R's ``cox.zph``, survival >= 3).

For a fitted Cox model with coefficients b, let g(t) be a transform of time
centred on its mean over the events (``km``: g(t) = 1 - S(t-) with S the
Kaplan–Meier of the model's own outcome; ``identity``: g(t) = t). The test is
the score test, at (b, 0), for adding the time-varying terms g(t) x to the
model: with U_j the Efron score and I_j the Efron information at event time t_j,

    u = sum_j g(t_j) U_j,   I = [[sum_j I_j, sum_j g_j I_j], [sum_j g_j I_j, sum_j g_j^2 I_j]].

For a term with columns J (a factor has several), T = v' I_KK^-1 v with
K = (all p columns of x, then the g(t) x columns J) and v = (0_p, u_J), chi-square
on |J| df; the global test uses all 2p columns. Case weights are not supported
here (the models tested are unweighted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from optimal_analysis.stats.cox import CoxFit
from optimal_analysis.stats.curve_influence import product_limit

__all__ = ["cox_zph"]


def _transform(fit: CoxFit, time: np.ndarray, event: np.ndarray, transform: str) -> np.ndarray:
    if transform == "identity":
        return fit.event_times.astype(float)
    if transform == "km":
        u, _, _, _, surv = product_limit(time, event)
        idx = np.searchsorted(u, fit.event_times, side="left")
        return 1 - np.r_[1.0, surv][idx]
    raise ValueError(f"cox_zph: transform must be 'km' or 'identity', not {transform!r}")


def cox_zph(
    fit: CoxFit,
    time: ArrayLike,
    event: ArrayLike,
    terms: Mapping[str, Sequence[int]],
    *,
    transform: str = "km",
) -> pd.DataFrame:
    """Per-term and global tests; one row per term then ``GLOBAL``: ``term, chisq, df, p_value``.

    ``time``/``event`` are the data the model was fitted on; ``terms`` maps a
    term name to its columns of x (e.g. ``{"care_model": [0, 1], "age": [2]}``).
    """
    t = np.asarray(time, dtype=float)
    ev = np.asarray(event, dtype=bool)
    g = _transform(fit, t, ev, transform)
    n_events_at = np.bincount(np.searchsorted(fit.event_times, t[ev]), minlength=g.size)
    g = g - np.sum(g * n_events_at) / n_events_at.sum()
    p = fit.coef.size
    i11 = fit.info_by_time.sum(axis=0)
    i12 = np.einsum("j,jab->ab", g, fit.info_by_time)
    i22 = np.einsum("j,jab->ab", g**2, fit.info_by_time)
    imat = np.block([[i11, i12], [i12.T, i22]])
    u = np.r_[np.zeros(p), g @ fit.score_by_time]
    rows = []
    for name, cols in [*terms.items(), ("GLOBAL", list(range(p)))]:
        kk = np.r_[np.arange(p), np.asarray(cols, dtype=int) + p]
        chisq = float(u[kk] @ np.linalg.solve(imat[np.ix_(kk, kk)], u[kk]))
        rows.append(
            {
                "term": name,
                "chisq": chisq,
                "df": len(cols),
                "p_value": float(stats.chi2.sf(chisq, len(cols))),
            }
        )
    return pd.DataFrame(rows)
