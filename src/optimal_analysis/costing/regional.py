"""The costing stage's entry points: every event at once, or one region's at a time.

:func:`make_cost_tables` costs the stacked events of every region;
:func:`make_cost_tables_by_region` (the workflow's) gives the same tables,
bit for bit, without holding every region's events: each region's events are
costed and reduced to per-home × item totals (cost and units, every scheme)
and per-resident costs, then dropped. Why the floats are identical: every
sum of :func:`make_cost_tables` over events
is a ``np.bincount`` per care home × item or per resident, which adds its
rows in input order starting from 0. A home's (and a resident's) events all
lie in one region, in the same relative order as in the stacked events (both
sorted by resident, date, ...), and the costed rows keep that order within
each kind (contacts; admission items, stable by bed days; bed-day items). So
each region's cell total is the stacked total, and placing the regions'
totals into one matrix adds only exact zeros. Everything after (the home
bootstrap, ``costs.csv``) runs on those totals as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from optimal_analysis.costing.costs import (
    MissingUnitCostError,
    _cost_rows,
    _Events,
    _homes,
    _item_order,
    _per_home,
    _resident_costs,
    _scheme_tables,
    _stage_tables,
)
from optimal_analysis.costing.derived_costs import DERIVED_COLUMN, derived_masks, derived_per_home

__all__ = ["COHORT_COLUMNS", "EVENT_COLUMNS", "derived_order", "event_columns",
           "make_cost_tables", "make_cost_tables_by_region"]

#: The columns of the cohort costing reads.
COHORT_COLUMNS = ["resident_id", "care_home_id", "care_model", "person_years"]
#: The columns of the events costing reads.
EVENT_COLUMNS = ["resident_id", "care_home_id", "care_model", "event_type", "item", "n",
                 "bed_days"]

_PerHome = tuple[list[str], np.ndarray, np.ndarray]


def event_columns(names: Sequence[str]) -> list[str]:
    """The columns costing reads from a region's events file with columns ``names``:
    :data:`EVENT_COLUMNS`, plus ``derived_outcomes`` where the region has diagnoses."""
    return EVENT_COLUMNS + [c for c in [DERIVED_COLUMN] if c in names]


def derived_order(cohort_columns: Sequence[str]) -> list[str]:
    """The derived outcomes in code-list order, as the cohort's columns have them.

    Each derived outcome ``k`` gives the cohort ``time_to_{k}_days`` and
    ``{k}_status`` (:func:`optimal_analysis.derived_outcomes.resident_columns`);
    the emergency admission's own ``time_to_admission_days`` has no ``admission_status``
    partner named that way, so it is not one.
    """
    cols = set(cohort_columns)
    return [n for c in cohort_columns if c.startswith("time_to_") and c.endswith("_days")
            and f"{(n := c[len('time_to_'):-len('_days')])}_status" in cols]


def _place(parts: list[_PerHome], n_homes: int) -> _PerHome:
    """The regions' per-home × item totals in one matrix (items in :func:`_item_order`)."""
    items = _item_order(sorted({i for its, _, _ in parts for i in its}))
    cost = np.zeros((n_homes, len(items)))
    units = np.zeros((n_homes, len(items)))
    for its, c, u in parts:
        cols = pd.Index(items).get_indexer(its)
        cost[:, cols] += c  # each home's cells are nonzero in one region only: exact
        units[:, cols] += u
    return items, cost, units


def _place_derived(parts: list[_PerHome], n_homes: int,
                   order: Sequence[str] | None) -> _PerHome:
    """The regions' per-home cost and stays of each derived outcome in one matrix.

    Outcomes in ``order`` (the code list's), then any others in order of first appearance.
    """
    seen = list(dict.fromkeys(n for names, _, _ in parts for n in names))
    names = [n for n in (order or []) if n in seen] + [n for n in seen if n not in (order or [])]
    cost = np.zeros((n_homes, len(names)))
    units = np.zeros((n_homes, len(names)))
    for its, c, u in parts:
        cols = pd.Index(names).get_indexer(its)
        cost[:, cols] += c  # a home's stays are in one region only: exact
        units[:, cols] += u
    return names, cost, units


def _raise_missing(missing: list[pd.DataFrame], table_name: str) -> None:
    """The error :func:`_cost_rows` raises, for the events of every region."""
    both = (pd.concat(missing, ignore_index=True).groupby("item", sort=True)[["events", "rows"]]
            .sum().reset_index())
    listing = ", ".join(f"{r.item} ({r.events} events in {r.rows} rows)" for r in both.itertuples())
    raise MissingUnitCostError(
        f"no unit cost in {table_name} for {len(both)} item(s): {listing}. "
        "Add a row for each (docs/unit_costs.md); nothing is costed as zero.",
        both,
    )


