"""Key findings: plain-English sentences generated from the published tables.

Every sentence carries its number and interval and is worded by rules that respect
uncertainty and never overstate an observational comparison:

- a ratio whose interval lies below 1 is "fewer", above 1 "more", and an interval
  that contains 1 is "no clear difference" (the estimate is still shown);
- a cost difference is "lower"/"higher" only when its interval excludes 0;
- verbs describe what was observed ("had fewer"), never what a model of care did
  ("reduced", "prevented"); the last sentence says the comparison is observational;
- intervals are the small-sample ones (results contract, "Small-sample
  intervals") where a table has them;
- what cannot be said (a missing table, a suppressed cell, one care model) is said
  in one line or left out, never guessed.

Pure functions of DataFrames: labels come in as mappings, numbers are read with
``pd.to_numeric(errors="coerce")`` so a suppressed cell is missing, not zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "OBSERVATIONAL_CAVEAT",
    "cost_sentence",
    "data_sentence",
    "direction",
    "economics_sentence",
    "fmt_count",
    "fmt_gbp",
    "fmt_ratio",
    "key_findings",
    "outcome_sentence",
    "region_sentence",
]

OBSERVATIONAL_CAVEAT = (
    "These are comparisons between care homes that chose or were given their model of "
    "care, not a randomised trial: differences may reflect the residents, homes and "
    "places as well as the model of care."
)

#: Preferred rows for a headline rate ratio: (model, adjustment), first present wins.
HEADLINE_MODELS = (("poisson", "adjusted"), ("negbin", "adjusted"), ("poisson", "crude"),
                   ("negbin", "crude"))


def _num(x: object) -> float:
    v = pd.to_numeric(pd.Series([x]), errors="coerce").iloc[0]
    return float(v) if pd.notna(v) else float("nan")


def fmt_count(x: object) -> str:
    """A count for reading: ``3000`` -> ``"3,000"``; suppressed or missing -> ``"suppressed"``."""
    v = _num(x)
    return "suppressed" if np.isnan(v) else f"{v:,.0f}"


def fmt_gbp(x: object) -> str:
    """Whole pounds with thousands separators: ``-1234.5`` -> ``"−£1,234"`` (a true minus)."""
    v = _num(x)
    if np.isnan(v):
        return "not available"
    return ("\u2212" if round(v) < 0 else "") + f"£{abs(v):,.0f}"


def fmt_ratio(x: object) -> str:
    """A ratio to two decimals (``0.7812`` -> ``"0.78"``)."""
    v = _num(x)
    return "not available" if np.isnan(v) else f"{v:.2f}"


def direction(low: float, high: float, null: float) -> str:
    """``"below"``/``"above"`` when the interval excludes ``null``, ``"unclear"`` when it
    contains it, ``"unknown"`` when a limit is missing."""
    if np.isnan(low) or np.isnan(high):
        return "unknown"
    if high < null:
        return "below"
    if low > null:
        return "above"
    return "unclear"


def _label(model: str, labels: Mapping[str, str], *, lower: bool = True) -> str:
    text = labels.get(model, model.replace("_", " ").capitalize())
    if lower and not (len(text) > 1 and text[:2].isupper()):  # keep "GP", "NHS" as written
        text = text[0].lower() + text[1:]
    return text


def _cap(text: str) -> str:
    """First letter upper case, the rest as written ("A&E", not "A&e")."""
    return text[:1].upper() + text[1:]


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _interval(row: pd.Series) -> tuple[float, float]:
    """The small-sample limits where present and finite, else conf_low/conf_high."""
    low, high = _num(row.get("conf_low_small")), _num(row.get("conf_high_small"))
    if np.isnan(low) or np.isnan(high):
        low, high = _num(row.get("conf_low")), _num(row.get("conf_high"))
    return low, high


def _models(summary: pd.DataFrame) -> dict[str, set[str]]:
    s = summary[summary["care_model"].astype(str) != "all"]
    return {str(m): {r for r in str(rs).split(";") if r and r != "nan"}
            for m, rs in zip(s["care_model"], s["regions"], strict=True)}


def data_sentence(summary: pd.DataFrame | None) -> str | None:
    """Who is compared: care models, residents, homes, resident-years, regions."""
    if summary is None or summary.empty or "all" not in set(summary["care_model"].astype(str)):
        return None
    row = summary.set_index(summary["care_model"].astype(str)).loc["all"]
    n_models = len(_models(summary))
    n_regions = int(_num(row["n_regions"])) if not np.isnan(_num(row["n_regions"])) else 0
    where = "one region" if n_regions == 1 else f"{n_regions} regions"
    py = _num(row["person_years"])
    years = "" if np.isnan(py) else f" ({fmt_count(py)} resident-years of follow-up)"
    models = "one care model" if n_models == 1 else f"{n_models} care models"
    return (f"The report compares {models} for {fmt_count(row['residents'])} residents of "
            f"{fmt_count(row['care_homes'])} care homes{years} in {where}.")


def region_sentence(summary: pd.DataFrame | None) -> str | None:
    """How care models and regions overlap, in the words that are true of these data."""
    if summary is None or summary.empty:
        return None
    models = _models(summary)
    if len(models) < 2:
        return "Only one care model is in these data, so there is nothing to compare it with."
    regions = sorted(set().union(*models.values()))
    mixed = [r for r in regions if sum(r in rs for rs in models.values()) > 1]
    if len(regions) == 1:
        return (f"All residents live in one region ({regions[0]}), so care models are compared "
                "within that region.")
    if not mixed:
        return ("Each region has a single care model, so differences between care models "
                "cannot be told apart from differences between regions (their populations, "
                "hospitals and record keeping).")
    if len(mixed) == len(regions):
        return (f"Every region ({len(regions)}) has care homes with more than one care model, "
                "so care models can be compared within regions.")
    return (f"{len(mixed)} of {len(regions)} regions have care homes with more than one care "
            "model; in the others a care model's results cannot be told apart from its "
            "region's.")


def _headline_rows(ratios: pd.DataFrame, outcome: str,
                   models: Sequence[tuple[str, str]]) -> tuple[pd.DataFrame, str]:
    rows = ratios[ratios["outcome"].astype(str) == outcome]
    for model, adjustment in models:
        pick = rows[(rows["model"] == model) & (rows["adjustment"] == adjustment)]
        if "exposure" in pick.columns and (pick["exposure"] == "person_years").any():
            pick = pick[pick["exposure"] == "person_years"]
        if not pick.empty:
            return pick, adjustment
    return rows.iloc[:0], ""


def outcome_sentence(
    ratios: pd.DataFrame | None,
    outcome: str,
    *,
    reference: str,
    labels: Mapping[str, str],
    outcome_label: str,
    ratio_name: str = "rate ratio",
    required: bool = False,
    models: Sequence[tuple[str, str]] = HEADLINE_MODELS,
    words: tuple[str, str] = ("fewer", "more"),
) -> str | None:
    """One sentence per outcome: each care model against the reference, by its interval.

    ``required``: say in one line why the outcome could not be compared (for the
    primary outcome); otherwise an outcome absent from the table gives no sentence.
    ``models``: (model, adjustment) pairs in order of preference (the first present
    is shown); ``words``: what an interval below / above 1 is called.
    """
    rows, adjustment = (_headline_rows(ratios, outcome, models) if ratios is not None
                        and not ratios.empty else (pd.DataFrame(), ""))
    if rows.empty:
        return (f"{_cap(outcome_label)} could not be compared between care models: "
                "there are no estimates for them in these data.") if required else None
    clauses = []
    for _, row in rows.iterrows():
        est = _num(row["estimate"])
        low, high = _interval(row)
        who = _label(str(row["term"]), labels)
        if np.isnan(est):
            reason = str(row.get("reason", "") or "").strip()
            clauses.append(f"no estimate for {who}" + (f" ({reason})" if reason and reason
                                                        != "nan" else ""))
            continue
        numbers = (f"{ratio_name} {fmt_ratio(est)}, 95% CI {fmt_ratio(low)} to "
                   f"{fmt_ratio(high)}")
        word = {"below": words[0], "above": words[1], "unclear": "no clear difference",
                "unknown": "no interval"}[direction(low, high, 1.0)]
        clauses.append(f"{word} with {who} ({numbers})")
    adjusted = ", adjusted for residents' characteristics" if adjustment == "adjusted" else ""
    return (f"{_cap(outcome_label)}{adjusted}, compared with "
            f"{_label(reference, labels)}: {_join(clauses)}.")


def cost_sentence(costs: pd.DataFrame | None, *, labels: Mapping[str, str]) -> str | None:
    """NHS cost per resident-year of each care model (the ``total`` rows) with its interval."""
    if costs is None or costs.empty or "item" not in costs.columns:
        return None
    total = costs[costs["item"].astype(str) == "total"]
    if total.empty:
        return None
    parts = []
    for _, row in total.iterrows():
        low, high = _interval(row)
        ci = ("" if np.isnan(low) or np.isnan(high)
              else f" (95% CI {fmt_gbp(low)} to {fmt_gbp(high)})")
        parts.append(f"{fmt_gbp(row['cost_per_resident_year'])}{ci} with "
                     f"{_label(str(row['care_model']), labels)}")
    return f"NHS costs per resident-year were {_join(parts)}."


def economics_sentence(row: pd.Series, *, reference: str, labels: Mapping[str, str]) -> str:
    """Does the scheme pay? Its total cost (NHS + running cost) against the reference.

    ``row``: one non-reference row of economics.csv. "Lower"/"higher" only when
    the interval of the incremental cost excludes 0; the chance of a lower total
    cost is the share of bootstrap replicates below 0; the break-even running cost
    is given where the table has it.
    """
    who = _label(str(row["care_model"]), labels, lower=False)
    ref = _label(reference, labels)
    d, low, high = (_num(row[c]) for c in ("incremental_cost", "incremental_cost_low",
                                           "incremental_cost_high"))
    running = _num(row.get("scheme_cost_per_resident_year"))
    incl = (f" including its running cost of {fmt_gbp(running)}" if running > 0 else "")
    if str(row.get("scheme_cost_source", "")).startswith("not given"):
        incl = " (no running cost was given for it, so this is its NHS cost alone)"
    if np.isnan(d):
        return f"{who}: the total cost could not be compared with {ref}."

    def amount(x: float) -> str:
        return f"{fmt_gbp(abs(x))} {'lower' if x < 0 else 'higher'}"

    ci = ("" if np.isnan(low) or np.isnan(high)
          else f", 95% CI {amount(low)} to {amount(high)}")
    side = direction(low, high, 0.0)
    if side in ("below", "above"):
        text = (f"{who}: total cost per resident-year{incl} was {amount(d)} than with {ref} "
                f"({ci[2:]})")
    else:
        text = (f"{who}: no clear difference in total cost per resident-year{incl} from {ref} "
                f"({amount(d)}{ci})")
    prob = _num(row.get("prob_cost_saving"))
    if not np.isnan(prob):
        text += f"; the chance that it costs less is {prob:.0%}"
    be = _num(row.get("break_even_running_cost"))
    if not np.isnan(be):
        text += (f"; it breaks even at a running cost of up to {fmt_gbp(be)} per resident-year"
                 if be > 0 else "; its NHS costs were not lower, so on these estimates it "
                 "does not break even at any running cost")
    return text + "."


def key_findings(
    tables: Mapping[str, pd.DataFrame],
    *,
    reference: str,
    care_model_labels: Mapping[str, str],
    outcome_labels: Mapping[str, str],
    max_sentences: int = 8,
) -> list[str]:
    """Five to eight sentences for a board, from the published tables.

    In order: who is compared (``cohort_summary``), how models and regions overlap,
    emergency admissions (``rate_ratios``; always said, if only to say it could not
    be compared), A&E attendances, NHS costs (``costs``, only without ``economics``),
    one sentence per scheme on whether it pays (``economics``), and the observational
    caveat (always last).
    With more than ``max_sentences``, the lowest-priority sentences (A&E, then NHS
    cost levels) are dropped first; the caveat is never dropped.
    """
    summary = tables.get("cohort_summary")
    ratios = tables.get("rate_ratios")
    one_model = summary is not None and not summary.empty and len(_models(summary)) < 2
    first = [data_sentence(summary), region_sentence(summary)]
    if one_model:
        return [s for s in first if s] + [OBSERVATIONAL_CAVEAT]
    labelled = {o: outcome_labels.get(o, o.replace("_", " ")) for o in ("emergency_admission",
                                                                         "ae")}
    admissions = outcome_sentence(ratios, "emergency_admission", reference=reference,
                                  labels=care_model_labels,
                                  outcome_label=labelled["emergency_admission"], required=True)
    ae = outcome_sentence(ratios, "ae", reference=reference, labels=care_model_labels,
                          outcome_label=labelled["ae"])
    costs = cost_sentence(tables.get("costs"), labels=care_model_labels)
    economics = tables.get("economics")
    pays: list[str] = []
    if economics is not None and not economics.empty:
        rows = economics[economics["care_model"].astype(str) != reference]
        pays = [economics_sentence(r, reference=reference, labels=care_model_labels)
                for _, r in rows.iterrows()]
    # NHS cost levels only where there is no economic comparison: economics.csv's NHS costs
    # are exact (to £10) while the published costs.csv is recomputed from rounded units, so
    # the two could disagree in one list of findings.
    costs = None if pays else costs
    ranked = [(0, s) for s in first if s] + [(1, admissions)] + [(3, ae)] * bool(ae) \
        + [(2, costs)] * bool(costs) + [(1, s) for s in pays]
    budget = max_sentences - 1
    while len(ranked) > budget:
        drop = max(range(len(ranked)), key=lambda i: (ranked[i][0], i))
        ranked.pop(drop)
    return [str(s) for _, s in ranked] + [OBSERVATIONAL_CAVEAT]
