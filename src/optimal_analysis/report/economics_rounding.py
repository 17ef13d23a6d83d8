"""Published economics tables: money to the nearest £10, shares and rates to fixed places.

economics.csv is computed from exact costs and counts, while the published costs.csv is
recomputed from rounded units (report.costs). Publishing exact pounds beside it would let
a reader difference the two and recover exact units of a small item; to the nearest £10
per resident-year the difference is lost in the rounding (£5 per resident-year is more
than most unit costs over a care model's follow-up). Probabilities go to two decimals,
admissions per resident-year to three.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ECONOMICS_STATS", "MONEY_STEP_GBP", "SUPPRESSED_WITH", "round_economics"]

#: The counts every economics estimate rests on: residents of the care model and of the
#: reference (an estimate is suppressed where either is).
SUPPRESSED_WITH = ("residents", "reference_residents")

#: economics.csv statistics (docs/developing.md): the disclosure spec suppresses them with
#: the residents of the care model and of the reference they rest on.
ECONOMICS_STATS = (
    "nhs_cost_per_resident_year", "scheme_cost_per_resident_year",
    "total_cost_per_resident_year", "incremental_cost", "incremental_cost_low",
    "incremental_cost_high", "admissions_avoided_per_resident_year", "admissions_avoided_low",
    "admissions_avoided_high", "cost_per_admission_avoided", "prob_cost_saving", "icer",
    "break_even_running_cost", "break_even_low", "break_even_high", "person_years",
    "adjusted_nhs_cost_difference", "adjusted_nhs_cost_difference_low",
    "adjusted_nhs_cost_difference_high", "adjusted_nhs_cost_ratio",
)

#: Money in the published economics tables is rounded to this many pounds.
MONEY_STEP_GBP = 10.0

_MONEY = (
    "nhs_cost_per_resident_year", "scheme_cost_per_resident_year",
    "total_cost_per_resident_year", "incremental_cost", "incremental_cost_low",
    "incremental_cost_high", "icer", "break_even_running_cost", "break_even_low",
    "break_even_high", "adjusted_nhs_cost_difference", "adjusted_nhs_cost_difference_low",
    "adjusted_nhs_cost_difference_high", "running_cost_per_resident_year",
    "scheme_cost_gbp_per_unit",
)
_RATES = ("admissions_avoided_per_resident_year", "admissions_avoided_low",
          "admissions_avoided_high", "admissions_per_resident_year", "admissions_avoided")
_SHARES = ("prob_cost_saving", "adjusted_nhs_cost_ratio")


def round_economics(t: pd.DataFrame) -> dict[str, pd.Series]:
    """Rounded copies of the money, rate and share columns the table has; and
    ``cost_per_admission_avoided`` re-written from the rounded ratio where it is a number."""
    out: dict[str, pd.Series] = {}
    for c in _MONEY:
        if c in t.columns:
            out[c] = (pd.to_numeric(t[c], errors="coerce") / MONEY_STEP_GBP).round() \
                * MONEY_STEP_GBP
    for c in _RATES:
        if c in t.columns:
            out[c] = pd.to_numeric(t[c], errors="coerce").round(3)
    for c in _SHARES:
        if c in t.columns:
            out[c] = pd.to_numeric(t[c], errors="coerce").round(2)
    if "cost_per_admission_avoided" in t.columns and "icer" in out:
        numeric = pd.to_numeric(t["cost_per_admission_avoided"], errors="coerce").notna()
        out["cost_per_admission_avoided"] = t["cost_per_admission_avoided"].where(
            ~numeric, out["icer"].map(lambda v: f"{v:.0f}"))
    if "person_years" in t.columns:
        out["person_years"] = pd.to_numeric(t["person_years"], errors="coerce").round(0)
    return out
