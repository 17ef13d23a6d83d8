"""Figures of the rates stage, drawn from ``crude_rates.csv`` and ``rate_ratios.csv`` only."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from optimal_analysis import outcomes as registry
from optimal_analysis.care_models import CareModels, CareModelsLike

__all__ = ["plot_crude_rates", "plot_rate_ratios"]

def _plain_log_axis(ax: Axes) -> None:
    """Log x axis with ticks at 1, 2, 3, 5 × 10^k written as plain numbers."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_crude_rates(
    table: pd.DataFrame, *, ax: Axes | None = None, care_models: CareModelsLike = None
) -> Axes:
    """Dot plot of crude rates per person-year by outcome and care model, with 95% CIs.

    ``table`` is ``crude_rates.csv``; whole-cohort rows (``care_model == "all"``)
    are left out. The x axis is logarithmic so that outcomes with very
    different rates (deaths, bed days) share one panel; bars are the exact
    Poisson limits (none for bed days).
    """
    data = table[table["care_model"] != "all"]
    cm = CareModels.of(care_models)
    models = cm.ordered(data["care_model"].unique())
    outcomes = list(dict.fromkeys(data["outcome"]))
    colours = cm.colours(models)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.9 + 0.6 * len(outcomes)), layout="constrained")
    step = 0.7 / max(len(models), 1)
    for j, model in enumerate(models):
        rows = data[data["care_model"] == model].set_index("outcome").reindex(outcomes)
        y = np.arange(len(outcomes)) - 0.35 + step * (j + 0.5)
        rate = rows["rate"].to_numpy(dtype=float)
        low = rows["conf_low"].to_numpy(dtype=float)
        high = rows["conf_high"].to_numpy(dtype=float)
        err = np.vstack(
            [np.where(np.isnan(low), 0, rate - low), np.where(np.isnan(high), 0, high - rate)]
        )
        ax.errorbar(
            rate,
            y,
            xerr=err,
            fmt="o",
            ms=5,
            capsize=2,
            color=colours[model],
            label=cm.label(model),
        )
    _plain_log_axis(ax)
    ax.set_yticks(np.arange(len(outcomes)), [registry.label(o) for o in outcomes])
    ax.invert_yaxis()
    ax.set_xlabel("Crude rate per resident-year (log scale; 95% exact Poisson CI)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(
        loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(models), frameon=False, fontsize=8
    )
    return ax


def plot_rate_ratios(
    table: pd.DataFrame, *, ax: Axes | None = None, care_models: CareModelsLike = None
) -> Axes:
    """Forest plot of rate ratios (log scale, line at 1) by outcome, term, model and adjustment.

    ``table`` is ``rate_ratios.csv``; where it has an ``exposure`` column only
    the main analysis (``person_years``) is drawn. Each row is labelled with
    its model and adjustment, and annotated on the right with the number of
    residents and care homes (clusters) used; a ``†`` marks estimates flagged
    ``few_clusters``, and a footnote states when ``region_confounded``. Bars are the
    small-sample interval (``conf_low_small``, ``conf_high_small``) where the table
    has it, else the CR1 one (``conf_low``, ``conf_high``). Rows with
    a ``reason`` are annotated: "not estimable (reason)" without a marker when the
    estimate is empty, "no CI (reason)" without a bar when only the limits are.
    """
    data = table
    if "exposure" in data.columns:
        data = data[data["exposure"] == "person_years"]
    cm = CareModels.of(care_models)
    models = cm.ordered(data["term"].unique())
    colours = cm.colours(models)
    outcomes = list(dict.fromkeys(data["outcome"]))
    data = data.assign(
        _o=data["outcome"].map({o: i for i, o in enumerate(outcomes)}),
        _t=data["term"].map({m: i for i, m in enumerate(models)}),
        _m=data["model"].map({"poisson": 0, "negbin": 1}).fillna(2),
        _a=data["adjustment"].map({"crude": 0, "adjusted": 1}).fillna(2),
    ).sort_values(["_o", "_t", "_m", "model", "_a"])
    n = len(data)
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 1.2 + 0.24 * n), layout="constrained")
    # A gap between outcomes: y positions skip one slot at each new outcome.
    y = np.arange(n) + data["_o"].to_numpy()
    est = data["estimate"].to_numpy(dtype=float)
    # The small-sample interval where the table has it (results contract), else CR1.
    small = {"conf_low_small", "conf_high_small"} <= set(data.columns)
    low, high = ("conf_low_small", "conf_high_small") if small else ("conf_low", "conf_high")
    # Rows without an estimate (a ``reason``) get no marker; rows without limits no bar.
    err = np.nan_to_num(
        np.vstack(
            [
                est - data[low].to_numpy(dtype=float),
                data[high].to_numpy(dtype=float) - est,
            ]
        ),
        nan=0.0,
    )
    reasons = data["reason"].fillna("").astype(str).to_numpy() if "reason" in data else [""] * n
    for model in models:
        m = (data["term"] == model).to_numpy()
        ax.errorbar(
            est[m],
            y[m],
            xerr=err[:, m],
            fmt="s",
            ms=4,
            capsize=2,
            color=colours[model],
            label=f"{cm.label(model)} vs reference",
        )
    ax.axvline(1.0, color="black", lw=0.8)
    _plain_log_axis(ax)
    few = (
        data["few_clusters"].astype(bool).to_numpy()
        if "few_clusters" in data
        else np.zeros(n, bool)
    )
    labels = [f"{mo} {ad}" for mo, ad in zip(data["model"], data["adjustment"], strict=True)]
    ax.set_yticks(y, labels, fontsize=7)
    right = ax.get_yaxis_transform()
    rows = zip(y, data["n_residents"], data["n_clusters"], few, est, reasons, strict=True)
    for yi, nr, nc, flag, e, why in rows:
        note = f"; not estimable ({why})" if np.isnan(e) else f"; no CI ({why})" if why else ""
        ax.text(
            1.01,
            yi,
            f"n={int(nr):,}, homes={int(nc)}{' †' if flag else ''}{note}",
            transform=right,
            va="center",
            fontsize=7,
        )
    for i, outcome in enumerate(outcomes):
        first = y[data["_o"].to_numpy() == i].min()
        ax.text(
            -0.01,
            first - 0.9,
            registry.label(outcome),
            transform=right,
            ha="right",
            va="center",
            fontsize=8,
            fontweight="bold",
        )
    ax.set_ylim(y.max() + 1, -1.5)
    ax.set_xlabel("Rate ratio vs reference care model (log scale; 95% CI, cluster-robust)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(
        loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(models), frameon=False, fontsize=8
    )
    notes = []
    if few.any():
        notes.append(
            "† fewer care homes than the few-clusters threshold: see the small-sample columns"
        )
    if "region_confounded" in data and data["region_confounded"].astype(bool).any():
        notes.append(
            "Care model and region cannot be separated: no region has homes of both models"
        )
    if notes:
        ax.annotate(  # below the x label, inside the layout (not over the label)
            "\n".join(notes),
            xy=(0, 0),
            xycoords=ax.xaxis.label,
            xytext=(0, -4),
            textcoords="offset points",
            va="top",
            fontsize=7,
        )
    return ax
