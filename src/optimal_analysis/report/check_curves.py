"""The disclosure check's shared pieces and its attacks on published curves.

A finding, the rules (:class:`Ctx`), reading published numbers, and the
``curve_step`` and ``greenwood`` attacks; see :mod:`optimal_analysis.report.check`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimal_analysis.report.rounding import is_rounded, rounding_slack
from optimal_analysis.report.spec import curve_family
from optimal_analysis.tidy import MARKER

__all__ = ["TOL", "Ctx", "Finding", "at_risk_derived", "attack_curves", "integral", "num"]

#: A recovered count must be an integer to this (the CSVs carry 10 significant figures).
TOL = 1e-6


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


class Ctx:
    """The disclosure rules and the findings so far."""

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


def num(t: pd.DataFrame, col: str) -> np.ndarray:
    """A published column as floats (NaN for the marker and blanks)."""
    if col not in t:
        return np.full(len(t), np.nan)
    return pd.to_numeric(t[col].where(t[col].astype(str) != MARKER), errors="coerce").to_numpy(
        dtype=float)


def integral(x: np.ndarray) -> np.ndarray:
    """An integer to within the precision of 10-significant-figure CSVs."""
    with np.errstate(invalid="ignore"):
        return np.abs(x - np.round(x)) < np.maximum(TOL, 1e-9 * np.abs(x))


def at_risk_derived(t: pd.DataFrame) -> np.ndarray:
    """True where a curve's number at risk is the previous one minus the published events
    and censorings of the previous step (a function of published counts, not a new count)."""
    if not {"time", "n_at_risk", "n_events", "n_censored"} <= set(t):
        return np.zeros(len(t), dtype=bool)
    keys = [c for c in ("adjustment", "care_model") if c in t]
    n, d, c = num(t, "n_at_risk"), num(t, "n_events"), num(t, "n_censored")
    frame = pd.DataFrame({"k": t[keys].astype(str).agg("|".join, axis=1) if keys else "",
                          "time": t["time"], "n": n, "d": d, "c": c})
    step = frame.groupby(["k", "time"], sort=False).agg(n=("n", "first"), d=("d", "sum"),
                                                         c=("c", "first")).reset_index()
    step = step.sort_values(["k", "time"], kind="stable")
    prev = step.groupby("k")[["n", "d", "c"]].shift(1)
    step["ok"] = np.abs(step["n"] - (prev["n"] - prev["d"] - prev["c"])) < 1e-9
    ok = frame.merge(step[["k", "time", "ok"]], on=["k", "time"], how="left")["ok"]
    return ok.fillna(False).to_numpy(dtype=bool)


def _step_candidates(ctx: Ctx, h: float, n_pub: float, d_pub: float, n_max: float, *,
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


def _greenwood_candidates(ctx: Ctx, h: float, h_tol: float, n_pub: float,
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
    if not (n_pub > 0) or h_tol > TOL * h:
        return None  # suppressed at-risk, or SEs too coarse to single out a count
    tol = TOL * h
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


def attack_curves(ctx: Ctx, name: str, t: pd.DataFrame) -> None:
    if "estimate" not in t or "time" not in t:
        return
    est, n_pub, d_pub = num(t, "estimate"), num(t, "n_at_risk"), num(t, "n_events")
    c_pub = num(t, "n_censored")
    se = num(t, "std_error")
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
