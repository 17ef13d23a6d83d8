"""The data contract as code: column specs and pandera schemas of every table.

Input tables arrive as text (CSV) or typed columns (Parquet). Ingest first
*parses* each column to its contract type (:func:`parse_columns`), recording
every cell that cannot be parsed, then validates the parsed frame with the
pandera schema of the table (:func:`input_schema`) lazily, so that every
failure is collected, not just the first. Keep this module and
``docs/data-contract.md`` in step.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from optimal_analysis.icd10 import normalise_codes
from optimal_analysis.ingest.parse import FALSE_TEXT, TRUE_TEXT, whole_numbers
from optimal_analysis.ingest.parse import as_text as _as_text
from optimal_analysis.place_of_death import normalise_places

SERVICE_CODES: tuple[str, ...] = (
    "gp_surgery",
    "gp_visit",
    "gp_phone",
    "practice_nurse",
    "district_nurse",
    "community_matron",
    "care_home_team",
    "geriatrician",
    "mental_health",
    "physiotherapy",
    "occupational_therapy",
    "speech_therapy",
    "dietitian",
    "podiatry",
    "pharmacist",
    "out_of_hours",
    "ambulance",
    "ae",
    "outpatient",
)
EXIT_REASONS: tuple[str, ...] = ("died", "moved_out", "study_end")
ADMISSION_METHODS: tuple[str, ...] = ("emergency", "elective")
SEXES: tuple[str, ...] = ("F", "M")
#: Tables a region may have (data-contract.md); read by ``ingest.history``.
OPTIONAL_TABLES: tuple[str, ...] = ("care_model_history",)

# Earliest and latest plausible dates of any event: outside this window a date
# is an error (a typo such as 1915 or 2105), not just outside follow-up.
MIN_DATE = pd.Timestamp("1990-01-01")
MAX_DATE = pd.Timestamp("2100-12-31")

_TRUE, _FALSE = TRUE_TEXT, FALSE_TEXT


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an input table: its contract type and whether it is required."""

    name: str
    kind: str  # "string", "date", "bool", "int", "float", "icd10", "place"
    required: bool
    default: object = None  # value used when an optional column is absent or empty


COLUMNS: dict[str, tuple[ColumnSpec, ...]] = {
    "care_homes": (
        ColumnSpec("care_home_id", "string", True),
        ColumnSpec("care_model", "string", True),
        ColumnSpec("nursing", "bool", True),
        ColumnSpec("beds", "int", False),
    ),
    "residents": (
        ColumnSpec("resident_id", "string", True),
        ColumnSpec("care_home_id", "string", True),
        ColumnSpec("sex", "string", True),
        ColumnSpec("age", "float", True),
        ColumnSpec("dementia", "bool", True),
        ColumnSpec("barthel", "int", False),
        ColumnSpec("entry_date", "date", True),
        ColumnSpec("exit_date", "date", True),
        ColumnSpec("exit_reason", "string", True),
        ColumnSpec("place_of_death", "place", False),
    ),
    "contacts": (
        ColumnSpec("resident_id", "string", True),
        ColumnSpec("contact_date", "date", True),
        ColumnSpec("service", "string", True),
        ColumnSpec("n", "int", False, default=1),
    ),
    "admissions": (
        ColumnSpec("resident_id", "string", True),
        ColumnSpec("admission_date", "date", True),
        ColumnSpec("discharge_date", "date", False),
        ColumnSpec("method", "string", True),
        ColumnSpec("primary_diagnosis", "icd10", False),
    ),
    "care_model_history": (
        ColumnSpec("care_home_id", "string", True),
        ColumnSpec("care_model", "string", True),
        ColumnSpec("start_date", "date", True),
    ),
}

# Columns that may be empty in a row even though the column itself must exist.
NULLABLE: dict[str, set[str]] = {
    "care_homes": {"beds"},
    "residents": {"barthel", "place_of_death"},
    "contacts": set(),
    "admissions": {"discharge_date", "primary_diagnosis"},
    "care_model_history": set(),
}


def required_columns(table: str) -> list[str]:
    """Names of the columns a file of ``table`` must have."""
    return [c.name for c in COLUMNS[table] if c.required]


def contract_columns(table: str) -> list[str]:
    """Names of every contract column of ``table``, in contract order."""
    return [c.name for c in COLUMNS[table]]


# ---------------------------------------------------------------------------
# parsing


