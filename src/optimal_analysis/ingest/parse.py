"""Arrow-native parsing and column checks of input tables: the fast paths of ingest.

Input columns arrive as Arrow strings (every CSV column, and Parquet text
columns: :func:`optimal_analysis.ingest.read.read_raw`) or typed (Parquet
numbers, booleans, dates). The rules are those of
:func:`optimal_analysis.ingest.schemas.parse_column` and of the pandera schema
:func:`optimal_analysis.ingest.schemas.input_schema`; this module applies them
without a Python object per cell:

- text is stripped with Arrow's ``utf8_trim_whitespace`` (what pandas'
  ``str.strip`` of Arrow strings runs) and stays Arrow-backed
  (``string[pyarrow]``);
- text dates and numbers, and typed Parquet dates (``date32``), are parsed
  once per *distinct* value (``factorize``) by the rule of
  :func:`~optimal_analysis.ingest.schemas.parse_column`, then taken back to the
  rows by their codes. Every rule there reads one cell at a time (a number's
  type is inferred from the set of values, which the distinct values share),
  so the result is the same cell for cell; a contacts file of millions of rows
  holds a few thousand distinct dates and a handful of distinct counts;
- typed Parquet numbers are taken as they are (a fraction in a count is still
  ``invalid_int``);
- any other column (Python objects, categoricals) goes through
  :func:`~optimal_analysis.ingest.schemas.parse_column` unchanged;
- the schema's column checks (not null, ``isin``, ranges) are evaluated as
  vectorised comparisons (:func:`failing_cells`) in the order pandera's lazy
  validation reports them, with the same check names.

:func:`legacy` gives a column as the earlier reader held it (Parquet dates as
``datetime.date`` objects), so a failure's ``value`` is written exactly as
before.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pdr
import pyarrow as pa
import pyarrow.compute as pc
from pandas.arrays import ArrowStringArray

__all__ = ["FALSE_TEXT", "TRUE_TEXT", "as_text", "blank_rows", "failing_cells", "is_arrow_text",
           "legacy", "map_codes", "parse_column", "whole_numbers"]

#: Text read as a boolean (after stripping, any case); the contract's true/false, 1/0, yes/no.
TRUE_TEXT = frozenset({"true", "1", "yes", "t", "y"})
FALSE_TEXT = frozenset({"false", "0", "no", "f", "n"})
#: A parsing rule: ``(values, kind) -> (parsed, bad)``, as ``schemas.parse_column``.
Rule = Callable[[pd.Series, str], tuple[pd.Series, pd.Series]]
# Largest whole number a float holds exactly; beyond it (or inf) a value is not a count.
_MAX_WHOLE = 2.0**53


def as_text(values: pd.Series) -> pd.Series:
    """Cell values as stripped strings, with missing values as ''.

    Arrow-backed, so that strip, compare and lower run in pyarrow's compute
    kernels, not once per cell in Python (contacts files have millions of rows).
    """
    text = values.astype("string[pyarrow]").fillna("")
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return text.str.strip()
    return text


def whole_numbers(num: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Float values as ``Int64``; ``(parsed, bad)``: bad marks fractions, inf and huge values."""
    x = num.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(x)
    ok = finite & (np.abs(np.where(finite, x, 0)) <= _MAX_WHOLE)
    ok &= np.floor(np.where(ok, x, 0)) == np.where(ok, x, 0)
    bad = pd.Series(~ok & ~np.isnan(x), index=num.index)
    whole = pd.array(np.where(ok, x, 0).astype(np.int64), dtype="Int64")
    whole[~ok] = pd.NA
    return pd.Series(whole, index=num.index), bad


def is_arrow_text(values: pd.Series) -> bool:
    """True for an Arrow-backed string column (``string[pyarrow]``)."""
    dt = values.dtype
    return isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow" and dt.na_value is pd.NA


def _is_arrow_date(values: pd.Series) -> bool:
    dt = values.dtype
    return isinstance(dt, pd.ArrowDtype) and pa.types.is_date(dt.pyarrow_dtype)


def legacy(values: pd.Series) -> pd.Series:
    """The column as the earlier reader held it (``pyarrow`` ``to_pandas()`` defaults).

    Only Arrow dates differ: they were ``datetime.date`` objects. Strings
    hold the same text whether Python objects or Arrow strings.
    """
    if _is_arrow_date(values):
        dates = values.array.__arrow_array__().to_pandas()
        return pd.Series(dates.to_numpy(dtype=object), index=values.index, name=values.name)
    return values


