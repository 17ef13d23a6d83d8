"""Costing stage: every event costed at the reporting price year, costs per resident-year.

:mod:`~optimal_analysis.costing.costs` holds the stage (:func:`make_cost_tables`); the
unit-cost table itself (validation, re-basing, schemes, service groups) is the shared
vocabulary :mod:`optimal_analysis.unit_costs`, read by the publish step too.
"""

from optimal_analysis.costing.costs import (
    SERVICE_GROUPS,
    InflationIndexError,
    MissingUnitCostError,
    UnitCostTableError,
    cost_events,
    make_cost_tables,
    make_costs,
    make_resident_costs,
    rebase_unit_costs,
    schemes_in,
    select_scheme,
    validate_inflation,
    validate_unit_costs,
)

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
