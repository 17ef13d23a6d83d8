"""The report: one self-contained HTML file from the published (disclosed) tables and the figures.

:func:`render_report` is data-driven: it takes a mapping ``section -> the
tables and figures it should show`` and renders what it is given, saying
plainly where a section's inputs were not produced. Figures are embedded as
``data:`` URIs and the CSS is inline, so the file needs no network to view.
The run date is passed in (the one place a clock is read is the script).
"""

from __future__ import annotations

import base64
import importlib.metadata
import logging
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import yaml

from optimal_analysis import __version__
from optimal_analysis.disclosure import MARKER
from optimal_analysis.figures.style import care_model_label
from optimal_analysis.io import file_sha256
from optimal_analysis.report_tables import TABLE_TITLES, display_table

__all__ = [
    "Figure",
    "SECTION_TITLES",
    "SectionInputs",
    "compute_caveats",
    "git_commit",
    "make_methods",
    "make_provenance",
    "render_report",
    "software_versions",
]

logger = logging.getLogger(__name__)

#: Section id -> heading, in report order. The last three are generated, not wired.
SECTION_TITLES: dict[str, str] = {
    "data": "The question and the data",
    "residents": "Who the residents are",
    "service_use": "NHS service use",
    "costs": "Costs",
    "admissions": "Admission rates and rate ratios",
    "survival": "Time to first admission and survival",
    "methods": "Methods",
    "caveats": "Caveats",
    "provenance": "Provenance",
}

