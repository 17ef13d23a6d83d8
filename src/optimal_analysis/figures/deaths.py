"""Figure of place_of_death.csv: share of deaths in hospital by care model."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from optimal_analysis.care_models import CareModels, CareModelsLike

__all__ = ["plot_place_of_death"]


def plot_place_of_death(
    table: pd.DataFrame, *, ax: Axes | None = None, care_models: CareModelsLike = None
) -> Axes:
    """Share of deaths in hospital (%) by care model with its 95% CI, from ``place_of_death``.

    One horizontal bar per care model (configured order and colours); rows with a
    missing share (no deaths, or suppressed) are left out. A table without rows
    (no place of death in the data) gives an empty axes saying so.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 2.8))
    cm = CareModels.of(care_models)
    t = table.copy()
    for c in ("share", "conf_low", "conf_high"):
        t[c] = pd.to_numeric(t[c], errors="coerce") if c in t else np.nan
    t = t[t["share"].notna()] if len(t) else t
    if t.empty:
        ax.text(0.5, 0.5, "No share of deaths in hospital to show (no places of death, "
                "or every share suppressed)", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    models = cm.ordered(t["care_model"].astype(str).unique())
    t = t.set_index(t["care_model"].astype(str)).loc[models]
    colours = cm.colours(models)
    y = np.arange(len(models))[::-1]
    share = 100 * t["share"].to_numpy(float)
    lo = 100 * t["conf_low"].to_numpy(float)
    hi = 100 * t["conf_high"].to_numpy(float)
    ax.barh(y, share, color=[colours[m] for m in models], height=0.6)
    err = np.vstack([share - lo, hi - share])
    ok = np.isfinite(err).all(axis=0)
    ax.errorbar(share[ok], y[ok], xerr=err[:, ok], fmt="none", ecolor="black", capsize=3)
    ax.set_yticks(y, [cm.label(m) for m in models])
    ax.set_xlabel("Deaths in hospital (% of deaths with a recorded place), 95% CI")
    ax.set_xlim(0, max(100.0, float(np.nanmax(hi)) if ok.any() else 100.0))
    return ax