def make_cost_tables_by_region(
    regions: Iterable[pd.DataFrame],
    cohort: pd.DataFrame,
    unit_costs: pd.DataFrame,
    inflation: pd.DataFrame,
    *,
    price_year: int,
    scheme: str,
    replicates: int,
    rng: np.random.Generator,
    care_models: Sequence[str] | None = None,
    unit_costs_name: str = "unit-cost table",
    inflation_name: str = "inflation index",
    few_clusters_threshold: int = 30,
    derived_order: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`make_cost_tables` with the events given per region.

    ``regions`` yields each region's events (:data:`EVENT_COLUMNS`, plus
    ``derived_outcomes`` where the region has it), e.g. read one file at a
    time; nothing of a region is kept but its totals. The other arguments and
    the returned ``(costs, costs_sensitivity, resident_costs)`` are those of
    ``make_cost_tables``; the tables are equal (floats bit for bit; see the
    module docstring). The derived outcomes' rows (costs of their stays, not
    in ``total``) come in ``derived_order`` (the code list's order, as the
    cohort's columns give it), then any others as first seen.
    """
    tables, named = _scheme_tables(unit_costs, inflation, price_year=price_year, scheme=scheme,
                                   unit_costs_name=unit_costs_name,
                                   inflation_name=inflation_name)
    schemes = list(tables)
    homes = _homes(cohort)
    cohort_ids = pd.Index(cohort["resident_id"])
    parts: dict[str, list[_PerHome]] = {s: [] for s in schemes}
    resident_cost = np.zeros(len(cohort))
    missing: dict[str, list[pd.DataFrame]] = {s: [] for s in schemes}
    derived_parts: dict[str, list[_PerHome]] = {s: [] for s in schemes}
    for events in regions:
        ev = _Events(events, cohort_ids, homes.index)
        masks = derived_masks(events)
        for s in schemes:
            try:
                row, names, code, units, cost = _cost_rows(ev, tables[s], unit_costs_name)
            except MissingUnitCostError as exc:  # listed for every region at the end
                missing[s].append(exc.missing)
                continue
            parts[s].append(_per_home(ev.home_code[row], names, code, units, cost, len(homes)))
            if masks:  # the stays of derived outcomes (docs/outcome_codes.md), not in total
                derived_parts[s].append(derived_per_home(masks, ev.home_code, row, cost,
                                                         len(homes)))
            if s == scheme:  # a resident's events are in one region: adds exact zeros
                resident_cost += np.bincount(ev.resident_pos[row], weights=cost,
                                             minlength=len(cohort))
        del ev, events
    for s in schemes:  # the first scheme with an uncosted item, as make_cost_tables
        if missing[s]:
            _raise_missing(missing[s], unit_costs_name)
    per_home = {s: _place(parts[s], len(homes)) for s in schemes}
    derived = {s: _place_derived(derived_parts[s], len(homes), derived_order)
               for s in schemes if derived_parts[s]}
    # one "row" per resident holding its total: bincount adds it to 0.0, unchanged
    resident_costs = _resident_costs(cohort, np.arange(len(cohort)), resident_cost).assign(
        scheme=scheme)
    return _stage_tables(per_home, derived, homes, resident_costs, scheme=scheme, named=named,
                         price_year=price_year, replicates=replicates, rng=rng,
                         care_models=care_models, few_clusters_threshold=few_clusters_threshold)


def make_cost_tables(
    events: pd.DataFrame,
    cohort: pd.DataFrame,
    unit_costs: pd.DataFrame,
    inflation: pd.DataFrame,
    *,
    price_year: int,
    scheme: str,
    replicates: int,
    rng: np.random.Generator,
    care_models: Sequence[str] | None = None,
    unit_costs_name: str = "unit-cost table",
    inflation_name: str = "inflation index",
    few_clusters_threshold: int = 30,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The costing stage: ``(costs, costs_sensitivity, resident_costs)``.

    Validates and re-bases the tables, costs every event under the main
    hospital-costing ``scheme`` (→ ``costs`` and ``resident_costs``) and under
    every other scheme the table names (→ ``costs_sensitivity``, same columns,
    empty if the table names no other scheme). Each table has a ``scheme``
    column; care models are in ``care_models`` order (:func:`make_costs`).
    All schemes share one bootstrap (the same resampled care homes), so they
    are compared on the same draws. ``few_clusters_threshold``: see
    :func:`make_costs`. String IDs are
    factorized once; costing and summing work on integer codes. With the
    events' ``derived_outcomes`` column, each derived outcome gets a row per
    care model after ``total`` (:mod:`~optimal_analysis.costing.derived_costs`):
    cost of its stays, units = stays, ``service_group`` ``derived_outcome``,
    not in ``total``.
    """
    tables, named = _scheme_tables(unit_costs, inflation, price_year=price_year, scheme=scheme,
                                   unit_costs_name=unit_costs_name,
                                   inflation_name=inflation_name)
    homes = _homes(cohort)
    ev = _Events(events, pd.Index(cohort["resident_id"]), homes.index)
    per_home = {}
    masks, derived = derived_masks(events), {}
    resident_costs = pd.DataFrame()
    for s, scheme_table in tables.items():
        row, names, code, units, cost = _cost_rows(ev, scheme_table, unit_costs_name)
        per_home[s] = _per_home(ev.home_code[row], names, code, units, cost, len(homes))
        if masks:  # the stays of derived outcomes (docs/outcome_codes.md), not in total
            derived[s] = derived_per_home(masks, ev.home_code, row, cost, len(homes))
        if s == scheme:
            resident_costs = _resident_costs(cohort, ev.resident_pos[row], cost).assign(scheme=s)
        del row, code, units, cost
    return _stage_tables(per_home, derived, homes, resident_costs, scheme=scheme, named=named,
                         price_year=price_year, replicates=replicates, rng=rng,
                         care_models=care_models, few_clusters_threshold=few_clusters_threshold)
