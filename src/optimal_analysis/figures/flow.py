"""The flow of records as a figure: read, excluded by reason, analysed, per region.

Drawn from ``data_flow.csv`` (``region, table, step, rows`` with steps ``read``,
``excluded: <reason>`` and ``analysed``; published counts may be the disclosure
marker, which is drawn as nothing and said in the label).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["TABLE_LABELS", "plot_data_flow"]

#: Readable names of the input tables, in display order.
TABLE_LABELS = {"care_homes": "Care homes", "residents": "Residents", "contacts": "Contacts",
                "admissions": "Admissions"}
_ANALYSED = "#0072B2"
_EXCLUDED = ["#D55E00", "#E69F00", "#CC79A7", "#F0E442", "#999999", "#56B4E9"]


def _count(v: object) -> float:
    return float(pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0])


def _fmt(x: float) -> str:
    return "suppressed" if not np.isfinite(x) else f"{x:,.0f}"


def plot_data_flow(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars, one per region × input table: rows analysed, then rows excluded
    stacked by reason; the label gives read → analysed (excluded) as numbers.

    Bars of a table are on one scale across regions (fraction of the rows read), so a
    region that lost many records stands out; the numbers are in the labels.
    """
    t = table.copy()
    t["_rows"] = pd.to_numeric(t["rows"], errors="coerce")
    regions = sorted(t["region"].astype(str).unique())
    tables = [k for k in TABLE_LABELS if k in set(t["table"])] + sorted(
        set(t["table"]) - set(TABLE_LABELS))
    excluded = t[t["step"].astype(str).str.startswith("excluded")]
    reasons = sorted(excluded["step"].astype(str).str.removeprefix("excluded:").str.strip()
                     .unique())
    colour = dict(zip(reasons, _EXCLUDED * (1 + len(reasons) // len(_EXCLUDED)), strict=False))
    rows = [(r, k) for r in regions for k in tables
            if ((t["region"] == r) & (t["table"] == k)).any()]
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.32 * len(rows) + 1.2), layout="constrained")
    y = np.arange(len(rows))[::-1]
    labels = []
    used: set[str] = set()
    for yi, (region, name) in zip(y, rows, strict=True):
        part = t[(t["region"] == region) & (t["table"] == name)].set_index("step")
        read = _count(part["rows"].get("read"))
        analysed = _count(part["rows"].get("analysed"))
        ax.barh(yi, 1.0 if np.isfinite(analysed) and read > 0 else 0.0,
                left=0, color="#eeeeee", height=0.7)
        frac_a = analysed / read if read > 0 and np.isfinite(analysed) else np.nan
        if np.isfinite(frac_a):
            ax.barh(yi, frac_a, left=0, color=_ANALYSED, height=0.7)
        left = frac_a if np.isfinite(frac_a) else 0.0
        hidden = False  # an exclusion whose count is suppressed
        for step, v in part["_rows"].items():
            if str(step).startswith("excluded") and not np.isfinite(v):
                hidden = True
            if not str(step).startswith("excluded") or not np.isfinite(v) or read <= 0:
                continue
            reason = str(step).removeprefix("excluded:").strip()
            ax.barh(yi, v / read, left=left, color=colour[reason], height=0.7)
            left += v / read
            used.add(reason)
        out = read - analysed if np.isfinite(read) and np.isfinite(analysed) else np.nan
        labels.append(f"{region}: {TABLE_LABELS.get(name, name)}  "
                      f"{_fmt(read)} read → {_fmt(analysed)} analysed"
                      + (f" ({_fmt(out)} excluded)" if np.isfinite(out) and out > 0 else "")
                      + (" (a few excluded: count suppressed)" if hidden else ""))
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_xlim(0, 1.0)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel("Share of the records read")
    handles = [plt.Rectangle((0, 0), 1, 1, color=_ANALYSED)] + [
        plt.Rectangle((0, 0), 1, 1, color=colour[r]) for r in reasons if r in used]
    names = ["analysed"] + [f"excluded: {r.replace('_', ' ')}" for r in reasons if r in used]
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.6 / max(
        len(rows), 1)), ncol=min(3, len(names)), frameon=False, fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return ax
