"""The report's sections, registered in one place.

The report opens with "Key findings" (generated, :mod:`optimal_analysis.findings`),
then the sections below in this order, then an appendix holding every section's
tables, then methods, caveats and provenance. A section shows its figures, any
short ``main_tables`` and its generated text; its ``tables`` go to the appendix
under its title. To add a section, add one :class:`Section` to :data:`SECTIONS`
(and, for a generated paragraph, a function in its own module named in ``text``):
``workflow/rules/report.smk`` wires the report from this list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimal_analysis.report.narrative import (
    admissions_text,
    data_text,
    economics_text,
    survival_text,
)

__all__ = ["APPENDIX_TITLE", "KEY_FINDINGS_TITLE", "SECTIONS", "Section", "section_inputs"]

KEY_FINDINGS_TITLE = "Key findings"
APPENDIX_TITLE = "Appendix: tables"

#: Generated paragraphs of a section: (published tables, run config) -> sentences.
TextFunction = Callable[[Mapping[str, pd.DataFrame], Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class Section:
    """One report section: what it shows and where.

    ``figures`` and ``main_tables`` appear in the section; ``tables`` in the appendix.
    Names are published tables (file stems) and figures (``published/x`` is redrawn
    from the published tables).
    """

    id: str
    title: str
    intro: str = ""
    figures: tuple[str, ...] = ()
    main_tables: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    text: TextFunction | None = None


SECTIONS: tuple[Section, ...] = (
    Section(
        "economics", "Does it pay?",
        "What each care model costs the NHS per resident-year, plus the running cost of its "
        "scheme, against the reference model; and how sure we can be that it saves money.",
        figures=("published/economics_plane", "published/economics_saving"),
        main_tables=("economics",), text=economics_text),
    Section(
        "admissions", "Emergency admissions and other hospital use",
        "Rates per resident-year and rate ratios against the reference care model, "
        "cluster-robust by care home.",
        figures=("published/rate_ratios_forest", "published/crude_rates"),
        tables=("crude_rates", "rate_ratios", "standardised_rates"), text=admissions_text),
    Section(
        "costs", "NHS costs",
        "NHS costs over follow-up per resident-year (care homes resampled within care model "
        "for the intervals). Costs are published from the rounded units, so a small item may "
        "differ from its exact cost by up to one rounding step of its units; totals move by "
        "well under 1%.",
        figures=("published/costs_by_service_group",), tables=("costs", "costs_sensitivity")),
    Section(
        "survival", "Time to first admission and survival",
        "Time to first emergency admission with death as a competing event, and all-cause "
        "survival. The curves are published on a coarse grid from rounded counts, so that no "
        "step gives a count away.",
        figures=("published/cumulative_incidence", "published/km"),
        tables=("hazard_ratios", "km_summary", "ph_tests"), text=survival_text),
    Section(
        "service_use", "NHS service use",
        "NHS contacts outside hospital stays, per resident-year of follow-up.",
        figures=("published/service_use",), tables=("service_use",)),
    Section(
        "data", "The question and the data",
        "How do different models of NHS support for care homes compare in the NHS services "
        "older residents use, what those services cost, and how often residents are admitted "
        "to hospital as an emergency? Residents are followed from entry until death, moving "
        "out or the end of the study.",
        figures=("published/data_flow",), tables=("cohort_summary", "data_flow"),
        text=data_text),
    Section(
        "residents", "Who the residents are",
        "Baseline characteristics by care model. Standardised mean differences (SMD) compare "
        "each model with the reference; |SMD| above 0.1 is commonly read as imbalance.",
        tables=("baseline",)),
)


def section_inputs() -> dict[str, dict[str, list[str]]]:
    """Section id -> {"tables": [...], "figures": [...]}: what the report rule must provide."""
    return {s.id: {"tables": [*s.main_tables, *s.tables], "figures": list(s.figures)}
            for s in SECTIONS}
