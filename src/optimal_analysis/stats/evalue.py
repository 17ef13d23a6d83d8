"""E-values for ratio estimates (VanderWeele & Ding 2017, Ann Intern Med 167:268).

The E-value is the minimum strength of association, on the risk-ratio scale,
that an unmeasured confounder would need with both the care model and the
outcome, conditional on the measured covariates, to fully explain away an
observed risk ratio RR:

.. math::

    E = RR^* + \\sqrt{RR^*(RR^* - 1)},\\qquad RR^* = \\max(RR, 1/RR).

For the confidence interval the same formula is applied to the limit nearer 1;
if the interval includes 1 the E-value of the interval is 1 (no confounding is
needed to move it to the null). Rate ratios are used as risk ratios. Hazard
ratios of a *common* outcome (> 15% by the end of follow-up) are first converted
to the risk-ratio scale (VanderWeele 2020, table 2):
:math:`RR \\approx (1 - 0.5^{\\sqrt{HR}}) / (1 - 0.5^{\\sqrt{1/HR}})`; a rare
outcome's hazard ratio is used as it is.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["e_value", "e_value_ci", "hr_to_rr"]


def hr_to_rr(hr: ArrayLike) -> NDArray[np.float64]:
    """Approximate risk ratio of a common outcome from a hazard ratio (module docstring)."""
    h = np.asarray(hr, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1 - 0.5 ** np.sqrt(h)) / (1 - 0.5 ** np.sqrt(1 / h))


def e_value(ratio: ArrayLike) -> NDArray[np.float64]:
    """E-value of a point estimate on the risk-ratio scale: ``RR* + sqrt(RR* (RR* - 1))``.

    NaN for a missing, zero, negative or infinite ratio.
    """
    r = np.asarray(ratio, dtype=float)
    ok = np.isfinite(r) & (r > 0)
    rs = np.where(ok, np.maximum(r, 1 / np.where(ok, r, 1.0)), np.nan)
    return rs + np.sqrt(rs * (rs - 1))


def e_value_ci(ratio: ArrayLike, conf_low: ArrayLike, conf_high: ArrayLike) -> NDArray[np.float64]:
    """E-value of the confidence limit nearer 1: 1 when the interval includes 1.

    ``conf_high`` is used when the estimate is below 1, ``conf_low`` when above.
    """
    r = np.asarray(ratio, dtype=float)
    lo = np.asarray(conf_low, dtype=float)
    hi = np.asarray(conf_high, dtype=float)
    nearer = np.where(r < 1, hi, lo)
    covers = (lo <= 1) & (hi >= 1)
    out = e_value(nearer)
    out = np.where(covers, 1.0, out)
    return np.where(np.isfinite(r) & np.isfinite(lo) & np.isfinite(hi), out, np.nan)