def parse_column(values: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """Parse one column to its contract type (the reference rule; ``parse.parse_column``
    applies it without a Python object per cell).

    Returns ``(parsed, bad)`` where ``bad`` is a boolean mask of cells that are
    non-empty but cannot be parsed. Empty cells become missing values (and are
    judged by the schema's nullability, not here).
    """
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values).astype("datetime64[ns]")
        return parsed, pd.Series(False, index=values.index)
    if kind == "bool" and pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), pd.Series(False, index=values.index)
    if kind == "icd10":  # normal form (J18.9, j189 -> J189); bad = not well formed
        normal, bad = normalise_codes(values)
        return normal.astype("string"), bad
    if kind == "place":  # hospital / care_home / hospice / other; bad = anything else
        normal, bad = normalise_places(values)
        return normal.astype("string"), bad
    text = _as_text(values)
    empty = text == ""
    if kind == "string":
        return text.mask(empty, pd.NA).astype("string"), pd.Series(False, index=values.index)
    if kind == "date":
        # ISO 8601 only: anything else (03/04/2015) is ambiguous and an error.
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        parsed = parsed.astype("datetime64[ns]")
        return parsed, parsed.isna() & ~empty
    if kind == "bool":
        low = text.str.lower()
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[low.isin(_TRUE)] = True
        out[low.isin(_FALSE)] = False
        return out, out.isna() & ~empty
    num = pd.to_numeric(text.mask(empty, None), errors="coerce")
    bad = num.isna() & ~empty
    if kind == "int":
        whole, not_whole = whole_numbers(num.astype("float64"))
        return whole, bad | not_whole
    return num.astype("float64"), bad


# ---------------------------------------------------------------------------
# pandera schemas of the parsed input tables


def _in_range(lo: float, hi: float) -> pa.Check:
    return pa.Check.in_range(lo, hi, error=f"must be between {lo:g} and {hi:g}")


def _date_range() -> pa.Check:
    return pa.Check.in_range(
        MIN_DATE,
        MAX_DATE,
        error=f"date outside the plausible range {MIN_DATE.date()} to {MAX_DATE.date()}",
    )


def input_schema(table: str, care_models: list[str] | tuple[str, ...]) -> pa.DataFrameSchema:
    """Pandera schema of a parsed input table (column-level rules of the contract).

    Row-level and cross-table rules (exit before entry, unknown care home,
    overlapping stays, ...) are checked in :mod:`optimal_analysis.ingest`.
    """
    nullable = NULLABLE[table]

    def col(dtype: object, *checks: pa.Check, name: str, unique: bool = False) -> pa.Column:
        return pa.Column(
            dtype, checks=list(checks), nullable=name in nullable, unique=unique, coerce=False
        )

    def isin(values: tuple[str, ...] | list[str], what: str) -> pa.Check:
        return pa.Check.isin(list(values), error=f"{what} must be one of {', '.join(values)}")

    cols: dict[str, pa.Column]
    if table == "care_homes":
        cols = {
            "care_home_id": col("string", name="care_home_id"),
            "care_model": col(
                "string", isin(list(care_models), "care_model (config care_models)"),
                name="care_model"
            ),
            "nursing": col("boolean", name="nursing"),
            "beds": col("Int64", pa.Check.gt(0, error="beds must be a whole number > 0"),
                        name="beds"),
        }
    elif table == "residents":
        cols = {
            "resident_id": col("string", name="resident_id"),
            "care_home_id": col("string", name="care_home_id"),
            "sex": col("string", isin(SEXES, "sex"), name="sex"),
            "age": col("float64", _in_range(60, 115), name="age"),
            "dementia": col("boolean", name="dementia"),
            "barthel": col("Int64", _in_range(0, 20), name="barthel"),
            "entry_date": col("datetime64[ns]", _date_range(), name="entry_date"),
            "exit_date": col("datetime64[ns]", _date_range(), name="exit_date"),
            "exit_reason": col("string", isin(EXIT_REASONS, "exit_reason"), name="exit_reason"),
            "place_of_death": col("string", name="place_of_death"),
        }
    elif table == "contacts":
        cols = {
            "resident_id": col("string", name="resident_id"),
            "contact_date": col("datetime64[ns]", _date_range(), name="contact_date"),
            "service": col("string", isin(SERVICE_CODES, "service"), name="service"),
            "n": col("Int64", pa.Check.ge(1, error="n must be a whole number >= 1"), name="n"),
        }
    elif table == "admissions":
        cols = {
            "resident_id": col("string", name="resident_id"),
            "admission_date": col("datetime64[ns]", _date_range(), name="admission_date"),
            "discharge_date": col("datetime64[ns]", _date_range(), name="discharge_date"),
            "method": col("string", isin(ADMISSION_METHODS, "method"), name="method"),
            "primary_diagnosis": col("string", name="primary_diagnosis"),
        }
    elif table == "care_model_history":
        cols = {
            "care_home_id": col("string", name="care_home_id"),
            "care_model": col(
                "string", isin(list(care_models), "care_model (config care_models)"),
                name="care_model"
            ),
            "start_date": col("datetime64[ns]", _date_range(), name="start_date"),
        }
    else:  # pragma: no cover - programming error
        raise KeyError(table)
    return pa.DataFrameSchema(cols, strict=False, name=table)
