"""Ingest one region: read its four tables, parse, validate, and mark every row.

Every row read keeps its source line (``_line``) and gets a ``_reason``: missing
when the row is used, otherwise the problem code that sets it aside. Failures
(rows that break the contract) are listed with region, file, line, column and
offending value in a failures table; rows that are valid but outside a
resident's follow-up are excluded with a reason and are not failures. Whether
failures stop the run (``on_invalid: stop``) is decided later, by
:func:`optimal_analysis.ingest.quality.check_failures`, after every region has been
read, so that the user sees every problem at once.

Severity of a failure:

``fatal``
    the table cannot be used at all (missing or empty file, not UTF-8,
    missing required column): stops the run in both modes.
``error``
    the row breaks the contract: stops the run in ``stop`` mode, sets the row
    aside in ``exclude`` mode.
``warning``
    worth telling but harmless (an extra column, ignored).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimal_analysis.ingest import dates, parse, schemas
from optimal_analysis.ingest.failures import empty_failures, file_failure, make_failures, mark_rows
from optimal_analysis.ingest.read import (
    TABLES,
    InputFileError,
    file_labels,
    find_table_file,
    read_raw,
)
from optimal_analysis.ingest.schemas import COLUMNS

__all__ = ["InputFileError", "RegionTables", "empty_table", "file_labels", "find_table_file",
           "ingest_region", "parse_table", "read_raw"]

log = logging.getLogger(__name__)

@dataclass
class RegionTables:
    """The parsed tables of one region, every row marked, and its failures."""

    region: str
    tables: dict[str, pd.DataFrame]
    failures: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)


def empty_table(table: str) -> pd.DataFrame:
    """A zero-row parsed table of ``table`` with the contract's columns."""
    kinds = {"string": "string[pyarrow]", "icd10": "string[pyarrow]", "place": "string[pyarrow]",
             "date": "datetime64[ns]", "bool": "boolean", "int": "Int64",
             "float": "float64"}
    df = pd.DataFrame({c.name: pd.Series(dtype=kinds[c.kind]) for c in COLUMNS[table]})
    df["_line"] = pd.Series(dtype=np.int64)
    df["_reason"] = pd.Series(dtype="string")
    return df


# ---------------------------------------------------------------------------
# per-table parsing and column validation


_PANDERA_PROBLEM = (
    ("not_nullable", "missing_value"),
    ("isin", "unknown_code"),
    ("must be one of", "unknown_code"),
    ("in_range", "out_of_range"),
    ("must be between", "out_of_range"),
    ("plausible range", "date_out_of_range"),
    ("greater_than", "out_of_range"),
    ("must be a whole number", "out_of_range"),
)


