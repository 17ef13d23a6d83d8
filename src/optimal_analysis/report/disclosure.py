"""Disclosure control: small-number suppression and rounding of results tables.

The rules (results contract, "Disclosure control"):

* a *count* (of people, events, contacts, bed days, units) from 1 to
  ``suppress_max`` is suppressed; 0 stays 0; every other count is rounded to the
  nearest multiple of ``round_to`` (halves rounded up; a positive count never
  rounds to 0, it shows as ``round_to``);
* every statistic *derived* from a suppressed count (a rate, mean, SD,
  percentage, number at risk, cost of the cell, and the confidence limits of
  these) is suppressed with it. A statistic that would give the count away
  (a percentage, a rate) follows secondary suppression too; a mean or SD of a
  variable only follows primary suppression of its own count
  (``TableSpec.derived_primary``), since it does not reveal how many;
* *secondary suppression*: where cells of a count add up to a known total (the
  care models of an outcome, the levels of a variable, the items of a cost
  total), a group with exactly one suppressed cell would let a reader recover
  it by subtraction, so the next-smallest cell of the group is suppressed as
  well (positive cells first; a zero only if no positive cell is left). This is
  repeated over all groupings until every group has none or at least two
  suppressed cells;
* percentages, crude rates and their exact CIs are *recomputed from the
  rounded counts* (``TableSpec.recompute``), so that a ratio cannot be inverted
  to recover an unrounded count (person-years are not counts and are kept);
* model estimates and their CIs (rate ratios, hazard ratios, model-based
  standardised rates) are not suppressed; their ``n`` columns are.

A suppressed value is written as :data:`MARKER` (``"[c]"``, "confidential").
Counts of care homes (``n_clusters``) are counts of organisations, not of
people, and are published as they are.

Every table has a declarative :class:`TableSpec` in :data:`TABLE_SPECS`: the one
place that says which columns are counts, which statistics derive from which
counts, and which groups of rows add up.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from optimal_analysis.report.balance import WEIGHTING_SPECS
from optimal_analysis.report.economics_rounding import ECONOMICS_STATS, round_economics
from optimal_analysis.report.economics_rounding import SUPPRESSED_WITH as _BOTH
from optimal_analysis.report.rounding import (
    ROUNDING_SCHEMES,
    is_rounded,
    round_counts,
    rounding_slack,
)
from optimal_analysis.report.spec import SecondaryGroup, TableSpec
from optimal_analysis.stats.binomial import clopper_pearson
from optimal_analysis.stats.poisson import exact_poisson_rate_ci
from optimal_analysis.stats.smd import smd_binary
from optimal_analysis.tidy import MARKER

__all__ = [
    "MARKER",
    "SecondaryGroup",
    "TableSpec",
    "TABLE_SPECS",
    "disclose",
    "disclose_named",
    "disclosure_mask",
    "is_rounded",
    "round_counts",
    "rounding_slack",
    "ROUNDING_SCHEMES",
]

logger = logging.getLogger(__name__)


def _rates_from_rounded(t: pd.DataFrame) -> dict[str, pd.Series]:
    """rate = events / person_years with exact Poisson limits, where the table had limits."""
    events = t["events"].astype(float).to_numpy()
    rate, low, high = exact_poisson_rate_ci(events, t["person_years"].to_numpy(dtype=float))
    has_ci = t["conf_low"].notna().to_numpy()
    return {
        "rate": pd.Series(events / t["person_years"].to_numpy(dtype=float), index=t.index),
        "conf_low": pd.Series(np.where(has_ci, low, np.nan), index=t.index),
        "conf_high": pd.Series(np.where(has_ci, high, np.nan), index=t.index),
    }


def _share_from_rounded(t: pd.DataFrame) -> dict[str, pd.Series]:
    """place_of_death: share = deaths_in_hospital / deaths with its exact binomial limits,
    from the rounded counts (a share of the exact counts would give them away)."""
    x = t["deaths_in_hospital"].astype(float).to_numpy()
    n = t["deaths"].astype(float).to_numpy()
    ok = np.isfinite(x) & np.isfinite(n) & (x <= n)
    share, low, high = clopper_pearson(np.where(ok, x, 0), np.where(ok, n, 0))
    return {c: pd.Series(np.where(ok, v, np.nan), index=t.index)
            for c, v in (("share", share), ("conf_low", low), ("conf_high", high))}


def _baseline_percent(t: pd.DataFrame) -> dict[str, pd.Series]:
    """percent = 100 n / (residents of the care model), both rounded; empty where it was.

    The SMD of a categorical level is recomputed from those percentages (it
    would otherwise give away the unrounded proportion); SMDs of means are kept.
    """
    n_model = t["care_model"].map(
        t.loc[t["variable"] == "residents"].set_index("care_model")["n"].astype(float)
    )
    percent = (100.0 * t["n"].astype(float) / n_model).where(t["percent"].notna())
    p = percent / 100
    ref = t["is_reference"].astype(bool)
    p_ref = pd.Series(list(zip(t["variable"], t["level"], strict=True)), index=t.index).map(
        p[ref].set_axis(list(zip(t.loc[ref, "variable"], t.loc[ref, "level"], strict=True)))
    )
    categorical = ~t["level"].isin(["mean_sd", "missing", "total"]) & t["smd"].notna()
    smd = pd.Series(smd_binary(p.to_numpy(dtype=float), p_ref.to_numpy(dtype=float)), index=t.index)
    return {"percent": percent, "smd": t["smd"].where(~categorical, smd)}


def _service_use_ratios(t: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        "percent_with_any": 100.0
        * t["residents_with_any"].astype(float)
        / t["residents"].astype(float),
        "contacts_per_resident_year": t["contacts"].astype(float) / t["person_years"].astype(float),
    }


_CI = ("conf_low", "conf_high")
_CI_SMALL = ("conf_low_small", "conf_high_small")  # small-sample limits, where a table has them
_RATE_STATS = {"rate": ("events", "residents"), "person_years": ("residents",)}
_COST_STATS = {c: ("units",) for c in ("cost", "cost_per_resident_year", *_CI, *_CI_SMALL)}
# Curves: the estimate and its limits are suppressed where fewer than the threshold are at
# risk; a day's number of events is a count of its own (suppressed, not propagated).
_CURVE_STATS = {c: ("n_at_risk",) for c in ("estimate", "std_error", *_CI, *_CI_SMALL)}
_MODEL_N = frozenset({"n_residents", "n_events", "n"})

#: km_summary statistics derived from each row's residents (suppressed with them).
_KM_SUMMARY_STATS = (
    "median_days",
    "median_conf_low",
    "median_conf_high",
    "rmst_days",
    "rmst_std_error",
    "rmst_conf_low",
    "rmst_conf_high",
)

#: The disclosure spec of every table under ``tables/`` that is published.
TABLE_SPECS: dict[str, TableSpec] = {
    "crude_rates": TableSpec(
        counts=("residents", "events"),
        derived={**_RATE_STATS, **{c: ("events", "residents") for c in _CI}},
        secondary=(
            SecondaryGroup("events", ("outcome",)),
            SecondaryGroup("residents", ("outcome",)),
        ),
        recompute=_rates_from_rounded,
    ),
    "rate_ratios": TableSpec(
        counts=("n_residents", "n_dropped"), optional=frozenset({"n_dropped"})
    ),
    "scheme_effects": TableSpec(), "event_study": TableSpec(), "power": TableSpec(),  # homes
    "scheme_rates": TableSpec(counts=("events",)),  # rate = events / person_years, redrawn
    "optional_data": TableSpec(
        counts=("records", "missing"),
        derived={"share_missing": ("records", "missing")},
        recompute=lambda t: {"share_missing": t["missing"].astype(float)
                             / t["records"].astype(float).where(t["records"].astype(float) > 0)},
    ),
    "place_of_death": TableSpec(
        counts=("deaths", "deaths_in_hospital"),
        derived={c: ("deaths_in_hospital", "deaths") for c in ("share", *_CI)},
        recompute=_share_from_rounded,
    ),
    "hazard_ratios": TableSpec(counts=tuple(sorted(_MODEL_N)), optional=_MODEL_N),
    "standardised_rates": TableSpec(
        counts=("n_residents", "residents", "events"),
        optional=frozenset({"n_residents", "residents", "events"}),
    ),
    "costs": TableSpec(
        counts=("units", "residents"),
        derived={**_COST_STATS, "person_years": ("residents",)},
        secondary=(SecondaryGroup("units", ("care_model",)),),
        optional=frozenset({"residents", "person_years", *_CI_SMALL}),
    ),
    "costs_sensitivity": TableSpec(
        counts=("units", "residents"),
        derived={**_COST_STATS, "person_years": ("residents",)},
        secondary=(SecondaryGroup("units", ("care_model", "scheme")),),
        optional=frozenset({"residents", "person_years", *_CI_SMALL}),
    ),
    "cumulative_incidence": TableSpec(
        counts=("n_at_risk", "n_events", "n_censored"),
        derived=_CURVE_STATS,
        optional=frozenset({"n_events", "n_censored", "std_error", *_CI_SMALL}),
    ),
    "at_risk": TableSpec(counts=("n_at_risk",)),
    "km": TableSpec(
        counts=("n_at_risk", "n_events", "n_censored"),
        derived=_CURVE_STATS,
        optional=frozenset({"n_events", "n_censored", "std_error", *_CI_SMALL}),
    ),
    "km_summary": TableSpec(
        counts=("n", "n_residents", "events", "n_events"),
        derived={c: ("n_residents",) for c in _KM_SUMMARY_STATS},
        optional=frozenset({"n", "n_residents", "events", "n_events", *_KM_SUMMARY_STATS}),
    ),
    "ph_tests": TableSpec(),
    "baseline": TableSpec(
        counts=("n",),
        # a category's SMD gives its percentage away; the SMD of a mean does not
        derived={"percent": ("n",), "smd": ("percent",)},
        derived_primary={c: ("n",) for c in ("mean", "sd", "smd")},
        secondary=(SecondaryGroup("n", ("variable", "care_model")),),
        recompute=_baseline_percent,
    ),
    "service_use": TableSpec(
        counts=("residents", "residents_with_any", "contacts"),
        derived={
            "person_years": ("residents",),
            "percent_with_any": ("residents_with_any", "residents"),
            "contacts_per_resident_year": ("contacts", "residents"),
        },
        secondary=(SecondaryGroup("contacts", ("care_model",)),),
        recompute=_service_use_ratios,
    ),
    "data_flow": TableSpec(
        counts=("rows",),
        secondary=(SecondaryGroup("rows", ("region", "table")),),
        exempt={"table": frozenset({"care_homes"})},
    ),
    **{name: TableSpec(**kw) for name, kw in WEIGHTING_SPECS.items()},  # report/balance.py
    "cohort_summary": TableSpec(
        counts=("residents", "deaths"),
        derived={"person_years": ("residents",), "median_follow_up_days": ("residents",)},
        secondary=(SecondaryGroup("residents", ()), SecondaryGroup("deaths", ())),
    ),
    "economics": TableSpec(
        counts=(*_BOTH, "admissions"), optional=frozenset(ECONOMICS_STATS),
        derived={**dict.fromkeys(ECONOMICS_STATS, _BOTH),
                 "admissions_per_resident_year": ("admissions", "residents")},
        recompute=round_economics),
    "economics_replicates": TableSpec(
        counts=_BOTH, recompute=round_economics,
        derived=dict.fromkeys(("incremental_cost", "admissions_avoided"), _BOTH)),
    "economics_saving_curve": TableSpec(counts=_BOTH, recompute=round_economics,
                                        derived={"prob_cost_saving": _BOTH}),
}


def _check_columns(table: pd.DataFrame, spec: TableSpec, name: str) -> None:
    derivations = {**spec.derived, **spec.derived_primary}
    needed = set(spec.counts) | set(derivations) | {c for d in derivations.values() for c in d}
    needed |= set(spec.exempt)
    needed |= {g.count for g in spec.secondary} | {c for g in spec.secondary for c in g.by}
    missing = sorted(needed - set(table.columns) - spec.optional)
    if missing:
        raise ValueError(f"table {name!r} lacks column(s) its disclosure spec names: {missing}")


def _secondary(table: pd.DataFrame, mask: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Add secondary suppressions until no group has exactly one suppressed cell."""
    groups = [g for g in spec.secondary if g.count in mask and all(c in table for c in g.by)]
    for _ in range(len(table) + 1):
        changed = False
        for g in groups:
            # an empty ``by`` makes the whole table one group
            keys = [table[c] for c in g.by] or [pd.Series(0, index=table.index)]
            sup = mask[g.count]
            grouped = sup.groupby(keys, dropna=False)
            exposed = (grouped.transform("sum") == 1) & (grouped.transform("size") >= 2)
            values = pd.to_numeric(table[g.count], errors="coerce")
            cand = exposed & ~sup & values.notna()
            if not cand.any():
                continue
            order = pd.DataFrame({"zero": values[cand] == 0, "value": values[cand]})
            by = list(g.by) or ["_all"]
            order[by] = table.loc[cand, list(g.by)] if g.by else 0
            order = order.sort_values(["zero", "value"], kind="stable")
            picked = order.groupby(by, dropna=False).head(1).index
            mask.loc[picked, g.count] = True
            changed = True
        if not changed:
            return mask
    raise RuntimeError("secondary suppression did not converge")  # pragma: no cover


