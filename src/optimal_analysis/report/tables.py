"""Readable forms of the published tables for the report: formatted strings, wide where it helps.

Each display is a dict ``{"columns": [...], "rows": [[str, ...], ...], "note": str}``.
Suppressed cells (the disclosure marker) stay the marker; an estimate with a
suppressed limit shows as the marker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis import outcomes
from optimal_analysis.care_models import CareModels
from optimal_analysis.report.labels import service_label
from optimal_analysis.tidy import MARKER, SMALL_SAMPLE_COLUMNS

__all__ = ["TABLE_TITLES", "care_models_of", "display_table", "fmt_number", "price_year_of"]

TABLE_TITLES = {
    "cohort_summary": "Regions, care homes, residents and follow-up by care model",
    "data_flow": "Flow of records: read, excluded by reason, analysed",
    "baseline": "Baseline characteristics by care model",
    "service_use": "NHS contacts per resident-year by service",
    "costs": "NHS cost per resident-year (GBP) by item",
    "costs_sensitivity": "Costs: sensitivity analysis",
    "crude_rates": "Crude rates per resident-year",
    "rate_ratios": "Rate ratios against the reference care model",
    "standardised_rates": "Standardised rates",
    "hazard_ratios": "Hazard ratios against the reference care model",
    "km_summary": "Kaplan–Meier summary",
    "ph_tests": "Proportional hazards tests",
    "economics": "Does it pay? Total cost and emergency admissions against the reference",
    "economics_replicates": "Bootstrap replicates of the economic comparison",
    "economics_saving_curve": "Probability of saving by running cost",
}

_LEVEL_LABELS = {"F": "female", "M": "male"}


def _is_marker(v: Any) -> bool:
    return isinstance(v, str) and v == MARKER


def fmt_number(v: Any, kind: str = "num") -> str:
    """Format one value: ``int`` counts, ``gbp``, ``p`` values, or about 3 significant figures."""
    if _is_marker(v):
        return MARKER
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    if pd.isna(x):
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) else str(v)
    if kind == "int":
        return f"{x:,.0f}"
    if kind == "gbp":
        return ("\u2212" if round(x) < 0 else "") + f"£{abs(x):,.0f}"  # −£750, not £-750
    if kind == "p":
        return "<0.001" if x < 0.001 else f"{x:.3f}"
    if kind == "smd":
        return f"{x:.2f}"
    if kind == "pct":
        return f"{x:.1f}"
    if kind == "plain":
        return f"{x:.0f}"
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}" if ax >= 0.01 or x == 0 else f"{x:.2g}"


def _outcome_label(name: str) -> str:
    """The registry's label of an outcome ("A&E attendances"), else the name made readable."""
    try:
        return outcomes.label(name)
    except (KeyError, ValueError):
        return name.replace("_", " ")


def _with_ci(est: Any, low: Any, high: Any, kind: str = "num") -> str:
    if any(_is_marker(v) for v in (est, low, high)):
        return MARKER
    e = fmt_number(est, kind)
    lo, hi = fmt_number(low, kind), fmt_number(high, kind)
    return f"{e} ({lo} to {hi})" if lo and hi else e


def care_models_of(config: Mapping[str, Any]) -> CareModels:
    """The run's care models: config ``care_models`` (order) and ``care_model_labels``."""
    return CareModels.of(config.get("care_models"), config.get("care_model_labels"))


def _models(table: pd.DataFrame, config: Mapping[str, Any]) -> list[str]:
    return care_models_of(config).ordered(table["care_model"].unique())


