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
    the slack of the published one (or 1..suppress_max where suppressed),
    unless the published count itself gives the limit (at a million events
    neighbouring counts give limits within 1e-6 of each other);
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

from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from optimal_analysis.report.check_curves import (
    TOL,
    Ctx,
    Finding,
    at_risk_derived,
    attack_curves,
    integral,
    num,
)
from optimal_analysis.report.disclosure import TABLE_SPECS
from optimal_analysis.report.rounding import is_rounded, round_counts
from optimal_analysis.stats.poisson import exact_poisson_rate_ci
from optimal_analysis.unit_costs import unit_costs_of

__all__ = ["Finding", "check_published", "check_tables", "format_findings"]

_CURVES = {"km": ["n_events", "n_censored"], "cumulative_incidence": ["n_events", "n_censored"]}


def _counts(ctx: Ctx, name: str, t: pd.DataFrame) -> None:
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
        x = num(t, col)
        if name in _CURVES and col in _CURVES[name] and keys:
            x = pd.Series(np.nan_to_num(x), index=t.index).groupby(
                [t[k] for k in keys]).cumsum().to_numpy()
        bad = ~exempt & ~np.isnan(x) & (((x >= 1) & (x <= ctx.suppress_max))
                                        | ~is_rounded(x, ctx.round_to, ctx.rounding))
        if name in _CURVES and col == "n_at_risk":
            bad &= ~at_risk_derived(t)
        for i in np.flatnonzero(bad):
            ctx.add(name, i, col, x[i], "count", "published count is small or not rounded")


def _ratio(ctx: Ctx, name: str, t: pd.DataFrame, stat: str, den: np.ndarray, num_col: str,
           scale: float = 1.0, num_pub: np.ndarray | None = None) -> None:
    if stat not in t:
        return
    x = num(t, stat) * den / scale
    pub = num(t, num_col) if num_pub is None else num_pub
    same = np.abs(x - pub) < TOL * np.maximum(1, np.abs(x))
    hit = np.isfinite(x) & (np.round(x) >= 1) & integral(x) & ~same
    for i in np.flatnonzero(hit):
        if ctx.bad(float(np.round(x[i]))):
            ctx.add(name, i, num_col, float(np.round(x[i])), "ratio",
                    f"{stat} x denominator{'' if scale == 1 else f' / {scale:g}'}")


def _rates(ctx: Ctx, tables: dict[str, pd.DataFrame]) -> None:
    cr = tables.get("crude_rates")
    if cr is not None:
        _ratio(ctx, "crude_rates", cr, "rate", num(cr, "person_years"), "events")
        ev, py = num(cr, "events"), num(cr, "person_years")
        for col, k in (("conf_low", 1), ("conf_high", 2)):
            lim = num(cr, col)
            for i in np.flatnonzero(np.isfinite(lim) & np.isfinite(py)):
                cand = (np.arange(1.0, ctx.suppress_max + 1) if np.isnan(ev[i]) else
                        np.arange(max(0.0, ev[i] - ctx.slack), ev[i] + ctx.slack + 1))
                tol = TOL * max(lim[i], 1e-9)
                if np.isfinite(ev[i]) and abs(exact_poisson_rate_ci(
                        np.array([ev[i]]), np.array([py[i]]))[k][0] - lim[i]) < tol:
                    continue  # the published count explains the limit: nothing learnt
                cand = cand[cand != ev[i]]
                vals = exact_poisson_rate_ci(cand, np.full(len(cand), py[i]))[k]
                for c in cand[np.abs(vals - lim[i]) < tol]:
                    if ctx.bad(c):
                        ctx.add("crude_rates", i, "events", c, "exact_ci", f"{col} inverted")
    su = tables.get("service_use")
    if su is not None:
        _ratio(ctx, "service_use", su, "contacts_per_resident_year", num(su, "person_years"),
               "contacts")
        _ratio(ctx, "service_use", su, "percent_with_any", num(su, "residents"),
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
        ev = num(key.reset_index(), "events")
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
        evs = pd.Series(num(cr, "events"), index=key.index)
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
            match = np.abs((a / pa) / (b / p0) - est) < TOL * est
            pairs = set(zip(a[match], b[match], strict=True))
            # explained by the published counts, or not pinned down: nothing learnt
            if (ea, e0) in pairs or len(pairs) != 1:
                continue
            for x, y in pairs:
                if ctx.bad(x) or ctx.bad(y):
                    ctx.add("rate_ratios", int(rr.index.get_loc(i)), "estimate", x,
                            "rate_ratio", f"crude Poisson RR = ({x:g}/py)/({y:g}/py_ref)")


def _costs(ctx: Ctx, name: str, t: pd.DataFrame, unit_costs: pd.DataFrame) -> None:
    if not {"item", "cost"} <= set(t):
        return
    cost, units = num(t, "cost"), num(t, "units")
    derived = num(t, "cost_per_resident_year") * num(t, "person_years")
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
                    if integral(np.array([q]))[0] and q != units[i] and ctx.bad(round(q)):
                        ctx.add(name, i, col, round(q), "unit_cost", f"{col} / {c[0]:.2f}")
                elif len(c) == 2:
                    b = np.arange(0.0, np.floor(x / c[1]) + 1)
                    a = (x - b * c[1]) / c[0]
                    ok = integral(a) & (a > -0.5) & (a + b >= lo) & (a + b <= hi)
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
            match = np.abs(combos @ unit - rest) < TOL * max(abs(rest), 1.0) * 10
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
    ctx = Ctx(suppress_max, round_to, rounding)
    for name, t in tables.items():
        t = t.reset_index(drop=True)
        _counts(ctx, name, t)
        if name in _CURVES:
            attack_curves(ctx, name, t)
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
