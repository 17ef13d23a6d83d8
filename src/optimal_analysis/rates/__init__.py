"""Rates stage: crude rates, rate-ratio models, standardised rates, design caveats.

- :mod:`~optimal_analysis.rates.crude`: :func:`make_crude_rates` (``crude_rates.csv``);
- :mod:`~optimal_analysis.rates.models`: :func:`make_rate_models` (``rate_ratios.csv``,
  ``standardised_rates.csv``, ``caveats.csv``);
- :mod:`~optimal_analysis.rates.fit`: one Poisson or negative binomial fit, cluster-robust;
- :mod:`~optimal_analysis.rates.design`: region caveats, why a row cannot be estimated.

Model matrices and the ``reason`` vocabulary are shared with the survival models in
:mod:`optimal_analysis.model_frame`.
"""

from optimal_analysis.rates.crude import crude_rate_outcomes, make_crude_rates
from optimal_analysis.rates.design import analysis_set_reason, make_caveats, term_reasons
from optimal_analysis.rates.fit import RateFit, fit_rate_model
from optimal_analysis.rates.models import (
    EXPOSURES,
    SMALL_SAMPLE_METHOD,
    RateModelResults,
    make_rate_models,
)

__all__ = [
    "EXPOSURES",
    "SMALL_SAMPLE_METHOD",
    "RateFit",
    "RateModelResults",
    "analysis_set_reason",
    "crude_rate_outcomes",
    "fit_rate_model",
    "make_caveats",
    "make_crude_rates",
    "make_rate_models",
    "term_reasons",
]
