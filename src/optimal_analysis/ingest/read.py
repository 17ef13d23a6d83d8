"""Reading one input table file: CSV (as text) or Parquet (as stored), with line numbers.

Everything that makes a file unusable as a whole is an :class:`InputFileError`
with a message that says what is wrong and where (the line, the byte, the
delimiter), so that ingest can report it as a ``fatal`` failure. Reading is
done by pyarrow (multi-threaded); the slow paths that find a bad line run only
when a file is already known to be bad.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: The data contract's four input tables of a region (re-exported by ``ingest.schemas``;
#: defined here, at the bottom of the ingest stage, so reading needs no schema).
TABLES: tuple[str, ...] = ("care_homes", "residents", "contacts", "admissions")


def _parquet_dtype(arrow_type: pa.DataType) -> object:
    """pandas dtype of a column read: Arrow strings and dates stay Arrow-backed."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow")
    if pa.types.is_date(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return None


class InputFileError(Exception):
    """A table file cannot be read at all."""


def find_table_file(region_dir: Path, table: str) -> Path | None:
    """The file of ``table`` in ``region_dir`` (``.csv`` or ``.parquet``), or None."""
    found = [p for ext in (".csv", ".parquet") if (p := region_dir / f"{table}{ext}").is_file()]
    if len(found) > 1:
        raise InputFileError(
            f"{region_dir.name}: both {found[0].name} and {found[1].name} exist; keep one"
        )
    return found[0] if found else None


def read_raw(path: Path) -> pd.DataFrame:
    """Read a table file: CSV as text columns, Parquet as stored. Adds ``_line``.

    ``_line`` is the line of the row in a CSV file (the header is line 1), or
    the row number (from 1) in a Parquet file.
    """
    if path.stat().st_size == 0:
        raise InputFileError("the file is empty (0 bytes); it needs at least a header row")
    if path.suffix == ".parquet":
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputFileError(f"not a readable Parquet file ({exc})") from exc
        # Text straight into Arrow strings, dates kept as Arrow dates (no Python
        # object per cell); numbers and booleans as pandas holds them.
        df = table.to_pandas(types_mapper=_parquet_dtype)
        df["_line"] = np.arange(1, len(df) + 1, dtype=np.int64)
        return df
    header = _read_header(path)
    ragged: list[int] = []

    def on_ragged(row: pacsv.InvalidRow) -> str:
        ragged.append(row.actual_columns)
        return "skip"

    try:
        table = pacsv.read_csv(path, **_csv_options(header, on_ragged))
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" in str(exc):
            raise InputFileError(_utf8_problem(path)) from exc
        raise InputFileError(f"cannot be read as CSV: {exc}") from exc
    if ragged:
        raise InputFileError(_ragged_problem(path, header))
    df = table.to_pandas(types_mapper=_parquet_dtype)
    # Blank lines are kept as rows (ignore_empty_lines=False), so that row i is
    # line i + 2 exactly; ingest sets them aside with a warning.
    df["_line"] = np.arange(2, len(df) + 2, dtype=np.int64)
    return df


def _csv_options(header: list[str], on_invalid_row: object, *, use_threads: bool = True) -> dict:
    return dict(
        # Our own (stripped, BOM-free) header names, so " age" is read as "age".
        read_options=pacsv.ReadOptions(encoding="utf8", use_threads=use_threads,
                                       column_names=header, skip_rows=1),
        parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False,
                                         invalid_row_handler=on_invalid_row),
        convert_options=pacsv.ConvertOptions(
            # large_string: the layout of pandas' Arrow strings, so no cast on the way in.
            column_types={name: pa.large_string() for name in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _ragged_problem(path: Path, header: list[str]) -> str:
    """Name the lines whose number of fields differs from the header's (failure path only)."""
    bad: list[tuple[int, int]] = []

    def record(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.actual_columns))
        return "skip"

    pacsv.read_csv(path, **_csv_options(header, record, use_threads=False))
    line, fields = bad[0]
    text = (f"line {line} has {fields} field{'s' if fields != 1 else ''} but the header has "
            f"{len(header)} (a stray or missing comma, an unquoted comma in a value, or a "
            "truncated file)")
    if len(bad) > 1:
        more = ", ".join(str(n) for n, _ in bad[1:6])
        text += f"; {len(bad)} lines like this (also lines {more}{', ...' if len(bad) > 6 else ''})"
    return text


def _utf8_problem(path: Path) -> str:
    """Where the first byte that is not UTF-8 is (failure path only)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return (f"is not UTF-8 text (line {line} has byte 0x{data[exc.start]:02x}, e.g. a "
                "Latin-1/Windows-1252 accented letter); save it as UTF-8 CSV")
    return "is not UTF-8 text; save it as UTF-8 CSV"  # pragma: no cover - arrow disagrees


def _read_header(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        raw = fh.readline()
    try:
        text = raw.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} in the header); "
            "save it as UTF-8 CSV"
        ) from exc
    if not text.strip():
        raise InputFileError("the first line is empty; it must be the header row")
    names = [c.strip().strip('"') for c in text.split(",")]
    if len(names) == 1:
        for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if sep in text:
                raise InputFileError(
                    f"the header has no commas but uses {label} ({text[:60]!r}); "
                    "files must be comma-separated"
                )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputFileError(f"the header names column{'s' if len(repeated) > 1 else ''} "
                             f"{', '.join(map(repr, repeated))} more than once")
    return names


def file_labels(region_dir: str | Path, region: str) -> dict[str, str]:
    """``{table: "region/file name"}`` as messages name files (``region/table`` if absent)."""
    out = {}
    for table in TABLES:
        try:
            path = find_table_file(Path(region_dir), table)
        except InputFileError:
            path = None
        out[table] = f"{region}/{path.name}" if path else f"{region}/{table}.csv"
    return out
