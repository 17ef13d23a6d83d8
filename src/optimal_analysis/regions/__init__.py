"""Regions stage: how much the care-model effect varies between regions.

- :mod:`~optimal_analysis.regions.effects`: :func:`make_region_effects`
  (``region_effects.csv``: adjusted rate ratio within each region with both care models,
  REML random-effects meta-analysis with tau², I² and the prediction interval).
"""

from optimal_analysis.regions.effects import (
    REGION_COLUMNS,
    make_region_effects,
    regions_with_comparison,
)

__all__ = ["REGION_COLUMNS", "make_region_effects", "regions_with_comparison"]
