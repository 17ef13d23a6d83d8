"""Generated paragraphs of the report's sections, from the published tables.

Each function takes the published tables and the run's config and returns
sentences (plain text; the template escapes them). Wording follows the rules of
:mod:`optimal_analysis.findings`: numbers with their intervals, "no clear
difference" where an interval contains the null value, observational verbs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis import outcomes
from optimal_analysis.care_models import CareModels
from optimal_analysis.findings import (
    data_sentence,
    economics_sentence,
    fmt_gbp,
    outcome_sentence,
    region_sentence,
)

__all__ = ["admissions_text", "data_text", "economics_text", "outcome_label", "survival_text"]

_UNIT_TEXT = {"resident_year": "per resident-year", "home_year": "per care home per year",
              "bed_year": "per registered bed per year"}


def outcome_label(name: str) -> str:
    """Lower-case label of an outcome for a sentence ("emergency admissions")."""
    try:
        text = outcomes.label(name)
    except (KeyError, ValueError):
        text = name.replace("_", " ")
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def _labels(config: Mapping[str, Any]) -> dict[str, str]:
    cm = CareModels.of(config.get("care_models"), config.get("care_model_labels"))
    models = set(cm.order) | set(config.get("care_model_labels") or {})
    return {m: cm.label(m) for m in models}


def _num(v: Any) -> float:
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return float(x) if pd.notna(x) else float("nan")


def data_text(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    """Who is compared and how care models and regions overlap."""
    summary = tables.get("cohort_summary")
    return [s for s in (data_sentence(summary), region_sentence(summary)) if s]


def admissions_text(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    """One sentence per outcome of the rate-ratio table (emergency admissions first)."""
    ratios = tables.get("rate_ratios")
    if ratios is None or ratios.empty:
        return ["No rate ratios could be estimated in this run (see the notes of the rate-ratio "
                "table in the appendix)."]
    names = list(dict.fromkeys(ratios["outcome"].astype(str)))
    names.sort(key=lambda o: o != "emergency_admission")
    out = []
    for name in names:
        s = outcome_sentence(ratios, name, reference=str(config["reference_care_model"]),
                             labels=_labels(config), outcome_label=outcome_label(name))
        if s:
            out.append(s)
    return out


def economics_text(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    """Whether each scheme pays, its cost per admission avoided, the adjusted difference."""
    econ = tables.get("economics")
    if econ is None or econ.empty:
        return ["The economic comparison could not be made in this run (no economics table)."]
    labels = _labels(config)
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


def survival_text(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    """The proportional-hazards test in one sentence, and medians not reached."""
    out = []
    ph = tables.get("ph_tests")
    if ph is not None and not ph.empty and "term" in ph:
        glob = ph[ph["term"].astype(str) == "GLOBAL"]
        for _, r in glob.iterrows():
            p = _num(r["p_value"])
            if np.isfinite(p) and p < 0.05:
                out.append(
                    f"The proportional-hazards test fails for {outcome_label(str(r['outcome']))} "
                    f"(p = {'<0.001' if p < 0.001 else f'{p:.3f}'}): the hazard ratio changes "
                    "over follow-up, so it is read as an average over follow-up, and the curves "
                    "and restricted mean times, which do not assume proportional hazards, are "
                    "shown beside it.")
    km = tables.get("km_summary")
    if km is not None and not km.empty and "median_days" in km:
        med = km["median_days"]
        not_reached = med.isna() & ~(med.astype(str) == "[c]")
        if not_reached.all():
            out.append("Median survival was not reached in any care model: fewer than half of "
                       "the residents died during follow-up.")
    hr = tables.get("hazard_ratios")
    if hr is not None and not hr.empty:
        s = outcome_sentence(hr, "emergency_admission",
                             reference=str(config["reference_care_model"]),
                             labels=_labels(config), outcome_label="first emergency admission",
                             ratio_name="hazard ratio",
                             models=(("cox", "adjusted"), ("cox", "crude")),
                             words=("a lower hazard", "a higher hazard"))
        if s:
            out.append(s)
    return out
