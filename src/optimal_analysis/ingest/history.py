"""The optional care_model_history table of each region: read, parsed and checked.

Read after the four tables are combined (its checks need the used care homes
and residents); every failure names region, file, line, column and value,
like the other tables' (docs/failure-modes.md):

* column rules (``ingest.schemas``): ``missing_value``, ``invalid_date``,
  ``date_out_of_range``, ``unknown_code`` (care_model not in config);
* ``unknown_care_home`` — care_home_id not among the region's used care homes;
* ``duplicate_start`` — two rows of one home with the same start_date (both
  set aside: which model applied from that day cannot be told);
* ``history_starts_late`` — the home's first period starts after its first
  resident's entry_date, so part of its follow-up has no model (every row of
  the home is set aside: its history is incomplete).

A region without the file has no history (its homes keep care_homes.care_model);
rows set aside leave their home without history as well.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from optimal_analysis.ingest.failures import empty_failures, file_failure, make_failures, mark_rows
from optimal_analysis.ingest.read import InputFileError, find_table_file, read_raw
from optimal_analysis.ingest.region import parse_table

__all__ = ["HISTORY_TABLE", "check_history", "ingest_history"]

HISTORY_TABLE = "care_model_history"


def _date(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d")


def check_history(history: pd.DataFrame, homes: pd.DataFrame, residents: pd.DataFrame, *,
                  region: str, file: str) -> pd.DataFrame:
    """Mark the rows of one region's parsed history that break the rules; return failures.

    ``homes`` and ``residents`` are the region's used rows (``care_home_id``;
    ``care_home_id, entry_date``).
    """
    out = []
    t = HISTORY_TABLE
    ok = history["_reason"].isna().to_numpy()
    unknown = ok & ~history["care_home_id"].isin(homes["care_home_id"]).to_numpy()
    if unknown.any():
        rows = history.loc[unknown]
        out.append(make_failures(region, t, file, rows, "care_home_id", rows["care_home_id"],
                                 "unknown_care_home",
                                 "care_home_id is not one of this region's care homes"))
        mark_rows(history, unknown, "unknown_care_home")
    ok = history["_reason"].isna().to_numpy()
    dup = np.zeros(len(history), dtype=bool)
    dup[ok] = history.loc[ok, ["care_home_id", "start_date"]].duplicated(keep=False).to_numpy()
    if dup.any():
        rows = history.loc[dup]
        lines = rows.groupby(["care_home_id", "start_date"])["_line"].transform(
            lambda s: ", ".join(map(str, s)))
        msg = ("care home " + rows["care_home_id"].astype(str) + " has more than one period "
               "starting " + _date(rows["start_date"]) + " (lines " + lines + ")")
        out.append(make_failures(region, t, file, rows, "start_date", _date(rows["start_date"]),
                                 "duplicate_start", msg))
        mark_rows(history, dup, "duplicate_start")
    ok = history["_reason"].isna().to_numpy()
    first_entry = residents.groupby("care_home_id")["entry_date"].min()
    first_start = history[ok].groupby("care_home_id")["start_date"].min()
    late = (first_start > first_entry.reindex(first_start.index)).fillna(False)
    late_homes = first_start.index[late.to_numpy(dtype=bool)]
    of_late = ok & history["care_home_id"].isin(late_homes).to_numpy()
    first_row = of_late & (history["start_date"]
                           == history["care_home_id"].map(first_start)).to_numpy()
    if first_row.any():
        rows = history.loc[first_row]
        msg = ("the first care-model period of care home " + rows["care_home_id"].astype(str)
               + " starts " + _date(rows["start_date"]) + ", after its first resident's entry ("
               + _date(rows["care_home_id"].map(first_entry))
               + "): the history must cover all of the home's follow-up")
        out.append(make_failures(region, t, file, rows, "start_date", _date(rows["start_date"]),
                                 "history_starts_late", msg))
        mark_rows(history, of_late, "history_starts_late")
    found = [f for f in out if len(f)]
    return pd.concat(found, ignore_index=True) if found else empty_failures()


def ingest_history(region_dirs: dict[str, str | Path], care_homes: pd.DataFrame,
                   residents: pd.DataFrame, *, care_models: list[str]
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and check every region's care_model_history file (where there is one).

    Parameters
    ----------
    region_dirs
        ``{region: folder}``.
    care_homes, residents
        The combined used rows (``region`` column first), as written by
        ``combine_regions``.
    care_models
        Config ``care_models``.

    Returns
    -------
    history, failures
        The used rows of every region (``region, care_home_id, care_model,
        start_date``; empty if no region has the table) and the failures.
    """
    used, failures = [], []
    for region, folder in region_dirs.items():
        try:
            path = find_table_file(Path(folder), HISTORY_TABLE)
        except InputFileError as exc:
            failures.append(file_failure(region, HISTORY_TABLE, f"{region}/{HISTORY_TABLE}",
                                         str(exc), "ambiguous_file"))
            continue
        if path is None:
            continue
        label = f"{region}/{path.name}"
        try:
            df, fails = parse_table(read_raw(path), region=region, table=HISTORY_TABLE,
                                    file=label, care_models=list(care_models))
        except InputFileError as exc:
            problem = ("missing_column" if "missing required column" in str(exc)
                       else "unreadable_file")
            failures.append(file_failure(region, HISTORY_TABLE, label, f"{label}: {exc}",
                                         problem))
            continue
        failures.append(fails)
        homes = care_homes[care_homes["region"] == region]
        res = residents[residents["region"] == region]
        failures.append(check_history(df, homes, res, region=region, file=label))
        ok = df[df["_reason"].isna()]
        used.append(ok[["care_home_id", "care_model", "start_date"]].assign(region=region))
    cols = ["region", "care_home_id", "care_model", "start_date"]
    history = (pd.concat(used, ignore_index=True)[cols] if used else
               pd.DataFrame({"region": pd.Series(dtype="string"),
                             "care_home_id": pd.Series(dtype="string"),
                             "care_model": pd.Series(dtype="string"),
                             "start_date": pd.Series(dtype="datetime64[ns]")}))
    found = [f for f in failures if len(f)]
    fails = pd.concat(found, ignore_index=True) if found else empty_failures()
    return history.sort_values(["care_home_id", "start_date"], ignore_index=True), fails
