"""Figures of the costing stage, drawn from ``costs.csv`` and the per-resident cost table."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from optimal_analysis.care_models import CareModels, CareModelsLike

__all__ = ["GROUP_ORDER", "plot_cost_by_service_group", "plot_resident_cost_distribution"]

#: Service groups from the bottom of a stacked bar up.
GROUP_ORDER = ["hospital inpatient", "urgent and emergency", "specialist", "community",
               "primary care", "other"]
_GROUP_COLOURS = {
    "hospital inpatient": "#4C72B0",
    "urgent and emergency": "#C44E52",
    "specialist": "#8172B2",
    "community": "#55A868",
    "primary care": "#CCB974",
    "other": "#999999",
}
_GBP = FuncFormatter(lambda v, _: f"£{v:,.0f}")


def plot_cost_by_service_group(
    table: pd.DataFrame, *, ax: Axes | None = None, care_models: CareModelsLike = None
) -> Axes:
    """Stacked bars of NHS cost per resident-year by care model and service group.

    ``table`` is ``costs.csv`` (columns ``care_model, item, service_group,
    cost_per_resident_year, conf_low, conf_high, price_year``). Bars stack the
    item costs summed within service group; the black error bar is the
    bootstrap 95% CI of the total (the ``total`` row); a care model without an
    interval (fewer than 2 care homes, ``conf_low`` NaN) is marked "no CI".
    """
    # not the stays of derived outcomes: a subset of the emergency stays, already stacked
    items = table[(table["item"] != "total")
                  & (table.get("service_group", "") != "derived_outcome")]
    totals = table[table["item"] == "total"].set_index("care_model")
    cm = CareModels.of(care_models)
    models = cm.ordered(totals.index)
    by_group = (items.groupby(["care_model", "service_group"])["cost_per_resident_year"].sum()
                .unstack(fill_value=0.0).reindex(models))
    groups = [g for g in GROUP_ORDER if g in by_group.columns]
    groups += sorted(set(by_group.columns) - set(groups))
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.5), layout="constrained")
    x = np.arange(len(models))
    bottom = np.zeros(len(models))
    for g in groups:
        h = by_group[g].fillna(0.0).to_numpy(float)
        ax.bar(x, h, 0.6, bottom=bottom, label=g.capitalize(),
               color=_GROUP_COLOURS.get(g, "#999999"), edgecolor="white", linewidth=0.5)
        bottom += h
    tot = totals.reindex(models)
    est = tot["cost_per_resident_year"].to_numpy(float)
    err = np.vstack([est - tot["conf_low"].to_numpy(float), tot["conf_high"].to_numpy(float) - est])
    ax.errorbar(x, est, yerr=err, fmt="none", ecolor="black", capsize=5, lw=1.2,
                label="Total, 95% CI")
    for xi, e, no_ci in zip(x, est, np.isnan(err).any(axis=0), strict=True):
        if no_ci:  # e.g. one care home: between-home variation cannot be estimated
            ax.annotate("no CI", (xi, e), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize="small")
    ax.set_xticks(x, [textwrap.fill(cm.label(m), 16) for m in models])
    for tick, colour in zip(ax.get_xticklabels(), cm.colours(models).values(),
                            strict=True):
        tick.set_color(colour)
    year = int(table["price_year"].iloc[0]) if len(table) else None
    ax.set_ylabel(f"NHS cost per resident-year (£, {year}/{str(year + 1)[2:]} prices)"
                  if year else "NHS cost per resident-year (£)")
    ax.yaxis.set_major_formatter(_GBP)
    handles = dict(zip(*ax.get_legend_handles_labels()[::-1], strict=True))
    wanted = [g.capitalize() for g in reversed(groups)] + ["Total, 95% CI"]  # as stacked
    ax.legend([handles[k] for k in wanted], wanted, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False, fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_resident_cost_distribution(
    table: pd.DataFrame, *, ax: Axes | None = None, care_models: CareModelsLike = None,
    min_person_years: float = 0.0,
) -> Axes:
    """Distribution of per-resident annual NHS cost by care model (box plot, log scale).

    ``table`` is the per-resident cost table (``care_model, person_years,
    cost_gbp, annual_cost_gbp``). Annual cost = cost over follow-up / person-
    years; residents followed for less than ``min_person_years`` are left out
    (very short follow-up makes the annualised cost extreme). The y axis is
    symlog so residents with no cost (£0) are shown; the mean is a diamond.
    """
    data = table[table["person_years"] >= min_person_years]
    cm = CareModels.of(care_models)
    models = cm.ordered(data["care_model"].unique())
    colours = cm.colours(models)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    values = [data.loc[data["care_model"] == m, "annual_cost_gbp"].to_numpy(float) for m in models]
    box = ax.boxplot(values, positions=np.arange(len(models)), widths=0.55, patch_artist=True,
                     showmeans=True, whis=(5, 95), flierprops={"markersize": 2, "alpha": 0.4},
                     medianprops={"color": "black"},
                     meanprops={"marker": "D", "markerfacecolor": "white",
                                "markeredgecolor": "black"})
    for patch, m in zip(box["boxes"], models, strict=True):
        patch.set_facecolor(colours[m])
        patch.set_alpha(0.7)
    ax.set_yscale("symlog", linthresh=100.0)
    ax.yaxis.set_major_formatter(_GBP)
    ax.set_xticks(np.arange(len(models)),
                  [f"{textwrap.fill(cm.label(m), 16)}\n(n = {len(v)})"
                   for m, v in zip(models, values, strict=True)])
    ax.set_ylabel("Annual NHS cost per resident (£, symlog scale)")
    ax.set_title("Box: quartiles; whiskers: 5th–95th centiles; diamond: mean", fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return ax
