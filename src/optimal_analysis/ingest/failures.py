"""Failure records: one row per problem, naming region, file, line, column and value.

The columns of a failures table (``data_quality/failures.csv``):
region, table, file, line (CSV line with the header as line 1, or Parquet row
from 1; empty for a whole-file problem), column, value (as read), problem (a
short code, also the exclusion reason), message (readable), severity
(``fatal``, ``error`` or ``warning``; see :mod:`optimal_analysis.ingest`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FAILURE_COLUMNS = ["region", "table", "file", "line", "column", "value", "problem", "message",
                   "severity"]


def make_failures(
    region: str,
    table: str,
    file: str,
    rows: pd.DataFrame,
    column: str,
    values: pd.Series | str,
    problem: str,
    message: pd.Series | str,
    severity: str = "error",
) -> pd.DataFrame:
    """Failure rows for the subset ``rows`` of a table (must carry ``_line``)."""
    n = len(rows)
    return pd.DataFrame(
        {
            "region": region,
            "table": table,
            "file": file,
            "line": rows["_line"].to_numpy() if n else np.array([], dtype=np.int64),
            "column": column,
            "value": (values.astype("string").fillna("") if isinstance(values, pd.Series)
                      else values),
            "problem": problem,
            "message": message,
            "severity": severity,
        },
        index=rows.index,
    )


def file_failure(region: str, table: str, file: str, message: str, problem: str,
                 severity: str = "fatal", column: str = "") -> pd.DataFrame:
    """One failure row about a whole file (no line)."""
    return pd.DataFrame(
        [{"region": region, "table": table, "file": file, "line": pd.NA, "column": column,
          "value": "", "problem": problem, "message": message, "severity": severity}],
        columns=FAILURE_COLUMNS,
    )


def empty_failures() -> pd.DataFrame:
    """An empty failures table with the right columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FAILURE_COLUMNS})


def mark_rows(df: pd.DataFrame, mask: pd.Series | np.ndarray, reason: str) -> None:
    """Set ``_reason`` of the rows in ``mask`` that have none yet (first reason wins)."""
    mask = np.asarray(mask, dtype=bool) & df["_reason"].isna().to_numpy()
    if mask.any():
        df.loc[mask, "_reason"] = reason
