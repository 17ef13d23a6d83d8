"""Published survival curves recomputed from rounded counts on a coarse time grid.

Masking the counts beside an exact curve protects nothing: a Kaplan-Meier step
gives ``1 - S(t)/S(t-) = d/n`` and an Aalen-Johansen increment gives
``dF_k(t) = S(t-) d_k / n``, so every step hands back its events and number at
risk. The published curves are therefore built, as the OpenSAFELY
``kaplan-meier-function`` action builds them, from disclosure-safe inputs only:

1. event and censoring times are rounded *up* to a grid (``grid_days``: 7 =
   weekly, 30 = about monthly): the step at grid day ``g`` holds what happened in
   ``(g - grid_days, g]``;
2. consecutive grid bins are merged until every published step holds at least
   ``min_events`` (``suppress_max + 1``) events of every event type it shows
   events of (a type with none in the bin shows 0); a tail with fewer is merged
   into the last step;
3. the *cumulative* counts of each event type and of censorings, and the number
   at entry, are rounded (:func:`~optimal_analysis.report.rounding.round_counts`;
   a running total of fewer than ``min_events`` censorings counts as 0: those
   residents are kept at risk until more are censored);
   the published events and censorings of a step are differences of rounded
   cumulative counts, the number at risk ``n_j = r(N) - r(E_{j-1}) - r(C_{j-1})``;
4. the estimates are recomputed from those rounded counts with the actuarial
   (life-table) number at risk ``n'_i = n_i - c_i/2`` (those censored within a
   step at risk for half of it; without it a monthly grid under-states the
   hazard where censoring is heavy): ``S_j = prod_{i<=j} (1 - d_i/n'_i)`` and
   ``F_k(j) = sum_{i<=j} S_{i-1} d_{k,i}/n'_i``, so a step gives back only
   the published ``d``, ``n`` and ``c``;
5. ``std_error`` is the analyst's (cluster-robust) standard error at the last
   exact time at or before the step, rounded to two significant figures, and the
   CI is recomputed from the published estimate and that rounded error with the
   log transform of the exact curves, ``est exp(+-z se/est)`` capped at 1. A
   two-figure error cannot be inverted: Greenwood's increment
   ``d/(n(n-d))`` would need about ``log10(n^2)`` more significant figures.
   Where the analyst's table has ``n_clusters`` (G, the care homes of the care
   model), the small-sample limits the report draws, ``conf_low_small,
   conf_high_small``, are recomputed the same way with the variance times G/(G-1)
   and the t(G-1) quantile (as the exact curves' small-sample limits; NaN if
   G < 2). G counts care homes, which are published (docs/disclosure.md).

Rows of a weighted curve (``adjustment`` other than ``crude``) hold no counts to
round and are left out of the published copy.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.stats import norm, t

from optimal_analysis.report.rounding import round_counts
from optimal_analysis.report.spec import curve_family
from optimal_analysis.stats.curve_influence import log_interval

__all__ = ["coarsen_curve", "curve_family", "publish_cumulative_incidence", "publish_km",
           "signif"]

#: ``event`` prefix of death competing with a derived outcome's first event
#: (:func:`optimal_analysis.survival.curves.competing_death_event`).


logger = logging.getLogger(__name__)

_Z = float(norm.ppf(0.975))


def signif(x: np.ndarray | pd.Series, digits: int) -> np.ndarray:
    """``x`` rounded to ``digits`` significant figures (0 and missing unchanged)."""
    v = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where((v != 0) & np.isfinite(v), np.floor(np.log10(np.abs(v))), 0.0)
        scale = 10.0 ** (digits - 1 - mag)
        return np.where(np.isfinite(v) & (v != 0), np.round(v * scale) / scale, v)


def _bins(time: np.ndarray, events: np.ndarray, grid_days: int, min_events: int) -> np.ndarray:
    """Published step time of each row: its grid day, after merging thin bins.

    ``events`` is (rows, types). A bin closes once each type has 0 or at least
    ``min_events`` events in it (and the bin has some events); an open tail
    joins the last closed bin. Returns 0 for rows before the first event bin
    only if nothing closes (the curve is then published as its start).
    """
    grid = np.maximum(np.ceil(time / grid_days), 1) * grid_days
    edges = np.unique(grid)
    per_edge = np.zeros((len(edges), events.shape[1]))
    np.add.at(per_edge, np.searchsorted(edges, grid), events)
    acc = np.zeros(events.shape[1])
    closed: list[int] = []
    for i in range(len(edges)):  # loop over grid bins (a few dozen), not residents
        acc += per_edge[i]
        if acc.sum() > 0 and np.all((acc == 0) | (acc >= min_events)):
            closed.append(i)
            acc[:] = 0
    if not closed:
        return np.zeros(len(time))
    # grid bin i is published at the first closed bin at or after it; a tail at the last
    idx = np.searchsorted(np.asarray(closed), np.arange(len(edges)))
    idx = np.minimum(idx, len(closed) - 1)
    step = edges[np.asarray(closed)[idx]]
    return step[np.searchsorted(edges, grid)]


def coarsen_curve(
    curve: pd.DataFrame,
    types: list[str],
    *,
    grid_days: int,
    min_events: int,
    round_to: int,
    rounding: str = "nearest",
    last_day: float | None = None,
) -> pd.DataFrame:
    """One exact curve (rows sorted by time) -> published steps from rounded counts.

    Parameters
    ----------
    curve
        ``time, n_at_risk`` and one event-count column per name in ``types``,
        one row per exact time (as km.csv / cumulative_incidence.csv made wide);
        the first row is the start (time 0, everyone at risk).
    types
        The event-count columns (one for KM, one per competing event for AJ).
    last_day
        The last step is shown at no later than this day (the last event day
        of the whole table, over all curves, not of this curve), not at a grid
        day past it.

    Returns
    -------
    DataFrame
        ``time, n_at_risk, n_censored, <types>`` (rounded counts of the step),
        ``surv`` (KM of any event from the rounded counts) and ``inc_<type>``
        (AJ cumulative incidence of each type), first row the start.
    """
    t = curve["time"].to_numpy(dtype=float)
    n = curve["n_at_risk"].to_numpy(dtype=float)
    d = curve[types].to_numpy(dtype=float)
    n0 = n[0]
    # censored after each exact time and before the next: n_i - d_i - n_{i+1}
    cens = np.r_[n[:-1] - d[:-1].sum(axis=1) - n[1:], 0.0]
    step = _bins(t, d, grid_days, min_events)
    keep = step > 0
    times = np.unique(step[keep])
    pos = np.searchsorted(times, step[keep])
    ev = np.zeros((len(times), len(types)))
    ce = np.zeros(len(times))
    np.add.at(ev, pos, d[keep])
    np.add.at(ce, pos, cens[keep])

    def rnd(x: np.ndarray) -> np.ndarray:
        return np.asarray(round_counts(x, round_to, rounding), dtype=float)

    cum_ev = rnd(np.cumsum(ev, axis=0))
    # a running total of 1..min_events-1 censorings is published as 0 (they stay at risk)
    cum_ce = np.cumsum(ce)
    cum_ce = np.where(cum_ce < min_events, 0.0, rnd(cum_ce))
    d_pub = np.diff(np.vstack([np.zeros(len(types)), cum_ev]), axis=0)
    c_pub = np.diff(np.r_[0.0, cum_ce])
    n_start = rnd(np.array([n0]))[0]
    removed = np.r_[0.0, (cum_ev.sum(axis=1) + cum_ce)[:-1]]
    n_pub = n_start - removed
    total = d_pub.sum(axis=1)
    ok = np.cumprod((n_pub > 0) & (total <= n_pub - c_pub / 2.0)).astype(bool)
    if not ok.all():
        logger.info("curve stops after %d step(s): rounded counts leave too few at risk", ok.sum())
    times, n_pub, c_pub, d_pub, total = times[ok], n_pub[ok], c_pub[ok], d_pub[ok], total[ok]
    # actuarial (life-table) denominator: those censored within the step count half
    n_eff = n_pub - c_pub / 2.0
    surv = np.cumprod(1.0 - total / n_eff)
    s_before = np.r_[1.0, surv[:-1]]
    inc = np.cumsum(s_before[:, None] * d_pub / n_eff[:, None], axis=0)
    if last_day is not None:
        times = np.minimum(times, last_day)
    out = pd.DataFrame(
        {
            "time": np.r_[0.0, times].astype(int),
            "n_at_risk": np.r_[n_start, n_pub],
            "n_censored": np.r_[0.0, c_pub],
            "surv": np.r_[1.0, surv],
        }
    )
    for j, ty in enumerate(types):
        out[ty] = np.r_[0.0, d_pub[:, j]]
        out[f"inc_{ty}"] = np.r_[0.0, inc[:, j]]
    for c in ("n_at_risk", "n_censored", *types):
        out[c] = out[c].astype("int64")
    return out


def _se_at(exact_time: np.ndarray, exact_se: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The exact standard error at the last exact time <= each published time."""
    i = np.searchsorted(exact_time, times, side="right") - 1
    return np.where(i >= 0, exact_se[np.maximum(i, 0)], np.nan)


