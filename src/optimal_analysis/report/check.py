"""Attacks on a published folder: does arithmetic on its numbers give back a count?

:func:`check_published` reads only ``published/tables/*.csv`` and the public
unit-cost table, and tries what an output checker (or an intruder) would:

``count``
    every count column (``TABLE_SPECS``) holds 0, a rounded value or the marker:
    no count of 1..suppress_max, no unrounded count (care-home rows exempt); in
    curve tables the per-step events and censorings are differences of rounded
    cumulative counts, so their running sums are checked, and a number at risk
    may instead be the previous one minus the previous step's published events
    and censorings;
``curve_step``
    Kaplan-Meier ``1 - S_j/S_{j-1} = d/n`` and Aalen-Johansen
    ``dF_k / (1 - sum_k F_k(t-)) = d_k/n``: an integer ``d`` for some ``n`` within
    the rounding slack of the published number at risk (or any ``n`` up to the
    largest at risk where it is suppressed), unless the published ``d/n`` or
    ``d/(n - c/2)`` (with the published censorings ``c``) explains the step;
``greenwood``
    ``(se_j/S_j)^2 - (se_{j-1}/S_{j-1})^2 = d/(n(n-d))`` (KM), likewise, to within
    what the published SEs' significant figures allow; a count is recovered only
    when every consistent pair shares one ``d``;
``ratio``
    rate x person-years, contacts per resident-year x person-years, percentage x
    denominator / 100, cost per resident-year x person-years, standardised
    (model) rate x person-years of crude_rates: an integer other than the
    published count;
``exact_ci``
    the exact Poisson limits of a crude rate, inverted over the counts within
    the slack of the published one (or 1..suppress_max where suppressed);
``rate_ratio``
    a crude Poisson (or negative binomial) rate ratio is ``(e_a/py_a)/(e_0/py_0)``:
    the one pair of counts within the slack of crude_rates' published events (or
    1..suppress_max where suppressed) that reproduces it, if the published pair
    does not;
``unit_cost``
    cost / unit cost (and cost per resident-year x person-years / unit cost) of
    each item with its public unit costs; for an item with two unit costs, the
    mixes ``a c1 + b c2`` with ``a + b`` within the slack of its units;
``total_minus_parts``
    a care model's total cost minus its shown items, decomposed into the unit
    costs of its suppressed items with counts 1..suppress_max.

A finding is ``(table, row, column, value, attack, detail)``: the recovered
count and how. Counts recovered equal to the published (rounded) ones are not
findings: they tell nothing new. Tolerances are set by the 10 significant
figures of the CSVs (``io.write_csv``): a candidate must match to 1e-6 in the
count, so a chance match has probability about 1e-6 per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from optimal_analysis.report.curves import curve_family
from optimal_analysis.report.disclosure import TABLE_SPECS
from optimal_analysis.report.rounding import is_rounded, round_counts, rounding_slack
from optimal_analysis.stats.poisson import exact_poisson_rate_ci
from optimal_analysis.tidy import MARKER
from optimal_analysis.unit_costs import unit_costs_of

__all__ = ["Finding", "check_published", "check_tables", "format_findings"]

_TOL = 1e-6
_CURVES = {"km": ["n_events", "n_censored"], "cumulative_incidence": ["n_events", "n_censored"]}


@dataclass(frozen=True)
class Finding:
    """A count recovered from published numbers."""

    table: str
    row: int
    column: str
    value: float
    attack: str
    detail: str

    def __str__(self) -> str:
        return (f"{self.table}.csv row {self.row} [{self.column}]: {self.attack} recovers "
                f"{self.value:g} ({self.detail})")


class _Ctx:
    def __init__(self, suppress_max: int, round_to: int, rounding: str) -> None:
        self.suppress_max, self.round_to, self.rounding = suppress_max, round_to, rounding
        self.slack = rounding_slack(round_to, rounding)
        self.findings: list[Finding] = []

    def bad(self, x: float) -> bool:
        """A recovered count that must not be known: 1..suppress_max or not a rounded value."""
        return bool(1 <= x <= self.suppress_max or not is_rounded(np.array([x]), self.round_to,
                                                                  self.rounding)[0])

    def add(self, table: str, row: int | np.integer, column: str, value: float, attack: str,
            detail: str) -> None:
        self.findings.append(Finding(table, int(row), column, float(value), attack, detail))


def _num(t: pd.DataFrame, col: str) -> np.ndarray:
    if col not in t:
        return np.full(len(t), np.nan)
    return pd.to_numeric(t[col].where(t[col].astype(str) != MARKER), errors="coerce").to_numpy(
        dtype=float)


def _integral(x: np.ndarray) -> np.ndarray:
    """An integer to within the precision of 10-significant-figure CSVs."""
    with np.errstate(invalid="ignore"):
        return np.abs(x - np.round(x)) < np.maximum(_TOL, 1e-9 * np.abs(x))


def _counts(ctx: _Ctx, name: str, t: pd.DataFrame) -> None:
    spec = TABLE_SPECS.get(name)
    if spec is None:
        return
    exempt = np.zeros(len(t), dtype=bool)
    for col, values in spec.exempt.items():
        exempt |= t[col].isin(values).to_numpy()
    keys = [c for c in ("adjustment", "care_model", "event") if c in t]
    for col in spec.counts:
        if col not in t:
            continue
        x = _num(t, col)
        if name in _CURVES and col in _CURVES[name] and keys:
            x = pd.Series(np.nan_to_num(x), index=t.index).groupby(
                [t[k] for k in keys]).cumsum().to_numpy()
        bad = ~exempt & ~np.isnan(x) & (((x >= 1) & (x <= ctx.suppress_max))
                                        | ~is_rounded(x, ctx.round_to, ctx.rounding))
        if name in _CURVES and col == "n_at_risk":
            bad &= ~_at_risk_derived(t)
        for i in np.flatnonzero(bad):
            ctx.add(name, i, col, x[i], "count", "published count is small or not rounded")


def _at_risk_derived(t: pd.DataFrame) -> np.ndarray:
    """True where a curve's number at risk is the previous one minus the published events
    and censorings of the previous step (a function of published counts, not a new count)."""
    if not {"time", "n_at_risk", "n_events", "n_censored"} <= set(t):
        return np.zeros(len(t), dtype=bool)
    keys = [c for c in ("adjustment", "care_model") if c in t]
    n, d, c = _num(t, "n_at_risk"), _num(t, "n_events"), _num(t, "n_censored")
    frame = pd.DataFrame({"k": t[keys].astype(str).agg("|".join, axis=1) if keys else "",
                          "time": t["time"], "n": n, "d": d, "c": c})
    step = frame.groupby(["k", "time"], sort=False).agg(n=("n", "first"), d=("d", "sum"),
                                                         c=("c", "first")).reset_index()
    step = step.sort_values(["k", "time"], kind="stable")
    prev = step.groupby("k")[["n", "d", "c"]].shift(1)
    step["ok"] = np.abs(step["n"] - (prev["n"] - prev["d"] - prev["c"])) < 1e-9
    ok = frame.merge(step[["k", "time", "ok"]], on=["k", "time"], how="left")["ok"]
    return ok.fillna(False).to_numpy(dtype=bool)


def _step_candidates(ctx: _Ctx, h: float, n_pub: float, d_pub: float, n_max: float, *,
                     c_pub: float = np.nan) -> tuple[float, float] | None:
    """(d, n) with ``d/n = h`` other than the published pair.

    ``n`` ranges over the published number at risk +- the rounding slack, or
    1..n_max (plus slack) where it is suppressed; ``d = h n`` must be an
    integer to within the precision of the CSVs.
    """
    tol = 1e-9
    if n_pub > 0 and np.isfinite(d_pub):
        # the published d/n, or d/(n - c/2) (the actuarial denominator of the published curves)
        for n_eff in (n_pub, n_pub - c_pub / 2.0):
            if np.isfinite(n_eff) and n_eff > 0 and abs(d_pub / n_eff - h) < tol:
                return None
    if np.isnan(n_pub):
        ns = np.arange(1.0, max(n_max, 1.0) + ctx.slack + 1)
    else:
        ns = np.arange(max(1.0, n_pub - ctx.slack), n_pub + ctx.slack + 1)
    ds = np.round(h * ns)
    ok = (ds >= 1) & (ds < ns) & (np.abs(ds / ns - h) < tol)
    for dd, n in zip(ds[ok], ns[ok], strict=True):
        if ctx.bad(float(dd)) or ctx.bad(float(n)):
            return float(dd), float(n)
    return None


def _half_unit(x: float) -> float:
    """Half a unit in the last significant figure of ``x`` as the CSV shows it (<= 10 figures).

    ``0.018`` gives 0.0005; ``0.8404224039`` gives 5e-11; 0 gives 0.
    """
    if not np.isfinite(x) or x == 0:
        return 0.0
    exponent = int(np.floor(np.log10(abs(x))))
    for figures in range(1, 11):
        if float(f"{x:.{figures}g}") == x:
            break
    return 0.5 * 10.0 ** (exponent - figures + 1)


def _greenwood_candidates(ctx: _Ctx, h: float, h_tol: float, n_pub: float,
                          d_pub: float) -> tuple[float, float] | None:
    """(d, n) with ``d/(n(n-d)) = h`` to 1e-6, if the published numbers single ``d`` out.

    ``h_tol`` is how far the increment may be off given the significant figures
    of the published SEs. The attack needs the increment to 1e-6 (a chance
    match then has probability about 1e-6 per candidate); SEs rounded more
    coarsely than that (the published curves give 2 significant figures: about
    +-4% of the increment) fit many counts at large ``n`` and, at small ``n``,
    fit a count only by the accident of rounding, because the published SE is
    the cluster-robust one, not Greenwood's: no finding. Otherwise ``n``
    ranges over the published number at risk +- the rounding slack (no attack
    where it is suppressed) and ``d`` over the published events +- twice the
    slack (a step's events are a difference of rounded totals); a count is
    recovered only when all consistent pairs share one ``d`` (or there is one
    pair) and it is one that must not be known.
    """
    if not (n_pub > 0) or h_tol > _TOL * h:
        return None  # suppressed at-risk, or SEs too coarse to single out a count
    tol = _TOL * h
    if np.isfinite(d_pub) and abs(d_pub / (n_pub * (n_pub - d_pub)) - h) < tol:
        return None  # the published pair explains the step

    def g(x: float, n: np.ndarray) -> np.ndarray:  # d solving d/(n(n-d)) = x
        return x * n ** 2 / (1 + x * n)

    ns = np.arange(max(1.0, n_pub - ctx.slack), n_pub + ctx.slack + 1)
    lo, hi = np.ceil(g(max(h - tol, 0.0), ns)), np.floor(g(h + tol, ns))
    if np.isfinite(d_pub):  # a step's events: a difference of two rounded totals
        lo, hi = np.maximum(lo, d_pub - 2 * ctx.slack), np.minimum(hi, d_pub + 2 * ctx.slack)
    pairs = [(float(d), float(n)) for n, a, b in zip(ns, lo, hi, strict=True)
             for d in np.arange(max(a, 1.0), min(b, n - 1) + 1)]
    if not pairs or len({d for d, _ in pairs}) > 1:
        return None
    d, n = pairs[0]
    if ctx.bad(d) or (len(pairs) == 1 and ctx.bad(n)):
        return d, n
    return None


def _curves(ctx: _Ctx, name: str, t: pd.DataFrame) -> None:
    if "estimate" not in t or "time" not in t:
        return
    est, n_pub, d_pub = _num(t, "estimate"), _num(t, "n_at_risk"), _num(t, "n_events")
    c_pub = _num(t, "n_censored")
    se = _num(t, "std_error")
    n_max = np.nanmax(n_pub) if np.isfinite(n_pub).any() else 0.0
    keys: list = [t[c] for c in ("adjustment", "care_model") if c in t]
    if "event" in t and len(t):  # each time scale on its own (emergency, each derived outcome)
        keys.append(curve_family(t["event"]))
    for _, g in t.groupby(keys, sort=False) if keys else [(None, t)]:
        if name == "km":
            pos = g.sort_values("time", kind="stable").index.to_numpy()
            for a, b in zip(pos[:-1], pos[1:], strict=True):
                if not (est[a] > 0 and np.isfinite(est[b])):
                    continue
                h = 1.0 - est[b] / est[a]
                if h > 1e-12:
                    hit = _step_candidates(ctx, h, n_pub[b], d_pub[b], n_max, c_pub=c_pub[b])
                    if hit:
                        ctx.add(name, b, "n_events", hit[0], "curve_step",
                                f"1 - S(t)/S(t-) = {hit[0]:g}/{hit[1]:g}")
                if est[b] > 0 and np.isfinite(se[a]) and np.isfinite(se[b]) and h > 1e-12:
                    gw = (se[b] / est[b]) ** 2 - (se[a] / est[a]) ** 2
                    # the published SEs are rounded (2 significant figures): the increment
                    # is known only to within what their last digits allow
                    gw_tol = (2 * se[b] * _half_unit(se[b]) / est[b] ** 2
                              + 2 * se[a] * _half_unit(se[a]) / est[a] ** 2)
                    if gw > 0:
                        hit = _greenwood_candidates(ctx, gw, gw_tol, n_pub[b], d_pub[b])
                        if hit:
                            ctx.add(name, b, "std_error", hit[0], "greenwood",
                                    f"Greenwood increment = d/(n(n-d)) with d/n = "
                                    f"{hit[0]:g}/{hit[1]:g}")
            continue
        times = np.sort(g["time"].unique())
        wide = pd.DataFrame({"time": g["time"], "event": g["event"], "i": g.index})
        idx = wide.pivot_table(index="time", columns="event", values="i", aggfunc="first")
        idx = idx.reindex(times)
        F = pd.DataFrame({e: est[idx[e].fillna(-1).astype(int)] for e in idx.columns},
                         index=times).where(idx.notna().to_numpy())
        for j in range(1, len(times)):
            s_before = 1.0 - F.iloc[j - 1].sum(skipna=False)
            if not np.isfinite(s_before) or s_before <= 0:
                continue
            for e in idx.columns:
                if np.isnan(idx.iloc[j][e]):
                    continue
                r = int(idx.iloc[j][e])
                h = (F.iloc[j][e] - F.iloc[j - 1][e]) / s_before
                if np.isfinite(h) and h > 1e-12:
                    hit = _step_candidates(ctx, h, n_pub[r], d_pub[r], n_max, c_pub=c_pub[r])
                    if hit:
                        ctx.add(name, r, "n_events", hit[0], "curve_step",
                                f"dF/S(t-) = {hit[0]:g}/{hit[1]:g} ({e})")


def _ratio(ctx: _Ctx, name: str, t: pd.DataFrame, stat: str, den: np.ndarray, num_col: str,
           scale: float = 1.0, num_pub: np.ndarray | None = None) -> None:
    if stat not in t:
        return
    x = _num(t, stat) * den / scale
    pub = _num(t, num_col) if num_pub is None else num_pub
    same = np.abs(x - pub) < _TOL * np.maximum(1, np.abs(x))
    hit = np.isfinite(x) & (np.round(x) >= 1) & _integral(x) & ~same
    for i in np.flatnonzero(hit):
        if ctx.bad(float(np.round(x[i]))):
            ctx.add(name, i, num_col, float(np.round(x[i])), "ratio",
                    f"{stat} x denominator{'' if scale == 1 else f' / {scale:g}'}")


def _rates(ctx: _Ctx, tables: dict[str, pd.DataFrame]) -> None:
    cr = tables.get("crude_rates")
    if cr is not None:
        _ratio(ctx, "crude_rates", cr, "rate", _num(cr, "person_years"), "events")
        ev, py = _num(cr, "events"), _num(cr, "person_years")
        for col, k in (("conf_low", 1), ("conf_high", 2)):
            lim = _num(cr, col)
            for i in np.flatnonzero(np.isfinite(lim) & np.isfinite(py)):
                cand = (np.arange(1.0, ctx.suppress_max + 1) if np.isnan(ev[i]) else
                        np.arange(max(0.0, ev[i] - ctx.slack), ev[i] + ctx.slack + 1))
                cand = cand[cand != ev[i]]
                vals = exact_poisson_rate_ci(cand, np.full(len(cand), py[i]))[k]
                for c in cand[np.abs(vals - lim[i]) < _TOL * np.maximum(lim[i], 1e-9)]:
                    if ctx.bad(c):
                        ctx.add("crude_rates", i, "events", c, "exact_ci", f"{col} inverted")
    su = tables.get("service_use")
    if su is not None:
        _ratio(ctx, "service_use", su, "contacts_per_resident_year", _num(su, "person_years"),
               "contacts")
        _ratio(ctx, "service_use", su, "percent_with_any", _num(su, "residents"),
               "residents_with_any", 100.0)
    bl = tables.get("baseline")
    if bl is not None and {"variable", "care_model", "n"} <= set(bl):
        tot = bl.loc[bl["variable"] == "residents"].set_index("care_model")["n"]
        den = pd.to_numeric(bl["care_model"].map(tot), errors="coerce").to_numpy(float)
        _ratio(ctx, "baseline", bl, "percent", den, "n", 100.0)
    if cr is None:
        return
    key = cr.set_index(["outcome", "care_model"])
    sr = tables.get("standardised_rates")
    if sr is not None and {"measure", "outcome", "care_model"} <= set(sr):
        rows = sr["measure"] == "rate"
        idx = pd.MultiIndex.from_frame(sr[["outcome", "care_model"]])
        py = pd.to_numeric(key["person_years"], errors="coerce").reindex(idx).to_numpy(float)
        ev = _num(key.reset_index(), "events")
        ev = pd.Series(ev, index=key.index).reindex(idx).to_numpy(float)
        # model-based rates are per 1,000 person-years
        _ratio(ctx, "standardised_rates", sr.where(rows), "estimate", py, "events", 1000.0,
               num_pub=ev)
    rr = tables.get("rate_ratios")
    if rr is not None and {"model", "adjustment", "term", "outcome"} <= set(rr):
        ref = [m for m in cr["care_model"].unique() if m not in set(rr["term"]) and m != "all"]
        crude = rr[rr["model"].isin(["poisson", "negbin"]) & (rr["adjustment"] == "crude")
                   & (rr.get("exposure", "person_years") == "person_years")]
        if len(ref) != 1:
            return
        evs = pd.Series(_num(cr, "events"), index=key.index)
        pys = pd.to_numeric(key["person_years"], errors="coerce")
        for i, row in crude.iterrows():
            try:
                ea, e0 = evs[(row["outcome"], row["term"])], evs[(row["outcome"], ref[0])]
                pa, p0 = pys[(row["outcome"], row["term"])], pys[(row["outcome"], ref[0])]
            except KeyError:
                continue
            est = float(pd.to_numeric(row["estimate"], errors="coerce"))
            if not np.isfinite(est):
                continue
            ca = (np.arange(1.0, ctx.suppress_max + 1) if np.isnan(ea) else
                  np.arange(max(1.0, ea - ctx.slack), ea + ctx.slack + 1))
            c0 = (np.arange(1.0, ctx.suppress_max + 1) if np.isnan(e0) else
                  np.arange(max(1.0, e0 - ctx.slack), e0 + ctx.slack + 1))
            a, b = np.meshgrid(ca, c0)
            match = np.abs((a / pa) / (b / p0) - est) < _TOL * est
            pairs = set(zip(a[match], b[match], strict=True))
            # explained by the published counts, or not pinned down: nothing learnt
            if (ea, e0) in pairs or len(pairs) != 1:
                continue
            for x, y in pairs:
                if ctx.bad(x) or ctx.bad(y):
                    ctx.add("rate_ratios", int(rr.index.get_loc(i)), "estimate", x,
                            "rate_ratio", f"crude Poisson RR = ({x:g}/py)/({y:g}/py_ref)")


def _costs(ctx: _Ctx, name: str, t: pd.DataFrame, unit_costs: pd.DataFrame) -> None:
    if not {"item", "cost"} <= set(t):
        return
    cost, units = _num(t, "cost"), _num(t, "units")
    derived = _num(t, "cost_per_resident_year") * _num(t, "person_years")
    schemes = t["scheme"].fillna("").astype(str) if "scheme" in t else pd.Series(
        "", index=t.index)
    items = t["item"].astype(str).to_numpy()
    groups = t.get("service_group", pd.Series("", index=t.index)).astype(str).to_numpy()
    for scheme in pd.unique(schemes):
        costs_of = unit_costs_of(unit_costs, scheme or None)
        rows = np.flatnonzero((schemes == scheme).to_numpy())
        for i in rows:
            c = costs_of.get(items[i])
            if c is None:
                continue
            for col, x in (("cost", cost[i]), ("cost_per_resident_year", derived[i])):
                if not np.isfinite(x) or x <= 0:
                    continue
                lo, hi = ((1.0, ctx.suppress_max) if np.isnan(units[i]) else
                          (units[i] - ctx.slack, units[i] + ctx.slack))
                if len(c) == 1:
                    q = x / c[0]
                    if _integral(np.array([q]))[0] and q != units[i] and ctx.bad(round(q)):
                        ctx.add(name, i, col, round(q), "unit_cost", f"{col} / {c[0]:.2f}")
                elif len(c) == 2:
                    b = np.arange(0.0, np.floor(x / c[1]) + 1)
                    a = (x - b * c[1]) / c[0]
                    ok = _integral(a) & (a > -0.5) & (a + b >= lo) & (a + b <= hi)
                    if ok.sum() == 1:
                        k = int(np.flatnonzero(ok)[0])
                        tot = float(np.round(a[k]) + b[k])
                        if ctx.bad(tot) or ctx.bad(float(np.round(a[k]))) or ctx.bad(b[k]):
                            ctx.add(name, i, col, tot, "unit_cost",
                                    f"{np.round(a[k]):g} x {c[0]:.2f} + {b[k]:g} x {c[1]:.2f}")
        # total minus parts, per care model
        sub = t.iloc[rows]
        for _, g in sub.groupby("care_model", sort=False) if "care_model" in sub else []:
            pos = [t.index.get_loc(j) for j in g.index]
            total = [p for p in pos if items[p] == "total"]
            if len(total) != 1 or not np.isfinite(cost[total[0]]):
                continue
            parts = [p for p in pos if items[p] != "total" and groups[p] != "derived_outcome"]
            hidden = [p for p in parts if np.isnan(cost[p])]
            if not 1 <= len(hidden) <= 4:
                continue
            found = [costs_of.get(items[p]) for p in hidden]
            cs = [c for c in found if c is not None and len(c) == 1]
            if len(cs) != len(found):
                continue
            rest = cost[total[0]] - np.nansum(cost[parts])
            unit = np.array([c[0] for c in cs])
            combos = np.array(list(product(range(1, ctx.suppress_max + 1), repeat=len(hidden))),
                              dtype=float)
            match = np.abs(combos @ unit - rest) < _TOL * max(abs(rest), 1.0) * 10
            constant = float(round_counts(np.array([1.0]), ctx.round_to, ctx.rounding)[0])
            for m in combos[match]:
                # every suppressed item at the published total's constant: nothing learnt
                if np.all(m == constant):
                    continue
                for p, u in zip(hidden, m, strict=True):
                    ctx.add(name, p, "units", u, "total_minus_parts",
                            f"total - shown items = sum of units x unit cost ({m.tolist()})")


def check_tables(tables: dict[str, pd.DataFrame], *, unit_costs: pd.DataFrame | None = None,
                 suppress_max: int = 7, round_to: int = 5,
                 rounding: str = "nearest") -> list[Finding]:
    """Run every attack on published tables (``name -> table as read from CSV``)."""
    ctx = _Ctx(suppress_max, round_to, rounding)
    for name, t in tables.items():
        t = t.reset_index(drop=True)
        _counts(ctx, name, t)
        if name in _CURVES:
            _curves(ctx, name, t)
        if name in ("costs", "costs_sensitivity") and unit_costs is not None:
            _costs(ctx, name, t, unit_costs)
    _rates(ctx, {k: v.reset_index(drop=True) for k, v in tables.items()})
    return ctx.findings


def check_published(results_dir: str | Path, *, unit_costs: pd.DataFrame | None = None,
                    suppress_max: int = 7, round_to: int = 5,
                    rounding: str = "nearest") -> list[Finding]:
    """Attack ``results_dir/published/tables/*.csv`` (or ``results_dir/*.csv``); see module doc.

    ``unit_costs`` is the public unit-cost table re-based to the reporting
    price year (:func:`optimal_analysis.report.costs.public_unit_costs`);
    without it the cost attacks are skipped. Returns the findings (empty = no
    count recovered).
    """
    root = Path(results_dir)
    folder = root / "published" / "tables"
    if not folder.is_dir():
        folder = root
    tables = {p.stem: pd.read_csv(p, dtype={"care_model": str}) for p in sorted(
        folder.glob("*.csv"))}
    return check_tables(tables, unit_costs=unit_costs, suppress_max=suppress_max,
                        round_to=round_to, rounding=rounding)


def format_findings(findings: list[Finding], limit: int = 10) -> str:
    """A readable summary: counts by attack, then the first ``limit`` findings."""
    if not findings:
        return "no count recovered from the published tables"
    by = pd.Series([f.attack for f in findings]).value_counts()
    head = ", ".join(f"{k}: {v}" for k, v in by.items())
    lines = [f"{len(findings)} count(s) recoverable from the published tables ({head}):"]
    lines += [f"  {f}" for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"  ... and {len(findings) - limit} more")
    return "\n".join(lines)