def disclosure_mask(
    table: pd.DataFrame, spec: TableSpec, *, suppress_max: int, name: str = "table"
) -> pd.DataFrame:
    """Boolean frame (same index, spec columns present in ``table``): True = suppress.

    Primary suppression of counts in 1..suppress_max, secondary suppression by
    the spec's groups, then every derived statistic of a suppressed count.
    """
    _check_columns(table, spec, name)
    counts = [c for c in spec.counts if c in table]
    exempt = pd.Series(False, index=table.index)
    for col, values in spec.exempt.items():
        exempt |= table[col].isin(values)
    mask = pd.DataFrame(index=table.index)
    for c in counts:
        x = pd.to_numeric(table[c], errors="coerce")
        mask[c] = ((x >= 1) & (x <= suppress_max)).fillna(False).astype(bool) & ~exempt
    primary = mask.copy()
    mask = _secondary(table, mask, spec)
    stats: dict[str, pd.Series] = {}
    for stat, sources in spec.derived.items():
        present = [mask[s] if s in mask else stats[s] for s in sources if s in mask or s in stats]
        if stat in table and present:
            stats[stat] = pd.concat(present, axis=1).any(axis=1) & table[stat].notna()
    for stat, sources in spec.derived_primary.items():
        present = [s for s in sources if s in primary]
        if stat in table and present:
            stats[stat] = stats.get(stat, pd.Series(False, index=table.index)) | primary[
                present
            ].any(axis=1)
    for stat, m in stats.items():
        # an empty cell stays empty: there is nothing to suppress
        mask[stat] = m & table[stat].notna()
    return mask


