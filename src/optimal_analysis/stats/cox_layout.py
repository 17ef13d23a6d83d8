"""Row layout of the fast Cox engine: inputs checked, rows grouped by event time.

Used by :mod:`optimal_analysis.stats.cox`: rows sorted by time and grouped
against the distinct event times, and the sparse segment sums every risk-set
quantity is built from (split out of ``cox.py`` to keep modules short).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class _Layout:
    """Rows sorted by time and grouped against the distinct event times.

    ``z`` holds, per row, the fixed columns (1, x, upper triangle of x x') whose
    risk-weighted group sums the likelihood needs; the segment matrices sum rows
    by group with the current risk weights as their data (sparse, no copies).
    """

    order: NDArray[np.intp]
    x: FloatArray  # sorted, centred
    z: FloatArray  # (1, x, x_a x_b for a <= b), sorted
    w: FloatArray
    event: NDArray[np.bool_]
    tail: FloatArray  # tail weight (0 for ordinary rows)
    group: NDArray[np.intp]  # censoring group of each row (0 for plain Cox)
    g_time: FloatArray  # R x J: G_r(t_j-) of each censoring group at each event time
    times: FloatArray  # distinct event times t_1 < ... < t_J
    n_stop: NDArray[np.intp]  # number of event times <= own time, per row
    ndead: FloatArray  # events at each t_j (count)
    deadwt: FloatArray  # summed case weight of those events
    seg_stop: sparse.csr_matrix  # (J + 1) x n, rows grouped by n_stop
    seg_dead: sparse.csr_matrix  # J x n, event rows grouped by their time
    seg_tail: list[tuple[int, sparse.csr_matrix]]  # (r, (J + 1) x n tail rows of group r)


def _segments(
    rows: NDArray[np.intp], groups: NDArray[np.intp], size: int, n: int
) -> sparse.csr_matrix:
    """Sparse (size x n) matrix summing ``rows`` (ascending groups) into their group."""
    indptr = np.searchsorted(groups, np.arange(size + 1), side="left")
    return sparse.csr_matrix((np.ones(rows.size), rows, indptr), shape=(size, n))


def _layout(time, event, x, weight, tail_weight, g_of_time, tail_group) -> _Layout:
    order = np.argsort(time, kind="stable")
    t = time[order]
    ev = event[order]
    times = np.unique(t[ev])
    n_stop = np.searchsorted(times, t, side="right")
    ev_rows = np.flatnonzero(ev)
    J, n = times.size, t.size
    ndead = np.bincount(n_stop[ev_rows] - 1, minlength=J).astype(float)
    deadwt = np.bincount(n_stop[ev_rows] - 1, weights=weight[order][ev], minlength=J).astype(float)
    group = np.zeros(n, dtype=np.intp) if tail_group is None else tail_group[order]
    g_time = np.ones((1, J)) if g_of_time is None else np.asarray(g_of_time(times), dtype=float)
    g_time = np.atleast_2d(g_time)
    xs = x[order]
    xs = xs - xs.mean(axis=0)  # centring keeps exp(x b) finite; the fit is unchanged
    a, b = np.triu_indices(x.shape[1])
    z = np.hstack([np.ones((n, 1)), xs, xs[:, a] * xs[:, b]])
    tail = tail_weight[order]
    seg_tail = []
    for r in range(g_time.shape[0]):  # a handful of censoring groups (regions)
        rows = np.flatnonzero((tail > 0) & (group == r))
        if rows.size:
            seg_tail.append((r, _segments(rows, n_stop[rows], J + 1, n)))
    return _Layout(
        order,
        xs,
        z,
        weight[order],
        ev,
        tail,
        group,
        g_time,
        times,
        n_stop,
        ndead,
        deadwt,
        _segments(np.arange(n), n_stop, J + 1, n),
        _segments(ev_rows, n_stop[ev_rows] - 1, J, n),
        seg_tail,
    )


def _seg_sum(seg: sparse.csr_matrix, weights: FloatArray, z: FloatArray) -> FloatArray:
    """Group sums of ``weights_i * z_i`` (the segment matrix with ``weights`` as its data)."""
    m = sparse.csr_matrix((weights[seg.indices], seg.indices, seg.indptr), shape=seg.shape)
    return np.asarray(m @ z)


def _group_sum(values: FloatArray, groups: NDArray[np.intp], size: int) -> FloatArray:
    """Sum rows of ``values`` (n x ...) by integer group (sorted ascending) into ``size`` slots."""
    out = np.zeros((size,) + values.shape[1:])
    if values.shape[0] == 0:
        return out
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    out[groups[starts]] = np.add.reduceat(values, starts, axis=0)
    return out


def _sym(tri: FloatArray, p: int) -> FloatArray:
    """(..., p(p+1)/2) upper-triangle vectors to (..., p, p) symmetric matrices."""
    a, b = np.triu_indices(p)
    out = np.zeros(tri.shape[:-1] + (p, p))
    out[..., a, b] = tri
    out[..., b, a] = tri
    return out


def _prepare(time, event, x, weight, tail_weight, g_of_time, tail_group) -> _Layout:
    """Check the inputs of :func:`fit_cox` and lay the rows out by time."""
    t = np.asarray(time, dtype=float)
    ev = np.asarray(event, dtype=bool)
    X = np.asarray(x, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n, p = X.shape
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    tail = np.zeros(n) if tail_weight is None else np.asarray(tail_weight, dtype=float)
    bad = [
        name
        for name, a in [("time", t), ("event", ev), ("weight", w), ("tail_weight", tail)]
        if a.shape != (n,)
    ]
    if bad:
        raise ValueError(f"fit_cox: {bad} must have one value per row of x ({n} rows)")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(X)) and np.all(w >= 0)):
        raise ValueError("fit_cox: time and x must be finite and weights non-negative")
    if not ev.any():
        raise ValueError("fit_cox: no events")
    grp = None if tail_group is None else np.asarray(tail_group, dtype=np.intp)
    if grp is not None and grp.shape != (n,):
        raise ValueError(f"fit_cox: tail_group must have one code per row ({n} rows)")
    return _layout(t, ev, X, w, tail, g_of_time, grp)
