"""Who switched when: from the care-model history to the arrays of the estimators.

A home *switches* at the first start_date of its history whose model differs
from its first period's model (the *origin*); the new model is its scheme.
Homes whose model never changes are comparison homes of their model. Months
are whole calendar months: a home's *cohort* is its first whole month under
the scheme (the switch month if the switch is on the 1st, else the next);
a month split by the switch is left out for that home, and so is everything
from the month of a second change of model on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["estimation_frame", "home_switches"]


def home_switches(care_homes: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
    """One row per home: care_home_id, origin, scheme (None if never), switch_date, end_date.

    ``end_date`` is the start of a second change of model (NaT if none).
    """
    base = care_homes[["care_home_id", "care_model"]].rename(columns={"care_model": "origin"})
    base = base.astype({"care_home_id": object, "origin": object})
    out = base.assign(scheme=None, switch_date=pd.NaT, end_date=pd.NaT)
    if history is None or len(history) == 0:
        return out.astype({"switch_date": "datetime64[ns]", "end_date": "datetime64[ns]"})
    h = history.assign(start_date=pd.to_datetime(history["start_date"])).sort_values(
        ["care_home_id", "start_date"], ignore_index=True)
    first_model = h.groupby("care_home_id")["care_model"].transform("first")
    change = h["care_model"] != h.groupby("care_home_id")["care_model"].shift(1)
    change &= h.groupby("care_home_id").cumcount() > 0
    changes = h[change]
    rank = changes.groupby("care_home_id").cumcount()
    first = changes[rank == 0].set_index("care_home_id")
    second = changes[rank == 1].set_index("care_home_id")["start_date"]
    origin = pd.Series(first_model.to_numpy(), index=h["care_home_id"]).groupby(level=0).first()
    out = out.set_index("care_home_id")
    out.loc[origin.index, "origin"] = origin
    out.loc[first.index, "scheme"] = first["care_model"]
    out["switch_date"] = first["start_date"].reindex(out.index)
    out["end_date"] = second.reindex(out.index)
    return out.reset_index()


def estimation_frame(panel: pd.DataFrame, switches: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Home × month rows for one outcome with the codes the estimators take.

    Returns
    -------
    DataFrame: care_home_id, month (Timestamp), origin, scheme, y, person_years,
    and integer codes home, month_index (0 = first panel month), cohort (−1
    never switched) — split months and months after a second change left out.
    """
    hm = (panel.groupby(["care_home_id", "month"], observed=True)[[outcome, "person_years"]]
          .sum().reset_index().rename(columns={outcome: "y"}))
    sw = switches.set_index("care_home_id")
    hm = hm.join(sw[["origin", "scheme", "switch_date", "end_date"]], on="care_home_id")
    months = hm["month"].to_numpy("datetime64[M]")
    first = months.min()
    hm["month_index"] = (months - first).astype(np.int64)
    sdate = hm["switch_date"].to_numpy("datetime64[D]")
    smonth = sdate.astype("datetime64[M]")
    on_first = sdate == smonth.astype("datetime64[D]")
    cohort = np.where(np.isnat(sdate), -1,
                      (smonth - first).astype(np.int64) + np.where(on_first, 0, 1))
    split = ~np.isnat(sdate) & ~on_first & (months == smonth)
    edate = hm["end_date"].to_numpy("datetime64[D]")
    after_second = ~np.isnat(edate) & (months >= edate.astype("datetime64[M]"))
    hm["cohort"] = cohort
    hm = hm[~split & ~after_second & (hm["person_years"] > 0)].reset_index(drop=True)
    hm["home"] = pd.factorize(hm["care_home_id"])[0]
    return hm[["care_home_id", "month", "origin", "scheme", "y", "person_years", "home",
               "month_index", "cohort"]]
