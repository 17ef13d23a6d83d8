"""Standardised mean differences (SMD) between two groups."""

from __future__ import annotations

import numpy as np

__all__ = ["smd_binary", "smd_continuous"]


def smd_continuous(
    mean_1: np.ndarray, sd_1: np.ndarray, mean_0: np.ndarray, sd_0: np.ndarray
) -> np.ndarray:
    """SMD of a continuous variable, group 1 vs group 0 (Austin 2009).

    ``d = (m1 - m0) / sqrt((s1^2 + s0^2) / 2)`` with ``s`` the sample SDs
    (denominator n - 1). ``nan`` where the pooled SD is 0 or a term is missing.
    """
    m1, s1, m0, s0 = (np.asarray(a, dtype=float) for a in (mean_1, sd_1, mean_0, sd_0))
    pooled = np.sqrt((s1**2 + s0**2) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pooled > 0, (m1 - m0) / pooled, np.nan)


def smd_binary(p_1: np.ndarray, p_0: np.ndarray) -> np.ndarray:
    """SMD of a binary variable (a proportion), group 1 vs group 0 (Austin 2009).

    ``d = (p1 - p0) / sqrt((p1 (1 - p1) + p0 (1 - p0)) / 2)``; ``nan`` when both
    proportions are 0 or both are 1 (no variation).
    """
    p1, p0 = np.asarray(p_1, dtype=float), np.asarray(p_0, dtype=float)
    pooled = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pooled > 0, (p1 - p0) / pooled, np.nan)
