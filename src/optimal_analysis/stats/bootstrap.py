"""Cluster bootstrap of ratio estimators (cost per person-year), vectorised over replicates."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["cluster_bootstrap_ratio", "percentile_interval", "resample_counts"]

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
