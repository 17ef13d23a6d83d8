"""Report figures redrawn from the *published* (disclosed) tables.

The stage figures under ``figures/`` are drawn from the unsuppressed tables for
the analyst and are not to be shared. The report shows these versions instead,
written to ``published/figures/``: suppressed values
(:data:`optimal_analysis.tidy.MARKER`) become gaps, numbers at risk are
the rounded ones (a suppressed one shows as "–"), and the survival curves are
the published coarse ones (steps on the ``curve_grid_days`` grid, recomputed
from rounded counts; docs/disclosure.md), so no figure in the report shows
what its tables hide.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optimal_analysis.care_models import CareModelsLike
from optimal_analysis.figures.costs import plot_cost_by_service_group
from optimal_analysis.figures.describe import plot_service_use
from optimal_analysis.figures.rates import plot_crude_rates, plot_rate_ratios
from optimal_analysis.figures.survival import plot_cumulative_incidence, plot_km
from optimal_analysis.tidy import MARKER

__all__ = ["FIGURE_TABLES", "numeric_published", "plot_published"]

#: Figure name -> the published tables it is drawn from.
FIGURE_TABLES: dict[str, tuple[str, ...]] = {
    "crude_rates": ("crude_rates",),
    "rate_ratios_forest": ("rate_ratios",),
    "cumulative_incidence": ("cumulative_incidence", "at_risk"),
    "km": ("km", "at_risk"),
    "costs_by_service_group": ("costs",),
    "service_use": ("service_use",),
}

_TEXT = {"outcome", "care_model", "term", "model", "adjustment", "exposure", "event", "scale"}


def numeric_published(table: pd.DataFrame) -> pd.DataFrame:
    """The published table with markers as missing values and number columns numeric."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].where(out[col] != MARKER)
        if col not in _TEXT and out[col].dtype == object:
            converted = pd.to_numeric(out[col], errors="coerce")
            if converted.notna().sum() == out[col].notna().sum():
                out[col] = converted
    return out


def _figure_of(ax: Axes) -> Figure:
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    return fig


def _curve(table: pd.DataFrame) -> pd.DataFrame:
    # suppressed steps (too few at risk) are the tail of each curve: stop the curve there
    return table[table["estimate"].notna()]


def plot_published(
    name: str, tables: Mapping[str, pd.DataFrame], *, care_models: CareModelsLike = None
) -> Figure:
    """Draw report figure ``name`` (a key of :data:`FIGURE_TABLES`) from published tables.

    ``tables`` maps table names to the published tables as read from CSV.
    """
    if name not in FIGURE_TABLES:
        raise KeyError(f"no published figure {name!r}; known: {sorted(FIGURE_TABLES)}")
    missing = [t for t in FIGURE_TABLES[name] if t not in tables]
    if missing:
        raise ValueError(f"figure {name!r} needs published table(s) {missing}")
    t = {k: numeric_published(v) for k, v in tables.items()}
    if name == "crude_rates":
        return _figure_of(plot_crude_rates(t["crude_rates"], care_models=care_models))
    if name == "rate_ratios_forest":
        rr = t["rate_ratios"]
        if rr["n_residents"].notna().all():
            rr = rr.assign(n_residents=rr["n_residents"].astype("int64"))
        return _figure_of(plot_rate_ratios(rr, care_models=care_models))
    if name == "service_use":
        return _figure_of(plot_service_use(tables["service_use"], care_models=care_models))
    if name == "costs_by_service_group":
        # a suppressed item cost is a gap in its stack; the total keeps its bootstrap CI
        return _figure_of(plot_cost_by_service_group(t["costs"], care_models=care_models))
    if name == "cumulative_incidence":
        fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True)
        for ax, event in zip(axes, ["emergency_admission", "death"], strict=True):
            plot_cumulative_incidence(
                _curve(t["cumulative_incidence"]),
                event=event,
                at_risk=t["at_risk"],
                ax=ax,
                care_models=care_models,
            )
        fig.subplots_adjust(bottom=0.36, left=0.1, right=0.98, wspace=0.16)
        return fig
    fig = _figure_of(plot_km(_curve(t["km"]), at_risk=t["at_risk"], care_models=care_models))
    fig.set_size_inches(6.5, 5.4)
    fig.subplots_adjust(bottom=0.36, left=0.14, right=0.96)
    return fig
