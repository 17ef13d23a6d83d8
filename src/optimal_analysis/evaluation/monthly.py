"""Monthly rates of switching and comparison homes by months from the switch (for the figure).

For switching homes, month ``e`` from their switch is calendar month
``g + e`` of cohort ``g``; comparison homes (never switched, same origin
model) have no switch, so their row at ``e`` is their rate in the calendar
months ``g + e``, averaged over cohorts with the switching homes' cohort
sizes as weights (:math:`n_g / \\sum n_g`): the same calendar mix as the
switching homes, so a fall that every home shares shows in both lines.
Comparison ``events`` and ``person_years`` are those weighted sums (events
rounded to whole numbers for publication).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SCHEME_RATE_COLUMNS", "make_scheme_rates"]

SCHEME_RATE_COLUMNS = ["outcome", "term", "group", "months_from_switch", "events",
                       "person_years"]


def make_scheme_rates(frame: pd.DataFrame, outcome: str, *, window: int = 12) -> pd.DataFrame:
    """One row per scheme × group (``switching``, ``comparison``) × month from switch.

    ``frame`` is :func:`optimal_analysis.evaluation.design.estimation_frame`;
    months from ``-window`` to ``window``. No rate column: the figure divides
    the (published, rounded) events by person-years, so no exact rate is published.
    """
    out = []
    for (origin, scheme), sw in frame[frame["cohort"] >= 0].groupby(["origin", "scheme"]):
        e = sw["month_index"] - sw["cohort"]
        sw = sw.assign(e=e)[(e >= -window) & (e <= window)]
        s = sw.groupby("e")[["y", "person_years"]].sum()
        comp = frame[(frame["cohort"] < 0) & (frame["origin"] == origin)]
        by_month = comp.groupby("month_index")[["y", "person_years"]].sum()
        sizes = sw.drop_duplicates("home")["cohort"].value_counts(normalize=True)
        es = np.arange(-window, window + 1)
        c_y = np.zeros(es.size)
        c_t = np.zeros(es.size)
        for g, share in sizes.items():  # cohorts: a handful of switch months
            m = by_month.reindex(g + es)
            c_y += share * m["y"].fillna(0).to_numpy()
            c_t += share * m["person_years"].fillna(0).to_numpy()
        s = s.reindex(es)
        for group, y, t in (("switching", s["y"].to_numpy(), s["person_years"].to_numpy()),
                            ("comparison", c_y, c_t)):
            out.append(pd.DataFrame({"outcome": outcome, "term": scheme, "group": group,
                                     "months_from_switch": es, "events": y,
                                     "person_years": t}))
    if not out:
        return pd.DataFrame(columns=SCHEME_RATE_COLUMNS)
    res = pd.concat(out, ignore_index=True)
    res = res[res["person_years"].fillna(0) > 0].reset_index(drop=True)
    res["events"] = res["events"].round().astype(np.int64)
    return res[SCHEME_RATE_COLUMNS]
