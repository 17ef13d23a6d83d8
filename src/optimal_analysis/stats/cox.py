"""Cox proportional-hazards regression, Efron ties, cluster-robust covariance, fast.

The partial likelihood needs only sums over the risk set at each *distinct*
event time, so the data are sorted once by time and every quantity is a
(reverse) cumulative sum over the groups of rows sharing a time. With daily
data there are at most a few thousand distinct times, whatever the number of
residents, and one Newton step costs O(n p^2) array work with no Python loop
over rows.

The same engine fits the Fine–Gray model (:func:`fit_fine_gray`, its weights from
:mod:`optimal_analysis.stats.finegray`):
rows flagged as having had the competing event stay in the risk set after
their own time with the time-varying weight ``tail_weight_i * G(t-)`` (inverse
probability of censoring weights), exactly as the rows of the expanded data of
R's ``survival::finegray`` do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from optimal_analysis.stats.cox_layout import (
    FloatArray,
    _group_sum,
    _Layout,
    _prepare,
    _seg_sum,
    _sym,
)
from optimal_analysis.stats.finegray import fine_gray_weights

__all__ = [
    "CoxFit",
    "cox_score_information",
    "fine_gray_score_information",
    "fit_cox",
    "fit_fine_gray",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoxFit:
    """A fitted Cox model.

    ``coef`` log hazard ratios; ``cov`` the model-based covariance (inverse
    information); ``robust_cov`` the cluster-robust sandwich (``None`` without
    clusters); ``score_residuals`` the per-row weighted score residuals
    (n x p, rows in input order); ``event_times`` the distinct event times with
    ``info_by_time`` (J x p x p Efron information at each time) and
    ``score_by_time`` (J x p), used by the proportional-hazards test.
    ``infinite`` flags coefficients whose estimate diverges (monotone
    likelihood, see :func:`fit_cox`); ``converged`` is False when any does.
    """

    coef: FloatArray
    cov: FloatArray
    robust_cov: FloatArray | None
    loglik: float
    loglik_null: float
    n_iter: int
    converged: bool
    n: int
    n_events: int
    n_clusters: int | None
    score_residuals: FloatArray
    event_times: FloatArray
    info_by_time: FloatArray
    score_by_time: FloatArray
    infinite: NDArray[np.bool_]


def _efron_terms(lay: _Layout, beta: FloatArray):
    """Risk-set sums and the Efron terms at each (event time, tie step) pair.

    For event time t_j with d_j tied events (case-weight sum W_j), Efron step
    k = 0..d_j-1 uses f = k/d_j and
        denom_jk = S0_j - f D0_j,   a_jk = S1_j - f D1_j,   xbar_jk = a_jk / denom_jk,
    where S. are sums of w_i exp(x_i b) (x_i, x_i x_i') over the risk set and D.
    the same over the tied events. Each step carries weight W_j / d_j:
        loglik = sum_i w_i d_i x_i b - sum_jk (W_j/d_j) log denom_jk
        U      = sum_i w_i d_i x_i   - sum_jk (W_j/d_j) xbar_jk
        I      = sum_jk (W_j/d_j) (S2_jk / denom_jk - xbar_jk xbar_jk').
    The S2 part is summed per time without expanding the steps:
    sum_k (W_j/d_j) S2_jk / denom_jk = alpha_j S2_j - beta_j D2_j with
    alpha_j = sum_k (W_j/d_j)/denom_jk and beta_j = sum_k (W_j/d_j) f/denom_jk.
    The risk set at t_j is {T_i >= t_j} with weight w_i, plus the tail rows
    {T_i < t_j} with weight w_i * tail_i * G_{r_i}(t_j-), r_i the row's censoring group.
    """
    J = lay.times.size
    p = lay.x.shape[1]
    eta = lay.x @ beta
    r = lay.w * np.exp(eta)
    # slot n_stop = number of event times <= T_i; a row is at risk for j < n_stop
    by_stop = _seg_sum(lay.seg_stop, r, lay.z)
    at_risk = np.cumsum(by_stop[::-1], axis=0)[::-1][1:]
    for g, seg in lay.seg_tail:
        by_tail = _seg_sum(seg, r * lay.tail, lay.z)
        at_risk = at_risk + np.cumsum(by_tail, axis=0)[:J] * lay.g_time[g][:, None]
    dead = _seg_sum(lay.seg_dead, r, lay.z)
    nd = lay.ndead.astype(np.intp)
    jj = np.repeat(np.arange(J), nd)
    kk = np.arange(jj.size) - np.repeat(np.cumsum(nd) - nd, nd)
    frac = kk / lay.ndead[jj]
    terms = at_risk[jj, : 1 + p] - frac[:, None] * dead[jj, : 1 + p]
    denom = terms[:, 0]
    xbar = terms[:, 1:] / denom[:, None]
    wtave = (lay.deadwt / lay.ndead)[jj]
    alpha = np.bincount(jj, weights=wtave / denom, minlength=J)
    beta_ = np.bincount(jj, weights=wtave * frac / denom, minlength=J)
    s2_by_time = alpha[:, None] * at_risk[:, 1 + p :] - beta_[:, None] * dead[:, 1 + p :]
    return {
        "eta": eta,
        "jj": jj,
        "frac": frac,
        "denom": denom,
        "xbar": xbar,
        "wtave": wtave,
        "s2_by_time": s2_by_time,
        "p": p,
    }


def _loglik_score_info(lay: _Layout, beta: FloatArray):
    e = _efron_terms(lay, beta)
    wd = lay.w * lay.event
    ll = float(np.sum(wd * e["eta"]) - np.sum(e["wtave"] * np.log(e["denom"])))
    score = wd @ lay.x - e["wtave"] @ e["xbar"]
    xw = e["xbar"] * np.sqrt(e["wtave"])[:, None]
    info = _sym(e["s2_by_time"].sum(axis=0), e["p"]) - xw.T @ xw
    return ll, score, info, e


def _info_by_time(lay: _Layout, e) -> FloatArray:
    """Efron information at each event time (J x p x p), for the proportional-hazards test."""
    p = e["p"]
    a, b = np.triu_indices(p)
    outer = e["wtave"][:, None] * e["xbar"][:, a] * e["xbar"][:, b]
    return _sym(e["s2_by_time"] - _group_sum(outer, e["jj"], lay.times.size), p)


def _score_residuals(lay: _Layout, e) -> FloatArray:
    """Per-row score residuals with Efron ties (rows in sorted order, times case weight).

    With h_jk = (W_j/d_j)/denom_jk, an event at t_j contributes
    x_i - mean_k xbar_jk - r_i sum_k h_jk (1 - k/d_j)(x_i - xbar_jk) at its own
    time (it leaves the risk set gradually, as in Efron's approximation), and
    every row at risk at t_j without an event there contributes
    -r_i sum_k h_jk (x_i - xbar_jk), with r_i = exp(x_i b) (times tail_i G_r(t_j-)
    on the tail, r the row's censoring group). This is what R's
    ``residuals.coxph(type = "score")`` returns.
    """
    J = lay.times.size
    jj, frac, xbar = e["jj"], e["frac"], e["xbar"]
    h = e["wtave"] / e["denom"]
    A = np.bincount(jj, weights=h, minlength=J)
    B = _group_sum(h[:, None] * xbar, jj, J)
    C = np.bincount(jj, weights=h * (1 - frac), minlength=J)
    E = _group_sum((h * (1 - frac))[:, None] * xbar, jj, J)
    M = _group_sum(xbar, jj, J) / lay.ndead[:, None]
    cumA = np.r_[0.0, np.cumsum(A)]
    cumB = np.vstack([np.zeros((1, B.shape[1])), np.cumsum(B, axis=0)])
    x, ev, n_stop = lay.x, lay.event, lay.n_stop
    r0 = np.exp(e["eta"])
    a_i = cumA[n_stop].copy()
    b_i = cumB[n_stop].copy()
    j_ev = n_stop[ev] - 1
    a_i[ev] += C[j_ev] - A[j_ev]
    b_i[ev] += E[j_ev] - B[j_ev]
    resid = -r0[:, None] * (x * a_i[:, None] - b_i)
    resid[ev] += x[ev] - M[j_ev]
    if np.any(lay.tail > 0):  # tail rows: at risk at every t_j > T_i with G_{r_i}(t_j-)
        R = lay.g_time.shape[0]
        gA = np.hstack([np.zeros((R, 1)), np.cumsum(lay.g_time * A, axis=1)])  # R x (J+1)
        gB = np.concatenate(
            [np.zeros((R, 1, B.shape[1])), np.cumsum(lay.g_time[:, :, None] * B, axis=1)], axis=1
        )
        grp = lay.group
        ta = gA[grp, J] - gA[grp, n_stop]
        tb = gB[grp, J] - gB[grp, n_stop]
        resid -= (r0 * lay.tail)[:, None] * (x * ta[:, None] - tb)
    return resid * lay.w[:, None]


def fit_cox(
    time: ArrayLike,
    event: ArrayLike,
    x: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    cluster: ArrayLike | None = None,
    tail_weight: ArrayLike | None = None,
    g_of_time=None,
    tail_group: ArrayLike | None = None,
    max_iter: int = 50,
    tol: float = 1e-12,
) -> CoxFit:
    """Fit a Cox model by Newton–Raphson on the Efron partial likelihood.

    Parameters
    ----------
    time
        Follow-up time of each row (days); ties are expected.
    event
        True where the row ends in the event of interest; other rows are censored.
    x
        Covariate matrix (n x p), no intercept.
    weight
        Case weights (default 1).
    cluster
        Cluster label per row (care home). When given, ``robust_cov`` is the
        sandwich ``V = I^-1 (sum_g U_g U_g') I^-1`` with ``U_g`` the sum of the
        weighted score residuals of cluster g (no small-sample factor), as
        R's ``coxph(..., cluster = )``.
    tail_weight, g_of_time, tail_group
        Fine–Gray support: a row with ``tail_weight > 0`` stays at risk after its
        time with weight ``weight * tail_weight * G_r(t)``, r = ``tail_group`` of
        the row (integer codes 0..R-1, default all 0); ``g_of_time(times)`` returns
        G_r at the event times, shape (J,) for one group or (R, J).
    max_iter, tol
        Newton iterations stop when the largest step in ``coef`` is below ``tol``
        (step halving if the log partial likelihood falls).

    Notes
    -----
    Monotone likelihood (e.g. a binary covariate whose group has no events):
    the log partial likelihood keeps rising as a coefficient goes to +-inf, so
    it becomes flat to rounding while the coefficient is still moving. As R's
    ``coxph`` ("Loglik converged before variable k; coefficient may be
    infinite"), coefficient k is flagged ``infinite`` when the next Newton step
    ``|(I^-1 U)_k| > eps`` and ``> sqrt(eps) |b_k|`` (eps = 1e-9), and the fit is
    then not ``converged``. The estimate, its information and its robust
    covariance are meaningless for such a coefficient.
    """
    lay = _prepare(time, event, x, weight, tail_weight, g_of_time, tail_group)
    p = lay.x.shape[1]
    n = lay.x.shape[0]
    ev = lay.event[np.argsort(lay.order)]
    beta = np.zeros(p)
    ll, score, info, e = _loglik_score_info(lay, beta)
    ll_null = ll
    n_iter = 0
    converged = False
    while n_iter < max_iter and not converged:
        n_iter += 1
        step = _solve(info, score)
        new = beta + step
        ll_new, s_new, i_new, e_new = _loglik_score_info(lay, new)
        halvings = 0
        while ll_new < ll - 1e-12 * abs(ll) and halvings < 30:
            step /= 2
            new = beta + step
            ll_new, s_new, i_new, e_new = _loglik_score_info(lay, new)
            halvings += 1
        change = abs(ll_new - ll)
        beta, ll, score, info, e = new, ll_new, s_new, i_new, e_new
        # the second test stops when the likelihood is flat to rounding error
        converged = bool(np.max(np.abs(step)) < tol or change <= 1e-15 * abs(ll))
    if not converged:
        log.warning(
            "fit_cox: no convergence in %d Newton iterations (last step %.3g)",
            n_iter,
            np.max(np.abs(step)),
        )
    cov = _solve(info, np.eye(p))
    next_step = np.abs(cov @ score)
    infinite = (next_step > _EPS_INF) & (next_step > np.sqrt(_EPS_INF) * np.abs(beta))
    if infinite.any():
        log.warning(
            "fit_cox: log likelihood converged before column(s) %s; coefficient may be infinite",
            np.flatnonzero(infinite).tolist(),
        )
        converged = False
    resid_sorted = _score_residuals(lay, e)
    resid = np.empty_like(resid_sorted)
    resid[lay.order] = resid_sorted
    robust = None
    n_clusters = None
    if cluster is not None:
        codes, uniq = _codes(cluster, n)
        n_clusters = int(uniq)
        U = np.column_stack(
            [np.bincount(codes, weights=resid[:, k], minlength=uniq) for k in range(p)]
        )
        robust = cov @ (U.T @ U) @ cov
    J = lay.times.size
    wd = lay.w * lay.event
    score_by_time = _group_sum(
        (wd[:, None] * lay.x)[lay.event], lay.n_stop[lay.event] - 1, J
    ) - _group_sum(e["wtave"][:, None] * e["xbar"], e["jj"], J)
    return CoxFit(
        coef=beta,
        cov=cov,
        robust_cov=robust,
        loglik=ll,
        loglik_null=ll_null,
        n_iter=n_iter,
        converged=converged,
        n=n,
        n_events=int(ev.sum()),
        n_clusters=n_clusters,
        score_residuals=resid,
        event_times=lay.times,
        info_by_time=_info_by_time(lay, e),
        score_by_time=score_by_time,
        infinite=infinite,
    )


def cox_score_information(
    time: ArrayLike,
    event: ArrayLike,
    x: ArrayLike,
    beta: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    tail_weight: ArrayLike | None = None,
    g_of_time=None,
    tail_group: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Per-row score residuals (n x p, input order) and Efron information at a given ``beta``.

    No fitting: the quantities of :func:`fit_cox` evaluated at ``beta`` (e.g. a
    restricted estimate with one coefficient fixed at 0, for the wild cluster
    score bootstrap, :func:`optimal_analysis.stats.cluster.wild_cluster_score_test`).
    Same arguments as :func:`fit_cox`.
    """
    lay = _prepare(time, event, x, weight, tail_weight, g_of_time, tail_group)
    _, _, info, e = _loglik_score_info(lay, np.asarray(beta, dtype=float))
    resid_sorted = _score_residuals(lay, e)
    resid = np.empty_like(resid_sorted)
    resid[lay.order] = resid_sorted
    return resid, info


_EPS_INF = 1e-9  # R's coxph.control eps; toler.inf = sqrt(eps)


def _solve(info: FloatArray, b: FloatArray) -> FloatArray:
    try:
        return np.asarray(np.linalg.solve(info, b), dtype=np.float64)
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            "fit_cox: the information matrix is singular: a column of x is constant among "
            "the risk sets or collinear with others (drop aliased columns first)"
        ) from exc


def _codes(labels: ArrayLike, n: int) -> tuple[NDArray[np.intp], int]:
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise ValueError(f"fit_cox: cluster must have one label per row ({n} rows)")
    codes, uniq = pd.factorize(arr)  # hashing: much faster than sorting strings
    if (codes < 0).any():
        raise ValueError("fit_cox: cluster labels must not be missing")
    return codes, uniq.size


def fit_fine_gray(
    time: ArrayLike,
    status: ArrayLike,
    x: ArrayLike,
    *,
    cause: int = 1,
    cluster: ArrayLike | None = None,
    censoring_group: ArrayLike | None = None,
) -> CoxFit:
    """Fit the Fine–Gray model for ``cause`` (status 0 censored, other codes competing).

    The subdistribution risk set at t is {T_i >= t} plus the residents with a
    competing event before t, weighted G_r(t-)/G_r(T_i-) with G_r the censoring
    Kaplan–Meier of the resident's ``censoring_group`` r (one G for everyone
    when None); Efron ties on the events of ``cause``. With ``censoring_group``
    this is ``cmprsk::crr(..., cengroup = )`` (Breslow there; identical without
    tied event times). The covariance with ``cluster`` is the robust sandwich of
    the weighted score residuals (including each competing-event resident's
    contributions to later risk sets) summed by cluster, as ``coxph(..., weights
    = fgwt, cluster = )`` on the ``finegray`` data (each resident's rows lie in
    one cluster). ``cov`` (inverse weighted information) is not a valid variance
    of the Fine–Gray estimate.
    """
    tail, codes, g_of_time = fine_gray_weights(
        time, status, cause=cause, censoring_group=censoring_group
    )
    s = np.asarray(status)
    return fit_cox(
        time,
        s == cause,
        x,
        cluster=cluster,
        tail_weight=tail,
        g_of_time=g_of_time,
        tail_group=codes,
    )


def fine_gray_score_information(
    time: ArrayLike,
    status: ArrayLike,
    x: ArrayLike,
    beta: ArrayLike,
    *,
    cause: int = 1,
    censoring_group: ArrayLike | None = None,
):
    """Fine–Gray score residuals (n x p, with the weighted tail contributions) and information.

    Evaluated at ``beta`` without fitting (e.g. at a restricted estimate for the
    wild cluster score bootstrap); see :func:`fit_fine_gray`.
    """
    tail, codes, g_of_time = fine_gray_weights(
        time, status, cause=cause, censoring_group=censoring_group
    )
    return cox_score_information(
        time,
        np.asarray(status) == cause,
        x,
        beta,
        tail_weight=tail,
        g_of_time=g_of_time,
        tail_group=codes,
    )
