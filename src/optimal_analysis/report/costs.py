"""Published costs computed from rounded units, so that cost / unit cost gives no count back.

The unit costs are public (config), so an exact cost next to a rounded number of
units gives the exact units back (``cost / unit cost``), and a care model's
total minus its published items gives the cost, hence the units, of the
suppressed items. The published costs are therefore:

* an item with one unit cost ``c`` whose exact cost is ``units x c``:
  ``cost = r(units) x c`` (``r`` the count rounding);
* any other item (several unit costs, e.g. short and long stays, or a cost that
  is not units x its unit cost, e.g. bed days under the bed-day scheme):
  ``cost = c_max x r(cost / c_max)``, ``c_max`` its largest unit cost: the cost
  in whole "largest units", rounded as a count, so neither unit cost divides it
  back to a count and a mix ``a c1 + b c2`` is not pinned down;
* ``total`` = the sum of the care model's published item costs (not the rows of
  derived outcomes, ``service_group`` ``derived_outcome``: their stays are part of
  the emergency stays already summed), where an item
  whose units are suppressed counts with the rounding of a count of 1 (5 for
  ``nearest`` 5, 3 for ``midpoint6``, the same for every suppressed item): the
  total minus the shown items then gives back only that constant;
* ``cost_per_resident_year = cost / person_years`` from the published cost;
* bootstrap and small-sample limits (``conf_low, conf_high, conf_low_small,
  conf_high_small``) to three significant figures.

Items and units are suppressed and rounded as before (:data:`TABLE_SPECS`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimal_analysis.report.curves import signif
from optimal_analysis.report.disclosure import TABLE_SPECS, disclose, disclosure_mask
from optimal_analysis.report.rounding import round_counts
from optimal_analysis.unit_costs import (
    DERIVED_SERVICE_GROUP,
    rebase_unit_costs,
    unit_costs_of,
    validate_inflation,
    validate_unit_costs,
)

__all__ = ["COST_LIMITS", "public_unit_costs", "publish_costs", "unit_costs_of"]

#: Interval limits of a cost row, published to three significant figures.
COST_LIMITS = ("conf_low", "conf_high", "conf_low_small", "conf_high_small")


def public_unit_costs(unit_costs: pd.DataFrame, inflation: pd.DataFrame, *,
                      price_year: int) -> pd.DataFrame:
    """The public unit-cost table re-based to ``price_year``: ``item, scheme, cost_gbp``."""
    table = validate_unit_costs(unit_costs)
    return rebase_unit_costs(table, validate_inflation(inflation), price_year=price_year)


def _item_costs(t: pd.DataFrame, units_r: np.ndarray, unit_costs: pd.DataFrame, *,
                round_to: int, rounding: str) -> np.ndarray:
    cost = t["cost"].to_numpy(float)
    units = pd.to_numeric(t["units"], errors="coerce").to_numpy(float)
    out = np.full(len(t), np.nan)
    schemes = t["scheme"].fillna("").astype(str) if "scheme" in t else pd.Series(
        "", index=t.index)
    for scheme in pd.unique(schemes):
        costs_of = unit_costs_of(unit_costs, scheme or None)
        every = np.concatenate(list(costs_of.values())) if costs_of else np.array([1.0])
        rows = np.flatnonzero((schemes == scheme).to_numpy())
        for item in pd.unique(t["item"].iloc[rows]):
            r = rows[(t["item"].iloc[rows] == item).to_numpy()]
            c = costs_of.get(str(item), every)
            single = len(c) == 1 and np.allclose(cost[r], units[r] * c[0], rtol=1e-9, atol=1e-6)
            if single:
                out[r] = units_r[r] * c[0]
            else:
                cmax = float(c.max())
                eq = cost[r] / cmax
                eq = np.where(eq > 0, np.maximum(eq, 1.0), eq)
                out[r] = cmax * round_counts(eq, round_to, rounding)
    return out


def publish_costs(table: pd.DataFrame, name: str, unit_costs: pd.DataFrame, *,
                  suppress_max: int, round_to: int, rounding: str = "nearest") -> pd.DataFrame:
    """The published copy of costs.csv or costs_sensitivity.csv (``name``); see module doc.

    ``unit_costs`` is :func:`public_unit_costs` (every scheme; each row's
    ``scheme`` picks its own).
    """
    spec = TABLE_SPECS[name]
    if "service_group" in table and (table["service_group"] == DERIVED_SERVICE_GROUP).any() \
            and (table["service_group"] != DERIVED_SERVICE_GROUP).any():
        # derived outcomes' stays are in no total: published on their own, so that a small
        # one does not force a secondary suppression among the items of the total
        sub = (table["service_group"] == DERIVED_SERVICE_GROUP).to_numpy()
        t = table.reset_index(drop=True)
        parts = [publish_costs(t[m], name, unit_costs, suppress_max=suppress_max,
                               round_to=round_to, rounding=rounding) for m in (~sub, sub)]
        return pd.concat(parts).sort_index(kind="stable")
    t = table.copy()
    mask = disclosure_mask(t, spec, suppress_max=suppress_max, name=name)
    units = pd.to_numeric(t["units"], errors="coerce").to_numpy(float)
    units_r = np.asarray(round_counts(units, round_to, rounding), dtype=float)
    placeholder = float(round_counts(np.array([1.0]), round_to, rounding)[0])
    units_r = np.where(mask["units"].to_numpy(), placeholder, units_r)
    is_total = (t["item"] == "total").to_numpy()
    subset = (t["service_group"] == DERIVED_SERVICE_GROUP).to_numpy() if "service_group" in t \
        else np.zeros(len(t), dtype=bool)
    cost = _item_costs(t, units_r, unit_costs, round_to=round_to, rounding=rounding)
    keys = [c for c in ("scheme", "care_model") if c in t]
    group = t[keys].astype(str).agg("|".join, axis=1)
    sums = pd.Series(np.where(is_total | subset, 0.0, np.nan_to_num(cost)), index=t.index).groupby(
        group).transform("sum")
    cost = np.where(is_total, sums.to_numpy(), cost)
    t["cost"] = np.where(t["cost"].isna(), np.nan, cost)
    if "person_years" in t:
        with np.errstate(divide="ignore", invalid="ignore"):
            t["cost_per_resident_year"] = t["cost"] / t["person_years"]
    for c in COST_LIMITS:
        if c in t:
            t[c] = signif(pd.to_numeric(t[c], errors="coerce"), 3)
    return disclose(t, spec, suppress_max=suppress_max, round_to=round_to, name=name,
                    rounding=rounding)
