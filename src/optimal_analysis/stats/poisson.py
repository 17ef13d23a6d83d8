"""Exact (Garwood) confidence limits for a Poisson count and a rate."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = ["exact_poisson_ci", "exact_poisson_rate_ci"]


def exact_poisson_ci(
    events: npt.ArrayLike, *, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood 1936) two-sided confidence limits for a Poisson mean.

    For an observed count :math:`k`,

    .. math::

        L = \\tfrac12\\,\\chi^2_{\\alpha/2}(2k), \\qquad
        U = \\tfrac12\\,\\chi^2_{1-\\alpha/2}(2k + 2),

    where :math:`\\chi^2_p(\\nu)` is the :math:`p` quantile of the chi-square
    distribution with :math:`\\nu` degrees of freedom; :math:`L = 0` when
    :math:`k = 0`. Each tail has probability at most :math:`\\alpha/2`.

    Parameters
    ----------
    events
        Non-negative counts (integers; array-like of any shape).
    alpha
        One minus the confidence level (0.05 gives 95% limits).

    Returns
    -------
    lower, upper
        Arrays of the limits for the mean count, the shape of ``events``.
    """
    k = np.asarray(events, dtype=float)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    bad = ~np.isfinite(k) | (k < 0) | (k != np.floor(k))
    if np.any(bad):
        raise ValueError(
            f"events must be non-negative whole numbers; bad values: {np.unique(k[bad]).tolist()}"
        )
    with np.errstate(invalid="ignore"):
        lower = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return lower, upper


def exact_poisson_rate_ci(
    events: npt.ArrayLike, person_years: npt.ArrayLike, *, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rate per person-year with exact Poisson limits: ``k / T`` and ``(L / T, U / T)``.

    The person-time :math:`T` is treated as fixed, so the limits of the rate
    are the Garwood limits of the count (:func:`exact_poisson_ci`) divided by
    :math:`T`. Person-time must be positive.

    Returns
    -------
    rate, lower, upper
        Per person-year, each the broadcast shape of the inputs.
    """
    k = np.asarray(events, dtype=float)
    t = np.asarray(person_years, dtype=float)
    if np.any(~np.isfinite(t) | (t <= 0)):
        raise ValueError("person_years must be positive and finite for every rate")
    lower, upper = exact_poisson_ci(k, alpha=alpha)
    return k / t, lower / t, upper / t
