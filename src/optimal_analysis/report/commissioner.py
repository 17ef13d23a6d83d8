"""Report section "Outcomes commissioners track": potentially avoidable admissions, fall
injuries and deaths in hospital (docs/outcome_codes.md).

Displays of ``optional_data`` (how complete the diagnoses and places of death are, by
region) and ``place_of_death``; each note says in one line what could not be shown and why
when the data lack them. The derived outcomes' rates and rate ratios are rows of the
admissions section's tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from optimal_analysis.report.tables import _with_ci, care_models_of, fmt_number
from optimal_analysis.tidy import MARKER

__all__ = ["commissioner_text", "derived_cost_text", "display_optional_data",
           "display_place_of_death", "not_shown"]

_ITEM_TEXT = {
    "primary_diagnosis": "Emergency admissions without a primary diagnosis",
    "place_of_death": "Deaths without a place of death",
}


def _num(v: Any) -> float:
    return float(pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0])


def not_shown(optional_data: pd.DataFrame) -> list[str]:
    """One line per optional item the data lack entirely: what is not shown and why."""
    lines = []
    for item, what in (
        ("primary_diagnosis", "Potentially avoidable and fall-injury admissions are not shown: "
         "no emergency admission has a primary diagnosis (admissions.primary_diagnosis, "
         "optional in the data contract)."),
        ("place_of_death", "Deaths in hospital are not shown: no death has a place of death "
         "(residents.place_of_death, optional in the data contract)."),
    ):
        rows = optional_data[optional_data["item"] == item]
        missing = rows["missing"].map(_num)
        records = rows["records"].map(_num)
        # all missing (suppressed cells are not evidence of either)
        if len(rows) and ((missing == records) | (records == 0)).all() and not rows[
            "missing"].astype(str).eq(MARKER).any():
            lines.append(what)
    return lines


def display_optional_data(table: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    """Completeness of the optional data by region, and what could not be shown."""
    rows = [
        [str(r["region"]), _ITEM_TEXT.get(str(r["item"]), str(r["item"])),
         fmt_number(r["missing"], "int"), fmt_number(r["records"], "int"),
         fmt_number(100 * _num(r["share_missing"]), "pct")
         if str(r["share_missing"]) != MARKER else MARKER]
        for _, r in table.iterrows()
    ]
    lines = not_shown(table)
    note = " ".join(lines) if lines else (
        "Diagnoses and places of death are optional data; where a region's share missing is "
        "high, its derived outcomes and deaths in hospital are undercounted, and care models "
        "that differ by region are compared unevenly.")
    return {"columns": ["Region", "Item", "Missing", "Of", "% missing"], "rows": rows,
            "note": note, "title": "Diagnoses and places of death recorded"}


def _percent_limits(r: pd.Series) -> tuple[Any, Any, Any]:
    """Share and its limits of one place_of_death row as percentages (a marker stays)."""
    est, low, high = (100 * _num(r[c]) if str(r[c]) != MARKER else MARKER
                      for c in ("share", "conf_low", "conf_high"))
    return est, low, high


def display_place_of_death(table: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    """Deaths in hospital by care model, share with exact binomial 95% CI."""
    if table.empty:
        return {"columns": [], "rows": [], "title": "Deaths in hospital",
                "note": "Deaths in hospital are not shown: the data have no place of death "
                        "(residents.place_of_death)."}
    models = care_models_of(config)
    rows = [
        [models.label(str(r["care_model"])), fmt_number(r["deaths"], "int"),
         fmt_number(r["deaths_in_hospital"], "int"),
         _with_ci(*_percent_limits(r), kind="pct")]
        for _, r in table.iterrows()
    ]
    shares = [f"{models.label(str(r['care_model']))} {100 * _num(r['share']):.0f}%"
              for _, r in table.iterrows() if str(r["share"]) not in (MARKER, "nan")
              and pd.notna(_num(r["share"]))]
    note = ("Share of deaths (with a recorded place) that happened in hospital, exact "
            "(Clopper–Pearson) 95% CI from the published counts"
            + (f": {', '.join(shares)}." if shares else "."))
    return {"columns": ["Care model", "Deaths", "In hospital", "% in hospital (95% CI)"],
            "rows": rows, "note": note, "title": "Deaths in hospital"}


def derived_cost_text(costs: pd.DataFrame | None, config: Mapping[str, Any]) -> str | None:
    """One sentence on the cost of the derived outcomes' stays (published costs.csv rows of
    ``service_group`` ``derived_outcome``), saying they are part of the emergency stays."""
    if costs is None or "service_group" not in costs.columns:
        return None
    rows = costs[costs["service_group"].astype(str) == "derived_outcome"]
    if rows.empty:
        return None
    models = care_models_of(config)
    parts = []
    for item, g in rows.groupby("item", sort=False):
        vals = [f"{models.label(str(r['care_model']))} "
                + fmt_number(r["cost_per_resident_year"], "gbp") for _, r in g.iterrows()]
        parts.append(f"{str(item).replace('_', ' ')}: {', '.join(vals)}")
    return ("NHS cost of these admissions' stays per resident-year (admission and bed days): "
            + "; ".join(parts) + ". They are part of the emergency stays' cost in the costs "
            "table, not extra, and are not added into its total.")


def commissioner_text(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    """The section's sentences: what could not be shown and why, the cost of the derived
    outcomes' stays, and deaths in hospital."""
    out: list[str] = []
    optional = tables.get("optional_data")
    if optional is not None and len(optional):
        out += not_shown(optional)
    cost = derived_cost_text(tables.get("costs"), config)
    if cost:
        out.append(cost)
    pod = tables.get("place_of_death")
    if pod is not None and len(pod):
        models = care_models_of(config)
        parts = [
            f"{models.label(str(r['care_model']))} {100 * _num(r['share']):.0f}% "
            f"(95% CI {100 * _num(r['conf_low']):.0f}% to {100 * _num(r['conf_high']):.0f}%)"
            for _, r in pod.iterrows()
            if str(r["share"]) != MARKER and pd.notna(_num(r["share"]))
        ]
        if parts:
            out.append("Share of deaths that happened in hospital (deaths with a recorded "
                       "place): " + "; ".join(parts) + ".")
        else:
            out.append("Deaths in hospital by care model are too few to publish (suppressed).")
    return out
