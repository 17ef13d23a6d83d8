"""Figures of the weighting and regions stages: love plot, propensity-score overlap, region forest.

Drawn from ``balance.csv``, ``ps_overlap.csv`` and ``region_effects.csv`` (the report
uses their published copies: suppressed cells are gaps).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from optimal_analysis import outcomes as registry
from optimal_analysis.care_models import CareModels, CareModelsLike

__all__ = ["plot_love", "plot_ps_overlap", "plot_region_forest"]

_LEVEL_LABELS = {"F": "female", "M": "male", "yes": "", "mean": "(mean)"}


def _row_label(covariate: str, level: str) -> str:
    extra = _LEVEL_LABELS.get(level, level)
    return f"{covariate.replace('_', ' ')} {extra}".strip()


def plot_love(
    table: pd.DataFrame, *, ax: Axes | None = None, care_models: CareModelsLike = None
) -> Axes:
    """Love plot: |SMD| of every covariate level against the reference, crude and weighted.

    Open markers crude, filled markers weighted, one colour per care model; the
    dashed line at 0.1 is the usual threshold of imbalance.
    """
    data = table[~table["is_reference"].astype(str).str.lower().isin(["true", "1"])]
    cm = CareModels.of(care_models)
    models = cm.ordered(data["care_model"].unique())
    colours = cm.colours(models)
    keys = list(dict.fromkeys(zip(data["covariate"], data["level"], strict=True)))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 1.2 + 0.35 * len(keys)), layout="constrained")
    y_of = {k: i for i, k in enumerate(keys)}
    for j, m in enumerate(models):
        d = data[data["care_model"] == m]
        y = np.array([y_of[k] for k in zip(d["covariate"], d["level"], strict=True)])
        y = y + (j - (len(models) - 1) / 2) * 0.18
        crude = np.abs(pd.to_numeric(d["smd_crude"], errors="coerce").to_numpy(float))
        weighted = np.abs(pd.to_numeric(d["smd_weighted"], errors="coerce").to_numpy(float))
        ax.scatter(crude, y, facecolors="none", edgecolors=colours[m], s=28,
                   label=f"{cm.label(m)}, unweighted")
        ax.scatter(weighted, y, color=colours[m], s=28, label=f"{cm.label(m)}, weighted")
    ax.axvline(0.1, color="0.4", ls="--", lw=1)
    ax.set_yticks(range(len(keys)), [_row_label(c, lv) for c, lv in keys])
    ax.invert_yaxis()
    ax.set_xlabel("|standardised mean difference| against the reference care model")
    ax.set_xlim(left=0)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_ps_overlap(
    table: pd.DataFrame, *, care_models: CareModelsLike = None
) -> plt.Figure:
    """Distribution of each care model's propensity score by the care model residents had.

    One panel per score (``score_of``): the share of each care model's residents
    in each bin (from the binned, published counts; suppressed bins are gaps).
    Overlap means every care model has residents across the range.
    """
    cm = CareModels.of(care_models)
    scores = cm.ordered(table["score_of"].unique())
    models = cm.ordered(table["care_model"].unique())
    colours = cm.colours(models)
    fig, axes = plt.subplots(1, len(scores), figsize=(4.2 * len(scores), 3.6), sharey=True,
                             layout="constrained", squeeze=False)
    for ax, s in zip(axes[0], scores, strict=True):
        for m in models:
            d = table[(table["score_of"] == s) & (table["care_model"] == m)]
            n = pd.to_numeric(d["residents"], errors="coerce").to_numpy(float)
            share = n / np.nansum(n) if np.nansum(n) > 0 else n
            mid = (d["bin_low"].to_numpy(float) + d["bin_high"].to_numpy(float)) / 2
            ax.plot(mid, share, drawstyle="steps-mid", color=colours[m], label=cm.label(m))
        ax.set_title(f"P({cm.label(s)} | covariates)", fontsize=10)
        ax.set_xlim(0, 1)
        ax.set_xlabel("propensity score")
    axes[0][0].set_ylabel("share of the care model's residents")
    axes[0][-1].legend(fontsize=8)
    return fig


def plot_region_forest(
    table: pd.DataFrame, *, ax: Axes | None = None, care_models: CareModelsLike = None
) -> Axes:
    """Forest plot of the adjusted rate ratio in each region, the pooled estimate and its
    95% prediction interval (the range expected for a new region), first rate outcome.

    With no region holding two care models the panel says so and shows no estimate:
    region and care model cannot be separated.
    """
    cm = CareModels.of(care_models)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2 + 0.3 * len(table)), layout="constrained")
    if table.empty:
        ax.text(0.5, 0.5, "No region has both the reference and another care model:\n"
                "region and care model cannot be separated, so no\n"
                "between-region comparison is shown.", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    outcome = table["outcome"].iloc[0]
    d = table[table["outcome"] == outcome]
    labels, y = [], 0
    for term in cm.ordered(d["term"].unique()):
        g = d[d["term"] == term]
        regions = g[g["region"] != "pooled"]
        for r in regions.itertuples():
            ax.errorbar(r.estimate, y, xerr=[[r.estimate - r.conf_low], [r.conf_high - r.estimate]],
                        fmt="s", color=cm.colours([term])[term], ms=5, capsize=2)
            labels.append(f"{cm.label(term)}: {r.region}")
            y += 1
        pooled = g[g["region"] == "pooled"]
        for r in pooled.itertuples():
            ax.plot([r.pi_low, r.pi_high], [y, y], color="0.6", lw=6, solid_capstyle="butt",
                    label="95% prediction interval" if y == len(labels) else None)
            ax.errorbar(r.estimate, y, xerr=[[r.estimate - r.conf_low], [r.conf_high - r.estimate]],
                        fmt="D", color="black", ms=6, capsize=3)
            labels.append(f"{cm.label(term)}: pooled (I² {r.i2:.0f}%)")
            y += 1
    ax.axvline(1, color="0.4", lw=1)
    ax.set_xscale("log")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"adjusted rate ratio, {registry.label(outcome).lower()}")
    ax.legend(fontsize=8, loc="lower right")
    return ax