_INTRO = {
    "data": "How do different models of NHS support for care homes compare in the NHS services "
    "older residents use, what those services cost, and how often residents are admitted to "
    "hospital as an emergency? Each region has one model of care; residents are followed from "
    "entry until death, moving out or the end of the study.",
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
    """A figure to embed: its bytes and media type (``image/svg+xml`` or ``image/png``)."""

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


FIGURE_CAPTIONS = {
    "service_use": "NHS contacts per resident-year by service and care model (published counts).",
    "crude_rates": "Crude rates per resident-year by outcome and care model, 95% exact Poisson CI.",
    "rate_ratios_forest": (
        "Rate ratios against the reference care model, 95% small-sample CI (CR2 with "
        "Satterthwaite degrees of freedom, cluster-robust by care home)."
    ),
    "cumulative_incidence": (
        "Cumulative incidence of first emergency admission and of death before admission."
    ),
    "km": "Kaplan–Meier survival (all-cause death) by care model.",
    "costs_by_service_group": (
        "NHS cost per resident-year by service group and care model, costed from the "
        "rounded units."
    ),
}

#: Said of every published survival curve (docs/disclosure.md).
CURVE_NOTE = (
    " Published curves step on a coarse grid (config disclosure.curve_grid_days), every step "
    "holding at least suppress_max + 1 events, and are recomputed from rounded counts; the "
    "band is the 95% small-sample interval: the analyst's cluster-robust standard error (to "
    "two significant figures) with variance x G/(G-1) and the t(G-1) quantile, G the care "
    "homes of the care model."
)
_CURVE_FIGURES = {"km", "cumulative_incidence"}


def _caption(name: str) -> str:
    """Caption of figure ``name`` (``published/<figure>`` is redrawn from the disclosed tables)."""
    base = name.rsplit("/", 1)[-1]
    caption = FIGURE_CAPTIONS.get(base, base.replace("_", " ").capitalize())
    if name.startswith("published/"):
        caption += " Drawn from the published tables: suppressed values are left out."
        if base in _CURVE_FIGURES:
            caption += CURVE_NOTE
    return caption


def _care_model_list(models: Sequence[str]) -> str:
    return ", ".join(f"{care_model_label(m)} ({m})" for m in models)


#: What each small-sample method (``small_sample_method``) does, for the methods section.
SMALL_SAMPLE_METHODS = {
    "CR2-Satterthwaite": "CR2 (bias-reduced linearisation, Bell and McCaffrey 2002) "
    "cluster-robust covariance with Satterthwaite degrees of freedom (Pustejovsky and Tipton "
    "2018), as R clubSandwich::coef_test(vcov = \"CR2\", test = \"Satterthwaite\")",
    "jackknife t(G-1)": "delete-one-care-home jackknife variance ((G-1)/G times the sum of "
    "squared deviations of the G refits) with t(G-1) quantiles",
    "t(G-1)": "the cluster-robust standard error times sqrt(G/(G-1)) with t(G-1) quantiles",
    "t(G-1)-log-linearised": "a t(G-1) interval on the log of cost per resident-year, its "
    "variance linearised from care-home totals (ratio estimator) times G/(G-1)",
}


def _interval_methods(tables: Mapping[str, pd.DataFrame]) -> list[tuple[str, str]]:
    """How each interval of the report is made (the methods named in the tables)."""
    used: dict[str, list[str]] = {}
    for name in ("rate_ratios", "hazard_ratios", "costs"):
        t = tables.get(name)
        if t is not None and "small_sample_method" in t:
            for m in t["small_sample_method"].dropna().astype(str).unique():
                if m and m != "nan":
                    used.setdefault(m, []).append(name.replace("_", " "))
    out = [
        (
            "Confidence intervals shown",
            "95% small-sample intervals, chosen by their measured coverage with few and with "
            "many care homes (docs/validation.md); G is the number of care homes in the "
            "fitted model (for curves and costs, in the care model). "
            + "; ".join(
                f"{', '.join(where)}: {SMALL_SAMPLE_METHODS.get(m, m)}" for m, where in used.items()
            )
            + ("." if used else "")
            + " Survival curves: Aalen–Johansen and Kaplan–Meier with each resident's "
            "influence on the estimate summed within care home (as R survfit(id =, influence "
            "= TRUE)), variance x G/(G-1), t(G-1) quantile on the log scale.",
        ),
        (
            "Intervals in the published tables",
            "conf_low/conf_high keep the conventional definitions, comparable with other "
            "software: rate ratios CR1 (G/(G-1)(N-1)/(N-K), R sandwich::vcovCL type HC1) "
            "with normal quantiles; hazard ratios the robust sandwich of R coxph(cluster =); "
            "Fine–Gray with the censoring distribution estimated within region (R "
            "cmprsk::crr(cengroup = region)); costs a percentile bootstrap resampling care "
            "homes within care model. The small-sample interval is in conf_low_small, "
            "conf_high_small, p_value_small, df_small and small_sample_method.",
        ),
    ]
    few = []
    for name in ("rate_ratios", "hazard_ratios"):
        t = tables.get(name)
        if t is not None and "p_value_wild" in t and pd.to_numeric(
            t["p_value_wild"], errors="coerce"
        ).notna().any():
            few.append(name.replace("_", " "))
    if few:
        out.append(
            (
                "Few care homes",
                "Where a comparison has fewer care homes than the few-clusters threshold, "
                + " and ".join(few)
                + " also carry a restricted wild cluster score bootstrap p-value (Kline and "
                "Santos 2012, Webb weights; p_value_wild), reported beside the small-sample "
                "p-value.",
            )
        )
    return out


def make_methods(
    config: Mapping[str, Any], tables: Mapping[str, pd.DataFrame]
) -> list[tuple[str, str]]:
    """(term, definition) pairs of the methods, from ``config`` and the tables of the run."""
    models = []
    for name in ("rate_ratios", "hazard_ratios"):
        if name in tables and "model" in tables[name]:
            models += [
                f"{m} ({name.replace('_', ' ')})" for m in dict.fromkeys(tables[name]["model"])
            ]
    disc = config.get("disclosure", {})
    return [
        ("Care models", _care_model_list(config.get("care_models", []))),
        ("Reference care model", care_model_label(str(config.get("reference_care_model", "")))),
        (
            "Follow-up",
            "From entry_date to exit_date, both days counted (days = exit − entry + 1); "
            "person-years = days / 365.25. Events count if dated within follow-up.",
        ),
        (
            "Outcomes",
            "Counts per person-year of "
            + ", ".join(config.get("rate_outcomes", []))
            + "; time to first emergency admission = admission − entry + 1 days, death the "
            "competing "
            "event, moving out and study end censored.",
        ),
        ("Models", ", ".join(models) if models else "no model tables in this run"),
        *_interval_methods(tables),
        (
            "Covariates (adjusted models)",
            ", ".join(config.get("covariates", [])) + " (complete cases)",
        ),
        (
            "Unit costs",
            f"{config.get('unit_costs')}, re-based with {config.get('inflation')} to "
            f"{config.get('price_year')}/{(int(config.get('price_year', 0)) + 1) % 100:02d} "
            "prices; "
            f"hospital stays costed per {config.get('hospital_costing')} "
            "(the other scheme as a sensitivity analysis).",
        ),
        (
            "Bootstrap",
            f"{config.get('bootstrap_replicates')} replicates resampling care homes within care "
            "model.",
        ),
        ("Seed", f"{config.get('seed')} (every random step)"),
        (
            "Disclosure control",
            f"Counts 1–{disc.get('suppress_max')} suppressed (shown as {MARKER}), "
            f"others rounded to the nearest {disc.get('round_to')}; statistics of a suppressed "
            "count "
            "suppressed with it; a second cell suppressed where a total would reveal the first. "
            "Model estimates are not suppressed.",
        ),
    ]


def _count_markers(tables: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    return {name: int((t.astype(str) == MARKER).to_numpy().sum()) for name, t in tables.items()}


def compute_caveats(tables: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> list[str]:
    """Caveats computed from the published tables: few clusters, confounding, small numbers."""
    out: list[str] = []
    summary = tables.get("cohort_summary")
    if summary is not None:
        s = summary[summary["care_model"] != "all"]
        homes = dict(zip(s["care_model"], s["care_homes"].astype(int), strict=True))
        threshold = int(config.get("few_clusters_threshold", 30))
        total = sum(homes.values())
        if total < threshold or min(homes.values(), default=0) < 10:
            out.append(
                f"Few clusters: {total} care homes in all ("
                + ", ".join(f"{n} {care_model_label(m)}" for m, n in homes.items())
                + "). Residents of a home share staff and GPs; cluster-robust intervals from so "
                "few "
                f"homes (fewer than {threshold}) are approximate and may be too narrow."
            )
        regions = {
            m: set(str(r).split(";")) for m, r in zip(s["care_model"], s["regions"], strict=True)
        }
        shared = {
            r
            for m, rs in regions.items()
            for r in rs
            if any(r in o for k, o in regions.items() if k != m)
        }
        if not shared:
            out.append(
                "Care model is confounded with region: each region has a single care model ("
                + "; ".join(
                    f"{care_model_label(m)}: {', '.join(sorted(r))}" for m, r in regions.items()
                )
                + "), so differences between care models cannot be separated from differences "
                "between regions (populations, hospitals, recording of data)."
            )
    markers = {k: v for k, v in _count_markers(tables).items() if v}
    if markers:
        out.append(
            f"Small numbers: {sum(markers.values())} cell(s) are suppressed ({MARKER}) under "
            "disclosure control (" + ", ".join(f"{k}: {v}" for k, v in markers.items()) + ")."
        )
    rates = tables.get("crude_rates")
    if rates is not None:
        ev = pd.to_numeric(rates["events"], errors="coerce")
        few = rates.loc[(ev < 20) | ev.isna(), "outcome"].unique().tolist()
        if few:
            out.append(
                "Fewer than 20 events in some care model for "
                + ", ".join(few)
                + ": their rates and ratios are imprecise."
            )
    out.append(
        "This is an observational comparison, not a randomised one: adjusted estimates "
        "remove only measured differences between residents."
    )
    return out


def git_commit(path: str | Path | None = None) -> str | None:
    """The git commit of the source tree (``+dirty`` if it has changes), or None outside git."""
    where = str(path or Path(__file__).parent)
    try:
        sha = subprocess.run(
            ["git", "-C", where, "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "") if sha else None


_KEY_PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "lifelines",
    "matplotlib",
    "pandera",
    "snakemake",
    "jinja2",
    "pyarrow",
)


def software_versions() -> dict[str, str]:
    """Python and key package versions of the running interpreter."""
    out = {"python": platform.python_version()}
    for pkg in _KEY_PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def make_provenance(
    config: Mapping[str, Any], input_paths: Sequence[str | Path], *, run_date: str
) -> dict[str, Any]:
    """Package version, git commit, software versions, config and SHA-256 of each input file."""
    return {
        "package_version": __version__,
        "git_commit": git_commit() or "not available",
        "run_date": run_date,
        "software": software_versions(),
        "config_yaml": yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=False),
        "checksums": {str(p): file_sha256(p) for p in input_paths},
    }


def _template() -> jinja2.Template:
    text = (files("optimal_analysis") / "templates" / "report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return env.from_string(text)


def _headline(tables: Mapping[str, pd.DataFrame]) -> list[tuple[str, str]]:
    summary = tables.get("cohort_summary")
    if summary is None:
        return []
    row = summary.set_index("care_model").loc["all"]
    py = pd.to_numeric(pd.Series([row["person_years"]]), errors="coerce").iloc[0]
    return [
        ("Regions", str(row["n_regions"])),
        ("Care homes", str(row["care_homes"])),
        ("Residents", str(row["residents"])),
        ("Person-years of follow-up", MARKER if np.isnan(py) else f"{py:,.0f}"),
    ]


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
        provenance) -> the table and figure names it shows. A name missing from
        ``tables``/``figures`` is listed in the section as not produced; a
        section id missing from ``sections`` is rendered with that notice too.
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
    rendered = []
    for sid, heading in SECTION_TITLES.items():
        if sid in ("methods", "caveats", "provenance"):
            continue
        wanted = sections.get(sid, SectionInputs())
        shown_tables = [
            {
                "name": t,
                "title": TABLE_TITLES.get(t, t.replace("_", " ").capitalize()),
                **display_table(t, tables[t], config),
            }
            for t in wanted.tables
            if t in tables
        ]
        shown_figures = [
            {
                "name": f,
                "uri": figures[f].data_uri,
                "caption": figures[f].caption or _caption(f),
            }
            for f in wanted.figures
            if f in figures
        ]
        absent = [t for t in wanted.tables if t not in tables] + [
            f for f in wanted.figures if f not in figures
        ]
        if absent:
            logger.warning("report section %s: inputs not produced: %s", sid, absent)
        rendered.append(
            {
                "id": sid,
                "heading": heading,
                "intro": _INTRO.get(sid, ""),
                "tables": shown_tables,
                "figures": shown_figures,
                "absent": absent,
                "empty": not (wanted.tables or wanted.figures),
            }
        )
    return _template().render(
        title=title,
        headline=_headline(tables),
        sections=rendered,
        titles=SECTION_TITLES,
        methods=make_methods(config, tables),
        caveats=compute_caveats(tables, config),
        provenance=provenance,
        marker=MARKER,
    )
