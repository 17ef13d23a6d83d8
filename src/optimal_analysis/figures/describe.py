"""Figures of the describe stage, drawn from ``service_use.csv`` only."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from optimal_analysis.care_models import CareModels, CareModelsLike

__all__ = ["plot_service_use"]


def plot_service_use(
    table: pd.DataFrame, *, ax: Axes | None = None, care_models: CareModelsLike = None
) -> Axes:
    """Grouped horizontal bars: NHS contacts per resident-year by service and care model.

    ``table`` is ``service_use.csv`` (or its published copy: suppressed cells,
    shown as a marker, are non-numeric and drawn as gaps). The ``all_contacts``
    row is left out; services are ordered by their overall rate, highest first.
    """
    data = table[table["service"] != "all_contacts"].copy()
    data["rate"] = pd.to_numeric(data["contacts_per_resident_year"], errors="coerce")
    cm = CareModels.of(care_models)
    models = cm.ordered(data["care_model"].unique())
    services = data.groupby("service")["rate"].mean().sort_values(ascending=False).index.tolist()
    colours = cm.colours(models)
    if ax is None:
        _, ax = plt.subplots(
            figsize=(7.5, 1.0 + 0.32 * len(services) * max(len(models), 1) / 2),
            layout="constrained",
        )
    height = 0.8 / max(len(models), 1)
    for j, model in enumerate(models):
        rate = data[data["care_model"] == model].set_index("service")["rate"].reindex(services)
        y = np.arange(len(services)) - 0.4 + height * (j + 0.5)
        ax.barh(
            y,
            rate.fillna(0).to_numpy(),
            height=height,
            color=colours[model],
            label=cm.label(model),
        )
    ax.set_yticks(np.arange(len(services)), [s.replace("_", " ") for s in services])
    ax.invert_yaxis()
    ax.set_xlabel("Contacts per resident-year")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(frameon=False, loc="lower right")
    return ax
