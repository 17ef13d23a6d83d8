"""Combine the regions, check across them, and account for every row read.

The data-quality accounting (``data_quality.csv``, results-contract.md) is
computed in one place, from the ``_reason`` every row carries, so it balances
by construction: for each region and table, ``rows_read`` equals ``rows_used``
plus the ``rows_excluded`` of every reason. Its rows are one per region ×
table × outcome: the outcome ``used`` (``rows_used`` set, ``rows_excluded`` 0)
and one per exclusion reason (``rows_used`` 0).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimal_analysis.ingest.failures import (
    FAILURE_COLUMNS,
    empty_failures,
    file_failure,
    make_failures,
    mark_rows,
)
from optimal_analysis.ingest.read import TABLES

log = logging.getLogger(__name__)

ACCOUNTING_COLUMNS = ["region", "table", "rows_read", "rows_used", "rows_excluded", "reason"]
USED = "used"


class InputDataError(Exception):
    """The input data break the data contract; the message says where and how."""


def _cross_region_duplicates(tables: dict[str, dict[str, pd.DataFrame]], table: str,
                             key: str, files: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Ids used in more than one region: every copy is a failure (ids are dataset-wide)."""
    stacked = pd.concat(
        [pd.DataFrame({"region": r, key: t[table][key], "_line": t[table]["_line"],
                       "ok": t[table]["_reason"].isna()})
         for r, t in tables.items()], ignore_index=True)
    stacked = stacked[stacked["ok"]]
    n_regions = stacked.groupby(key)["region"].transform("nunique")
    dup = stacked[n_regions > 1]
    if dup.empty:
        return empty_failures()
    where = (dup["region"] + " line " + dup["_line"].astype(str))
    everywhere = where.groupby(dup[key]).agg(", ".join)
    out = []
    for region, rows in dup.groupby("region", sort=True):
        df = tables[region][table]
        hit = df[key].isin(rows[key]).to_numpy() & df["_reason"].isna().to_numpy()
        sub = df.loc[hit]
        message = (f"{key} is used in more than one region (" + sub[key].map(everywhere) + ")")
        out.append(make_failures(region, table, files[region][table], sub, key, sub[key],
                                 "duplicate_id_across_regions", message))
        mark_rows(df, hit, "duplicate_id_across_regions")
    return pd.concat(out)


def cascade_residents(t: dict[str, pd.DataFrame]) -> pd.Series:
    """Residents of set-aside homes are set aside too; returns the used resident ids."""
    homes_ok = t["care_homes"].loc[t["care_homes"]["_reason"].isna(), "care_home_id"]
    res = t["residents"]
    mark_rows(res, ~res["care_home_id"].isin(homes_ok).to_numpy(), "care_home_excluded")
    return res.loc[res["_reason"].isna(), "resident_id"]


def cascade_events(events: pd.DataFrame, residents_used: pd.Series) -> None:
    """Contacts or admissions (``resident_id``, ``_reason``) of set-aside residents: set aside."""
    mark_rows(events, ~events["resident_id"].isin(residents_used).to_numpy(), "resident_excluded")


def _cascade(t: dict[str, pd.DataFrame]) -> None:
    """Residents of set-aside homes, and events of set-aside residents, are set aside too."""
    res_ok = cascade_residents(t)
    for table in ("contacts", "admissions"):
        cascade_events(t[table], res_ok)


def reason_counts(reason: pd.Series) -> pd.Series:
    """Rows of a marked table by outcome (``used`` or the exclusion reason)."""
    return reason.fillna(USED).value_counts()


def accounting_from_counts(counts: dict[str, dict[str, pd.Series]]) -> pd.DataFrame:
    """The accounting table from ``{region: {table: reason_counts(...)}}`` (module docstring)."""
    rows = []
    for region in sorted(counts):
        for table in TABLES:
            c = counts[region][table]
            n_read = int(c.sum())
            n_used = int(c.get(USED, 0))
            rows.append((region, table, n_read, n_used, 0, USED))
            for r in sorted(k for k in c.index if k != USED):
                rows.append((region, table, n_read, 0, int(c[r]), r))
    acc = pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)
    return acc


