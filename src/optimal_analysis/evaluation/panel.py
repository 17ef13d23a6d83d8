"""Home × calendar-month panel of person-time and events, split by the home's care-model periods.

A resident's follow-up days [entry_date, exit_date] are cut at every calendar
month start and at every start_date of the home's care-model history; each
piece (a *segment*: one home, one month, one period) collects its
person-days and the events dated inside it. Segments of one home, month and
care model are then summed. All of it is vectorised: segments are sorted
keys ``home × DAY_SPAN + day``; a resident's first and last segment come
from :func:`numpy.searchsorted`, the segments in between from
:func:`numpy.repeat`.

Person-time is residence (follow-up) days, as in the cohort's
``person_years`` (days in hospital included, like the crude rates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["DAYS_PER_YEAR", "PANEL_KEYS", "event_counts", "home_periods", "make_panel"]

DAYS_PER_YEAR = 365.25
PANEL_KEYS = ["care_home_id", "month", "care_model"]
_DAY_SPAN = 1 << 20  # > any day count since 1970 we will meet (2^20 days ~ 2870 years)


def _day(values) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[D]").astype(np.int64)


def home_periods(care_homes: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
    """Each home's care-model periods: care_home_id, care_model, start_date, end_date.

    ``end_date`` is the day before the next start (NaT for the last period);
    a home without history rows has one period with NaT start (always). The
    history is assumed valid (ingest checks it).
    """
    hist = (history if history is not None else
            pd.DataFrame(columns=["care_home_id", "care_model", "start_date"]))
    hist = hist[["care_home_id", "care_model", "start_date"]].astype(
        {"care_home_id": object, "care_model": object})
    hist = hist.assign(start_date=pd.to_datetime(hist["start_date"]))
    hist = hist.sort_values(["care_home_id", "start_date"], ignore_index=True)
    nxt = hist.groupby("care_home_id")["start_date"].shift(-1)
    hist["end_date"] = nxt - pd.Timedelta(days=1)
    plain = care_homes.loc[~care_homes["care_home_id"].isin(hist["care_home_id"]),
                           ["care_home_id", "care_model"]].astype(object)
    out = pd.DataFrame({
        "care_home_id": np.concatenate([plain["care_home_id"].to_numpy(object),
                                        hist["care_home_id"].to_numpy(object)]),
        "care_model": np.concatenate([plain["care_model"].to_numpy(object),
                                      hist["care_model"].to_numpy(object)]),
        "start_date": np.concatenate([np.full(len(plain), np.datetime64("NaT"), "datetime64[ns]"),
                                      hist["start_date"].to_numpy("datetime64[ns]")]),
        "end_date": np.concatenate([np.full(len(plain), np.datetime64("NaT"), "datetime64[ns]"),
                                    hist["end_date"].to_numpy("datetime64[ns]")])})
    return out


def make_panel(cohort: pd.DataFrame, events: pd.DataFrame, care_homes: pd.DataFrame,
               history: pd.DataFrame | None, outcomes: Mapping[str, Sequence[str]]
               ) -> pd.DataFrame:
    """Person-days and event counts per home × calendar month × care model in force.

    Parameters
    ----------
    cohort
        One row per resident: ``resident_id, care_home_id, entry_date,
        exit_date`` (and ``died`` if the outcome ``death`` is asked for).
    events
        The cohort's events: ``care_home_id, item, event_date, n``.
    care_homes
        ``care_home_id, care_model`` (the model of homes without history).
    history
        The care_model_history table (``care_home_id, care_model,
        start_date``) or None.
    outcomes
        ``{outcome: [event items]}``; an event row counts ``n`` events of
        every outcome listing its item. ``death`` with items ``[]`` counts
        residents who died, on their exit date.

    Returns
    -------
    DataFrame, one row per home × month × care model with person-time:
    ``care_home_id, month`` (first day of the month), ``care_model,
    person_days, person_years`` and one count column per outcome; sorted by
    home, month, then the period's start.
    """
    homes = pd.Index(care_homes["care_home_id"].astype(object).unique())
    if len(cohort) == 0:
        return pd.DataFrame(columns=[*PANEL_KEYS, "person_days", "person_years", *outcomes])
    h_res = homes.get_indexer(cohort["care_home_id"].astype(object))
    if (h_res < 0).any():
        raise ValueError("residents of homes not in care_homes: "
                         f"{sorted(set(cohort['care_home_id'][h_res < 0]))[:5]}")
    entry, exit_ = _day(cohort["entry_date"]), _day(cohort["exit_date"])
    first = np.datetime64(cohort["entry_date"].min(), "M")
    last = np.datetime64(cohort["exit_date"].max(), "M")
    month_starts = np.arange(first, last + 1).astype("datetime64[D]").astype(np.int64)
    periods = home_periods(care_homes, history)
    periods = periods[periods["care_home_id"].isin(homes)]
    p_home = homes.get_indexer(periods["care_home_id"])
    has_start = periods["start_date"].notna().to_numpy()
    p_start = np.where(has_start, _day(periods["start_date"].fillna(pd.Timestamp("1970-01-01"))),
                       month_starts[0])
    # Segment keys: every home x month start, and every period start inside the range.
    inside = has_start & (p_start > month_starts[0])
    keys = np.unique(np.concatenate([
        (np.arange(homes.size)[:, None] * _DAY_SPAN + month_starts[None, :]).ravel(),
        p_home[inside] * _DAY_SPAN + p_start[inside]]))
    seg_home, seg_start = np.divmod(keys, _DAY_SPAN)
    nxt = np.append(keys[1:], -1)
    seg_end = np.where(np.append(seg_home[1:], -1) == seg_home, nxt - seg_home * _DAY_SPAN - 1,
                       np.iinfo(np.int64).max // 2)
    # Care model of each segment: the home's last period starting on or before it.
    p_key = p_home * _DAY_SPAN + np.where(has_start, p_start, 0)
    order = np.argsort(p_key, kind="stable")
    pos = np.searchsorted(p_key[order], keys, side="right") - 1
    ok = (pos >= 0) & (p_home[order][np.maximum(pos, 0)] == seg_home)
    models = periods["care_model"].to_numpy(object)[order]
    seg_model = np.where(ok, models[np.maximum(pos, 0)], None)
    # Person-days: each resident over the segments between entry and exit.
    s0 = np.searchsorted(keys, h_res * _DAY_SPAN + entry, side="right") - 1
    s1 = np.searchsorted(keys, h_res * _DAY_SPAN + exit_, side="right") - 1
    n_seg = s1 - s0 + 1
    rep = np.repeat(np.arange(h_res.size), n_seg)
    seg = np.repeat(s0, n_seg) + (np.arange(rep.size) - np.repeat(np.cumsum(n_seg) - n_seg, n_seg))
    days = (np.minimum(exit_[rep], seg_end[seg]) - np.maximum(entry[rep], seg_start[seg]) + 1)
    person_days = np.bincount(seg, weights=days, minlength=keys.size)
    counts = {}
    h_ev = homes.get_indexer(events["care_home_id"].astype(object))
    ev_seg = np.searchsorted(keys, h_ev * _DAY_SPAN + _day(events["event_date"]), side="right") - 1
    item = events["item"].astype(object).to_numpy()
    n = events["n"].to_numpy(dtype=float)
    for name, items in outcomes.items():
        if name == "death" and not items:
            died = cohort["died"].to_numpy(dtype=bool)
            seg_d = s1[died]
            counts[name] = np.bincount(seg_d, minlength=keys.size)
        else:
            hit = np.isin(item, list(items))
            counts[name] = np.bincount(ev_seg[hit], weights=n[hit], minlength=keys.size)
    if np.any(seg_model[person_days > 0] == None):  # noqa: E711 (object array)
        raise ValueError("person-time before a home's first care-model period (invalid history)")
    seg_month = np.datetime64("1970-01-01") + seg_start.astype("timedelta64[D]")
    df = pd.DataFrame({
        "care_home_id": homes.to_numpy(object)[seg_home],
        "month": seg_month.astype("datetime64[M]").astype("datetime64[ns]"),
        "care_model": seg_model, "_start": seg_start, "person_days": person_days, **counts})
    df = df[df["person_days"] > 0]
    out = (df.groupby(PANEL_KEYS, sort=False, observed=True)
           .agg(_start=("_start", "min"), person_days=("person_days", "sum"),
                **{k: (k, "sum") for k in outcomes})
           .reset_index().sort_values(["care_home_id", "month", "_start"], ignore_index=True))
    out["person_years"] = out["person_days"] / DAYS_PER_YEAR
    cols = [*PANEL_KEYS, "person_days", "person_years", *outcomes]
    return out[cols].astype({"person_days": np.int64, **{k: np.int64 for k in outcomes}})


def event_counts(events: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """Events of ``items`` summed per home × day × item: all :func:`make_panel` reads of them.

    ``make_panel`` counts ``n`` of the rows of each outcome's items per
    segment (home × days); the sums are of integers, so :func:`make_panel`
    of the stacked ``event_counts`` of each region equals ``make_panel`` of
    every event. Returns ``care_home_id, item, event_date, n`` (plain strings).
    """
    hit = events["item"].isin(list(items)).to_numpy()
    ev = events.loc[hit, ["care_home_id", "item", "event_date", "n"]]
    ev = ev.astype({"care_home_id": object, "item": object, "n": np.int64})
    return (ev.groupby(["care_home_id", "event_date", "item"], sort=True, observed=True)["n"]
            .sum().reset_index()[["care_home_id", "item", "event_date", "n"]])
