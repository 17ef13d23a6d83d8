"""Figures of the economics stage, drawn from its tables only.

- :func:`plot_ce_plane`: the cost-effectiveness plane, bootstrap replicates of
  incremental total cost against emergency admissions avoided (economics_replicates.csv,
  point estimates from economics.csv);
- :func:`plot_saving_curve`: the probability that a scheme's total cost is below the
  reference's, against the scheme's running cost per resident-year
  (economics_saving_curve.csv), with today's running cost and the break-even cost marked.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from optimal_analysis.care_models import CareModels, CareModelsLike

__all__ = ["plot_ce_plane", "plot_saving_curve"]

_GBP = FuncFormatter(lambda v, _: ("\u2212" if v < 0 else "") + f"£{abs(v):,.0f}")


def _price(economics: pd.DataFrame) -> str:
    if "price_year" not in economics.columns or economics.empty:
        return "£"
    year = int(pd.to_numeric(economics["price_year"], errors="coerce").dropna().iloc[0])
    return f"£, {year}/{str(year + 1)[2:]} prices"


def plot_ce_plane(
    replicates: pd.DataFrame,
    economics: pd.DataFrame,
    *,
    ax: Axes | None = None,
    care_models: CareModelsLike = None,
) -> Axes:
    """Cost-effectiveness plane: one cloud of bootstrap replicates per scheme.

    x: emergency admissions avoided per resident-year (right = fewer admissions than
    the reference); y: incremental total cost per resident-year, NHS plus running
    cost (down = cheaper). The lower-right quadrant is "dominant" (cheaper and
    fewer admissions). Large markers are the point estimates.
    """
    cm = CareModels.of(care_models)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 5.0), layout="constrained")
    models = cm.ordered(replicates["care_model"].unique())
    colours = cm.colours(cm.ordered(economics["care_model"].unique()))
    est = economics.set_index("care_model")
    for m in models:
        r = replicates[replicates["care_model"] == m]
        ax.scatter(r["admissions_avoided"], r["incremental_cost"], s=6, alpha=0.25,
                   color=colours.get(m, "#333333"), linewidths=0, rasterized=True)
        if m in est.index:
            ax.scatter(est.loc[m, "admissions_avoided_per_resident_year"],
                       est.loc[m, "incremental_cost"], s=90, marker="D",
                       color=colours.get(m, "#333333"), edgecolor="black", zorder=3,
                       label=cm.label(m))
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    ref = str(economics["reference_care_model"].iloc[0]) if "reference_care_model" in \
        economics.columns and len(economics) else "the reference"
    ax.set_xlabel(f"Emergency admissions avoided per resident-year (vs {cm.label(ref)})")
    ax.set_ylabel(f"Extra total cost per resident-year ({_price(economics)})")
    ax.yaxis.set_major_formatter(_GBP)
    for text, xy, ha, va in [("cheaper, fewer admissions", (0.98, 0.02), "right", "bottom"),
                             ("dearer, more admissions", (0.02, 0.98), "left", "top")]:
        ax.annotate(text, xy, xycoords="axes fraction", ha=ha, va=va, fontsize="small",
                    color="#555555")
    ax.legend(frameon=False, fontsize="small", loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_saving_curve(
    curve: pd.DataFrame,
    economics: pd.DataFrame,
    *,
    ax: Axes | None = None,
    care_models: CareModelsLike = None,
) -> Axes:
    """Probability of a lower total cost than the reference, against the running cost.

    One line per scheme; a dot marks the scheme's configured running cost (its
    probability is economics.csv's ``prob_cost_saving``) and a dotted line the
    break-even running cost (the point estimate of the NHS cost saved; the line crosses
    50% at the median of the replicates, which differs from it when they are skewed).
    """
    cm = CareModels.of(care_models)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.5), layout="constrained")
    models = cm.ordered(curve["care_model"].unique())
    colours = cm.colours(cm.ordered(economics["care_model"].unique()))
    est = economics.set_index("care_model")
    for m in models:
        c = curve[curve["care_model"] == m]
        colour = colours.get(m, "#333333")
        ax.plot(c["running_cost_per_resident_year"], c["prob_cost_saving"], color=colour,
                lw=2, label=cm.label(m))
        if m in est.index:
            now = float(est.loc[m, "scheme_cost_per_resident_year"])
            p = float(est.loc[m, "prob_cost_saving"])
            if np.isfinite(now) and np.isfinite(p):
                ax.scatter([now], [p], color=colour, edgecolor="black", zorder=3, s=50)
            be = float(est.loc[m, "break_even_running_cost"]) if \
                "break_even_running_cost" in est.columns else np.nan
            if np.isfinite(be) and be > 0:
                ax.axvline(be, color=colour, lw=1, ls=":")
    ax.axhline(0.5, color="#999999", lw=0.8, ls="--")
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_formatter(_GBP)
    ax.set_xlabel(f"Running cost of the scheme per resident-year ({_price(economics)})")
    ax.set_ylabel("Probability the total cost is lower")
    ax.legend(frameon=False, fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return ax
