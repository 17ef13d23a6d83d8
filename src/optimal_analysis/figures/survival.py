"""Survival figures, drawn from ``cumulative_incidence.csv``, ``km.csv`` and ``at_risk.csv``."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.transforms import blended_transform_factory

from optimal_analysis import outcomes as registry
from optimal_analysis.care_models import CareModels, CareModelsLike

__all__ = ["plot_cumulative_incidence", "plot_km"]



def _step(ax: Axes, time, est, low, high, *, start: float, colour: str, label: str) -> None:
    t = np.r_[0.0, np.asarray(time, dtype=float)]
    ax.step(t, np.r_[start, est], where="post", color=colour, label=label, lw=1.6)
    lo = np.r_[start, np.nan_to_num(np.asarray(low, dtype=float), nan=start)]
    hi = np.r_[start, np.nan_to_num(np.asarray(high, dtype=float), nan=start)]
    ax.fill_between(t, lo, hi, step="post", color=colour, alpha=0.15, lw=0)


def _at_risk_rows(
    ax: Axes, at_risk: pd.DataFrame, models: list[str], colours: dict[str, str]
) -> None:
    """Numbers at risk as rows of text under the x axis, one row per care model."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    days = np.sort(at_risk["time"].unique())
    if days.size:
        ax.set_xticks(days)
        ax.set_xlim(0, max(ax.get_xlim()[1], days.max() * 1.04))
    ax.text(
        0,
        -0.2,
        "Number at risk",
        transform=ax.transAxes,
        ha="left",
        va="center",
        fontsize=8,
        fontweight="bold",
    )
    for i, model in enumerate(models):
        y = -0.28 - 0.07 * i
        rows = at_risk[at_risk["care_model"] == model]
        for t, n in zip(rows["time"], rows["n_at_risk"], strict=True):
            ax.text(
                t,
                y,
                f"{n:g}" if pd.notna(n) else "–",
                transform=trans,
                ha="center",
                va="center",
                fontsize=8,
                color=colours[model],
            )


def _models(
    table: pd.DataFrame, care_models: CareModelsLike
) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Care models of ``table`` in display order, their colours and their labels."""
    cm = CareModels.of(care_models)
    models = cm.ordered(table["care_model"].astype(str).unique())
    return models, cm.colours(models), {m: cm.label(m) for m in models}


def _curves(
    ax: Axes, data: pd.DataFrame, models: Sequence[str], colours: dict, labels: dict,
    start: float,
) -> None:
    """One step curve with its CI band per care model (``data`` sorted by time).

    The band is the small-sample interval (``conf_low_small``, ``conf_high_small``)
    where the table has it, else ``conf_low``, ``conf_high``.
    """
    small = {"conf_low_small", "conf_high_small"} <= set(data.columns)
    low, high = ("conf_low_small", "conf_high_small") if small else ("conf_low", "conf_high")
    for model in models:
        d = data[data["care_model"] == model]
        _step(
            ax,
            d["time"],
            d["estimate"],
            d[low],
            d[high],
            start=start,
            colour=colours[model],
            label=labels[model],
        )


def plot_cumulative_incidence(
    table: pd.DataFrame,
    *,
    event: str,
    at_risk: pd.DataFrame | None = None,
    ax: Axes | None = None,
    care_models: CareModelsLike = None,
) -> Axes:
    """Aalen–Johansen cumulative incidence of ``event`` by care model, 95% CI bands.

    ``table`` is ``cumulative_incidence.csv``; ``at_risk`` (``at_risk.csv``, rows
    with ``scale == "admission"``) adds the numbers at risk under the axis at
    its display days. Curves start at 0 on day 0 and step at each event day.
    """
    if event not in set(table["event"]):
        raise ValueError(
            f"no rows with event {event!r} in the table; it has {sorted(set(table['event']))}"
        )
    ax = ax or plt.subplots(figsize=(6.5, 4.8))[1]
    models, colours, labels = _models(table, care_models)
    data = table[table["event"] == event].sort_values("time")
    _curves(ax, data, models, colours, labels, start=0.0)
    ax.set_xlabel("Days since entry")
    ax.set_ylabel("Cumulative incidence")
    first = registry.OUTCOMES.get(event)
    title = first.first_label if first and first.first_label else registry.label(event)
    ax.set_title(title, fontsize=11)
    ax.set_ylim(0, None)
    ax.set_xlim(0, None)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    if at_risk is not None:
        _at_risk_rows(ax, at_risk[at_risk["scale"] == "admission"], models, colours)
    return ax


def plot_km(
    table: pd.DataFrame,
    *,
    at_risk: pd.DataFrame | None = None,
    ax: Axes | None = None,
    care_models: CareModelsLike = None,
) -> Axes:
    """Kaplan–Meier all-cause survival by care model with 95% CI bands.

    ``table`` is ``km.csv``; ``at_risk`` (``at_risk.csv``, rows with
    ``scale == "death"``) adds the numbers at risk under the axis.
    """
    ax = ax or plt.subplots(figsize=(6.5, 4.8))[1]
    models, colours, labels = _models(table, care_models)
    data = table.sort_values("time")
    _curves(ax, data, models, colours, labels, start=1.0)
    ax.set_xlabel("Days since entry")
    ax.set_ylabel("Proportion alive")
    ax.set_title("All-cause survival (Kaplan–Meier)", fontsize=11)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, None)
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    if at_risk is not None:
        _at_risk_rows(ax, at_risk[at_risk["scale"] == "death"], models, colours)
    return ax
