"""Rounding of published counts: ``nearest`` multiple of ``round_to`` or OpenSAFELY ``midpoint6``.

Sources: OpenSAFELY output-checking guidance ("Rounding", "midpoint 6
rounding"), https://docs.opensafely.org/releasing-files/ and
https://docs.opensafely.org/requesting-file-releases/.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ROUNDING_SCHEMES", "is_rounded", "round_counts", "rounding_slack"]

#: Rounding schemes of ``config.disclosure.rounding``.
ROUNDING_SCHEMES = ("nearest", "midpoint6")


def round_counts(counts: np.ndarray, round_to: int, rounding: str = "nearest") -> np.ndarray:
    """Round counts for publication.

    ``nearest``: ``r(x) = round_to * floor(x / round_to + 1/2)``, except that a
    positive count never rounds to 0 (it becomes ``round_to``) so a published 0
    is a true 0.

    ``midpoint6`` (OpenSAFELY): ``r(0) = 0`` and ``r(x) = 6 ceil(x / 6) - 3`` for
    ``x >= 1``: 1-6 -> 3, 7-12 -> 9, 13-18 -> 15, ...; unbiased on average
    within each band of six, and ``round_to`` is not used.

    Missing values stay missing.
    """
    x = np.asarray(counts, dtype=float)
    if rounding == "midpoint6":
        return np.where(x >= 1, 6.0 * np.ceil(x / 6.0) - 3.0, x)
    if rounding != "nearest":
        raise ValueError(f"rounding must be one of {ROUNDING_SCHEMES}, got {rounding!r}")
    rounded = round_to * np.floor(x / round_to + 0.5)
    return np.where((x > 0) & (rounded == 0), float(round_to), rounded)


def is_rounded(values: np.ndarray, round_to: int, rounding: str = "nearest") -> np.ndarray:
    """True where a published count is a value :func:`round_counts` can produce (or missing)."""
    x = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        if rounding == "midpoint6":
            ok = (x == 0) | (np.mod(x + 3.0, 6.0) == 0) & (x > 0)
        else:
            ok = np.mod(x, round_to) == 0
    return ok | np.isnan(x)


def rounding_slack(round_to: int, rounding: str = "nearest") -> int:
    """Largest ``|r(x) - x|`` over counts x above the suppression range: how far a
    published count may be from the true one."""
    return 3 if rounding == "midpoint6" else int(np.ceil(round_to / 2))
