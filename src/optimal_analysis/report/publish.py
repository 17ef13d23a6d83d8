"""The publish step: every published table from disclosure-safe inputs, then the attack suite.

* curves (km, cumulative_incidence): :mod:`optimal_analysis.report.curves`;
* costs (costs, costs_sensitivity): :mod:`optimal_analysis.report.costs`;
* crude model rates (rate_ratios and standardised_rates rows with ``model``
  poisson or negbin and ``adjustment = crude``): their estimates are functions
  of the event counts (``RR = (e_a/py_a)/(e_0/py_0)``, rate ``= e/py``), so they
  are recomputed from the rounded counts of crude_rates and their limits moved
  with them (same ratio, or same difference, as the exact limits: the width
  comes from the cluster-robust standard error, not from the counts); rows of
  a care model whose events are suppressed are suppressed;
* every other table: suppression and rounding cell by cell
  (:func:`optimal_analysis.report.disclosure.disclose_named`).

:func:`publish` returns the tables; :class:`DisclosureError` is raised by
:func:`assert_safe` when :func:`~optimal_analysis.report.check.check_tables`
recovers any count.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis.report.check import Finding, check_tables, format_findings
from optimal_analysis.report.costs import publish_costs
from optimal_analysis.report.curves import publish_cumulative_incidence, publish_km
from optimal_analysis.report.disclosure import MARKER, TABLE_SPECS, disclose_named, disclosure_mask
from optimal_analysis.report.rounding import round_counts

__all__ = ["DisclosureError", "assert_safe", "publish"]

logger = logging.getLogger(__name__)


class DisclosureError(RuntimeError):
    """Counts can be recovered from the tables about to be published."""


_CRUDE = ("poisson", "negbin")


def _crude_factor(crude_rates: pd.DataFrame, *, suppress_max: int, round_to: int,
                  rounding: str) -> tuple[pd.Series, pd.Series]:
    """``(outcome, care_model) -> r(e)/e`` and ``-> suppressed?`` from crude_rates."""
    cr = crude_rates.reset_index(drop=True)
    mask = disclosure_mask(cr, TABLE_SPECS["crude_rates"], suppress_max=suppress_max,
                           name="crude_rates")
    e = cr["events"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(e > 0, round_counts(e, round_to, rounding) / e, 1.0)
    idx = pd.MultiIndex.from_frame(cr[["outcome", "care_model"]])
    return pd.Series(factor, index=idx), pd.Series(mask["events"].to_numpy(), index=idx)


def _crude_rows(table: pd.DataFrame, crude_rates: pd.DataFrame | None, *, ratio: bool,
                suppress_max: int, round_to: int, rounding: str) -> pd.DataFrame:
    """Crude Poisson / negative binomial rows recomputed from the rounded events.

    With care model the only covariate, the fitted rate of a care model is its
    crude rate ``e/py`` (and a rate ratio a ratio of two): the estimate and its
    limits are multiplied by ``r(e)/e`` (by ``(r(e_a)/e_a)/(r(e_0)/e_0)`` for a
    ratio), a rate difference is recomputed from the published rates and its
    limits shifted with it, and rows of a care model whose events are
    suppressed are suppressed.
    """
    need = {"model", "adjustment", "outcome", "estimate"}
    if crude_rates is None or not need <= set(table) or not len(table):
        return table
    t = table.copy()
    factor, hidden = _crude_factor(crude_rates, suppress_max=suppress_max, round_to=round_to,
                                   rounding=rounding)
    crude = (t["model"].isin(_CRUDE) & (t["adjustment"] == "crude")).to_numpy()
    limits = [c for c in t.columns if c.startswith("conf_")]
    num = {c: pd.to_numeric(t[c], errors="coerce").to_numpy(float)
           for c in ["estimate", "std_error", *limits] if c in t}
    model_of = "term" if ratio else "care_model"
    terms = set(t[model_of])
    refs = [m for m in crude_rates["care_model"].unique() if m not in terms and m != "all"]
    ref = refs[0] if len(refs) == 1 else None

    def at(series: pd.Series, models: pd.Series) -> np.ndarray:
        return series.reindex(pd.MultiIndex.from_arrays([t["outcome"], models])).to_numpy()

    f_own, h_own = at(factor, t[model_of]).astype(float), at(hidden, t[model_of])
    f_ref = at(factor, pd.Series([ref] * len(t))).astype(float) if ref else np.ones(len(t))
    h_ref = at(hidden, pd.Series([ref] * len(t))) if ref else np.zeros(len(t), dtype=object)
    hide = crude & (pd.Series(h_own).fillna(False).astype(bool).to_numpy())
    if ratio:
        f = f_own / f_ref
        hide |= crude & pd.Series(h_ref).fillna(False).astype(bool).to_numpy()
        scale = crude & np.isfinite(f)
        for c in ["estimate", *limits]:
            num[c] = np.where(scale, num[c] * f, num[c])
    else:
        measure = t["measure"].to_numpy() if "measure" in t else np.full(len(t), "rate")
        rate = crude & (measure == "rate") & np.isfinite(f_own)
        for c in ["estimate", "std_error", *limits]:
            if c in num:
                num[c] = np.where(rate, num[c] * f_own, num[c])
        diff = crude & (measure == "rate_difference")
        if diff.any() and ref is not None:
            keys = [c for c in ("outcome", "model", "adjustment", "exposure") if c in t]
            rates = pd.Series(np.where(rate, num["estimate"], np.nan),
                              index=pd.MultiIndex.from_frame(t[[*keys, "care_model"]]))
            rates = rates[rates.notna()]
            own = rates.reindex(pd.MultiIndex.from_frame(t[[*keys, "care_model"]])).to_numpy()
            base = rates.reindex(pd.MultiIndex.from_frame(
                t[keys].assign(care_model=ref))).to_numpy()
            delta = np.where(diff, own - base - num["estimate"], 0.0)
            for c in ["estimate", *limits]:
                num[c] = np.where(np.isfinite(delta), num[c] + delta, num[c])
            hide |= diff & pd.Series(h_ref).fillna(False).astype(bool).to_numpy()
    for c, v in num.items():
        t[c] = v
    stats = [c for c in ("estimate", "std_error", "p_value", *limits) if c in t]
    stats += [c for c in t.columns if c.startswith("p_value") and c not in stats]
    for c in stats:
        t[c] = t[c].astype(object).where(~hide, MARKER)
    return t


def publish(tables: dict[str, pd.DataFrame], *, suppress_max: int, round_to: int,
            rounding: str = "nearest", curve_grid_days: int = 30,
            unit_costs: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The published copy of each named table (see module doc)."""
    kw: dict[str, Any] = {"suppress_max": suppress_max, "round_to": round_to, "rounding": rounding}
    curve_kw: dict[str, Any] = {"grid_days": curve_grid_days, "min_events": suppress_max + 1,
                "round_to": round_to, "rounding": rounding}
    crude_rates = tables.get("crude_rates")
    out: dict[str, pd.DataFrame] = {}
    for name, t in tables.items():
        if name == "km":
            out[name] = publish_km(t, **curve_kw)
        elif name == "cumulative_incidence":
            out[name] = publish_cumulative_incidence(t, **curve_kw)
        elif name in ("costs", "costs_sensitivity"):
            if unit_costs is None:
                raise ValueError(f"publishing {name} needs the public unit costs (unit_costs=): "
                                 "exact costs beside rounded units give the units back")
            out[name] = publish_costs(t, name, unit_costs, **kw)
        elif name == "rate_ratios":
            out[name] = disclose_named(_crude_rows(t, crude_rates, ratio=True, **kw), name, **kw)
        elif name == "standardised_rates":
            out[name] = disclose_named(_crude_rows(t, crude_rates, ratio=False, **kw), name,
                                       **kw)
        else:
            out[name] = disclose_named(t, name, **kw)
    return out


def assert_safe(published: dict[str, pd.DataFrame], *, suppress_max: int, round_to: int,
                rounding: str = "nearest", unit_costs: pd.DataFrame | None = None,
                limit: int = 10) -> list[Finding]:
    """Run the attack suite on tables about to be published; raise if anything is recovered."""
    findings = check_tables(published, unit_costs=unit_costs, suppress_max=suppress_max,
                            round_to=round_to, rounding=rounding)
    if findings:
        raise DisclosureError(
            format_findings(findings, limit)
            + "\nNothing was published. These numbers would give back counts that disclosure "
            "control hides (docs/disclosure.md): fix the publish step, do not share the tables.")
    logger.info("attack suite: no count recovered from %d published table(s)", len(published))
    return findings
