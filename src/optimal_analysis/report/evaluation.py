"""Report section "Did the scheme work?": displays of scheme_effects.csv and power.csv.

The notes say the result in words: the difference-in-differences rate ratio
beside the naive before-after, the pre-trend test, a regression-to-the-mean
warning when the switching homes had higher rates before switching than the
comparison homes (and how far the baseline-adjusted estimate moves), and the
power statement ("with 12 homes this evaluation could detect a fall of 35% or
more"). Values come from the published tables only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from optimal_analysis import outcomes as registry
from optimal_analysis.report.tables import _with_ci, care_models_of, fmt_number

__all__ = ["DISPLAYS", "EMPTY_REASONS", "INTRO", "display_power", "display_scheme_effects",
           "evaluation_text", "scheme_summary"]

INTRO = ("Where a local scheme started in some homes on some date (the care_model_history "
         "table), did their rates change? Each switching home is compared before and after "
         "with homes that had not (yet) changed, over the same months (difference in "
         "differences, docs/evaluation.md).")

NO_HISTORY = ("The scheme evaluation needs the optional care_model_history table "
              "(data-contract.md): when a home changed its model of NHS support and to what. "
              "This dataset has none, so there is no before-and-after estimate.")
_METHODS = {"did": "Difference in differences (comparison homes)",
            "before_after": "Before and after, switching homes only (naive)",
            "did_baseline_adjusted": "Difference in differences, baseline rate adjusted",
            "pre_switch_rate_ratio": "Rate before switching vs comparison homes"}


def _num(v: Any) -> float:
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return float(x) if pd.notna(x) else float("nan")


def _pct(rr: float) -> str:
    return f"{abs(1 - rr) * 100:.0f}%"


def scheme_summary(t: pd.DataFrame, config: Mapping[str, Any]) -> str:
    """The result in words for emergency admissions (else the first outcome), first scheme."""
    if len(t) == 0:
        return NO_HISTORY
    outcome = ("emergency_admission" if "emergency_admission" in set(t["outcome"])
               else str(t["outcome"].iloc[0]))
    d = t[t["outcome"] == outcome]
    term = sorted(d["term"].unique())[0]
    rows = d[d["term"] == term].set_index("method")
    what = registry.label(outcome).lower()
    scheme = care_models_of(config).label(term)
    out = []
    if "did" in rows.index:
        r = rows.loc["did"]
        est, lo, hi, p = (_num(r[c]) for c in ("estimate", "conf_low", "conf_high", "p_value"))
        change = "fell" if est < 1 else "rose"
        out.append(
            f"In the {fmt_number(r['n_homes_switched'], 'int')} homes that switched to "
            f"{scheme}, {what} {change} by {_pct(est)} against the "
            f"{fmt_number(r['n_homes_comparison'], 'int')} comparison homes over the same "
            f"months (rate ratio {_with_ci(est, lo, hi)}, p = {fmt_number(p, 'p')}); "
            + ("the interval excludes no change." if hi < 1 or lo > 1 else
               "the interval includes no change."))
        pre = _num(r["pre_trend_p_value"])
        if pre == pre:
            out.append(
                f"Before switching, their rates moved like the comparison homes' (pre-trend "
                f"test p = {fmt_number(pre, 'p')})." if pre >= 0.05 else
                f"Before switching, their rates were already moving differently from the "
                f"comparison homes' (pre-trend test p = {fmt_number(pre, 'p')}): read the "
                f"estimate with caution.")
    if "before_after" in rows.index:
        b = rows.loc["before_after"]
        out.append(f"A before-and-after in the switching homes alone would show a rate ratio "
                   f"of {_with_ci(b['estimate'], b['conf_low'], b['conf_high'])}: the "
                   "difference is the change that the comparison homes saw without the scheme.")
    if "pre_switch_rate_ratio" in rows.index:
        s = rows.loc["pre_switch_rate_ratio"]
        if _num(s["conf_low"]) > 1:
            moved = ""
            if "did_baseline_adjusted" in rows.index:
                a = rows.loc["did_baseline_adjusted"]
                moved = (f" Allowing for each home's rate before the scheme, the rate ratio is "
                         f"{_with_ci(a['estimate'], a['conf_low'], a['conf_high'])}.")
            out.append(
                f"Warning: in the year before switching these homes had "
                f"{fmt_number(s['estimate'])} times the comparison homes' rate "
                f"({_with_ci(s['estimate'], s['conf_low'], s['conf_high'])}). Homes chosen "
                "when their rates were high tend to improve anyway (regression to the mean); "
                "difference in differences removes the fall all homes share, not this." + moved)
    return " ".join(out)


def display_scheme_effects(t: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    """Every outcome × method × scheme with its rate ratio, homes and pre-trend p-value."""
    label = care_models_of(config).label
    rows = [[registry.label(str(r["outcome"])), _METHODS.get(str(r["method"]), r["method"]),
             label(str(r["term"])), _with_ci(r["estimate"], r["conf_low"], r["conf_high"]),
             fmt_number(r["p_value"], "p"), fmt_number(r["n_homes_switched"], "int"),
             fmt_number(r["n_homes_comparison"], "int"), fmt_number(r["pre_trend_p_value"], "p")]
            for _, r in t.iterrows()]
    return {"columns": ["Outcome", "Method", "Switched to", "Rate ratio (95% CI)", "p",
                        "Homes switched", "Comparison homes", "Pre-trend p"],
            "rows": rows, "note": "Rate ratios of switching; methods in docs/evaluation.md."}


def power_statement(t: pd.DataFrame) -> str:
    """"With N homes this evaluation could detect a fall of X% or more" (first outcome)."""
    if len(t) == 0:
        return ""
    outcome = ("emergency_admission" if "emergency_admission" in set(t["outcome"])
               else str(t["outcome"].iloc[0]))
    r = t[t["outcome"] == outcome].iloc[0]
    mdrr = _num(r["mdrr"])
    if not mdrr == mdrr:
        return (f"With {fmt_number(r['n_homes'], 'int')} homes an evaluation of "
                f"{registry.label(outcome).lower()} could not detect any plausible fall; "
                f"detecting a 20% fall would need about "
                f"{fmt_number(r['homes_needed_20'], 'int')} homes, half of them switching.")
    return (f"With {fmt_number(r['n_homes'], 'int')} homes this evaluation could detect a fall "
            f"of {_pct(mdrr)} or more in {registry.label(outcome).lower()} (80% power, "
            f"two-sided 5%); detecting a 20% fall would need about "
            f"{fmt_number(r['homes_needed_20'], 'int')} homes and a 30% fall about "
            f"{fmt_number(r['homes_needed_30'], 'int')}, half of them switching, given the "
            f"between-home variation (ICC {fmt_number(r['icc'], 'smd')}) and overdispersion "
            f"({fmt_number(r['overdispersion'], 'smd')}) in these data.")


def display_power(t: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    """Minimum detectable rate ratio and homes needed per outcome and scheme."""
    label = care_models_of(config).label
    rows = [[registry.label(str(r["outcome"])), label(str(r["term"])),
             fmt_number(r["n_homes"], "int"), fmt_number(r["residents_per_home"]),
             fmt_number(r["icc"], "smd"), fmt_number(r["overdispersion"], "smd"),
             fmt_number(r["mdrr"]), fmt_number(r["homes_needed_20"], "int"),
             fmt_number(r["homes_needed_30"], "int")] for _, r in t.iterrows()]
    return {"columns": ["Outcome", "Switch to", "Homes", "Residents per home", "ICC",
                        "Overdispersion", "Smallest detectable rate ratio",
                        "Homes for a 20% fall", "Homes for a 30% fall"],
            "rows": rows, "note": "", "title": "Power for planning"}


def evaluation_text(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    """The section's paragraphs: the result in words, then the power statement."""
    out = []
    if "scheme_effects" in tables:
        out.append(scheme_summary(tables["scheme_effects"], config))
    if "power" in tables and len(tables["power"]):
        out.append(power_statement(tables["power"]))
    return [t for t in out if t]


DISPLAYS = {"scheme_effects": display_scheme_effects, "power": display_power}
EMPTY_REASONS = {"scheme_effects": NO_HISTORY, "event_study": NO_HISTORY,
                 "scheme_rates": NO_HISTORY}
