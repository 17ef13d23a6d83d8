"""Scheme running costs: the config table, its checks and re-basing to the price year.

``config/scheme_costs.csv``: one row per care model, columns ``care_model, cost,
unit, price_year, source``; ``unit`` one of ``resident_year``, ``home_year``,
``bed_year`` (:data:`~optimal_analysis.stats.economics.SCHEME_COST_UNITS`). Costs
are re-based with the unit costs' inflation index (docs/unit_costs.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd

from optimal_analysis.stats.economics import SCHEME_COST_UNITS
from optimal_analysis.unit_costs import rebase_unit_costs

__all__ = ["NOT_GIVEN", "REQUIRED_COLUMNS", "SchemeCostError", "rebase_scheme_costs",
           "validate_scheme_costs"]

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("care_model", "cost", "unit", "price_year", "source")
#: ``source`` of a care model the table does not name (its running cost is taken as 0).
NOT_GIVEN = "not given: no row in the scheme-cost table, running cost taken as 0"


class SchemeCostError(ValueError):
    """The scheme-cost table breaks its format; the message lists every problem."""


def validate_scheme_costs(
    table: pd.DataFrame, *, care_models: Iterable[str], name: str = "scheme-cost table"
) -> pd.DataFrame:
    """Check the table and return it with typed columns (one row per care model).

    Every problem is listed in one :class:`SchemeCostError`: missing columns, a
    care model listed twice, a cost that is not a number >= 0, an unknown unit, a
    price year that is not a whole number, an empty source. A care model of the
    data (``care_models``) without a row gets one with cost 0 per resident-year and
    source :data:`NOT_GIVEN` (logged as a warning; the report says its total cost is
    its NHS cost and gives the running cost at which it would break even), so a
    commissioner's own care model runs without a code or config change.
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
    if problems:
        raise SchemeCostError(f"{name}: " + "; ".join(problems))
    t = t.assign(cost=cost.astype(float), unit=units, price_year=year.astype(int))
    absent = sorted(set(map(str, care_models)) - set(t["care_model"]))
    if absent:
        logger.warning("%s has no running cost for care model(s) %s: taken as 0", name, absent)
        year_of = int(t["price_year"].max()) if len(t) else 2000
        t = pd.concat([t, pd.DataFrame({"care_model": absent, "cost": 0.0,
                                        "unit": "resident_year", "price_year": year_of,
                                        "source": NOT_GIVEN})], ignore_index=True)
    return t


def rebase_scheme_costs(
    table: pd.DataFrame, inflation: pd.Series, *, price_year: int
) -> pd.DataFrame:
    """Add ``cost_gbp``: cost × index[price_year] / index[row's price year] (as unit costs)."""
    return rebase_unit_costs(table, inflation, price_year=price_year)
