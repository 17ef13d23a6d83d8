"""The economics section ("Does it pay?"): its text and the display of economics.csv.

Registered in :mod:`optimal_analysis.report.render` (``SECTION_TEXT``,
``TABLE_DISPLAYS``, ``_INTRO``); the numbers come from the published economics tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis.report.findings import economics_sentence, fmt_gbp
from optimal_analysis.report.narrative import labels_of
from optimal_analysis.report.tables import _with_ci, care_models_of, fmt_number, price_year_of

__all__ = ["INTRO", "display_economics", "economics_text"]

INTRO = (
    "What each care model costs the NHS per resident-year, plus what its scheme costs to run, "
    "against the reference model; how many emergency admissions it avoids; and how sure we "
    "can be that it saves money. Uncertainty comes from one bootstrap that resamples care "
    "homes, keeping each home's costs and admissions together."
)

_UNIT_TEXT = {"resident_year": "per resident-year", "home_year": "per care home per year",
              "bed_year": "per registered bed per year"}


def _num(v: Any) -> float:
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return float(x) if pd.notna(x) else float("nan")


def economics_text(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    """Whether each scheme pays, its cost per admission avoided, the adjusted difference."""
    econ = tables.get("economics")
    if econ is None or econ.empty:
        return ["The economic comparison could not be made in this run (no economics table)."]
    labels = labels_of(config)
    ref = str(config["reference_care_model"])
    out = []
    for _, row in econ[econ["care_model"].astype(str) != ref].iterrows():
        out.append(economics_sentence(row, reference=ref, labels=labels))
        who = labels.get(str(row["care_model"]), str(row["care_model"]))
        lo = _num(row.get("admissions_avoided_low"))
        quadrant = str(row.get("quadrant", ""))
        icer = _num(row.get("icer"))
        if quadrant == "costs more, avoids admissions" and np.isfinite(icer):
            sure = lo > 0
            out.append(f"{who}: about {fmt_gbp(icer)} per emergency admission avoided"
                       + ("" if sure else " (the number of admissions avoided is itself "
                          "uncertain, so this ratio is very imprecise)") + ".")
        adj = _num(row.get("adjusted_nhs_cost_difference"))
        if np.isfinite(adj):
            a_lo = _num(row.get("adjusted_nhs_cost_difference_low"))
            a_hi = _num(row.get("adjusted_nhs_cost_difference_high"))
            out.append(f"{who}: adjusted for residents' characteristics, the NHS cost "
                       f"difference was {fmt_gbp(adj)} per resident-year (95% CI {fmt_gbp(a_lo)} "
                       f"to {fmt_gbp(a_hi)}; gamma-family log-link model, without running "
                       "costs).")
    units = econ.dropna(subset=["scheme_cost_unit"]) if "scheme_cost_unit" in econ else econ[:0]
    priced = [f"{labels.get(str(r.care_model), r.care_model)} "
              f"{fmt_gbp(r.scheme_cost_gbp_per_unit)} {_UNIT_TEXT.get(str(r.scheme_cost_unit), '')}"
              for r in units.itertuples() if _num(r.scheme_cost_gbp_per_unit) > 0]
    if priced:
        out.append("Running costs used: " + "; ".join(priced) + " (config scheme_costs, re-based "
                   "to the report's price year; several are assumptions, see its source column).")
    return out


def display_economics(t: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    """economics.csv for reading: one row per care model, money in whole pounds."""
    label = care_models_of(config).label
    ref = str(config["reference_care_model"])
    rows = []
    for _, r in t.iterrows():
        is_ref = str(r["care_model"]) == ref
        ratio = r.get("cost_per_admission_avoided", "")
        ratio_num = pd.to_numeric(pd.Series([ratio]), errors="coerce").iloc[0]
        rows.append([
            label(str(r["care_model"])) + (" (reference)" if is_ref else ""),
            fmt_number(r["nhs_cost_per_resident_year"], "gbp"),
            fmt_number(r["scheme_cost_per_resident_year"], "gbp"),
            fmt_number(r["total_cost_per_resident_year"], "gbp"),
            "" if is_ref else _with_ci(r["incremental_cost"], r["incremental_cost_low"],
                                       r["incremental_cost_high"], "gbp"),
            "" if is_ref else _with_ci(r["admissions_avoided_per_resident_year"],
                                       r["admissions_avoided_low"],
                                       r["admissions_avoided_high"]),
            "" if is_ref else (fmt_number(ratio_num, "gbp") if pd.notna(ratio_num)
                               else str(ratio if isinstance(ratio, str) else "")),
            "" if is_ref else fmt_number(pd.to_numeric(pd.Series([r["prob_cost_saving"]]),
                                                       errors="coerce").iloc[0] * 100, "plain")
            + "%",
            "" if is_ref else fmt_number(r.get("break_even_running_cost"), "gbp"),
        ])
    year = price_year_of(t)
    return {
        "columns": ["Care model", "NHS cost", "Running cost", "Total cost",
                    "Extra total cost (95% CI)", "Emergency admissions avoided (95% CI)",
                    "Cost per admission avoided", "Chance it costs less",
                    "Break-even running cost"],
        "rows": rows,
        "note": f"Per resident-year, GBP at {year} prices. Intervals and the chance of costing "
        "less come from one bootstrap resampling care homes within care model, costs and "
        "admissions together. 'dominant': costs less and has fewer admissions; 'dominated': "
        "costs more and has more admissions (no ratio is meaningful then). Break-even: the "
        "running cost at which the scheme's total cost equals the reference's. NHS costs here "
        "are from exact units, rounded to £10; the published cost table is recomputed from "
        "rounded units for disclosure, so the two can differ (by a few per cent with few "
        "residents).",
    }