def _data_bytes(arr: pa.ChunkedArray) -> int:
    """Bytes of string data referenced by ``arr`` (from the offsets; no copy)."""
    total = 0
    for c in arr.chunks:
        if len(c):
            width = np.int64 if pa.types.is_large_string(c.type) else np.int32
            offsets = np.frombuffer(c.buffers()[1], dtype=width)
            total += int(offsets[c.offset + len(c)] - offsets[c.offset])
    return total


def _stripped(values: pd.Series) -> pa.ChunkedArray:
    """Cells of an Arrow string column stripped, missing as '' (:func:`as_text`).

    When stripping removes nothing (the usual case), the column's own buffers
    are returned, so the parsed column shares them with the column read.
    """
    arr = values.array.__arrow_array__()
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    text = pc.utf8_trim_whitespace(arr)
    return arr if _data_bytes(text) == _data_bytes(arr) else text


def _text(arr: pa.ChunkedArray | pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(ArrowStringArray(arr), index=index, copy=False)


def _no(index: pd.Index) -> pd.Series:
    return pd.Series(np.zeros(len(index), dtype=bool), index=index)


def _by_distinct(codes: np.ndarray, uniques: pd.Series, kind: str, index: pd.Index,
                 rule: Rule) -> tuple[pd.Series, pd.Series]:
    """Parse the distinct values with ``rule`` and take back by ``codes``.

    A code of -1 (a missing value) is an empty cell: missing, not bad.
    """
    parsed_u, bad_u = rule(uniques.reset_index(drop=True), kind)
    missing = codes < 0
    take = np.where(missing, 0, codes)
    if len(parsed_u) == 0:  # every cell missing
        return rule(pd.Series([None] * len(index), index=index), kind)
    parsed = pd.Series(parsed_u.array.take(take), index=index)
    if missing.any():
        parsed[missing] = None
    bad = bad_u.to_numpy(dtype=bool)[take] & ~missing
    return parsed, pd.Series(bad, index=index)


def parse_column(values: pd.Series, kind: str, rule: Rule) -> tuple[pd.Series, pd.Series]:
    """Parse one input column to its contract ``kind``; ``(parsed, bad)``.

    ``rule`` is the reference rule, :func:`optimal_analysis.ingest.schemas.parse_column`
    (passed in, so that this module stays below the schemas in the import order).
    Same result, cell for cell, as ``rule`` on the column as the earlier reader
    held it (see the module notes), with text results as ``string[pyarrow]``.
    """
    index = values.index
    if is_arrow_text(values) and kind in ("string", "date", "bool", "int", "float"):
        text = _stripped(values)
        if kind == "string":
            empty = pc.equal(text, "")
            if pc.any(empty).as_py():
                text = pc.if_else(empty, pa.scalar(None, text.type), text)
            return _text(text, index), _no(index)
        if kind == "bool":
            low = pc.utf8_lower(text)
            yes = pc.is_in(low, value_set=pa.array(sorted(TRUE_TEXT), low.type))
            no = pc.is_in(low, value_set=pa.array(sorted(FALSE_TEXT), low.type))
            yes_np, no_np = yes.to_numpy(), no.to_numpy()
            unknown = ~(yes_np | no_np)
            empty = pc.equal(text, "").to_numpy()
            return (pd.Series(pd.arrays.BooleanArray(yes_np, unknown), index=index),
                    pd.Series(unknown & ~empty, index=index))
        codes, uniques = ArrowStringArray(text).factorize()
        return _by_distinct(codes, pd.Series(uniques), kind, index, rule)
    if _is_arrow_date(values) and kind == "date":
        codes, uniques = values.array.factorize()
        return _by_distinct(codes, legacy(pd.Series(uniques)), kind, index, rule)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if kind in ("int", "float") and numeric:  # typed Parquet numbers are taken as they are
        num = values.astype("float64")
        if kind == "int":
            return whole_numbers(num)
        return num, _no(index)
    parsed, bad = rule(legacy(values), kind)
    if kind in ("string", "icd10", "place"):
        parsed = parsed.astype("string[pyarrow]")
    return parsed, bad


def map_codes(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Stripped ``values``, local codes replaced by contract codes (config ``service_code_map``).

    Replaces whole values, once per distinct value; missing values stay missing.
    """
    if not is_arrow_text(values):
        return legacy(values).astype("string").str.strip().replace(mapping)
    text = pc.utf8_trim_whitespace(values.array.__arrow_array__())
    codes, uniques = ArrowStringArray(text).factorize()
    mapped = pd.array([mapping.get(u, u) for u in uniques.to_numpy(dtype=object)],
                      dtype="string[pyarrow]")
    out = mapped.take(codes, allow_fill=True)
    return pd.Series(out, index=values.index, name=values.name)


def blank_rows(raw: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty or blank (a blank line in a CSV file).

    A cell is blank when it is missing or, as text, empty after stripping.
    Columns are tested one at a time and the test stops as soon as no row is
    left, so a file without blank lines costs one column's test.
    """
    blank = np.ones(len(raw), dtype=bool)
    for c in (c for c in raw.columns if c != "_line"):
        if not blank.any():
            break
        values = raw[c]
        if is_arrow_text(values):
            blank &= pc.equal(_stripped(values), "").to_numpy()
        elif (values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype)
              or pd.api.types.is_string_dtype(values)):
            blank &= (as_text(values) == "").to_numpy(dtype=bool)
        else:  # a typed value is never empty text: only a missing one is blank
            blank &= values.isna().to_numpy(dtype=bool)
    return blank


def _passes(check: pdr.Check, s: pd.Series) -> np.ndarray:
    """Where ``s`` passes ``check`` (missing values pass: pandera ignores them)."""
    stats = check.statistics or {}
    if check.name == "isin":
        ok = s.isin(list(stats["allowed_values"]))
    elif check.name == "in_range":
        lo, hi = stats["min_value"], stats["max_value"]
        ok = ((s >= lo) if stats.get("include_min", True) else (s > lo)) & \
             ((s <= hi) if stats.get("include_max", True) else (s < hi))
    elif check.name == "greater_than":
        ok = s > stats["min_value"]
    elif check.name == "greater_than_or_equal_to":
        ok = s >= stats["min_value"]
    else:  # any other check: pandera's own function
        ok = check(s).check_output
    return pd.Series(ok).to_numpy(dtype=bool, na_value=True)


def failing_cells(df: pd.DataFrame,
                  schema: pdr.DataFrameSchema) -> list[tuple[str, str, np.ndarray]]:
    """``(column, check, row positions)`` of the cells that fail the schema's column rules.

    In the order pandera's lazy validation reports them (``failure_cases``),
    so that failures are listed as before: it collects them column by column
    in schema order, ``not_nullable`` first, then each check (named by its
    ``error``) on the non-missing values, and then sorts the cases by their
    ``schema_context`` (all ``Column``) with pandas' default, unstable sort,
    which permutes them; :func:`_pandera_order` applies the same permutation.
    Column dtypes are not checked: parsing sets them.
    """
    return _pandera_order(_failing_cells(df, schema))


def _pandera_order(groups: list[tuple[str, str, np.ndarray]]) -> list[tuple[str, str, np.ndarray]]:
    """Groups and cells in the order of pandera's sorted ``failure_cases`` (see above)."""
    sizes = [len(p) for _, _, p in groups]
    n = sum(sizes)
    if n == 0:
        return []
    group_of = np.repeat(np.arange(len(groups)), sizes)
    positions = np.concatenate([p for _, _, p in groups])
    context = pd.DataFrame({"schema_context": np.full(n, "Column", dtype=object)})
    perm = context.sort_values("schema_context", ascending=False).index.to_numpy()
    group_of, positions = group_of[perm], positions[perm]
    return [(groups[g][0], groups[g][1], positions[group_of == g])
            for g in pd.unique(group_of)]


def _failing_cells(df: pd.DataFrame,
                   schema: pdr.DataFrameSchema) -> list[tuple[str, str, np.ndarray]]:
    out = []
    for name, col in schema.columns.items():
        s = df[name]
        na = s.isna().to_numpy(dtype=bool)
        if not col.nullable and na.any():
            out.append((name, "not_nullable", np.flatnonzero(na)))
        for check in col.checks:
            fail = ~_passes(check, s) & ~na
            if fail.any():
                out.append((name, str(check.error or check.name), np.flatnonzero(fail)))
    return out
