"""Difference in differences for staggered switching with a Poisson model of panel counts.

Arrays of a home × month panel in, log rate ratios and their cluster-robust
covariances out; all fits by :func:`optimal_analysis.stats.fepois.fit_fepois`
(home and calendar-month fixed effects, log person-time offset, clusters = homes).

Notation: home :math:`i` switches to scheme (group) :math:`m` in month
:math:`g_i` (its *cohort*; :math:`g_i = -1` never), month :math:`t`.

* :func:`fit_etwfe` — Wooldridge's extended two-way fixed effects for an
  exponential mean (Wooldridge 2023, *Econometrics Journal* 26(3) C31–C66,
  sections 5–6): one parameter :math:`\\tau_{mgt}` per switched cell
  (group × cohort × calendar month, :math:`t \\ge g`),

  .. math:: \\log E[y_{it}] = \\alpha_i + \\gamma_t + \\log T_{it}
            + \\sum_{m,g,s\\ge g} \\tau_{mgs}\\,1[m_i=m, g_i=g, t=s].

  Every switched home-month has its own parameter, so switched home-months
  never act as controls: the month effects are identified from never- and
  not-yet-switched homes only (no "forbidden comparisons" of late against
  early switchers; Goodman-Bacon 2021, de Chaisemartin & D'Haultfœuille
  2020). The rate ratio of switching to :math:`m` aggregates the cells with
  the counterfactual expected counts :math:`w_c = \\sum_{r\\in c}\\hat\\mu_r
  e^{-\\hat\\tau_c}` as fixed weights:

  .. math:: \\mathrm{RR}_m = \\frac{\\sum_c w_c e^{\\hat\\tau_c}}{\\sum_c w_c}
            = \\frac{\\text{expected events in switched home-months}}
                    {\\text{expected events had they not switched}},

  with delta-method variance :math:`\\nabla^\\top V \\nabla`,
  :math:`\\nabla_c = w_c e^{\\hat\\tau_c} / \\sum_{c'} w_{c'} e^{\\hat\\tau_{c'}}`.
  A cell with no events (its ML estimate is :math:`-\\infty`) is pooled with
  the cohort's other zero cells into one parameter; if the pool has no
  events either, its ML rate ratio is 0: its home-months leave the fit (they
  carry no information on the other parameters) and enter the aggregate with
  0 expected events against their counterfactual count
  :math:`e^{\\hat\\alpha_i + \\hat\\gamma_t} T_{it}` (``cells_dropped`` counts them).
* :func:`fit_event_study` — the same with cohort × months-from-switch cells
  :math:`e = t - g \\in [-L, L]`, :math:`e \\ne -1`, never-switched homes as
  the controls (Sun & Abraham 2021, *J Econometrics* 225:175–199, in its
  Poisson form), aggregated over cohorts per :math:`e` as above; the
  pre-switch coefficients (:math:`e \\le -2`) are tested jointly by
  :math:`W = b^\\top V_b^{-1} b`, :math:`F = W/q \\sim F(q, G-1)`; with as
  many pre-switch months as switching homes or more (their cluster-robust
  covariance is then near singular) the linear trend of the pre-switch
  coefficients is tested instead (:math:`q = 1`).
* :func:`fit_before_after` — the naive contrast in switched homes only:
  home effects and one after-switch indicator, no comparison homes.
* :func:`fit_pre_period_ratio` — switched homes' rate in the months before
  switching against never-switched homes' in the same calendar months
  (month effects, no home effects): the regression-to-the-mean check.

Inference: Wald intervals on the log scale with :math:`t_{G-1}` quantiles,
:math:`G` = homes (clusters) in the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse, stats

from optimal_analysis.stats.fepois import FEPoissonFit, fit_fepois

__all__ = [
    "Aggregate",
    "fit_before_after",
    "fit_etwfe",
    "fit_event_study",
    "fit_pre_period_ratio",
    "wald_summary",
]


@dataclass(frozen=True)
class Aggregate:
    """Aggregated log rate ratios by ``group`` (and ``e`` for event studies) with covariance."""

    table: pd.DataFrame  # group[, e], log_estimate, std_error, n_cells, n_homes_switched, ...
    vcov: np.ndarray
    fit: FEPoissonFit
    cells_dropped: int


def wald_summary(log_estimate, std_error, df, *, alpha: float = 0.05) -> pd.DataFrame:
    """Rate ratio, t(df) interval and two-sided p-value from log estimates and SEs."""
    b = np.asarray(log_estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    q = stats.t.ppf(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(b / se), df)
    return pd.DataFrame({"estimate": np.exp(b), "std_error": se, "conf_low": np.exp(b - q * se),
                         "conf_high": np.exp(b + q * se), "p_value": p})


def _codes(a: npt.ArrayLike) -> np.ndarray:
    return np.asarray(a, dtype=np.int64)


def _cell_matrix(cell: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Indicator columns for the non-negative cell codes (−1 = no cell)."""
    on = cell >= 0
    levels, inv = np.unique(cell[on], return_inverse=True)
    x = sparse.csr_matrix((np.ones(inv.size), (np.flatnonzero(on), inv)),
                          shape=(cell.size, levels.size))
    return x, levels


