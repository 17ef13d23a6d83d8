"""Figures: every function is ``plot_*(table, *, ax=None) -> Axes`` of a results table only.

One submodule per stage. Care-model order, labels and colours come from
:mod:`optimal_analysis.care_models`, outcome labels from
:mod:`optimal_analysis.outcomes`.
"""

import matplotlib

matplotlib.use("Agg")  # figures are files; never need a display
