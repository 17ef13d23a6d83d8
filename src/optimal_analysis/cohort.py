"""Cohort and events: one row per resident with person-time and event counts.

Definitions (data-contract.md, "Follow-up and events"):

- follow_up_days = exit_date − entry_date + 1; person_years = follow_up_days / 365.25.
- An event counts if its date is in [entry_date, exit_date] (ingest has
  already set aside rows outside that window, with a reason).
- A contact row counts as ``n`` events; an admission row is one event of its
  method.
- Bed days of a stay = min(discharge_date, exit_date) − admission_date (0 for
  a same-day stay); a stay with no discharge_date runs to exit_date.
- Time to first emergency admission = its admission_date − entry_date + 1;
  without one, follow_up_days, with status 2 (competing event) if the resident
  died and 0 (censored) if they moved out or the study ended.

The table layouts are in docs/developing.md ("Interim tables").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.25
RESIDENT_COLUMNS = ["resident_id", "region", "care_home_id", "care_model", "nursing", "beds",
                    "sex", "age", "dementia", "barthel", "entry_date", "exit_date", "exit_reason"]
EVENT_COLUMNS = ["resident_id", "region", "care_home_id", "care_model", "event_type", "item",
                 "event_date", "day", "n", "discharge_date", "bed_days"]
STATUS_CENSORED, STATUS_ADMISSION, STATUS_DEATH = 0, 1, 2


class CohortError(Exception):
    """The combined tables are inconsistent (a bug upstream, or tables edited by hand)."""


def _days(delta: pd.Series) -> np.ndarray:
    return (delta.to_numpy().astype("timedelta64[D]")).astype(np.int64)


def make_events(residents: pd.DataFrame, contacts: pd.DataFrame,
                admissions: pd.DataFrame) -> pd.DataFrame:
    """Stack contacts and admissions into one tidy events table.

    ``residents`` must already carry ``care_home_id``, ``care_model``,
    ``entry_date`` and ``exit_date``; every event's resident must be in it.
    Rows are sorted by resident, date, event type and item, so the table
    does not depend on input row order.
    """
    res = residents.set_index("resident_id")
    parts = []
    for kind, df, date_col in (("contact", contacts, "contact_date"),
                               ("admission", admissions, "admission_date")):
        unknown = ~df["resident_id"].isin(res.index)
        if unknown.any():
            raise CohortError(f"{int(unknown.sum())} {kind}s of residents not in the cohort, e.g. "
                              f"{df.loc[unknown, 'resident_id'].iloc[0]!r}")
        r = res.loc[df["resident_id"]]
        date = df[date_col].to_numpy()
        if kind == "contact":
            item = df["service"].astype("string").to_numpy()
            n = df["n"].astype(np.int64).to_numpy()
            discharge = np.full(len(df), np.datetime64("NaT"), dtype="datetime64[ns]")
            bed_days = np.zeros(len(df), dtype=np.int64)
        else:
            item = (df["method"].astype("string") + "_admission").to_numpy()
            n = np.ones(len(df), dtype=np.int64)
            discharge = df["discharge_date"].to_numpy()
            end = np.where(pd.isna(discharge), r["exit_date"].to_numpy(),
                           np.minimum(discharge, r["exit_date"].to_numpy()))
            bed_days = _days(pd.Series(end - date))
        parts.append(pd.DataFrame({
            "resident_id": df["resident_id"].astype("string").to_numpy(),
            "region": r["region"].to_numpy(),
            "care_home_id": r["care_home_id"].to_numpy(),
            "care_model": r["care_model"].to_numpy(),
            "event_type": kind,
            "item": item,
            "event_date": date,
            "day": _days(pd.Series(date - r["entry_date"].to_numpy())) + 1,
            "n": n,
            "discharge_date": discharge,
            "bed_days": bed_days,
        }))
    events = pd.concat(parts, ignore_index=True)
    for col in ("resident_id", "region", "care_home_id", "care_model", "event_type", "item"):
        events[col] = events[col].astype("string")
    if (events["bed_days"] < 0).any() or (events["day"] < 1).any():
        raise CohortError("events outside follow-up reached the cohort stage")
    return events.sort_values(["resident_id", "event_date", "event_type", "item", "n", "bed_days"],
                              kind="stable", ignore_index=True)


def make_cohort(care_homes: pd.DataFrame, residents: pd.DataFrame, contacts: pd.DataFrame,
                admissions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the cohort (one row per resident) and the events table.

    Parameters
    ----------
    care_homes, residents, contacts, admissions
        The combined, validated tables (used rows only, with a ``region``
        column), as written by the combine step.

    Returns
    -------
    cohort, events
        See docs/developing.md for the columns. The cohort is sorted by
        resident_id; counts are per resident over follow-up.
    """
    homes = care_homes[["care_home_id", "care_model", "nursing", "beds"]]
    res = residents.merge(homes, on="care_home_id", how="left", validate="many_to_one")
    if res["care_model"].isna().any():
        raise CohortError("residents whose care home is not in the combined care_homes")
    res = res[RESIDENT_COLUMNS].sort_values("resident_id", ignore_index=True)
    res["follow_up_days"] = _days(res["exit_date"] - res["entry_date"]) + 1
    res["person_years"] = res["follow_up_days"] / DAYS_PER_YEAR
    res["died"] = (res["exit_reason"] == "died").to_numpy(dtype=bool)
    res["nursing"] = res["nursing"].astype(bool)
    res["dementia"] = res["dementia"].astype(bool)

    events = make_events(res, contacts, admissions)
    idx = pd.Index(res["resident_id"]).get_indexer(events["resident_id"])
    n_res = len(res)

    def total(mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.bincount(idx[mask], weights=weights[mask], minlength=n_res).astype(np.int64)

    item = events["item"].to_numpy(dtype=object)
    n = events["n"].to_numpy()
    bed = events["bed_days"].to_numpy()
    is_contact = (events["event_type"] == "contact").to_numpy()
    for outcome in ("emergency_admission", "elective_admission", "ae", "ambulance"):
        res[outcome] = total(item == outcome, n)
    res["contacts"] = total(is_contact, n)
    res["emergency_bed_days"] = total(item == "emergency_admission", bed)
    res["elective_bed_days"] = total(item == "elective_admission", bed)
    res["bed_days"] = res["emergency_bed_days"] + res["elective_bed_days"]
    res["days_at_risk"] = res["follow_up_days"] - res["bed_days"]

    # First emergency admission: events are sorted by resident and date.
    emerg = events.loc[item == "emergency_admission", ["resident_id", "day"]]
    first = emerg.drop_duplicates("resident_id").set_index("resident_id")["day"]
    first_day = res["resident_id"].map(first)
    has = first_day.notna().to_numpy()
    res["time_to_admission_days"] = np.where(
        has, first_day.fillna(0).to_numpy(dtype=np.int64), res["follow_up_days"].to_numpy())
    res["admission_status"] = np.where(
        has, STATUS_ADMISSION, np.where(res["died"], STATUS_DEATH, STATUS_CENSORED)).astype(np.int8)
    return res, events
