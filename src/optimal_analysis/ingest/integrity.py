"""Row-level and cross-table rules of the data contract, within one region.

Each function takes marked tables (columns ``_line`` and ``_reason`` as made by
:func:`optimal_analysis.ingest.parse_table`), sets ``_reason`` on the rows it
sets aside (the first reason a row gets is kept) and returns failure rows for
the ones that break the contract. Rows that follow from another row's failure
(the residents of an invalid care home, the contacts of an invalid resident)
are set aside with a cascade reason and are not failures of their own.
Events outside follow-up are set aside with a reason in every mode
(data-contract.md, "Follow-up and events").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from optimal_analysis.ingest.failures import empty_failures, make_failures, mark_rows

# Reasons that set a row aside without it being a failure of its own.
CASCADE_REASONS = {
    "care_home_excluded": "its care home was set aside",
    "resident_excluded": "its resident was set aside",
}
WINDOW_REASONS = {
    "before_entry": "event before the resident's entry_date",
    "after_exit": "event after the resident's exit_date",
    "after_death": "event after the resident's death (exit_date)",
}


def _ok(df: pd.DataFrame) -> np.ndarray:
    return df["_reason"].isna().to_numpy()


def _arrow_text(values: pd.Series | pd.Index) -> pa.ChunkedArray | None:
    """The Arrow array of an Arrow string column (``string[pyarrow]``), else None."""
    arr = values.array
    dt = arr.dtype
    if isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow":
        return arr.__arrow_array__()
    return None


def _isin(values: pd.Series, other: pd.Series | pd.Index) -> np.ndarray:
    """``values.isin(other)`` as a numpy mask, in Arrow's kernel for Arrow strings.

    pandas' ``isin`` of Arrow strings builds a Python scalar per element of
    ``other`` (tens of thousands of ids); ``pyarrow.compute.is_in`` gives the
    same answer (a missing value matches a missing value) without them.
    """
    a, b = _arrow_text(values), _arrow_text(other)
    if a is None or b is None:
        return values.isin(other).to_numpy(dtype=bool)
    return pc.is_in(a, value_set=b.combine_chunks()).to_numpy(zero_copy_only=False)


def _lookup(keys: pd.Series, table: pd.DataFrame, columns: list[str]) -> list[pd.Series]:
    """``[keys.map(table[c]) for c in columns]`` for a table with a unique index of ids.

    The position of each key in the index is found once (Arrow's ``index_in``)
    and every column taken from it; a key not in the index gives a missing value.
    """
    a, b = _arrow_text(keys), _arrow_text(table.index)
    if a is None or b is None:
        return [keys.map(table[c]) for c in columns]
    pos = pc.index_in(a, value_set=b.combine_chunks()).fill_null(-1).to_numpy(zero_copy_only=False)
    missing = pos < 0
    out = []
    for c in columns:
        values = table[c].to_numpy()[np.where(missing, 0, pos)] if len(table) else \
            np.full(len(keys), np.datetime64("NaT"), dtype=table[c].dtype)
        values[missing] = np.datetime64("NaT")
        out.append(pd.Series(values, index=keys.index))
    return out


def _lines_of(df: pd.DataFrame, mask: np.ndarray, key: str) -> pd.Series:
    """For each flagged row, the lines of every row sharing its ``key`` ('3, 9')."""
    sub = df.loc[mask, [key, "_line"]]
    joined = sub.groupby(key, sort=False)["_line"].agg(lambda s: ", ".join(map(str, s)))
    return sub[key].map(joined)


def duplicate_ids(df: pd.DataFrame, key: str, *, region: str, table: str,
                  file: str) -> pd.DataFrame:
    """Every row whose ``key`` appears more than once among usable rows is a failure.

    All copies are set aside: which of two rows with the same id is right
    cannot be told from the data.
    """
    ok = _ok(df)
    dup = np.zeros(len(df), dtype=bool)
    dup[ok] = df.loc[ok, key].duplicated(keep=False).to_numpy()
    if not dup.any():
        return empty_failures()
    counts = df.loc[dup, key].map(df.loc[dup, key].value_counts())
    message = (f"{key} appears " + counts.astype(str) + " times in this file (lines "
               + _lines_of(df, dup, key) + ")")
    fails = make_failures(region, table, file, df.loc[dup], key, df.loc[dup, key],
                      "duplicate_id", message)
    mark_rows(df, dup, "duplicate_id")
    return fails


def check_care_homes(homes: pd.DataFrame, *, region: str, file: str) -> pd.DataFrame:
    """care_home_id unique within the region's file."""
    return duplicate_ids(homes, "care_home_id", region=region, table="care_homes", file=file)


def check_residents(residents: pd.DataFrame, homes: pd.DataFrame, *, region: str,
                    file: str) -> pd.DataFrame:
    """Unique ids, exit on or after entry, care home known (and usable)."""
    out = [duplicate_ids(residents, "resident_id", region=region, table="residents", file=file)]
    ok = _ok(residents)
    before = ok & (residents["exit_date"] < residents["entry_date"]).fillna(False).to_numpy()
    if before.any():
        rows = residents.loc[before]
        msg = ("exit_date " + rows["exit_date"].dt.strftime("%Y-%m-%d") + " is before entry_date "
               + rows["entry_date"].dt.strftime("%Y-%m-%d"))
        out.append(make_failures(region, "residents", file, rows, "exit_date",
                             rows["exit_date"].dt.strftime("%Y-%m-%d"), "exit_before_entry", msg))
        mark_rows(residents, before, "exit_before_entry")
    ok = _ok(residents)
    known = _isin(residents["care_home_id"], homes["care_home_id"].dropna())
    unknown = ok & ~known
    if unknown.any():
        rows = residents.loc[unknown]
        out.append(make_failures(region, "residents", file, rows, "care_home_id",
                                 rows["care_home_id"],
                             "unknown_care_home",
                             "care_home_id is not in this region's care_homes file"))
        mark_rows(residents, unknown, "unknown_care_home")
    usable_homes = homes.loc[_ok(homes), "care_home_id"]
    mark_rows(residents, ~_isin(residents["care_home_id"], usable_homes),
              "care_home_excluded")
    return _concat(out)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    found = [p for p in parts if len(p)]
    return pd.concat(found) if found else empty_failures()


def check_events(events: pd.DataFrame, residents: pd.DataFrame, *, table: str, region: str,
                 file: str) -> pd.DataFrame:
    """Events: resident known (and usable); admissions well formed; inside follow-up."""
    out = []
    ok = _ok(events)
    known = _isin(events["resident_id"], residents["resident_id"].dropna())
    unknown = ok & ~known
    if unknown.any():
        rows = events.loc[unknown]
        out.append(make_failures(region, table, file, rows, "resident_id", rows["resident_id"],
                                 "unknown_resident",
                                 "resident_id is not in this region's residents file"))
        mark_rows(events, unknown, "unknown_resident")
    usable = residents.loc[_ok(residents)].drop_duplicates("resident_id").set_index("resident_id")
    mark_rows(events, ~_isin(events["resident_id"], usable.index), "resident_excluded")
    if table == "admissions":
        out.append(_check_stays(events, region=region, file=file))
    date_col = "contact_date" if table == "contacts" else "admission_date"
    out.append(_mark_outside_follow_up(events, usable, date_col, table=table, region=region,
                                       file=file))
    return _concat(out)


def _check_stays(adm: pd.DataFrame, *, region: str, file: str) -> pd.DataFrame:
    """Discharge on or after admission; stays of one resident do not overlap."""
    out = []
    ok = _ok(adm)
    neg = ok & (adm["discharge_date"] < adm["admission_date"]).fillna(False).to_numpy()
    if neg.any():
        rows = adm.loc[neg]
        msg = ("discharge_date " + rows["discharge_date"].dt.strftime("%Y-%m-%d")
               + " is before admission_date " + rows["admission_date"].dt.strftime("%Y-%m-%d"))
        out.append(make_failures(region, "admissions", file, rows, "discharge_date",
                             rows["discharge_date"].dt.strftime("%Y-%m-%d"),
                             "discharge_before_admission", msg))
        mark_rows(adm, neg, "discharge_before_admission")
    ok = _ok(adm)
    stays = adm.loc[ok, ["resident_id", "admission_date", "discharge_date", "_line"]]
    stays = stays.sort_values(["resident_id", "admission_date", "_line"], kind="stable")
    # A stay with no discharge runs to the end of follow-up: nothing may start after it.
    end = stays["discharge_date"].fillna(pd.Timestamp.max.floor("D"))
    by = stays["resident_id"]
    prev_end = end.groupby(by, sort=False).cummax().groupby(by, sort=False).shift()
    # A transfer (next admission on the discharge day) is not an overlap.
    overlap = (stays["admission_date"] < prev_end).fillna(False)
    if overlap.any():
        rows = stays.loc[overlap]
        prev_line = stays["_line"].groupby(stays["resident_id"], sort=False).shift()
        msg = ("stay starting " + rows["admission_date"].dt.strftime("%Y-%m-%d")
               + " overlaps an earlier stay of the same resident (line "
               + prev_line.loc[rows.index].astype("Int64").astype(str) + ")")
        out.append(make_failures(region, "admissions", file, rows, "admission_date",
                                 rows["admission_date"].dt.strftime("%Y-%m-%d"),
                                 "overlapping_stay", msg))
        mark_rows(adm, adm.index.isin(rows.index), "overlapping_stay")
    return _concat(out)


def _mark_outside_follow_up(events: pd.DataFrame, usable: pd.DataFrame, date_col: str, *,
                            table: str, region: str, file: str) -> pd.DataFrame:
    """Set aside events dated outside [entry_date, exit_date].

    Outside follow-up is not a failure (extracts often span a wider window),
    except after a death: that cannot happen, so each such row is also a
    ``warning`` (set aside in both modes, never stops the run).
    """
    ok = _ok(events)
    rid = events["resident_id"]
    entry, exit_ = _lookup(rid, usable, ["entry_date", "exit_date"])
    died = _isin(rid, usable.index[(usable["exit_reason"] == "died").to_numpy(dtype=bool)])
    date = events[date_col]
    before = ok & (date < entry).fillna(False).to_numpy()
    after = ok & (date > exit_).fillna(False).to_numpy()
    mark_rows(events, before, "before_entry")
    mark_rows(events, after & ~died, "after_exit")
    dead = after & died
    if not dead.any():
        return empty_failures()
    rows = events.loc[dead]
    when = rows[date_col].dt.strftime("%Y-%m-%d")
    msg = (f"{date_col} " + when + " is after the resident's death on "
           + exit_.loc[rows.index].dt.strftime("%Y-%m-%d") + "; set aside")
    mark_rows(events, dead, "after_death")
    return make_failures(region, table, file, rows, date_col, when, "after_death", msg,
                         severity="warning")
