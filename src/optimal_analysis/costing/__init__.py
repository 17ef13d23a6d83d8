"""Costing stage: every event costed at the reporting price year, costs per resident-year.

:mod:`~optimal_analysis.costing.costs` costs events and makes ``costs.csv`` from per-home
totals; :mod:`~optimal_analysis.costing.regional` holds the stage's entry points
(:func:`make_cost_tables`, every event at once, and ``make_cost_tables_by_region``, one
region's events at a time, which the workflow uses); the
unit-cost table itself (validation, re-basing, schemes, service groups) is the shared
vocabulary :mod:`optimal_analysis.unit_costs`, read by the publish step too.
"""

from optimal_analysis.costing.costs import (
    SERVICE_GROUPS,
    InflationIndexError,
    MissingUnitCostError,
    UnitCostTableError,
    cost_events,
    make_costs,
    make_resident_costs,
    rebase_unit_costs,
    schemes_in,
    select_scheme,
    validate_inflation,
    validate_unit_costs,
)
from optimal_analysis.costing.regional import make_cost_tables

__all__ = [
    "InflationIndexError",
    "MissingUnitCostError",
    "SERVICE_GROUPS",
    "UnitCostTableError",
    "cost_events",
    "make_cost_tables",
    "make_costs",
    "make_resident_costs",
    "rebase_unit_costs",
    "schemes_in",
    "select_scheme",
    "validate_inflation",
    "validate_unit_costs",
]