def make_accounting(tables: dict[str, dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """One row per region × table × outcome of a row (see module docstring)."""
    return accounting_from_counts({region: {table: reason_counts(t[table]["_reason"])
                                            for table in TABLES}
                                   for region, t in tables.items()})


def _coverage_failures(tables: dict[str, dict[str, pd.DataFrame]],
                       combined: dict[str, pd.DataFrame],
                       files: dict[str, dict[str, str]], care_models: Sequence[str],
                       reference: str | None) -> pd.DataFrame:
    """Regions and care models left with no residents to analyse.

    A region whose residents were all set aside, or a care model (config
    ``care_models``) with no residents, is a ``warning``: the run goes on and
    the result tables simply have no rows for it. No residents at all, or none
    in the reference care model (every ratio is relative to it), is ``fatal``.
    """
    out = []
    for region in sorted(tables):
        res = tables[region]["residents"]
        if len(res) and res["_reason"].notna().all():
            out.append(file_failure(
                region, "residents", files[region]["residents"],
                f"region {region!r}: none of its {len(res)} residents can be analysed (every row "
                "was set aside; see data_quality.csv)", "region_without_residents",
                severity="warning"))
    res, homes = combined["residents"], combined["care_homes"]
    model = res["care_home_id"].map(homes.drop_duplicates("care_home_id")
                                    .set_index("care_home_id")["care_model"])
    counts = model.value_counts()
    where = "all regions"
    if len(res) == 0:
        out.append(file_failure("", "residents", where, "no residents are left to analyse in any "
                                "region", "no_residents_to_analyse"))
    else:
        for m in care_models:
            if counts.get(m, 0) > 0:
                continue
            if m == reference:
                out.append(file_failure(
                    "", "residents", where,
                    f"the reference care model {m!r} (config reference_care_model) has no "
                    "residents, so no rate or hazard ratio can be estimated; set "
                    "reference_care_model to one of "
                    f"{', '.join(k for k in care_models if counts.get(k, 0))}",
                    "reference_without_residents", column="care_model"))
            else:
                out.append(file_failure(
                    "", "residents", where,
                    f"care model {m!r} (config care_models) has no residents; the result "
                    "tables have no rows for it", "care_model_without_residents",
                    severity="warning", column="care_model"))
    return pd.concat(out, ignore_index=True) if out else empty_failures()


def combine_regions(
    tables: dict[str, dict[str, pd.DataFrame]],
    failures: pd.DataFrame,
    files: dict[str, dict[str, str]],
    *,
    care_models: Sequence[str] = (),
    reference_care_model: str | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """Check ids across regions, then stack the used rows of every region.

    Parameters
    ----------
    tables
        ``{region: {table: marked table}}`` from :func:`optimal_analysis.ingest.ingest_region`
        (modified in place: cross-region exclusions are marked).
    failures
        The failures of every region, stacked.
    files
        ``{region: {table: file label}}`` for messages.
    care_models, reference_care_model
        Config ``care_models`` and ``reference_care_model``: a care model with
        no residents is a warning, the reference one with none is fatal (see
        :func:`_coverage_failures`).

    Returns
    -------
    combined, failures, accounting
        ``combined[table]`` holds the used rows of every region with a
        ``region`` column first (no ``_line``/``_reason``); failures gain the
        cross-region ones and are sorted; accounting per :func:`make_accounting`.
    """
    extra = [_cross_region_duplicates(tables, "care_homes", "care_home_id", files),
             _cross_region_duplicates(tables, "residents", "resident_id", files)]
    for t in tables.values():
        _cascade(t)
    combined = stack_used(tables)
    if not (failures["severity"] == "fatal").any():  # else the cause is already named
        extra.append(_coverage_failures(tables, combined, files, care_models,
                                         reference_care_model))
    return combined, sorted_failures([failures, *extra]), make_accounting(tables)


def sorted_failures(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Failure tables stacked, in the failures table's columns and order."""
    parts = [f for f in parts if len(f)]
    all_fails = pd.concat(parts, ignore_index=True) if parts else empty_failures()
    all_fails = all_fails[FAILURE_COLUMNS].copy()
    all_fails["line"] = pd.array(all_fails["line"], dtype="Int64")
    return all_fails.sort_values(["region", "table", "line", "column", "problem"],
                                 na_position="first", kind="stable").reset_index(drop=True)


def used_rows(df: pd.DataFrame, region: str) -> pd.DataFrame:
    """The used rows of a marked table, ``region`` first, without ``_line``/``_reason``."""
    used = df.loc[df["_reason"].isna()].drop(columns=["_line", "_reason"])
    used.insert(0, "region", pd.Series(region, index=used.index, dtype="string"))
    return used


def stack_used(tables: dict[str, dict[str, pd.DataFrame]],
               names: Sequence[str] = TABLES) -> dict[str, pd.DataFrame]:
    """The used rows of every region, stacked per table, with ``region`` first."""
    return {table: pd.concat([used_rows(tables[region][table], region)
                              for region in sorted(tables)], ignore_index=True)
            for table in names}



# ---------------------------------------------------------------------------
# the stop gate


def _value_counts(values: pd.Series, *, top: int = 8) -> str:
    """``'XYZ' (12 rows), 'ABC' (3 rows)``: the distinct values, commonest first."""
    counts = values.astype("string").fillna("").value_counts()
    order = counts.sort_index().sort_values(ascending=False, kind="stable")  # ties by value
    text = ", ".join(f"{v!r} ({n} row{'s' if n != 1 else ''})" for v, n in order.iloc[:top].items())
    if len(order) > top:
        text += f", and {len(order) - top} more values"
    return text


def summarise_failures(failures: pd.DataFrame, *, max_groups: int = 25) -> str:
    """A readable list of problems: one line per file × column × problem.

    Each line names the file, the first line number, the column and the
    offending value, the problem in words, and how many rows are alike (with
    their first few line numbers). When the rows alike hold different values,
    every value is listed with its count (``'XYZ' (12 rows), 'ABC' (3 rows)``).
    """
    if failures.empty:
        return "no problems"
    lines = []
    keys = ["file", "column", "problem"]
    f = failures.assign(_order=np.arange(len(failures)))
    groups = f.groupby(keys, sort=False, dropna=False)
    for _, g in list(groups)[:max_groups]:
        first = g.iloc[0]
        where = first["file"]
        has_line = pd.notna(first["line"])
        if has_line:
            where += f", line {int(first['line'])}"
        if first["column"]:
            where += f", column {first['column']}"
        n_values = g["value"].nunique(dropna=False)
        if has_line and n_values == 1:
            text = f"  {where}, value {first['value']!r}: {first['message']}"
        elif has_line:
            text = f"  {where}: {first['message']}: {_value_counts(g['value'])}"
        elif str(first["message"]).startswith(str(first["file"])):  # already names its file
            text = f"  {first['message']}"
        else:
            text = f"  {where}: {first['message']}"
        if len(g) > 1:
            more = ", ".join(str(int(x)) for x in g["line"].dropna().iloc[1:6])
            text += f" ({len(g)} rows like this" + (f"; also lines {more}" if more else "")
            text += ", ...)" if len(g) > 6 else ")"
        lines.append(text)
    if groups.ngroups > max_groups:
        lines.append(f"  ... and {groups.ngroups - max_groups} more kinds of problem")
    return "\n".join(lines)


def check_failures(failures: pd.DataFrame, *, on_invalid: str, failures_file: str) -> str:
    """Raise :class:`InputDataError` if the failures must stop the run; else a summary.

    ``fatal`` failures always stop the run; ``error`` failures stop it when
    ``on_invalid`` is ``stop``. Warnings never do.
    """
    sev = failures["severity"]
    fatal = failures[sev == "fatal"]
    errors = failures[sev == "error"]
    stop = len(fatal) > 0 or (on_invalid == "stop" and len(errors) > 0)
    if stop:
        shown = pd.concat([fatal, errors]) if on_invalid == "stop" else fatal
        n_files = shown["file"].nunique()
        head = (f"The input data break the data contract: {len(shown)} problem"
                f"{'s' if len(shown) != 1 else ''} in {n_files} file{'s' if n_files != 1 else ''}."
                " Nothing was analysed.")
        tail = f"Every problem is listed in {failures_file}."
        if len(fatal):
            tail += (" Fatal problems (a file that cannot be read, nothing left to analyse) "
                     "stop the run in both on_invalid modes.")
        layout = errors["problem"] == "date_layout"
        if layout.any():
            tail += (" Dates in another layout are not invalid rows: declare the layout (config "
                     "date_format, per region) or save the dates as YYYY-MM-DD; setting them "
                     "aside would drop every row they are in.")
        if (~layout).any() and on_invalid == "stop":
            tail += (" To set invalid rows aside and analyse the rest, run with "
                     "--config on_invalid=exclude (they are counted in data_quality.csv).")
        raise InputDataError(f"{head}\n{summarise_failures(shown)}\n{tail}")
    text = "no invalid rows"
    if len(errors):
        text = (f"{len(errors)} invalid rows set aside (on_invalid: exclude):\n"
                + summarise_failures(errors))
    warnings = failures[sev == "warning"]
    if len(warnings):
        text += (f"\n{len(warnings)} warning{'s' if len(warnings) != 1 else ''} (the run goes "
                 f"on; see {failures_file}):\n" + summarise_failures(warnings))
    return text
