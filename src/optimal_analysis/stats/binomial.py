"""Exact (Clopper–Pearson) confidence interval of a binomial proportion."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["clopper_pearson"]


def clopper_pearson(
    successes: np.ndarray | int, trials: np.ndarray | int, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proportion with its exact (Clopper–Pearson) confidence interval.

    For ``x`` successes in ``n`` trials and ``alpha = 1 - level``:

        p_hat = x / n
        lower = B(alpha/2; x, n - x + 1)          (0 when x = 0)
        upper = B(1 - alpha/2; x + 1, n - x)      (1 when x = n)

    where ``B(q; a, b)`` is the q-quantile of the Beta(a, b) distribution. This
    is the interval of R's ``binom.test(x, n)$conf.int``: the set of p whose
    two one-sided exact binomial tests at alpha/2 do not reject.

    Parameters
    ----------
    successes, trials : array-like of int
        Broadcast together; ``0 <= successes <= trials``.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    share, lower, upper : ndarray of float
        NaN where ``trials == 0`` (no proportion to estimate).

    Raises
    ------
    ValueError
        When a count is negative, successes exceed trials, or a count is not
        a whole number.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    x, n = np.broadcast_arrays(np.asarray(successes, dtype=float), np.asarray(trials, dtype=float))
    if np.any(x < 0) or np.any(n < 0) or np.any(x > n):
        raise ValueError("need 0 <= successes <= trials")
    if np.any(x != np.round(x)) or np.any(n != np.round(n)):
        raise ValueError("successes and trials must be whole numbers")
    alpha = 1.0 - level
    ok = n > 0
    share = np.full(x.shape, np.nan)
    lower = np.full(x.shape, np.nan)
    upper = np.full(x.shape, np.nan)
    share[ok] = x[ok] / n[ok]
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = stats.beta.ppf(alpha / 2, x, n - x + 1)
        hi = stats.beta.ppf(1 - alpha / 2, x + 1, n - x)
    lower[ok] = np.where(x[ok] == 0, 0.0, lo[ok])
    upper[ok] = np.where(x[ok] == n[ok], 1.0, hi[ok])
    return share, lower, upper
