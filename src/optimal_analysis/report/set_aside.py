"""What was set aside before the analysis, for the top of the report.

From the published ``data_flow`` table (counts already under disclosure
control), so the statement shows nothing the tables hide. One line per region
with any row set aside, e.g. ``north: 795 of 800 residents (invalid date 795);
25 of 3,300 contacts (resident excluded 25)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["set_aside_lines"]

_TABLE_ORDER = ("residents", "care_homes", "contacts", "admissions")
_PREFIX = "excluded: "


def _fmt(value: object) -> str:
    num = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return str(value) if pd.isna(num) else f"{int(num):,}"


def set_aside_lines(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """One line per region with rows set aside (empty list: every row read was analysed).

    Each table with exclusions reads ``<excluded> of <read> <table> (<reason> <rows>, ...)``
    where ``excluded`` sums the published counts of its ``excluded: <reason>``
    steps (with a suppressed count among them, "at least" the others).
    """
    flow = tables.get("data_flow")
    if flow is None or flow.empty:
        return []
    flow = flow.astype({"step": "string"})
    out = []
    for region, g in flow.groupby("region", sort=True):
        parts = []
        order = {t: i for i, t in enumerate(_TABLE_ORDER)}
        for table, t in sorted(g.groupby("table"), key=lambda kv: order.get(kv[0], 99)):
            exc = t[t["step"].str.startswith(_PREFIX)]
            if exc.empty:
                continue
            read = t.loc[t["step"] == "read", "rows"]
            rows = pd.to_numeric(exc["rows"], errors="coerce")
            if rows.notna().all():
                total = _fmt(rows.sum())
            elif rows.notna().any():  # a suppressed count: the total is at least the rest
                total = f"at least {_fmt(rows.sum())}"
            else:
                total = str(exc["rows"].iloc[0]) if len(exc) == 1 else "a few"
            reasons = ", ".join(f"{s.removeprefix(_PREFIX).replace('_', ' ')} {_fmt(n)}"
                                for s, n in zip(exc["step"], exc["rows"], strict=True))
            parts.append(f"{total} of {_fmt(read.iloc[0]) if len(read) else '?'} {table} "
                         f"({reasons})")
        if parts:
            out.append(f"{region}: " + "; ".join(parts))
    return out
