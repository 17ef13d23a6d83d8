"""Intervals for ratio estimators (cost per person-year) over clusters (care homes).

The cluster bootstrap (percentile), vectorised over replicates, and the
small-sample linearised t interval (:func:`ratio_t_interval`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "cluster_bootstrap_ratio",
    "percentile_interval",
    "ratio_t_interval",
    "resample_counts",
]

logger = logging.getLogger(__name__)


def resample_counts(
    n_clusters: int, replicates: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """How often each cluster is drawn in each bootstrap replicate.

    Each replicate draws ``n_clusters`` clusters uniformly with replacement
    (``rng.integers``); the result ``W`` has shape ``(replicates, n_clusters)``
    with ``W[b, h]`` = number of copies of cluster ``h`` in replicate ``b``, so
    every row sums to ``n_clusters``. Counted with one ``np.bincount`` over the
    flattened ``(replicate, cluster)`` index.
    """
    if n_clusters < 1:
        raise ValueError("resample_counts needs at least one cluster")
    draws = rng.integers(0, n_clusters, size=(replicates, n_clusters))
    flat = draws + (np.arange(replicates, dtype=np.int64) * n_clusters)[:, None]
    counts = np.bincount(flat.ravel(), minlength=replicates * n_clusters)
    return counts.reshape(replicates, n_clusters)


def cluster_bootstrap_ratio(
    numerators: ArrayLike,
    denominators: ArrayLike,
    *,
    replicates: int,
    rng: np.random.Generator,
    chunk_size: int = 200,
    progress: Callable[[int], None] | None = None,
) -> NDArray[np.float64]:
    """Bootstrap replicates of ratio estimators, resampling clusters with replacement.

    Parameters
    ----------
    numerators
        ``(H, K)`` array: per-cluster totals of K quantities (e.g. cost in GBP
        of each item in each care home). A 1-d array is treated as ``K = 1``.
    denominators
        ``(H,)`` per-cluster totals of the common denominator (person-years).
    replicates
        Number of bootstrap replicates ``B``.
    rng
        Seeded generator; same seed, identical replicates.
    chunk_size
        Replicates drawn per chunk (bounds memory at ``chunk_size × H``
        integers); ``progress`` is called with the number done after each chunk.

    Returns
    -------
    ``(B, K)`` array of replicate ratios

    .. math::  \\hat R^{*}_{bk} = \\frac{\\sum_h W_{bh} Y_{hk}}{\\sum_h W_{bh} T_h}

    where ``W`` are the resampling counts (:func:`resample_counts`), ``Y`` the
    numerators and ``T`` the denominators: the combined ratio estimator
    (total over total, not a mean of per-cluster ratios), as in the point
    estimate. Sums are matrix products ``W @ Y`` and ``W @ T``; there is no loop
    over replicates other than the chunking. A replicate whose denominator is 0
    gives ``nan``.
    """
    y = np.asarray(numerators, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    t = np.asarray(denominators, dtype=float)
    if y.shape[0] != t.shape[0]:
        raise ValueError(f"numerators have {y.shape[0]} clusters, denominators {t.shape[0]}")
    if replicates < 0:
        raise ValueError("replicates must be >= 0")
    out = np.empty((replicates, y.shape[1]), dtype=float)
    done = 0
    while done < replicates:
        b = min(chunk_size, replicates - done)
        w = resample_counts(y.shape[0], b, rng).astype(float)
        num = w @ y
        den = w @ t
        with np.errstate(invalid="ignore", divide="ignore"):
            out[done : done + b] = np.where(den[:, None] > 0, num / den[:, None], np.nan)
        done += b
        if progress is not None:
            progress(done)
    return out


def percentile_interval(
    replicates: ArrayLike, *, level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile bootstrap interval of each column of ``replicates`` (shape ``(B, K)``).

    Returns the ``(1 - level)/2`` and ``(1 + level)/2`` quantiles (numpy's
    default linear interpolation), ignoring ``nan`` replicates; with no
    replicates both bounds are ``nan``.
    """
    r = np.asarray(replicates, dtype=float)
    if r.ndim == 1:
        r = r[:, None]
    alpha = (1.0 - level) / 2.0
    if r.shape[0] == 0 or np.all(np.isnan(r)):
        nan = np.full(r.shape[1], np.nan)
        return nan, nan.copy()
    low, high = np.nanquantile(r, [alpha, 1.0 - alpha], axis=0)
    return low, high


def ratio_t_interval(
    numerators: ArrayLike,
    denominators: ArrayLike,
    *,
    level: float = 0.95,
    log_scale: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float]:
    """Small-sample interval of the ratio R = sum_g C_g / sum_g PY_g over G clusters.

    The linearised (delta-method) variance from cluster totals, with the
    G/(G-1) factor, and Student's t with G - 1 degrees of freedom:

    .. math::

        z_{g} = \\frac{C_{g} - \\hat R\\, PY_g}{\\sum_g PY_g}, \\qquad
        \\widehat{\\mathrm{Var}}(\\hat R) = \\frac{G}{G-1} \\sum_g z_{g}^2, \\qquad
        \\hat R \\pm t_{G-1,\\,(1+level)/2} \\sqrt{\\widehat{\\mathrm{Var}}}.

    ``log_scale=True``: the same on log R (se / R), R exp(-+t se / R); [0, 0]
    where R = 0 (every C_g = 0, se = 0), NaN where R < 0. For skewed home-level
    costs the log scale covers better (benchmarks/sim_costs_coverage.py).

    Parameters
    ----------
    numerators
        ``(G, K)`` per-cluster totals C_g of K quantities (1-d: K = 1).
    denominators
        ``(G,)`` per-cluster totals PY_g of the common denominator.

    Returns
    -------
    ``(std_error, conf_low, conf_high, df)``: arrays of length K and df = G - 1.
    With G < 2 (no between-cluster variation to estimate) all are NaN.
    """
    y = np.asarray(numerators, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    t = np.asarray(denominators, dtype=float)
    if y.shape[0] != t.shape[0]:
        raise ValueError(f"numerators have {y.shape[0]} clusters, denominators {t.shape[0]}")
    g = t.size
    nan = np.full(y.shape[1], np.nan)
    if g < 2 or t.sum() <= 0:
        return nan, nan.copy(), nan.copy(), float("nan")
    ratio = y.sum(axis=0) / t.sum()
    z = (y - ratio[None, :] * t[:, None]) / t.sum()
    se = np.sqrt(g / (g - 1) * np.sum(z**2, axis=0))
    q = stats.t.ppf((1 + level) / 2, g - 1)
    if log_scale:
        with np.errstate(divide="ignore", invalid="ignore"):
            half = np.where(ratio > 0, q * se / ratio, np.nan)
        low = np.where(ratio == 0, 0.0, ratio * np.exp(-half))  # nothing costed: [0, 0]
        high = np.where(ratio == 0, 0.0, ratio * np.exp(half))
        return se, low, high, float(g - 1)
    return se, ratio - q * se, ratio + q * se, float(g - 1)
