"""Scheme running costs: the config table, its checks and re-basing to the price year.

``config/scheme_costs.csv``: one row per care model, columns ``care_model, cost,
unit, price_year, source``; ``unit`` one of ``resident_year``, ``home_year``,
``bed_year`` (:data:`~optimal_analysis.stats.economics.SCHEME_COST_UNITS`). Costs
are re-based with the unit costs' inflation index (docs/unit_costs.md).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from optimal_analysis.stats.economics import SCHEME_COST_UNITS
from optimal_analysis.unit_costs import rebase_unit_costs

__all__ = ["REQUIRED_COLUMNS", "SchemeCostError", "rebase_scheme_costs", "validate_scheme_costs"]

REQUIRED_COLUMNS = ("care_model", "cost", "unit", "price_year", "source")


class SchemeCostError(ValueError):
    """The scheme-cost table breaks its format; the message lists every problem."""


def validate_scheme_costs(
    table: pd.DataFrame, *, care_models: Iterable[str], name: str = "scheme-cost table"
) -> pd.DataFrame:
    """Check the table and return it with typed columns (one row per care model).

    Every problem is listed in one :class:`SchemeCostError`: missing columns, a
    care model listed twice, a cost that is not a number >= 0, an unknown unit, a
    price year that is not a whole number, an empty source, and every care model
    of the data (``care_models``) without a row (a scheme is never costed as zero
    by omission: give the reference model a row with cost 0).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise SchemeCostError(f"{name} lacks column(s) {missing}; it has {list(table.columns)}")
    t = table.copy()
    t["care_model"] = t["care_model"].astype(str).str.strip()
    cost = pd.to_numeric(t["cost"], errors="coerce")
    year = pd.to_numeric(t["price_year"], errors="coerce")
    problems = []
    dup = sorted(t.loc[t["care_model"].duplicated(), "care_model"].unique())
    if dup:
        problems.append(f"care model(s) listed more than once: {dup}")
    bad = t.loc[~(cost >= 0) | ~np.isfinite(cost), "care_model"].tolist()
    if bad:
        problems.append(f"cost must be a number >= 0 (GBP) for: {bad}")
    units = t["unit"].astype(str).str.strip()
    bad = sorted(set(units[~units.isin(SCHEME_COST_UNITS)]))
    if bad:
        problems.append(f"unknown unit(s) {bad}; expected one of {list(SCHEME_COST_UNITS)}")
    bad = t.loc[year.isna() | (year != year.round()), "care_model"].tolist()
    if bad:
        problems.append(f"price_year must be a whole year for: {bad}")
    bad = t.loc[t["source"].fillna("").astype(str).str.strip() == "", "care_model"].tolist()
    if bad:
        problems.append(f"every row needs a source (or 'assumption: ...'): {bad}")
    absent = sorted(set(care_models) - set(t["care_model"]))
    if absent:
        problems.append(f"no running cost for care model(s) {absent} of the data: add a row "
                        "for each (cost 0 for a model without a scheme)")
    if problems:
        raise SchemeCostError(f"{name}: " + "; ".join(problems))
    return t.assign(cost=cost.astype(float), unit=units, price_year=year.astype(int))


def rebase_scheme_costs(
    table: pd.DataFrame, inflation: pd.Series, *, price_year: int
) -> pd.DataFrame:
    """Add ``cost_gbp``: cost × index[price_year] / index[row's price year] (as unit costs)."""
    return rebase_unit_costs(table, inflation, price_year=price_year)
