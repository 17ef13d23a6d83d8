"""Checks of the cohort columns every survival table reads."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from optimal_analysis.model_frame import check_cohort_columns

__all__ = ["SURVIVAL_COLUMNS", "check_survival_cohort"]

#: Cohort columns of the survival stage (docs/developing.md, "Interim tables").
SURVIVAL_COLUMNS = [
    "care_model",
    "care_home_id",
    "time_to_admission_days",
    "admission_status",
    "follow_up_days",
    "died",
]


def check_survival_cohort(cohort: pd.DataFrame, extra: Sequence[str] = ()) -> None:
    """Raise ``ValueError`` naming every problem of the survival columns of ``cohort``."""
    check_cohort_columns(cohort, [*SURVIVAL_COLUMNS, *extra])
    problems = []
    status = cohort["admission_status"].astype(int)
    if not status.isin([0, 1, 2]).all():
        problems.append(f"admission_status values {sorted(set(status) - {0, 1, 2})} are not 0/1/2")
    for col in ("time_to_admission_days", "follow_up_days"):
        if (cohort[col] < 1).any() or cohort[col].isna().any():
            problems.append(f"{col} has missing values or values below 1 day")
    if (cohort["time_to_admission_days"] > cohort["follow_up_days"]).any():
        problems.append("time_to_admission_days exceeds follow_up_days for some residents")
    if problems:
        raise ValueError("cohort cannot be analysed for survival: " + "; ".join(problems))
