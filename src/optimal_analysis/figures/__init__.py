"""Figures: every function is ``plot_*(table, *, ax=None) -> Axes`` of a results table only.

One submodule per stage; :mod:`optimal_analysis.figures.style` holds the
care-model order and colours every figure shares.
"""
