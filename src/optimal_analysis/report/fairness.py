"""Report section "How fair is the comparison?": balance, overlap, weighted results, E-values,
between-region heterogeneity.

Everything is read from the published tables (``balance``, ``weighting_summary``,
``rate_ratios``, ``hazard_ratios``, ``region_effects``); the section's text is
generated from them, so it says what this run found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis import outcomes as registry
from optimal_analysis.report.tables import care_models_of, fmt_number
from optimal_analysis.tidy import MARKER

__all__ = [
    "EMPTY_REGIONS",
    "FAIRNESS",
    "FAIRNESS_DISPLAYS",
    "FAIRNESS_TABLES",
    "FAIRNESS_TITLE",
    "INTRO",
    "fairness_text",
]

FAIRNESS = "fairness"
FAIRNESS_TITLE = "How fair is the comparison?"
#: Published tables the section shows (and reads: rate_ratios and hazard_ratios too).
FAIRNESS_TABLES = ["balance", "weighting_summary", "region_effects"]

INTRO = (
    "Homes chose or were given their care model, and residents differ between them. "
    "Propensity scores from a multinomial logistic model of care model on the covariates give "
    "weights (config weighting: generalised overlap weights by default, Li and Li 2019, which "
    "target the residents who could plausibly have had any of the care models) with which the "
    "care models are compared as if they had the same mix of residents on the measured "
    "covariates. Unmeasured differences remain; the E-values say how strong they would have "
    "to be."
)
EMPTY_REGIONS = (
    "No region has residents of both the reference and another care model: region and care "
    "model cannot be separated, so no between-region comparison is shown."
)
WEIGHTS_NOTE = (
    "Weighted models treat the weights as fixed: the uncertainty of the estimated propensity "
    "scores is not carried into the standard errors, which for inverse-probability weights "
    "makes the intervals conservative (too wide) and for overlap weights usually so."
)


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.where(s.astype(str) != MARKER), errors="coerce")


def _is_true(s: pd.Series) -> pd.Series:
    return s.astype(str).str.lower().isin(["true", "1"])


def _main_rows(t: pd.DataFrame, outcome: str, model: str) -> pd.DataFrame:
    keep = (t["outcome"] == outcome) & (t["model"] == model)
    if "exposure" in t.columns:
        keep &= t["exposure"] == "person_years"
    return t[keep]


def _evalue_sentences(tables: Mapping[str, pd.DataFrame], label) -> list[str]:
    out = []
    for name, outcome, model, what in [
        ("rate_ratios", "emergency_admission", "poisson", "emergency admission rate ratio"),
        ("hazard_ratios", "emergency_admission", "cox", "hazard ratio of first emergency "
         "admission"),
    ]:
        t = tables.get(name)
        if t is None or not {"outcome", "model", "adjustment", "term", "e_value",
                             "e_value_ci"} <= set(t.columns):
            continue
        rows = _main_rows(t, outcome, model)
        rows = rows[rows["adjustment"] == "adjusted"]
        for r in rows.itertuples():
            est, ev, evci = (pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
                             for v in (r.estimate, r.e_value, r.e_value_ci))
            if np.isnan(est) or np.isnan(ev):
                continue
            ci_part = ("its confidence interval already includes 1, so no unmeasured "
                       "confounding is needed to make it compatible with no effect"
                       if evci <= 1 else
                       f"to move its confidence interval to include 1, a risk ratio of "
                       f"{fmt_number(evci)} each would do")
            out.append(
                f"For {label(r.term)} the adjusted {what} is {fmt_number(est)}: an unmeasured "
                f"confounder would need to be associated with both care model and outcome by a "
                f"risk ratio of {fmt_number(ev)} each, beyond the measured covariates, to "
                f"explain it away entirely; {ci_part} (E-values, VanderWeele and Ding 2017)."
            )
    return out


def _heterogeneity_sentence(tables: Mapping[str, pd.DataFrame], label) -> str:
    t = tables.get("region_effects")
    if t is None:
        return ""
    if t.empty:
        return ("No region has residents of both the reference and another care model, so "
                "region and care model cannot be separated: how much the effect varies "
                "between regions cannot be estimated from these data, and the weighted "
                "comparison, like the adjusted one, compares regions as much as care models "
                "(weighting balances residents, not regions).")
    pooled = t[(t["region"] == "pooled") & (t["outcome"] == t["outcome"].iloc[0])]
    if pooled.empty:
        return ("Fewer than two regions have residents of both a care model and the reference: "
                "the effects by region are shown, but how much they vary cannot be estimated.")
    parts = []
    for r in pooled.itertuples():
        parts.append(
            f"across {int(float(r.k_regions))} regions the pooled adjusted rate ratio of "
            f"{label(r.term)} is {fmt_number(r.estimate)} ({fmt_number(r.conf_low)} to "
            f"{fmt_number(r.conf_high)}), with between-region variance tau² "
            f"{fmt_number(r.tau2)} (I² {fmt_number(r.i2, 'pct')}%), so the rate ratio in a "
            f"new region would be expected between {fmt_number(r.pi_low)} and "
            f"{fmt_number(r.pi_high)} (95% prediction interval)"
        )
    return ("Between regions (" + registry_label(t["outcome"].iloc[0]) + "): "
            + "; ".join(parts) + ". With few regions these are rough.")


def registry_label(outcome: str) -> str:
    """Readable outcome name (the outcome registry's label, lower case)."""
    return registry.label(outcome).lower()


def fairness_text(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    """The section's sentences: balance reached, residents without counterparts, adjusted
    beside weighted estimates, one E-value sentence per main result, heterogeneity."""
    label = care_models_of(config).label
    text = []
    bal = tables.get("balance")
    if bal is not None and not bal.empty and {"is_reference", "smd_crude",
                                               "smd_weighted"} <= set(bal.columns):
        other = bal[~_is_true(bal["is_reference"])]
        crude, weighted = _num(other["smd_crude"]).abs(), _num(other["smd_weighted"]).abs()
        if crude.notna().any() and weighted.notna().any():
            text.append(
                f"The largest |SMD| against the reference was {fmt_number(crude.max(), 'smd')} "
                f"before weighting and {fmt_number(weighted.max(), 'smd')} after"
                + (" (all below 0.1)." if weighted.max() < 0.1 else
                   "; some imbalance remains, see the table.")
            )
    summary = tables.get("weighting_summary")
    if summary is not None and not summary.empty and "converged" in summary.columns:
        lost = _num(summary["n_no_overlap"]).fillna(0).sum() if "n_no_overlap" in summary \
            else 0
        if lost > 0 or not _is_true(summary["converged"]).all():
            text.append(
                "Some residents have no counterpart in another care model (a covariate predicts "
                "the care model perfectly, e.g. a type of home found under one model only): "
                "they get no weight, and the weighted results describe the residents who do "
                "have counterparts."
            )
    text += _weighted_sentences(tables, label)
    text += _evalue_sentences(tables, label)
    het = _heterogeneity_sentence(tables, label)
    if het:
        text.append(het)
    text.append(WEIGHTS_NOTE + " The weighted (adjusted) cumulative incidence curves are in the "
                "analyst's tables/cumulative_incidence.csv (adjustment = weighted); they are not "
                "published, because published curves are recomputed from rounded counts and "
                "weighted curves have none.")
    return text


def _balance_display(t: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    cm = care_models_of(config)
    others = [m for m in cm.ordered(t["care_model"].unique())
              if m not in set(t.loc[_is_true(t["is_reference"]), "care_model"])]
    keys = list(dict.fromkeys(zip(t["covariate"], t["level"], strict=True)))
    cell = {(r.covariate, r.level, r.care_model): (r.smd_crude, r.smd_weighted)
            for r in t.itertuples()}
    rows = []
    for cov, level in keys:
        lab = f"{cov.replace('_', ' ')}" + ("" if level in ("mean", "yes") else f": {level}")
        row = [lab]
        for m in others:
            c, w = cell.get((cov, level, m), ("", ""))
            row += [fmt_number(c, "smd"), fmt_number(w, "smd")]
        rows.append(row)
    columns = [""] + [f"{cm.label(m)}: {k}" for m in others for k in ("unweighted", "weighted")]
    return {"title": "Balance: standardised mean differences against the "
            "reference, before and after weighting", "columns": columns, "rows": rows,
            "note": "Means for numbers, proportions for categories (from rounded counts); "
            "the SD in the denominator is that of the unweighted groups."}


def _ci(r: Any) -> str:
    if MARKER in (str(r.estimate), str(r.conf_low), str(r.conf_high)):
        return MARKER
    return f"{fmt_number(r.estimate)} ({fmt_number(r.conf_low)} to {fmt_number(r.conf_high)})"


def _weighted_sentences(tables: Mapping[str, pd.DataFrame], label) -> list[str]:
    """Adjusted beside weighted, for the main results (emergency admissions: Poisson rate
    ratio, person-years; cause-specific Cox hazard ratio)."""
    out = []
    for name, model, what in [("rate_ratios", "poisson", "emergency admission rate ratio"),
                              ("hazard_ratios", "cox",
                               "hazard ratio of first emergency admission")]:
        t = tables.get(name)
        if t is None or not {"outcome", "model", "adjustment", "term", "estimate", "conf_low",
                             "conf_high"} <= set(t.columns):
            continue
        sub = _main_rows(t, "emergency_admission", model)
        for term in dict.fromkeys(sub["term"]):
            by = {r.adjustment: r for r in sub[sub["term"] == term].itertuples()}
            if "weighted" in by and "adjusted" in by:
                out.append(f"{label(term)}, {what}: regression-adjusted "
                           f"{_ci(by['adjusted'])}, propensity-score weighted "
                           f"{_ci(by['weighted'])}.")
    return out


def _summary_display(t: pd.DataFrame, config) -> dict[str, Any]:
    label = care_models_of(config).label
    rows = [[label(r.care_model), fmt_number(r.n_residents, "int"),
             fmt_number(r.effective_sample_size, "int"),
             f"{fmt_number(r.weight_min)} to {fmt_number(r.weight_max)}"]
            for r in t.itertuples()]
    return {"title": "Residents and effective sample size after "
            "weighting", "columns": ["Care model", "Residents (complete cases)",
                                     "Effective sample size", "Weights"],
            "rows": rows, "note": "Effective sample size (sum of weights)² / sum of squared "
            "weights: how many equally weighted residents the weighted group is worth."}


def _regions_display(t: pd.DataFrame, config) -> dict[str, Any]:
    label = care_models_of(config).label
    if t.empty:
        return {"title": "Adjusted rate ratio by region", "columns": [], "rows": [],
                "note": EMPTY_REGIONS}
    rows = []
    for r in t.itertuples():
        pi = (f"{fmt_number(r.pi_low)} to {fmt_number(r.pi_high)}"
              if r.region == "pooled" else "")
        rows.append([registry_label(r.outcome), label(r.term), r.region,
                     f"{fmt_number(r.estimate)} ({fmt_number(r.conf_low)} to "
                     f"{fmt_number(r.conf_high)})", pi,
                     fmt_number(r.i2, "pct") if r.region == "pooled" else "",
                     fmt_number(r.n_residents, "int")])
    return {"title": "Adjusted rate ratio by region and pooled",
            "columns": ["Outcome", "Care model", "Region", "Rate ratio (95% CI)",
                        "95% prediction interval", "I² (%)", "Residents"],
            "rows": rows, "note": "Poisson, care model and covariates, within each region "
            "(cluster-robust by care home); pooled by REML random-effects meta-analysis."}


#: Displays of the section's own tables (report.render.TABLE_DISPLAYS).
FAIRNESS_DISPLAYS = {
    "balance": _balance_display,
    "weighting_summary": _summary_display,
    "region_effects": _regions_display,
}