def _baseline(t: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    models = _models(t, config)
    label_of = care_models_of(config).label
    ref = config["reference_care_model"]
    others = [m for m in models if m != ref]

    def cell_of(r: Any) -> str:
        if r.level == "mean_sd":  # a mean: shown unless its own n is small
            return MARKER if _is_marker(r.mean) else f"{fmt_number(r.mean)} ({fmt_number(r.sd)})"
        if _is_marker(r.n):
            return MARKER
        pct = "" if r.variable == "residents" else f" ({fmt_number(r.percent, 'pct')}%)"
        return fmt_number(r.n, "int") + pct

    cell = {(r.variable, r.level, r.care_model): cell_of(r) for r in t.itertuples()}
    smd = {(r.variable, r.level, r.care_model): fmt_number(r.smd, "smd") for r in t.itertuples()}
    keys = list(dict.fromkeys(zip(t["variable"], t["level"], strict=True)))
    rows = []
    for var, level in keys:
        if level in ("total", "mean_sd"):
            label = var.replace("_", " ") + (", mean (SD)" if level == "mean_sd" else "")
        else:
            label = f"{var.replace('_', ' ')}: {_LEVEL_LABELS.get(level, level).replace('_', ' ')}"
        rows.append(
            [label]
            + [cell.get((var, level, m), "") for m in models]
            + [smd.get((var, level, m), "") for m in others]
        )
    columns = [
        "",
        *(label_of(m) for m in models),
        *(f"SMD {label_of(m)}" for m in others),
    ]
    return {
        "columns": columns,
        "rows": rows,
        "note": f"n (%) or mean (SD); SMD against {label_of(str(ref))} (for categories, "
        "from the "
        "published rounded counts).",
    }


def _wide(
    t: pd.DataFrame,
    row_key: str,
    value: Callable[[pd.Series], str],
    config: Mapping[str, Any],
    note: str,
) -> dict[str, Any]:
    models = _models(t, config)
    cells = {(r[row_key], r["care_model"]): value(r) for _, r in t.iterrows()}
    keys = list(dict.fromkeys(t[row_key]))
    rows = [[str(k).replace("_", " ")] + [cells.get((k, m), "") for m in models] for k in keys]
    return {
        "columns": [
            row_key.replace("_", " ").capitalize(),
            *map(care_models_of(config).label, models),
        ],
        "rows": rows,
        "note": note,
    }


_KINDS = {
    "residents": "int",
    "events": "int",
    "n_residents": "int",
    "n_clusters": "int",
    "rows": "int",
    "care_homes": "int",
    "deaths": "int",
    "units": "int",
    "n_regions": "int",
    "n": "int",
    "n_events": "int",
    "n_at_risk": "int",
    "n_dropped": "int",
    "person_years": "int",
    "df": "plain",
    "cost": "gbp",
    "p_value": "p",
    "price_year": "plain",
    "rmst_horizon_days": "plain",
    "time": "plain",
}


def _generic(
    t: pd.DataFrame,
    config: Mapping[str, Any],
    columns: list[str] | None = None,
    ci: str | None = None,
) -> dict[str, Any]:
    label = care_models_of(config).label
    cols = [c for c in (columns or list(t.columns)) if c in t.columns]
    header = [c.replace("_", " ") for c in cols]
    rows = []
    for _, r in t.iterrows():
        row = []
        for c in cols:
            if c == "care_model" or c == "term":
                row.append(label(str(r[c])) if r[c] != "all" else "all")
            elif c == "outcome":
                row.append(_outcome_label(str(r[c])))
            elif ci and c == "estimate":
                row.append(_with_ci(r["estimate"], r.get("conf_low"), r.get("conf_high")))
            else:
                v = r[c]
                numeric = (
                    not isinstance(v, str)
                    or _is_marker(v)
                    or pd.notna(pd.to_numeric(v, errors="coerce"))
                )
                row.append(fmt_number(v, _KINDS.get(c, "num")) if numeric else v.replace("_", " "))
        rows.append(row)
    if ci:
        header = [
            f"{ci} (95% CI)" if c == "estimate" else h for c, h in zip(cols, header, strict=True)
        ]
    return {"columns": header, "rows": rows, "note": ""}


def _main_analysis(t: pd.DataFrame, main: Mapping[str, str]) -> tuple[pd.DataFrame, str]:
    """Rows of the main analysis (``column == value`` where the table has the column)."""
    keep = pd.Series(True, index=t.index)
    used = []
    for col, value in main.items():
        if col in t.columns and (t[col] == value).any():
            keep &= t[col] == value
            used.append(f"{col.replace('_', ' ')} {value.replace('_', ' ')}")
    note = (
        "Main analysis shown (" + ", ".join(used) + "); the full table is in published/tables."
        if used
        else ""
    )
    return t[keep], note


def _text(t: pd.DataFrame, col: str) -> pd.Series:
    if col not in t.columns:
        return pd.Series("", index=t.index)
    return t[col].fillna("").astype(str).replace({"nan": ""})


def _model_notes(t: pd.DataFrame) -> pd.Series:
    """One readable note per model row: few clusters (with the small-sample p) and why a
    number is missing, from the ``few_clusters``, ``p_value_wild`` and ``reason`` columns."""
    few = _text(t, "few_clusters").str.lower().isin(["true", "1"])
    wild = pd.to_numeric(t["p_value_wild"], errors="coerce") if "p_value_wild" in t.columns \
        else pd.Series(float("nan"), index=t.index)
    notes = pd.Series("", index=t.index)
    notes[few] = "few care homes"
    has_wild = few & wild.notna()
    notes[has_wild] = "few care homes; wild-bootstrap p " + wild[has_wild].map(
        lambda v: fmt_number(v, "p")).astype(str)
    reason = _text(t, "reason").str.replace("_", " ")
    both = (notes != "") & (reason != "")
    return (notes + np.where(both, "; ", "") + reason).str.strip()


def price_year_of(t: pd.DataFrame) -> str:
    """The price year(s) of a cost table, from its own ``price_year`` column ("" if none)."""
    years = sorted(set(_text(t, "price_year")) - {""})
    return "/".join(years)


def _small_sample_view(t: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """``t`` with the small-sample interval (results contract, "Small-sample intervals") in
    ``conf_low``, ``conf_high`` and ``p_value`` and its method in ``interval``, where the
    table has those columns; ``(t, False)`` unchanged otherwise."""
    if not set(SMALL_SAMPLE_COLUMNS[:3]) <= set(t.columns):
        return t, False
    method = _text(t, "small_sample_method").str.replace("_", " ")
    return t.assign(
        conf_low=t["conf_low_small"],
        conf_high=t["conf_high_small"],
        p_value=t["p_value_small"],
        interval=method,
    ), True


def display_table(name: str, table: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    """The display form of published table ``name`` (a generic layout for names not known here)."""
    t = table
    if name == "baseline":
        return _baseline(t, config)
    if name == "service_use":
        return _wide(
            t.assign(service=t["service"].map(service_label)),
            "service",
            lambda r: fmt_number(r["contacts_per_resident_year"]),
            config,
            "Contacts per resident-year; all contacts = every service together.",
        )
    if name == "costs" and {"item", "cost_per_resident_year"} <= set(t.columns):
        t, small = _small_sample_view(t)
        few = _text(t, "few_clusters").str.lower().isin(["true", "1"]).any()
        subset = _text(t, "service_group") == "derived_outcome"  # stays of derived outcomes
        how = (
            "small-sample 95% CI: " + ", ".join(sorted(set(_text(t, "interval")) - {""}))
            + "; the percentile-bootstrap CI is in published/tables"
            if small
            else "95% bootstrap CI, resampling care homes within care model"
        )
        label = t["item"].map(service_label)
        return _wide(
            t.assign(item=label.where(~subset, "of which: " + label.str.lower())),
            "item",
            lambda r: _with_ci(
                r["cost_per_resident_year"], r.get("conf_low"), r.get("conf_high"), "gbp"
            ),
            config,
            f"GBP per resident-year at {price_year_of(t)} prices ({how})."
            + (" Few care homes in some care model: a percentile bootstrap over so few homes "
               "is too narrow." if few else "")
            + (" No CI where a care model has fewer than 2 care homes."
               if (_text(t, "ci_note") != "").any() else "")
            + (" The \"of which\" rows are the emergency stays of the derived outcomes (admission "
               "and bed days): part of the emergency stays above, not extra, and not added "
               "into the total." if subset.any() else ""),
        )
    if name == "costs_sensitivity" and {"item", "cost_per_resident_year", "scheme"} <= set(
        t.columns
    ):
        hospital = t["item"].astype(str).str.contains("admission|bed_day") | (t["item"] == "total")
        t = t[hospital].assign(item=t["scheme"].astype(str).str.replace("_", " ") + ": "
                               + t["item"].map(service_label))
        return _wide(
            t,
            "item",
            lambda r: _with_ci(
                r["cost_per_resident_year"], r.get("conf_low"), r.get("conf_high"), "gbp"
            ),
            config,
            "Hospital items and total under the other hospital-costing scheme(s), GBP per "
            "resident-year (95% bootstrap CI).",
        )
    if name == "crude_rates":
        d = _generic(
            t.rename(columns={"rate": "estimate"}),
            config,
            ["outcome", "care_model", "residents", "events", "person_years", "estimate"],
            ci="Rate",
        )
        d["note"] = "Rate per resident-year; bed days: days per resident-year, no Poisson CI."
        return d
    if name in ("rate_ratios", "hazard_ratios"):
        t, note = _main_analysis(t, {"exposure": "person_years"})
        t = t.assign(notes=_model_notes(t))
        t, small = _small_sample_view(t)
        cols = [
            "outcome",
            "model",
            "adjustment",
            "term",
            "estimate",
            "p_value",
            *(["interval"] if small else []),
            "n_residents",
            "n_clusters",
            "notes",
        ]
        d = _generic(t, config, cols, ci="Rate ratio" if name == "rate_ratios" else "Hazard ratio")
        if small:
            note = (note + " CIs and p-values are the small-sample ones (method in the "
                    "interval column; see Methods); the CR1 normal-theory columns, comparable "
                    "with other software, are in published/tables.").strip()
        elif t["notes"].str.contains("few care homes").any():
            note = (note + " With few care homes the normal-theory CI and p-value are too "
                    "optimistic: read the wild-bootstrap p-value (rate ratios) and treat "
                    "the CIs with caution.").strip()
        return {**d, "note": note}
    if name == "standardised_rates" and {"estimate", "conf_low", "conf_high"} <= set(t.columns):
        t, note = _main_analysis(
            t, {"exposure": "person_years", "model": "poisson", "adjustment": "adjusted"}
        )
        t = t.assign(notes=_model_notes(t))
        cols = ["outcome", "care_model", "measure", "estimate", "p_value", "n_residents", "notes"]
        d = _generic(t, config, cols, ci="Per 1,000 resident-years")
        return {**d, "note": note}
    if name == "km_summary" and "median_days" in t.columns:
        reached = t["median_days"].notna() | (t["median_days"].astype(str) == MARKER)
        d = _generic(t.assign(median_days=t["median_days"].where(reached, "not reached")),
                     config)
        d["note"] = ("Median days to death; not reached where fewer than half of the "
                     "residents died during follow-up (its limits are then empty too).")
        return d
    return _generic(t, config)