def parse_table(
    raw: pd.DataFrame,
    *,
    region: str,
    table: str,
    file: str,
    care_models: list[str],
    service_code_map: dict[str, str] | None = None,
    date_format: str | None = None,
    date_hint: Callable[[], tuple[tuple[str, ...], str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse and validate one table's columns; return (marked table, failures).

    Text dates are read in the declared ``date_format`` (a layout of
    :mod:`optimal_analysis.ingest.dates`, config ``date_format``) or, if none
    is declared, as ISO; dates that a file writes in another known layout are
    failures ``date_layout`` whose message names the layout and the fix
    (``date_hint``: the layout of the whole region, found on first need;
    default: this file's own date columns).
    Raises :class:`InputFileError` when a required column is missing.
    """
    present = [c for c in raw.columns if c != "_line"]
    missing = [c for c in schemas.required_columns(table) if c not in present]
    if missing:
        raise InputFileError(
            f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(found: {', '.join(present) or 'none'})"
        )
    failures = []
    extra = [c for c in present if c not in schemas.contract_columns(table)]
    if extra:
        failures.append(file_failure(
            region, table, file,
            f"{file}: column{'s' if len(extra) > 1 else ''} {', '.join(extra)} not in the "
            "data contract; ignored", "unknown_column", severity="warning",
            column=",".join(extra)))

    df = pd.DataFrame(index=raw.index)
    bad_cells: dict[str, pd.Series] = {}
    for spec in COLUMNS[table]:
        if spec.name not in raw.columns:
            df[spec.name] = empty_table(table)[spec.name].reindex(raw.index)
            if spec.default is not None:
                df[spec.name] = df[spec.name].fillna(spec.default)
            continue
        values = raw[spec.name]
        if spec.name == "service" and service_code_map:
            values = parse.map_codes(values, service_code_map)
        declared = (date_format if spec.kind == "date" and date_format
                    and not pd.api.types.is_datetime64_any_dtype(values) else None)
        parsed, bad = (dates.parse_dates(parse.legacy(values), declared) if declared
                       else parse.parse_column(values, spec.kind, schemas.parse_column))
        if spec.default is not None:
            parsed = parsed.fillna(spec.default)
        df[spec.name] = parsed
        if bad.any():
            bad_cells[spec.name] = bad
            iso_text = "not a valid date (expected YYYY-MM-DD)"
            what = {"date": (f"not a valid date in the declared layout {declared} (config "
                             "date_format)" if declared else iso_text),
                    "bool": "not a boolean (expected true/false, 1/0 or yes/no)",
                    "int": "not a whole number", "float": "not a number",
                    "icd10": "not a well-formed ICD-10 code (e.g. J18.9)",
                    "place": "not one of hospital, care_home, hospice, other"}[spec.kind]
            problem = pd.Series(
                "unknown_code" if spec.kind == "place" else f"invalid_{spec.kind}",
                index=raw.index[bad])
            message = pd.Series(f"{spec.name} is {what}", index=raw.index[bad])
            if spec.kind == "date" and not declared:  # well-formed but beyond a timestamp
                text = parse.legacy(raw.loc[bad, spec.name]).astype("string").str.strip()
                iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).to_numpy(bool)
                same_day_in_2000 = pd.to_datetime("2000" + text.str[4:], format="%Y-%m-%d",
                                                  errors="coerce")
                iso &= same_day_in_2000.notna().to_numpy()
                problem[iso] = "date_out_of_range"
                message[iso] = (f"{spec.name} is outside the plausible range "
                                f"{schemas.MIN_DATE.date()} to {schemas.MAX_DATE.date()}")
                if date_hint is None:
                    date_hint = _region_date_hint({table: (raw, file)}, region)
                layouts, advice = date_hint()
                if layouts:
                    other = dates.read_by(text, layouts).to_numpy(bool) & ~iso
                    problem[other] = "date_layout"
                    message[other] = f"{spec.name} is {iso_text}; {advice}"
            rows = raw.loc[bad]
            as_read = parse.legacy(rows[spec.name])
            for prob, idx in problem.groupby(problem).groups.items():
                failures.append(make_failures(region, table, file, rows.loc[idx], spec.name,
                                              as_read.loc[idx], str(prob),
                                              message.loc[idx]))
    df["_line"] = raw["_line"].to_numpy()
    df["_reason"] = pd.Series(pd.NA, index=df.index, dtype="string")
    if table == "residents" and "place_of_death" in raw.columns:  # only deaths have a place
        alive = (df["place_of_death"].notna() & df["exit_reason"].ne("died")).fillna(False)
        if alive.any():
            rows = raw.loc[alive.to_numpy(bool)]
            failures.append(make_failures(
                region, table, file, rows, "place_of_death", rows["place_of_death"],
                "place_without_death", "place_of_death given for a resident who did not die"))

    failures.append(_schema_failures(df, raw, region=region, table=table, file=file,
                                     care_models=care_models, bad_cells=bad_cells))
    blank = parse.blank_rows(raw)
    if blank.any():  # an empty line is not a row: set aside with a warning, nothing else
        failures = [f[~f["line"].isin(raw.loc[blank, "_line"])] for f in failures]
        failures.append(make_failures(region, table, file, raw.loc[blank], "", "", "blank_line",
                                      "the line is empty; ignored", severity="warning"))
        mark_rows(df, blank, "blank_line")
    found = [f for f in failures if len(f)]
    if not found:
        return df, empty_failures()
    fails = pd.concat(found)
    row_fails = fails[(fails["severity"] != "warning") & fails["line"].notna()]
    for problem, idx in row_fails.groupby("problem", sort=False).groups.items():
        mark_rows(df, df.index.isin(idx), str(problem))
    return df, fails.reset_index(drop=True)


def _region_date_hint(raws: dict[str, tuple[pd.DataFrame, str]],
                      region: str) -> Callable[[], tuple[tuple[str, ...], str]]:
    """A function giving the layout of the text dates of every table read (computed once).

    One extract is saved one way: pooling the date columns of every file tells
    day-first from month-first even in a file whose days are all 12 or less.
    """
    cols = [raw[c.name] for t, (raw, _) in raws.items() for c in COLUMNS[t]
            if c.kind == "date" and c.name in raw.columns
            and not pd.api.types.is_datetime64_any_dtype(raw[c.name])]
    found: list[tuple[tuple[str, ...], str]] = []

    def hint() -> tuple[tuple[str, ...], str]:
        if not found:
            found.append(dates.layout_hint([parse.legacy(c) for c in cols], region=region,
                                           lo=schemas.MIN_DATE, hi=schemas.MAX_DATE))
        return found[0]

    return hint


def _schema_failures(df: pd.DataFrame, raw: pd.DataFrame, *, region: str, table: str, file: str,
                     care_models: list[str], bad_cells: dict[str, pd.Series]) -> pd.DataFrame:
    """Check the table's column rules (its pandera schema) and turn failing cells into failures.

    The rules are evaluated vectorised by :func:`optimal_analysis.ingest.parse.failing_cells`,
    in the order pandera's lazy validation reports them.
    """
    schema = schemas.input_schema(table, care_models)
    out = []
    for column, check, positions in parse.failing_cells(df, schema):
        idx = df.index[positions]
        if column in bad_cells:  # unparseable cells already reported as such
            idx = idx[~bad_cells[column].loc[idx].to_numpy()]
        if len(idx) == 0:
            continue
        check_s = str(check)
        problem = next((p for key, p in _PANDERA_PROBLEM if key in check_s), "invalid_value")
        values = (parse.legacy(raw[column].loc[idx]) if column in raw.columns
                  else pd.Series("", index=idx))
        if problem == "missing_value":
            message = f"{column} is required but empty"
        elif problem == "unknown_code" and column == "service":
            message = ("service codes not in the contract (data-contract.md) or the region's "
                       "map (config service_code_map)")
        elif problem == "date_out_of_range":
            message = (f"{column} is outside the plausible range {schemas.MIN_DATE.date()} to "
                       f"{schemas.MAX_DATE.date()}")
        elif problem == "unknown_code" and column == "care_model":
            new = sorted(set(values.astype("string").str.strip().dropna()) - set(care_models))
            message = (f"care_model is not one of the care models in config "
                       f"({', '.join(care_models)}); if it is a care model of the study, add it "
                       f'to care_models: --config "care_models=[{", ".join(care_models + new)}]"'
                       "; otherwise correct the value")
        else:
            message = f"{column} {check_s}" if "must" in check_s or "outside" in check_s \
                else f"{column} fails check {check_s}"
            message = message.replace(f"{column} {column} ", f"{column} ")
        out.append(make_failures(region, table, file, raw.loc[idx], column, values, problem,
                                 message))
    return pd.concat(out) if out else empty_failures()


# ---------------------------------------------------------------------------
# one region


def ingest_region(
    region_dir: str | Path,
    *,
    region: str | None = None,
    care_models: list[str],
    service_code_map: dict[str, str] | None = None,
    date_format: str | None = None,
) -> RegionTables:
    """Read, parse and check the four tables of one region folder.

    Parameters
    ----------
    region_dir
        Folder holding ``care_homes``, ``residents``, ``contacts`` and
        ``admissions`` as ``.csv`` or ``.parquet``.
    region
        Region id (default: the folder name).
    care_models
        Care models a home may have (config ``care_models``).
    service_code_map
        Local service code -> contract code, applied before validation.
    date_format
        The layout of the region's text dates (config ``date_format``; a name
        of :data:`optimal_analysis.ingest.dates.LAYOUTS`); None: ISO.

    Returns
    -------
    RegionTables
        Every row read, parsed to contract types, with ``_line`` and
        ``_reason`` (missing = used), and the region's failures. A table that
        cannot be used at all is empty and has a ``fatal`` failure.
    """
    from optimal_analysis.ingest import integrity

    region_dir = Path(region_dir)
    region = region or region_dir.name
    tables: dict[str, pd.DataFrame] = {}
    failures: list[pd.DataFrame] = []
    files: dict[str, str] = {}
    raws: dict[str, tuple[pd.DataFrame, str]] = {}
    unread: dict[str, pd.DataFrame] = {}  # the failure of a table that could not be read
    for table in TABLES:
        try:
            path = find_table_file(region_dir, table)
        except InputFileError as exc:
            unread[table] = file_failure(region, table, f"{region}/{table}", str(exc),
                                         "ambiguous_file")
            continue
        label = f"{region}/{path.name}" if path else f"{region}/{table}.csv"
        files[table] = str(path) if path else ""
        if path is None:
            unread[table] = file_failure(
                region, table, label,
                f"{label}: file not found (expected {table}.csv or {table}.parquet in "
                f"{region_dir})", "missing_file")
            continue
        try:
            raws[table] = (read_raw(path), label)
        except InputFileError as exc:
            unread[table] = file_failure(region, table, label, f"{label}: {exc}",
                                         "unreadable_file")
    hint = _region_date_hint(raws, region)
    for table in TABLES:
        if table not in raws:
            failures.append(unread[table])
            tables[table] = empty_table(table)
            continue
        raw, label = raws.pop(table)
        try:
            df, fails = parse_table(
                raw, region=region, table=table, file=label, care_models=list(care_models),
                service_code_map=service_code_map if table == "contacts" else None,
                date_format=date_format, date_hint=hint)
        except InputFileError as exc:
            problem = ("missing_column" if "missing required column" in str(exc)
                       else "unreadable_file")
            failures.append(file_failure(region, table, label, f"{label}: {exc}", problem))
            tables[table] = empty_table(table)
            continue
        tables[table] = df
        failures.append(fails)
        log.info("%s: %d rows read", label, len(df))

    labels = file_labels(region_dir, region)
    # A table that cannot be read sets aside the rows that refer to it (a cascade,
    # not a failure of each row: the one fatal failure names the cause).
    unusable = {f["table"].iloc[0] for f in failures if len(f) and (f["severity"] == "fatal").any()}
    if "care_homes" in unusable:
        mark_rows(tables["residents"], np.ones(len(tables["residents"]), bool),
                  "care_home_excluded")
    if "residents" in unusable:
        for t in ("contacts", "admissions"):
            mark_rows(tables[t], np.ones(len(tables[t]), bool), "resident_excluded")
    failures.append(integrity.check_care_homes(tables["care_homes"], region=region,
                                               file=labels["care_homes"]))
    failures.append(integrity.check_residents(tables["residents"], tables["care_homes"],
                                              region=region, file=labels["residents"]))
    for table in ("contacts", "admissions"):
        failures.append(integrity.check_events(tables[table], tables["residents"], table=table,
                                               region=region, file=labels[table]))
    if files.get("residents") and "residents" not in unusable and len(tables["residents"]) == 0:
        failures.append(file_failure(
            region, "residents", labels["residents"],
            f"{labels['residents']}: region {region!r} has no residents (header only)",
            "no_residents", severity="error"))
    fails = pd.concat([f for f in failures if len(f)], ignore_index=True) if any(
        len(f) for f in failures) else empty_failures()
    return RegionTables(region=region, tables=tables, failures=fails, files=files)
