"""Generated paragraphs of the report's sections, from the published tables.

Each function takes the published tables and the run's config and returns
sentences (plain text; the template escapes them). Wording follows the rules of
:mod:`optimal_analysis.report.findings`: numbers with their intervals, "no clear
difference" where an interval contains the null value, observational verbs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis import outcomes
from optimal_analysis.care_models import CareModels
from optimal_analysis.report.findings import (
    data_sentence,
    outcome_sentence,
    region_sentence,
)

__all__ = ["admissions_text", "data_text", "labels_of", "outcome_label", "survival_text"]

def outcome_label(name: str) -> str:
    """Lower-case label of an outcome for a sentence ("emergency admissions")."""
    try:
        text = outcomes.label(name)
    except (KeyError, ValueError):
        text = name.replace("_", " ")
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def labels_of(config: Mapping[str, Any]) -> dict[str, str]:
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
                             labels=labels_of(config), outcome_label=outcome_label(name))
        if s:
            out.append(s)
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
                             labels=labels_of(config), outcome_label="first emergency admission",
                             ratio_name="hazard ratio",
                             models=(("cox", "adjusted"), ("cox", "crude")),
                             words=("a lower hazard", "a higher hazard"))
        if s:
            out.append(s)
    return out