def _log_ci(est: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(est > 0, est * np.exp(-_Z * se / est), np.nan)
        hi = np.where(est > 0, np.minimum(1.0, est * np.exp(_Z * se / est)), np.nan)
    return lo, hi


def _small_ci(est: np.ndarray, se: np.ndarray, exact: pd.DataFrame) -> dict[str, np.ndarray]:
    """``conf_low_small, conf_high_small`` from the published estimate and rounded error:
    variance x G/(G-1), t(G-1) quantile on the log scale, G = the exact table's
    ``n_clusters`` (empty dict where the exact table has none)."""
    if "n_clusters" not in exact or exact["n_clusters"].isna().all():
        return {}
    g = int(exact["n_clusters"].max())
    if g < 2:
        return {"conf_low_small": np.full(est.size, np.nan),
                "conf_high_small": np.full(est.size, np.nan)}
    lo, hi = log_interval(est, se * np.sqrt(g / (g - 1)), float(t.ppf(0.975, g - 1)))
    return {"conf_low_small": lo, "conf_high_small": hi}


def _crude(table: pd.DataFrame, name: str) -> pd.DataFrame:
    if "adjustment" not in table:
        return table
    dropped = table["adjustment"] != "crude"
    if dropped.any():
        logger.info("%s: %d weighted row(s) not published (no counts to round)", name,
                    int(dropped.sum()))
    return table[~dropped]


def publish_km(
    km: pd.DataFrame, *, grid_days: int, min_events: int, round_to: int, rounding: str = "nearest"
) -> pd.DataFrame:
    """The published km.csv: one row per care model x published step (see module doc).

    Columns ``care_model, time, estimate, std_error, conf_low, conf_high,
    n_at_risk, n_events, n_censored`` (plus ``adjustment`` if the input has it).
    """
    km = _crude(km, "km")
    last_day = float(km["time"].max()) if len(km) else None
    keys = [c for c in ("adjustment", "care_model") if c in km]
    parts = []
    for key, g in km.sort_values([*keys, "time"], kind="stable").groupby(keys, sort=False):
        g = g.assign(n_events=g["n_events"].fillna(0))
        c = coarsen_curve(g, ["n_events"], grid_days=grid_days, min_events=min_events,
                          round_to=round_to, rounding=rounding, last_day=last_day)
        est = c["surv"].to_numpy()
        se = np.full(len(c), np.nan)  # no standard error: no CI
        if "std_error" in g:
            se = signif(_se_at(g["time"].to_numpy(float), g["std_error"].to_numpy(float),
                               c["time"].to_numpy(float)), 2)
        lo, hi = _log_ci(est, se)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        parts.append(pd.DataFrame({**row, "time": c["time"], "estimate": est, "std_error": se,
                                   "conf_low": lo, "conf_high": hi, **_small_ci(est, se, g),
                                   "n_at_risk": c["n_at_risk"], "n_events": c["n_events"],
                                   "n_censored": c["n_censored"]}))
    if not parts:
        return km.iloc[:0]
    return pd.concat(parts, ignore_index=True)


def publish_cumulative_incidence(
    ci: pd.DataFrame, *, grid_days: int, min_events: int, round_to: int, rounding: str = "nearest"
) -> pd.DataFrame:
    """The published cumulative_incidence.csv: care model x event x published step.

    The events of each care model are counted together (one grid, one number at
    risk, every event type's step holding 0 or at least ``min_events``), each
    :func:`curve_family` (time scale) on its own. A derived outcome's curves of a
    care model where some event type has 1 to ``min_events`` − 1 events in all are
    left out.
    """
    ci = _crude(ci, "cumulative_incidence")
    last_day = float(ci["time"].max()) if len(ci) else None
    keys = [c for c in ("adjustment", "care_model") if c in ci]
    family = curve_family(ci["event"]) if len(ci) else pd.Series("", index=ci.index)
    parts = []
    for key, g in ci.groupby([*(ci[k] for k in keys), family], sort=False):
        key, fam = key[:-1], key[-1]
        events = list(dict.fromkeys(g["event"]))
        totals = g.groupby("event")["n_events"].sum()
        if fam and ((totals >= 1) & (totals < min_events)).any():
            # a derived outcome's curve with fewer than min_events events of a type in this
            # care model cannot be binned into publishable steps: left out (analyst's copy only)
            logger.info("cumulative_incidence %s %s: fewer than %d events of a type, not "
                        "published", fam, key, min_events)
            continue
        wide = g.pivot_table(index="time", columns="event", values="n_events", aggfunc="sum")
        wide = wide.reindex(columns=events).fillna(0)
        at_risk = g.groupby("time")["n_at_risk"].first()
        wide = wide.assign(n_at_risk=at_risk).reset_index().sort_values("time")
        c = coarsen_curve(wide, events, grid_days=grid_days, min_events=min_events,
                          round_to=round_to, rounding=rounding, last_day=last_day)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        for ev in events:
            exact = g[g["event"] == ev].sort_values("time")
            est = c[f"inc_{ev}"].to_numpy()
            se = np.full(len(c), np.nan)  # no standard error: no CI
            if "std_error" in exact:
                se = signif(_se_at(exact["time"].to_numpy(float),
                                   exact["std_error"].to_numpy(float),
                                   c["time"].to_numpy(float)), 2)
            lo, hi = _log_ci(est, se)
            parts.append(pd.DataFrame({**row, "event": ev, "_family": fam,
                                       "time": c["time"], "estimate": est,
                                       "std_error": se, "conf_low": lo, "conf_high": hi,
                                       **_small_ci(est, se, exact),
                                       "n_at_risk": c["n_at_risk"], "n_events": c[ev],
                                       "n_censored": c["n_censored"]}))
    if not parts:
        return ci.iloc[:0]
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values([*keys, "_family", "time"], kind="stable").reset_index(drop=True)
    return out.drop(columns="_family")