def _aggregate(fit: FEPoissonFit, cell_col: np.ndarray, n_cells: int,
               cell_to_agg: np.ndarray, n_agg: int,
               extra_w0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Counterfactual-weighted log ratios of the cell parameters 0..n_cells−1 (first columns).

    ``cell_col`` (rows used) is each row's cell column (−1 none); ``cell_to_agg``
    maps cell columns to aggregates 0..n_agg−1; ``extra_w0`` (n_agg) adds the
    counterfactual counts of cells without events (their ML ratio is 0).
    """
    tau = fit.coef[:n_cells]
    on = cell_col >= 0
    fitted = np.bincount(cell_col[on], weights=fit.mu[on], minlength=n_cells)  # w_c e^tau_c
    w0 = fitted * np.exp(-tau)
    num = np.bincount(cell_to_agg, weights=fitted, minlength=n_agg)
    den = np.bincount(cell_to_agg, weights=w0, minlength=n_agg)
    if extra_w0 is not None:
        den = den + extra_w0
    est = np.log(num / den)
    grad = np.zeros((n_agg, fit.coef.size))
    grad[cell_to_agg, np.arange(n_cells)] = fitted / num[cell_to_agg]
    return est, grad @ fit.vcov @ grad.T


def _counterfactual(fit: FEPoissonFit, home_used, month_used, eta_used, home, month, eta):
    """exp(alpha_home + gamma_month + eta) for rows outside the fit (``eta``: offset + x beta).

    alpha_home is recovered from the fitted means of the home's rows in the fit:
    alpha_h = log(sum mu) - log(sum exp(eta + gamma)).
    """
    gamma = _month_effects(fit, max(int(month_used.max()), int(month.max())) + 1)
    n_h = int(max(home_used.max(), home.max())) + 1
    with np.errstate(divide="ignore", invalid="ignore"):  # homes outside the fit: unused
        alpha = np.log(np.bincount(home_used, weights=fit.mu, minlength=n_h)
                       / np.bincount(home_used, weights=np.exp(eta_used + gamma[month_used]),
                                     minlength=n_h))
    return np.exp(alpha[home] + gamma[month] + eta)


def _unanchored(y: np.ndarray, anchor: np.ndarray, key: np.ndarray, member: np.ndarray):
    """Rows of (group, cohort)s whose reference rows (``anchor``) have no events.

    The cohort's cell parameters are then not identified apart from its homes'
    effects (all of its reference counts are 0): the cohort is left out.
    """
    k = np.where(member, key, -1)
    keys, inv = np.unique(k, return_inverse=True)
    events = np.bincount(inv, weights=np.where(anchor, y, 0.0), minlength=keys.size)
    return member & (events[inv] == 0)


def _month_effects(fit: FEPoissonFit, n_months: int) -> np.ndarray:
    gamma = np.zeros(n_months)
    for j, term in enumerate(fit.terms):
        if term.startswith("month["):
            gamma[int(term[6:-1])] = fit.coef[j]
    return gamma


def fit_etwfe(y, person_years, home, month, cohort, group, *, x=None, terms=()) -> Aggregate:
    """Wooldridge ETWFE Poisson rate ratio of switching, per group (see the module docstring).

    Parameters
    ----------
    y, person_years : counts and person-time of each home-month row (person-time > 0).
    home, month : integer codes (month = calendar month index).
    cohort : each row's home's switch month index, −1 for never-switched homes.
    group : each row's home's scheme code (≥ 0 for switched homes).
    x, terms : extra regressors (e.g. a baseline-rate × after term) and names.

    Returns
    -------
    Aggregate with ``table``: group, log_estimate, std_error, n_cells,
    n_homes_switched, n_homes_comparison (never switched), df.
    """
    y = np.asarray(y, dtype=float)
    home, month, cohort, group = map(_codes, (home, month, cohort, group))
    switched = (cohort >= 0) & (month >= cohort)
    n_t = int(month.max()) + 1
    base = group * (n_t + 1) + cohort
    # A cell is (group, cohort, month); a cell with no events is pooled into its
    # (group, cohort)'s spare slot n_t; a pool with no events is left out.
    cell = np.where(switched, base * (n_t + 1) + month, -1)
    cells, inv = np.unique(cell, return_inverse=True)
    zero = switched & (np.bincount(inv, weights=y) == 0)[inv]
    cell = np.where(zero, base * (n_t + 1) + n_t, cell)
    cells, inv = np.unique(cell, return_inverse=True)
    dead = (cell >= 0) & (np.bincount(inv, weights=y) == 0)[inv]
    # A month whose control home-months have no events identifies neither its month
    # effect nor its cells (ML: -inf and +inf): its rows are left out.
    ctrl = np.bincount(month, weights=np.where(cell < 0, y, 0.0), minlength=n_t) > 0
    keep = ~dead & ctrl[month]
    keep &= ~_unanchored(y, keep & ~switched & (cohort >= 0), base, cohort >= 0)
    xc, levels = _cell_matrix(cell[keep])
    agg_of_cell = levels // (n_t + 1) // (n_t + 1)
    x_extra = (sparse.csr_matrix(np.asarray(x, dtype=float).reshape(y.size, -1))
               if x is not None else sparse.csr_matrix((y.size, 0)))
    names = [f"cell[{c}]" for c in levels] + list(terms)
    log_t = np.log(np.asarray(person_years, dtype=float))
    xk = sparse.hstack([xc, x_extra[keep]], format="csr")
    fit = fit_fepois(y[keep], log_t[keep], xk, names, absorb=home[keep], month=month[keep],
                     cluster=home[keep])
    ck = cell[keep]
    col = np.where(ck >= 0, np.searchsorted(levels, ck), -1)[fit.used]
    groups = np.unique(np.concatenate([agg_of_cell, group[dead]]))
    gi = np.searchsorted(groups, agg_of_cell)
    # Cells (pools) without events: ML ratio 0, their counterfactual counts stay in the weights.
    dead_in = dead & ctrl[month] & np.isin(home, home[keep][fit.used])
    beta_x = fit.coef[levels.size: levels.size + x_extra.shape[1]]
    eta = log_t + x_extra @ beta_x
    w0_dead = (_counterfactual(fit, home[keep][fit.used], month[keep][fit.used],
                               (eta[keep] + xc @ fit.coef[: levels.size])[fit.used],
                               home[dead_in], month[dead_in], eta[dead_in])
               if dead_in.any() else np.zeros(0))
    extra = np.bincount(np.searchsorted(groups, group[dead_in]), weights=w0_dead,
                        minlength=groups.size)
    est, v = _aggregate(fit, col, levels.size, gi, groups.size, extra)
    h_used, c_used, grp_used = home[keep][fit.used], cohort[keep][fit.used], group[keep][fit.used]
    table = pd.DataFrame({
        "group": groups, "log_estimate": est, "std_error": np.sqrt(np.diag(v)),
        "n_cells": np.bincount(gi, minlength=groups.size),
        "n_homes_switched": [np.unique(h_used[(c_used >= 0) & (grp_used == g)]).size
                             for g in groups],
        "n_homes_comparison": np.unique(h_used[c_used < 0]).size,
        "df": fit.n_clusters - 1,
    })
    return Aggregate(table=table, vcov=v, fit=fit, cells_dropped=int(np.unique(cell[dead]).size))


def fit_event_study(y, person_years, home, month, cohort, group, *, window: int = 12):
    """Event study by months from switch, aggregated over cohorts; pre-trend F test per group.

    Switched homes' rows with months from switch outside ``[-window, window]``
    are left out; never-switched homes are the controls; ``e = -1`` is the
    reference (rate ratio 1, no interval). Cells without events are left out, and so are
    cohorts whose e = -1 months have no events (nothing anchors their cells).

    Returns
    -------
    (table, pre_trend) : ``table`` has group, e, log_estimate, std_error, df;
    ``pre_trend`` has group, f_statistic, df_num, df_den, pre_trend_p_value.
    """
    y = np.asarray(y, dtype=float)
    home, month, cohort, group = map(_codes, (home, month, cohort, group))
    e = month - cohort
    sw = cohort >= 0
    keep = ~sw | ((e >= -window) & (e <= window))
    in_cell = sw & (e != -1) & (e >= -window) & (e <= window)
    n_e = 2 * window + 1
    cell = np.where(in_cell, (group * (month.max() + 1) + cohort) * n_e + (e + window), -1)
    cells, inv = np.unique(cell, return_inverse=True)
    zero = np.bincount(inv, weights=y) == 0
    keep &= ~(in_cell & zero[inv])
    keep &= ~_unanchored(y, keep & sw & ~in_cell, group * (month.max() + 1) + cohort, sw)
    ctrl = np.bincount(month, weights=np.where(keep & ~sw, y, 0.0), minlength=month.max() + 1)
    keep &= (ctrl > 0)[month]  # months whose controls have no events identify nothing
    yk, hk, mk, ck = y[keep], home[keep], month[keep], cell[keep]
    xc, levels = _cell_matrix(ck)
    fit = fit_fepois(yk, np.log(np.asarray(person_years, dtype=float)[keep]), xc,
                     [f"cell[{c}]" for c in levels], absorb=hk, month=mk, cluster=hk)
    lv_group = levels // n_e // (month.max() + 1)
    lv_e = levels % n_e - window
    agg_key = lv_group * n_e + (lv_e + window)
    aggs, gi = np.unique(agg_key, return_inverse=True)
    col = np.where(ck >= 0, np.searchsorted(levels, ck), -1)[fit.used]
    est, v = _aggregate(fit, col, levels.size, gi, aggs.size)
    table = pd.DataFrame({"group": aggs // n_e, "e": aggs % n_e - window, "log_estimate": est,
                          "std_error": np.sqrt(np.diag(v)), "df": fit.n_clusters - 1})
    rows = []
    for g in np.unique(table["group"]):
        pre = np.flatnonzero((table["group"] == g).to_numpy() & (table["e"] <= -2).to_numpy())
        if pre.size == 0:
            rows.append((g, np.nan, 0, fit.n_clusters - 1, np.nan))
            continue
        b, vb = est[pre], v[np.ix_(pre, pre)]
        n_sw = np.unique(hk[fit.used][(ck[fit.used] >= 0)
                                      & (lv_group[np.maximum(col, 0)] == g)]).size
        if pre.size >= n_sw:
            # More restrictions than switching homes: their cluster-robust covariance is
            # near singular, so test the linear pre-switch trend instead (1 df).
            e_pre = table["e"].to_numpy()[pre].astype(float)
            c = (e_pre - e_pre.mean()) / np.sum((e_pre - e_pre.mean()) ** 2)
            b, vb = np.array([c @ b]), np.array([[c @ vb @ c]])
        f = float(b @ np.linalg.solve(vb, b)) / b.size
        rows.append((g, f, b.size, fit.n_clusters - 1,
                     float(stats.f.sf(f, b.size, fit.n_clusters - 1))))
    pre_trend = pd.DataFrame(rows, columns=["group", "f_statistic", "df_num", "df_den",
                                            "pre_trend_p_value"])
    return table, pre_trend, fit


def fit_before_after(y, person_years, home, month, cohort) -> tuple[float, float, FEPoissonFit]:
    """Naive before-after log rate ratio in switched homes only (home effects, no months).

    Only rows with ``cohort >= 0`` are used: :math:`\\log E[y_{it}] = \\alpha_i +
    \\log T_{it} + \\delta\\,1[t \\ge g_i]`. Returns (delta, std_error, fit).
    """
    y = np.asarray(y, dtype=float)
    home, month, cohort = map(_codes, (home, month, cohort))
    s = cohort >= 0
    post = (month[s] >= cohort[s]).astype(float)[:, None]
    fit = fit_fepois(y[s], np.log(np.asarray(person_years, dtype=float)[s]), post, ["after"],
                     absorb=home[s], cluster=home[s])
    return float(fit.coef[0]), float(fit.std_error()[0]), fit


def fit_pre_period_ratio(y, person_years, home, month, cohort, *, months_before: int = 12):
    """Switched homes' rate in the ``months_before`` months before switching vs never-switched.

    Rows: switched homes' months :math:`g_i - L \\le t < g_i`; never-switched
    homes' rows in the calendar months that occur among those. Model:
    :math:`\\log E[y_{it}] = \\gamma_t + \\log T_{it} + \\delta\\,1[i \\text{ switched}]`
    (one overall intercept absorbed). Returns (delta, std_error, fit), or NaNs
    when either side has no rows.
    """
    y = np.asarray(y, dtype=float)
    home, month, cohort = map(_codes, (home, month, cohort))
    sw = (cohort >= 0) & (month < cohort) & (month >= cohort - months_before)
    months = np.unique(month[sw])
    ctrl = (cohort < 0) & np.isin(month, months)
    rows = sw | ctrl
    if not sw.any() or not ctrl.any():
        return np.nan, np.nan, None
    fit = fit_fepois(y[rows], np.log(np.asarray(person_years, dtype=float)[rows]),
                     sw[rows].astype(float)[:, None], ["switched"],
                     absorb=np.zeros(rows.sum(), dtype=np.int64), month=month[rows],
                     cluster=home[rows])
    return float(fit.coef[0]), float(fit.std_error()[0]), fit
