"""The report: one self-contained HTML file from the published (disclosed) tables and the figures.

Built for a reader with ten minutes: "Key findings" first (sentences generated from the
tables, :mod:`optimal_analysis.report.findings`), then the sections in
:data:`SECTION_TITLES` order with their figures, generated text (:data:`SECTION_TEXT`) and
short tables (:data:`MAIN_TABLES`), then an appendix with every other table, then methods,
caveats and provenance. A table without rows is replaced by one line saying why
(:data:`EMPTY_TABLE_REASONS`). The CSS includes a print stylesheet for A4.

:func:`render_report` is data-driven: it takes a mapping ``section -> the
tables and figures it should show`` and renders what it is given, saying
plainly where a section's inputs were not produced. Figures are embedded as
``data:`` URIs and the CSS is inline, so the file needs no network to view.
The run date is passed in (the one place a clock is read is the script).
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import jinja2
import pandas as pd

from optimal_analysis.report import commissioner, fairness, narrative
from optimal_analysis.report import economics as economics_section
from optimal_analysis.report import evaluation as evaluation_section
from optimal_analysis.report.findings import key_findings
from optimal_analysis.report.methods import compute_caveats, make_methods
from optimal_analysis.report.set_aside import set_aside_lines
from optimal_analysis.report.tables import TABLE_TITLES, care_models_of, display_table
from optimal_analysis.tidy import MARKER

__all__ = [
    "EMPTY_TABLE_REASONS",
    "MAIN_TABLES",
    "SECTION_TEXT",
    "SECTION_TITLES",
    "TABLE_DISPLAYS",
    "Figure",
    "SectionInputs",
    "display_path",
    "render_report",
]

logger = logging.getLogger(__name__)

KEY_FINDINGS_TITLE = "Key findings"
APPENDIX_TITLE = "Appendix: tables"

#: Section id -> heading, in report order (after "Key findings"). The last three are
#: generated, not wired; the appendix of tables comes before them.
SECTION_TITLES: dict[str, str] = {
    "economics": "Does it pay?",
    "admissions": "Emergency admissions and other hospital use",
    "costs": "NHS costs",
    "survival": "Time to first admission and survival",
    fairness.FAIRNESS: fairness.FAIRNESS_TITLE,
    "evaluation": "Did the scheme work?",
    "commissioner": "Outcomes commissioners track",
    "service_use": "NHS service use",
    "data": "The question and the data",
    "residents": "Who the residents are",
    "methods": "Methods",
    "caveats": "Caveats",
    "provenance": "Provenance",
}

#: Section id -> its generated paragraphs ``(published tables, config) -> [sentence, ...]``,
#: from the section's own module (``report/<stage>.py``) or :mod:`.narrative`.
SECTION_TEXT: dict[str, Callable[[Mapping[str, pd.DataFrame], Mapping[str, Any]], list[str]]] = {
    "economics": economics_section.economics_text,
    "evaluation": evaluation_section.evaluation_text,
    "admissions": narrative.admissions_text,
    "survival": narrative.survival_text,
    "data": narrative.data_text,
    fairness.FAIRNESS: fairness.fairness_text,
    "commissioner": commissioner.commissioner_text,
}

#: Tables shown in their own section (short, and the section's point); every other table
#: of a section is shown in the appendix, under the section's heading.
MAIN_TABLES: set[str] = {"economics", "balance"}

#: Why a table has no rows, said in one line in its place (else a generic line).
EMPTY_TABLE_REASONS = {
    "costs_sensitivity": "No sensitivity analysis of hospital costing: the unit-cost table "
    "names no other hospital-costing scheme.",
    "standardised_rates": "No standardised rates: no adjusted model could be fitted in this run.",
    "hazard_ratios": "No hazard ratios: no model could be fitted in this run.",
    "ph_tests": "No proportional-hazards tests: no Cox model could be fitted in this run.",
    "region_effects": fairness.EMPTY_REGIONS,
    **evaluation_section.EMPTY_REASONS,
    "place_of_death": "Deaths in hospital are not shown: the data have no place of death "
    "(residents.place_of_death, optional in the data contract).",
}

#: Table name -> its display ``(table, config) -> {"columns", "rows", "note"[, "title"]}``
#: for tables whose display a stage's own section module gives (``report/<stage>.py``, built
#: on the helpers of :mod:`optimal_analysis.report.tables`); every other table uses
#: :func:`~optimal_analysis.report.tables.display_table`. A new section adds its module's
#: displays here, its heading to :data:`SECTION_TITLES` and its introduction to ``_INTRO``.
TABLE_DISPLAYS: dict[str, Callable[[pd.DataFrame, Mapping[str, Any]], dict[str, Any]]] = {
    "economics": economics_section.display_economics,
    **fairness.FAIRNESS_DISPLAYS,
    **evaluation_section.DISPLAYS,
    "optional_data": commissioner.display_optional_data,
    "place_of_death": commissioner.display_place_of_death,
}

_INTRO = {
    "commissioner": "Emergency admissions for potentially avoidable conditions (ambulatory "
    "care sensitive conditions and conditions the Health Foundation singles out for care "
    "homes) and for injuries typical of falls, defined by the outcome code list "
    "(docs/outcome_codes.md), are rows of the admission tables and figures; here, how "
    "complete the diagnoses and places of death are, and where residents died.",
    "economics": economics_section.INTRO,
    fairness.FAIRNESS: fairness.INTRO,
    "evaluation": evaluation_section.INTRO,
    "data": "How do different models of NHS support for care homes compare in the NHS services "
    "older residents use, what those services cost, and how often residents are admitted to "
    "hospital as an emergency? Residents are followed from entry until death, moving out or the "
    "end of the study.",
    "residents": "Baseline characteristics by care model. Standardised mean differences (SMD) "
    "compare each model with the reference; |SMD| above 0.1 is commonly read as imbalance.",
    "service_use": "NHS contacts outside hospital stays, per resident-year of follow-up.",
    "costs": "NHS costs over follow-up per resident-year, with bootstrap 95% confidence intervals "
    "(care homes resampled within care model). Costs are published from the rounded units "
    "(rounded units times the unit cost), so a small item may differ from its exact cost by up "
    "to one rounding step of its units; totals move by well under 1%.",
    "admissions": "Crude rates per resident-year (exact Poisson 95% CI) and rate ratios against "
    "the "
    "reference care model from Poisson and negative binomial models, cluster-robust by care home.",
    "survival": "Time to first emergency admission with death as a competing event (cumulative "
    "incidence, cause-specific Cox and Fine–Gray models) and all-cause survival. The curves are "
    "published on a coarse grid from rounded counts, so that no step gives a count away: on "
    "3,000 residents a monthly grid keeps them within about 0.006 of the exact curves at each "
    "step; with few residents the steps are fewer and wider.",
}


@dataclass(frozen=True)
class Figure:
    """A figure to embed: its bytes, media type (``image/svg+xml`` or ``image/png``) and
    caption (what it shows, e.g. :data:`optimal_analysis.figures.published.FIGURE_CAPTIONS`;
    the report adds what publishing did to it)."""

    name: str
    data: bytes
    media_type: str
    caption: str = ""

    @property
    def data_uri(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class SectionInputs:
    """Names of the tables and figures a section should show."""

    tables: Sequence[str] = field(default_factory=tuple)
    figures: Sequence[str] = field(default_factory=tuple)


#: Said of every published survival curve (docs/disclosure.md).
CURVE_NOTE = (
    " Published curves step on a coarse grid (config disclosure.curve_grid_days), every step "
    "holding at least suppress_max + 1 events, and are recomputed from rounded counts; the "
    "band is the 95% small-sample interval: the analyst's cluster-robust standard error (to "
    "two significant figures) with variance x G/(G-1) and the t(G-1) quantile, G the care "
    "homes of the care model."
)
_CURVE_FIGURES = {"km", "cumulative_incidence"}


def _caption(name: str, shows: str = "") -> str:
    """Caption of figure ``name``: what it ``shows`` (its own caption; else its name made
    readable), and for ``published/<figure>`` (redrawn from the disclosed tables) what
    publishing did to it."""
    base = name.rsplit("/", 1)[-1]
    caption = shows or base.replace("_", " ").capitalize()
    if name.startswith("published/"):
        caption += " Drawn from the published tables: suppressed values are left out."
        if base in _CURVE_FIGURES:
            caption += CURVE_NOTE
    return caption


def _template() -> jinja2.Template:
    template = files("optimal_analysis.report") / "templates" / "report.html.j2"
    text = template.read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return env.from_string(text)


def _count(v: Any) -> str:
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return MARKER if pd.isna(x) else f"{x:,.0f}"


def _headline(tables: Mapping[str, pd.DataFrame]) -> list[tuple[str, str]]:
    summary = tables.get("cohort_summary")
    if summary is None or "all" not in set(summary["care_model"].astype(str)):
        return []
    row = summary.set_index(summary["care_model"].astype(str)).loc["all"]
    return [
        ("Regions", _count(row["n_regions"])),
        ("Care homes", _count(row["care_homes"])),
        ("Residents", _count(row["residents"])),
        ("Resident-years of follow-up", _count(row["person_years"])),
    ]


def _table(name: str, table: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    """The display of one table, or ``empty``: one line saying why it has no rows."""
    title = TABLE_TITLES.get(name, name.replace("_", " ").capitalize())
    if table.empty:
        return {"name": name, "title": title, "columns": [], "rows": [], "note": "",
                "empty": EMPTY_TABLE_REASONS.get(
                    name, f"{title}: nothing to show in this run (the data lack what this "
                    "table needs).")}
    shown = (TABLE_DISPLAYS[name](table, config) if name in TABLE_DISPLAYS
             else display_table(name, table, config))
    return {"name": name, "title": title, "empty": "", **shown}


def display_path(path: str, data_dir: str | None) -> str:
    """``path`` relative to the data folder (``<data>/north/residents.csv``), else as given."""
    if data_dir:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(data_dir))
        if not rel.startswith(".."):
            return f"<data>/{rel}"
    return str(path)


def _findings(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    models = care_models_of(config)
    present = {str(m) for t in tables.values() if "care_model" in t for m in t["care_model"]}
    return key_findings(
        tables, reference=str(config["reference_care_model"]),
        care_model_labels={m: models.label(m) for m in set(models.order) | present},
        outcome_labels={o: narrative.outcome_label(o) for o in ("emergency_admission", "ae")})


def render_report(
    *,
    sections: Mapping[str, SectionInputs],
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, Figure],
    config: Mapping[str, Any],
    provenance: Mapping[str, Any],
    title: str = "NHS support for older people in care homes",
) -> str:
    """Render the HTML report.

    Parameters
    ----------
    sections
        Section id (keys of :data:`SECTION_TITLES` except methods, caveats,
        provenance) -> the table and figure names it shows. Figures, generated text
        and :data:`MAIN_TABLES` are shown in the section, its other tables in the
        appendix under its heading. A name missing from ``tables``/``figures`` is
        listed in the section as not produced; a section id missing from
        ``sections`` is rendered with that notice too.
    tables
        Published (disclosed) tables by name (file stem), e.g. ``baseline``.
    figures
        Figures by name.
    config
        The run's configuration (methods are generated from it).
    provenance
        From :func:`make_provenance` (includes the run date).

    Returns
    -------
    str
        One self-contained HTML document.
    """
    unknown = sorted(set(sections) - set(SECTION_TITLES))
    if unknown:
        raise ValueError(f"unknown report section(s) {unknown}; known: {list(SECTION_TITLES)}")
    rendered, appendix = [], []
    for sid, heading in SECTION_TITLES.items():
        if sid in ("methods", "caveats", "provenance"):
            continue
        wanted = sections.get(sid, SectionInputs())
        shown_tables = [_table(t, tables[t], config) for t in wanted.tables if t in tables]
        shown_figures = [
            {
                "name": f,
                "uri": figures[f].data_uri,
                "caption": _caption(f, figures[f].caption),
            }
            for f in wanted.figures
            if f in figures
        ]
        absent = [t for t in wanted.tables if t not in tables] + [
            f for f in wanted.figures if f not in figures
        ]
        if absent:
            logger.warning("report section %s: inputs not produced: %s", sid, absent)
        later = [t for t in shown_tables if t["name"] not in MAIN_TABLES]
        rendered.append(
            {
                "id": sid,
                "heading": heading,
                "intro": _INTRO.get(sid, ""),
                "text": SECTION_TEXT[sid](tables, config) if sid in SECTION_TEXT else [],
                "tables": [t for t in shown_tables if t["name"] in MAIN_TABLES],
                "figures": shown_figures,
                "absent": absent,
                "empty": not (wanted.tables or wanted.figures),
                "appendix": f"appendix-{sid}" if later else "",
            }
        )
        if later:
            appendix.append({"id": f"appendix-{sid}", "heading": heading, "tables": later})
    data_dir = config.get("data_dir")
    checksums = {display_path(p, data_dir): d for p, d in provenance["checksums"].items()}
    return _template().render(
        title=title,
        findings=_findings(tables, config),
        findings_title=KEY_FINDINGS_TITLE,
        appendix_title=APPENDIX_TITLE,
        headline=_headline(tables),
        set_aside=set_aside_lines(tables),
        on_invalid=config.get("on_invalid", "stop"),
        sections=rendered,
        appendix=appendix,
        titles=SECTION_TITLES,
        methods=make_methods(config, tables),
        caveats=compute_caveats(tables, config),
        provenance={**provenance, "checksums": checksums},
        data_dir=os.path.basename(os.path.normpath(str(data_dir))) if data_dir else "",
        marker=MARKER,
    )
