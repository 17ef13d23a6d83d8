"""Unit-cost tables and the inflation index: validation, re-basing, hospital-costing schemes.

The table format and every rule are in docs/unit_costs.md; the costing stage
(:mod:`optimal_analysis.costing`) uses these and re-exports them.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from optimal_analysis.outcomes import OUTCOMES

__all__ = [
    "ADMISSION_ITEMS",
    "BED_DAY_ITEMS",
    "DERIVED_SERVICE_GROUP",
    "InflationIndexError",
    "MissingUnitCostError",
    "SERVICE_GROUPS",
    "UnitCostTableError",
    "rebase_unit_costs",
    "schemes_in",
    "select_scheme",
    "unit_costs_of",
    "validate_inflation",
    "validate_unit_costs",
]

logger = logging.getLogger(__name__)

_GROUPED_ITEMS: dict[str, tuple[str, ...]] = {
    "primary care": ("gp_surgery", "gp_visit", "gp_phone", "practice_nurse", "pharmacist"),
    "community": ("district_nurse", "community_matron", "care_home_team", "physiotherapy",
                  "occupational_therapy", "speech_therapy", "dietitian", "podiatry"),
    "specialist": ("geriatrician", "mental_health", "outpatient"),
    "urgent and emergency": ("out_of_hours", "ambulance", "ae"),
    "hospital inpatient": ("emergency_admission", "emergency_bed_day", "elective_admission",
                           "elective_bed_day"),
}
#: Service group of each costed item, in display order (groups, then items).
SERVICE_GROUPS: dict[str, str] = {i: g for g, items in _GROUPED_ITEMS.items() for i in items}
#: ``service_group`` of costs.csv rows of a derived outcome's stays (docs/outcome_codes.md):
#: a subset of the emergency stays, shown beside them and never added into ``total``.
DERIVED_SERVICE_GROUP = "derived_outcome"
#: Items costed per admission and per bed day: those of the registry's admission outcomes
#: (:mod:`optimal_analysis.outcomes`) and of its bed-day outcome.
ADMISSION_ITEMS = tuple(i for o in OUTCOMES.values() if o.source == "admission_method"
                        for i in o.items)
BED_DAY_ITEMS = tuple(i for o in OUTCOMES.values() if o.source == "stays" for i in o.cost_items)
UNITS = ("contact", "admission", "bed_day")
REQUIRED_COLUMNS = ("item", "unit", "cost", "price_year", "source")


class UnitCostTableError(ValueError):
    """A unit-cost table breaks its format; the message lists every problem."""


class MissingUnitCostError(ValueError):
    """Events whose item has no unit cost; ``.missing`` holds item, events and rows."""

    def __init__(self, message: str, missing: pd.DataFrame) -> None:
        super().__init__(message)
        self.missing = missing


class InflationIndexError(ValueError):
    """The inflation index is malformed or lacks a year that re-basing needs."""


def _expected_unit(item: str) -> str:
    if item in ADMISSION_ITEMS:
        return "admission"
    if item in BED_DAY_ITEMS:
        return "bed_day"
    return "contact"


def validate_unit_costs(table: pd.DataFrame, *, name: str = "unit-cost table") -> pd.DataFrame:
    """Check a unit-cost table and return it normalised.

    Checks (all problems are collected, then raised together as
    :class:`UnitCostTableError` naming ``name`` and the CSV line of each row,
    line = row index + 2): required columns ``item, unit, cost, price_year,
    source``; ``unit`` is ``contact``/``admission``/``bed_day`` and matches the
    item (``*_admission`` → admission, ``*_bed_day`` → bed_day, else contact);
    ``cost`` finite and > 0 (GBP); ``price_year`` an integer year; ``source``
    non-empty; optional ``after_days`` (bed-day rows) and ``min_days``
    (admission rows) integers ≥ 0; optional ``scheme`` (blank = every scheme);
    no duplicate ``(scheme, item, min_days)`` within any scheme; every
    admission item with tiers has a ``min_days = 0`` tier.

    Returns a copy with ``after_days``, ``min_days`` (int) and ``scheme`` (str,
    "" for all schemes) filled in.
    """
    problems: list[str] = []
    missing_cols = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing_cols:
        raise UnitCostTableError(f"{name}: missing column(s) {', '.join(missing_cols)}")
    df = table.copy().reset_index(drop=True)
    line = df.index + 2
    df["item"] = df["item"].astype("string").str.strip()
    df["unit"] = df["unit"].astype("string").str.strip()
    df["source"] = df["source"].astype("string").str.strip()
    df["scheme"] = df["scheme"].astype("string").str.strip().fillna("") if "scheme" in df else ""
    cost = pd.to_numeric(df["cost"], errors="coerce")
    year = pd.to_numeric(df["price_year"], errors="coerce")

    def flag(mask: pd.Series, what: str) -> None:
        mask = mask.fillna(False).astype(bool)
        for ln, item in zip(line[mask.to_numpy()], df.loc[mask, "item"], strict=True):
            problems.append(f"line {ln} ({item}): {what}")

    flag(df["item"].isna() | (df["item"] == ""), "item is empty")
    flag(~df["unit"].isin(UNITS).fillna(False), f"unit must be one of {', '.join(UNITS)}")
    expected = df["item"].fillna("").map(_expected_unit)
    flag(df["unit"].isin(UNITS).fillna(False) & (df["unit"] != expected),
         "unit does not match the item (admission items: admission; *_bed_day: bed_day)")
    flag(~(np.isfinite(cost) & (cost > 0)).fillna(False), "cost must be a number > 0")
    flag(year.isna() | (year % 1 != 0), "price_year must be an integer year")
    flag(df["source"].isna() | (df["source"] == ""),
         "source is empty (cite it or write 'assumption: ...')")
    for col, unit in (("after_days", "bed_day"), ("min_days", "admission")):
        raw = df[col] if col in df else pd.Series(np.nan, index=df.index)
        days = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & (days.isna() | (days < 0) | (days % 1 != 0))
        flag(bad, f"{col} must be an integer >= 0")
        flag(raw.notna() & (days != 0) & (df["unit"] != unit), f"{col} applies to {unit} rows only")
        df[col] = days.fillna(0).astype("int64")
    for scheme in schemes_in(df) or [""]:
        sel = df[(df["scheme"] == "") | (df["scheme"] == scheme)]
        dup = sel.duplicated(["item", "min_days"], keep=False)
        flag(dup.reindex(df.index, fill_value=False),
             f"duplicate item{' in scheme ' + scheme if scheme else ''}")
        adm = sel[sel["unit"] == "admission"]
        no_zero = adm.groupby("item")["min_days"].transform("min") > 0
        flag(no_zero.reindex(df.index, fill_value=False),
             "admission item has no min_days = 0 tier")
    if problems:
        problems = list(dict.fromkeys(problems))  # a blank-scheme row is checked per scheme
        raise UnitCostTableError(f"{name}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    unknown = sorted(set(df["item"].dropna()) - set(SERVICE_GROUPS))
    if unknown:
        logger.warning("%s: items that are not contract codes: %s", name, ", ".join(unknown))
    df["cost"] = cost.astype(float)
    df["price_year"] = year.astype("int64")
    return df


def validate_inflation(index_table: pd.DataFrame, *, name: str = "inflation index") -> pd.Series:
    """Check an inflation table (columns ``year``, ``index``) and return index by year.

    Years must be unique integers and indices finite and > 0; problems raise
    :class:`InflationIndexError` naming ``name``.
    """
    missing = [c for c in ("year", "index") if c not in index_table.columns]
    if missing:
        raise InflationIndexError(f"{name}: missing column(s) {', '.join(missing)}")
    year = pd.to_numeric(index_table["year"], errors="coerce")
    idx = pd.to_numeric(index_table["index"], errors="coerce")
    problems = []
    bad_year = year.isna() | (year % 1 != 0)
    bad_idx = ~(np.isfinite(idx) & (idx > 0)).fillna(False)
    problems += [f"line {i + 2}: year must be an integer" for i in np.flatnonzero(bad_year)]
    problems += [f"line {i + 2}: index must be a number > 0" for i in np.flatnonzero(bad_idx)]
    dups = year[year.duplicated()].dropna().astype(int).unique()
    problems += [f"year {y} appears more than once" for y in dups]
    if problems:
        raise InflationIndexError(f"{name}: " + "; ".join(problems))
    return pd.Series(idx.to_numpy(float), index=year.astype("int64").to_numpy(), name="index")


def rebase_unit_costs(
    unit_costs: pd.DataFrame, inflation: pd.Series, *, price_year: int
) -> pd.DataFrame:
    """Add ``cost_gbp``: each row's cost at ``price_year`` prices.

    ``cost_gbp = cost × index[price_year] / index[row price_year]``, with the
    index from :func:`validate_inflation`. Every year needed but absent from
    the index is named in one :class:`InflationIndexError`.
    """
    needed = sorted(set(unit_costs["price_year"].astype(int)) | {int(price_year)})
    absent = [y for y in needed if y not in inflation.index]
    if absent:
        raise InflationIndexError(
            f"inflation index has no value for year(s) {', '.join(map(str, absent))} "
            f"(needed to re-base unit costs to {price_year})"
        )
    out = unit_costs.copy()
    row_index = inflation.loc[out["price_year"].astype(int)].to_numpy(float)
    factor = inflation.loc[int(price_year)] / row_index
    out["cost_gbp"] = out["cost"].to_numpy(float) * factor
    return out


def schemes_in(unit_costs: pd.DataFrame) -> list[str]:
    """Named hospital-costing schemes of a table (empty if it has no ``scheme`` values)."""
    if "scheme" not in unit_costs:
        return []
    s = unit_costs["scheme"].astype("string").fillna("").str.strip()
    return sorted(set(s[s != ""]))


def select_scheme(unit_costs: pd.DataFrame, scheme: str) -> pd.DataFrame:
    """Rows that apply under ``scheme``: its own rows and the rows with a blank scheme.

    A table with no named schemes is one scheme and is returned whole; a table
    with named schemes must name ``scheme`` (else :class:`UnitCostTableError`).
    """
    named = schemes_in(unit_costs)
    if not named:
        return unit_costs.copy()
    if scheme not in named:
        raise UnitCostTableError(f"hospital costing scheme {scheme!r} is not in the unit-cost "
                                 f"table (schemes: {', '.join(named)})")
    keep = unit_costs["scheme"].isin(["", scheme])
    return unit_costs[keep].copy()


def unit_costs_of(unit_costs: pd.DataFrame, scheme: str | None) -> dict[str, np.ndarray]:
    """``item -> its distinct re-based unit costs`` under ``scheme`` (all rows if None)."""
    t = unit_costs
    if scheme is not None and isinstance(scheme, str) and scheme:
        try:
            t = select_scheme(unit_costs, scheme)
        except Exception:  # noqa: BLE001 - a scheme the table does not name: use every row
            t = unit_costs
    return {str(k): np.unique(g["cost_gbp"].to_numpy(float)) for k, g in t.groupby("item")}
