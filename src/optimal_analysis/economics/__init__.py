"""Economics stage: does a care model's scheme pay for itself?

Scheme running costs (config/scheme_costs.csv) re-based to the reporting price year
(:mod:`.scheme_costs`); NHS cost, scheme cost and total cost per resident-year, the
incremental cost and emergency admissions avoided against the reference care model,
cost per admission avoided and the probability of saving, from one care-home
bootstrap of costs and admissions together; an adjusted cost difference from a
gamma-family log-link GLM (:mod:`.tables`).
"""

from optimal_analysis.economics.scheme_costs import SchemeCostError, validate_scheme_costs
from optimal_analysis.economics.tables import ECONOMICS_COLUMNS, home_totals, make_economics

__all__ = [
    "ECONOMICS_COLUMNS",
    "SchemeCostError",
    "home_totals",
    "make_economics",
    "validate_scheme_costs",
]
