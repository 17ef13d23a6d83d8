"""Weighting stage: propensity scores for the care models, weights, balance and overlap.

- :mod:`~optimal_analysis.weighting.propensity`: :func:`make_weights` (``interim/weights.parquet``,
  ``balance.csv``, ``weighting_summary.csv``, ``ps_overlap.csv``).

The rates and survival stages read ``interim/weights.parquet`` for their ``weighted`` rows;
they do not import this stage, nor it them.
"""

from optimal_analysis.weighting.propensity import (
    BALANCE_COLUMNS,
    WEIGHT_METHODS,
    WeightingResults,
    make_weights,
)

__all__ = ["BALANCE_COLUMNS", "WEIGHT_METHODS", "WeightingResults", "make_weights"]
