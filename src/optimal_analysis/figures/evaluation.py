"""Scheme evaluation figures, drawn from ``scheme_rates.csv`` and ``event_study.csv`` only."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["plot_event_study", "plot_scheme_rates"]

_SWITCHING, _COMPARISON = "#0072B2", "#7f7f7f"  # Okabe-Ito blue; grey for homes that stayed


def _one(table: pd.DataFrame, outcome: str | None, term: str | None) -> pd.DataFrame:
    d = table
    if outcome is not None:
        d = d[d["outcome"] == outcome]
    if term is not None:
        d = d[d["term"] == term]
    if d[["outcome", "term"]].drop_duplicates().shape[0] > 1:
        raise ValueError("several outcomes or schemes in the table: pass outcome= and term=")
    return d


def plot_scheme_rates(table: pd.DataFrame, *, outcome: str | None = None,
                      term: str | None = None, label: str = "Emergency admissions",
                      ax: Axes | None = None) -> Axes:
    """Monthly rates per person-year of switching and comparison homes around the switch.

    ``table`` is ``scheme_rates.csv``: rate = events / person_years (published: rounded
    events; suppressed months are gaps).
    Comparison homes are shown on the switching homes' calendar months.
    """
    d = _one(table, outcome, term)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.6), layout="constrained")
    for group, colour, name in (("switching", _SWITCHING, "Homes that switched"),
                                ("comparison", _COMPARISON, "Comparison homes")):
        g = d[d["group"] == group].sort_values("months_from_switch")
        rate = pd.to_numeric(g["events"], errors="coerce") / g["person_years"].astype(float)
        ax.plot(g["months_from_switch"], rate, marker="o", ms=3, color=colour, label=name)
    ax.axvline(-0.5, color="black", lw=0.8, ls="--")
    ax.set_xlabel("Months from the switch (0 = first month of the scheme)")
    ax.set_ylabel(f"{label} per resident-year")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return ax


def plot_event_study(table: pd.DataFrame, *, outcome: str | None = None,
                     term: str | None = None, ax: Axes | None = None) -> Axes:
    """Rate ratios by months from the switch (month −1 = 1) with 95% intervals, log scale.

    ``table`` is ``event_study.csv``: before the switch the ratios show
    whether switching homes were already diverging (pre-trends).
    """
    d = _one(table, outcome, term).sort_values("months_from_switch")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.6), layout="constrained")
    e = d["months_from_switch"].to_numpy()
    est = pd.to_numeric(d["estimate"], errors="coerce").to_numpy(float)
    low = pd.to_numeric(d["conf_low"], errors="coerce").to_numpy(float)
    high = pd.to_numeric(d["conf_high"], errors="coerce").to_numpy(float)
    ok = np.isfinite(low) & np.isfinite(high)
    ax.vlines(e[ok], low[ok], high[ok], color=_SWITCHING, lw=1.2)
    ax.plot(e, est, "o", color=_SWITCHING, ms=4)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.axvline(-0.5, color="black", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("Months from the switch (reference: month −1)")
    ax.set_ylabel("Rate ratio vs not switching")
    return ax