def disclose(
    table: pd.DataFrame,
    spec: TableSpec,
    *,
    suppress_max: int,
    round_to: int,
    name: str = "table",
    marker: str = MARKER,
    rounding: str = "nearest",
) -> pd.DataFrame:
    """A publishable copy of ``table``: counts rounded, small cells and their statistics suppressed.

    Parameters
    ----------
    table
        An unsuppressed results table (as under ``tables/``).
    spec
        Its :class:`TableSpec` (usually ``TABLE_SPECS[name]``).
    suppress_max, round_to
        Counts 1..suppress_max are suppressed (7 by default; 9 for "fewer than
        10"); other counts are rounded to the nearest ``round_to``.
    rounding
        ``nearest`` (to ``round_to``) or ``midpoint6`` (:func:`round_counts`).
    marker
        What a suppressed cell shows.

    Returns
    -------
    DataFrame
        Same rows and columns; count columns hold rounded integers, and any
        column with a suppressed cell is of object dtype holding ``marker``
        there. The input is not modified.
    """
    if round_to < 1 or suppress_max < 0:
        raise ValueError(
            f"need round_to >= 1 and suppress_max >= 0, got {round_to}, {suppress_max}"
        )
    mask = disclosure_mask(table, spec, suppress_max=suppress_max, name=name)
    out = table.copy()
    keep = pd.Series(False, index=out.index)
    for col, values in spec.exempt.items():
        keep |= out[col].isin(values)
    for c in spec.counts:
        if c in out:
            raw = pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float)
            rounded = np.where(keep.to_numpy(), raw, round_counts(raw, round_to, rounding))
            out[c] = pd.array(np.where(np.isnan(rounded), np.nan, rounded), dtype="Float64").astype(
                "Int64"
            )
    if spec.recompute is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            for c, values in spec.recompute(out).items():
                out[c] = values.replace([np.inf, -np.inf], np.nan)
    for c in mask.columns:
        if mask[c].any():
            out[c] = out[c].astype(object).where(~mask[c], marker)
    n_cells = int(mask.to_numpy().sum())
    logger.info("%s: %d cell(s) suppressed (suppress_max=%d, round_to=%d)", name, n_cells,
                suppress_max, round_to)
    return out


def disclose_named(
    table: pd.DataFrame,
    name: str,
    *,
    suppress_max: int,
    round_to: int,
    marker: str = MARKER,
    rounding: str = "nearest",
) -> pd.DataFrame:
    """:func:`disclose` with the spec of table ``name`` from :data:`TABLE_SPECS`."""
    if name not in TABLE_SPECS:
        raise KeyError(f"no disclosure spec for table {name!r}; known: {sorted(TABLE_SPECS)}")
    return disclose(table, TABLE_SPECS[name], suppress_max=suppress_max, round_to=round_to,
                    name=name, marker=marker, rounding=rounding)


def disclose_tables(tables: dict[str, pd.DataFrame], *, suppress_max: int,
                    round_to: int, rounding: str = "nearest") -> dict[str, pd.DataFrame]:
    """Cell-by-cell disclosure of each named table (see :func:`disclose_named`).

    This alone is *not* safe for curves and costs (their statistics are exact
    functions of the counts): :func:`optimal_analysis.report.publish.publish`
    is the publish step.
    """
    return {name: disclose_named(t, name, suppress_max=suppress_max, round_to=round_to,
                                 rounding=rounding)
            for name, t in tables.items()}
