"""Report figures redrawn from the *published* (disclosed) tables.

The stage figures under ``figures/`` are drawn from the unsuppressed tables for
the analyst and are not to be shared. The report shows these versions instead,
written to ``published/figures/``: suppressed values
(:data:`optimal_analysis.tidy.MARKER`) become gaps, numbers at risk are
the rounded ones (a suppressed one shows as "–"), and the survival curves are
the published coarse ones (steps on the ``curve_grid_days`` grid, recomputed
from rounded counts; docs/disclosure.md), so no figure in the report shows
what its tables hide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optimal_analysis.care_models import CareModelsLike
from optimal_analysis.figures.costs import plot_cost_by_service_group
from optimal_analysis.figures.deaths import plot_place_of_death
from optimal_analysis.figures.describe import plot_service_use
from optimal_analysis.figures.economics import plot_ce_plane, plot_saving_curve
from optimal_analysis.figures.evaluation import plot_event_study, plot_scheme_rates
from optimal_analysis.figures.flow import plot_data_flow
from optimal_analysis.figures.rates import plot_crude_rates, plot_rate_ratios
from optimal_analysis.figures.survival import plot_cumulative_incidence, plot_km
from optimal_analysis.figures.weighting import plot_love, plot_ps_overlap, plot_region_forest
from optimal_analysis.tidy import MARKER

__all__ = [
    "FIGURE_CAPTIONS",
    "FIGURE_TABLES",
    "PUBLISHED_FIGURES",
    "PublishedFigure",
    "numeric_published",
    "plot_published",
]


_TEXT = {"outcome", "care_model", "term", "model", "adjustment", "exposure", "event", "scale",
         "covariate", "level", "score_of", "region"}


def numeric_published(table: pd.DataFrame) -> pd.DataFrame:
    """The published table with markers as missing values and number columns numeric."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].where(out[col] != MARKER)
        if col not in _TEXT and out[col].dtype == object:
            converted = pd.to_numeric(out[col], errors="coerce")
            if converted.notna().sum() == out[col].notna().sum():
                out[col] = converted
    return out


def _figure_of(ax: Axes) -> Figure:
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    return fig


def _curve(table: pd.DataFrame) -> pd.DataFrame:
    # suppressed steps (too few at risk) are the tail of each curve: stop the curve there
    return table[table["estimate"].notna()]


def _crude_rates(t: Mapping[str, pd.DataFrame], care_models: CareModelsLike) -> Figure:
    return _figure_of(plot_crude_rates(t["crude_rates"], care_models=care_models))


def _rate_ratios_forest(t: Mapping[str, pd.DataFrame], care_models: CareModelsLike) -> Figure:
    rr = t["rate_ratios"]
    if rr["n_residents"].notna().all():
        rr = rr.assign(n_residents=rr["n_residents"].astype("int64"))
    return _figure_of(plot_rate_ratios(rr, care_models=care_models))


def _costs_by_service_group(t: Mapping[str, pd.DataFrame], care_models: CareModelsLike) -> Figure:
    # a suppressed item cost is a gap in its stack; the total keeps its bootstrap CI
    return _figure_of(plot_cost_by_service_group(t["costs"], care_models=care_models))


def _cumulative_incidence(t: Mapping[str, pd.DataFrame], care_models: CareModelsLike) -> Figure:
    ci = t["cumulative_incidence"]
    # derived outcomes (docs/outcome_codes.md): a panel each, on their own time scale
    derived = [e for e in dict.fromkeys(ci["event"].astype(str))
               if f"death_before_{e}" in set(ci["event"].astype(str))]
    events = ["emergency_admission", "death", *derived]
    fig, axes = plt.subplots(1, len(events), figsize=(6 * len(events), 5.2), sharey=True)
    for ax, event in zip(axes, events, strict=True):
        plot_cumulative_incidence(
            _curve(ci),
            event=event,
            at_risk=t["at_risk"] if event in ("emergency_admission", "death") else None,
            ax=ax,
            care_models=care_models,
        )
    fig.subplots_adjust(bottom=0.36, left=0.1 * 2 / len(events), right=0.98, wspace=0.16)
    return fig


def _km(t: Mapping[str, pd.DataFrame], care_models: CareModelsLike) -> Figure:
    fig = _figure_of(plot_km(_curve(t["km"]), at_risk=t["at_risk"], care_models=care_models))
    fig.set_size_inches(6.5, 5.4)
    fig.subplots_adjust(bottom=0.36, left=0.14, right=0.96)
    return fig


def _scheme(t: pd.DataFrame, draw: Callable[..., Axes]) -> Figure:
    """Emergency admissions (else the first outcome) of the first scheme; a note if none."""
    if len(t) == 0:
        fig, ax = plt.subplots(figsize=(7.5, 1.2))
        ax.text(0.5, 0.5, "No care_model_history: no scheme to evaluate.", ha="center")
        ax.set_axis_off()
        return fig
    outcome = "emergency_admission" if "emergency_admission" in set(t["outcome"]) else (
        t["outcome"].iloc[0])
    term = sorted(t.loc[t["outcome"] == outcome, "term"].unique())[0]
    return _figure_of(draw(t, outcome=outcome, term=term))


@dataclass(frozen=True)
class PublishedFigure:
    """A report figure redrawn from published tables: its tables, how it is drawn, its caption.

    ``draw(tables, care_models)`` gets the published tables with markers as missing values
    (:func:`numeric_published`), except ``raw`` tables, which it gets as read.
    """

    tables: tuple[str, ...]
    draw: Callable[[Mapping[str, pd.DataFrame], CareModelsLike], Figure]
    caption: str
    raw: tuple[str, ...] = ()


#: Figure name -> its definition: the one place a report figure drawn from published tables
#: is declared (rule plot_published draws every one; the report's sections name them).
PUBLISHED_FIGURES: dict[str, PublishedFigure] = {
    "crude_rates": PublishedFigure(
        ("crude_rates",), _crude_rates,
        "Crude rates per resident-year by outcome and care model, 95% exact Poisson CI."),
    "rate_ratios_forest": PublishedFigure(
        ("rate_ratios",), _rate_ratios_forest,
        "Rate ratios against the reference care model, 95% small-sample CI (CR2 with "
        "Satterthwaite degrees of freedom, cluster-robust by care home)."),
    "cumulative_incidence": PublishedFigure(
        ("cumulative_incidence", "at_risk"), _cumulative_incidence,
        "Cumulative incidence of first emergency admission and of death before admission "
        "(and, with diagnoses, of the first admission of each derived outcome, death "
        "competing)."),
    "km": PublishedFigure(
        ("km", "at_risk"), _km, "Kaplan–Meier survival (all-cause death) by care model."),
    "costs_by_service_group": PublishedFigure(
        ("costs",), _costs_by_service_group,
        "NHS cost per resident-year by service group and care model, costed from the "
        "rounded units."),
    "service_use": PublishedFigure(
        ("service_use",),
        lambda t, care_models: _figure_of(plot_service_use(t["service_use"],
                                                           care_models=care_models)),
        "NHS contacts per resident-year by service and care model (published counts).",
        raw=("service_use",)),
    "data_flow": PublishedFigure(
        ("data_flow",), lambda t, _: _figure_of(plot_data_flow(t["data_flow"])),
        "Flow of records per region: read, excluded by reason, analysed.", raw=("data_flow",)),
    "economics_plane": PublishedFigure(
        ("economics", "economics_replicates"),
        lambda t, cm: _figure_of(plot_ce_plane(t["economics_replicates"], t["economics"],
                                               care_models=cm)),
        "Cost-effectiveness plane: each dot is one bootstrap replicate (care homes resampled, "
        "costs and admissions together) of the extra total cost per resident-year against "
        "the emergency admissions avoided; diamonds are the estimates. Below the horizontal "
        "line the scheme costs less; right of the vertical line it has fewer admissions."),
    "economics_saving": PublishedFigure(
        ("economics", "economics_saving_curve"),
        lambda t, cm: _figure_of(plot_saving_curve(t["economics_saving_curve"], t["economics"],
                                                   care_models=cm)),
        "Probability that the scheme's total cost (NHS plus running cost) is below the "
        "reference model's, against what the scheme costs to run per resident-year; dots "
        "mark today's running cost, dotted lines the break-even running cost."),
    # weighting and regions stages (figures/weighting.py)
    "love_plot": PublishedFigure(
        ("balance",),
        lambda t, cm: _figure_of(plot_love(t["balance"], care_models=cm)),
        "Standardised mean differences against the reference care model before (open) and "
        "after (filled) propensity-score weighting; |SMD| below 0.1 (dashed) is usually read "
        "as balanced. Proportions from the published rounded counts."),
    "ps_overlap": PublishedFigure(
        ("ps_overlap",),
        lambda t, cm: plot_ps_overlap(t["ps_overlap"], care_models=cm),
        "Overlap: the distribution of each care model's propensity score among the residents "
        "of each care model (binned, published counts). Where a care model's residents cover "
        "a range the others do not, no weighting can compare them there."),
    "region_forest": PublishedFigure(
        ("region_effects",),
        lambda t, cm: _figure_of(plot_region_forest(t["region_effects"], care_models=cm)),
        "Adjusted rate ratio within each region that has the care model and the reference, "
        "the pooled random-effects (REML) estimate and its 95% prediction interval (grey): the "
        "range expected for the effect in a new region."),
    "scheme_rates": PublishedFigure(
        ("scheme_rates",), lambda t, care_models: _scheme(t["scheme_rates"], plot_scheme_rates),
        "Emergency admissions per resident-year in homes that switched care model and in "
        "comparison homes (on the switching homes' calendar months), by months from the "
        "switch."),
    "event_study": PublishedFigure(
        ("event_study",), lambda t, care_models: _scheme(t["event_study"], plot_event_study),
        "Rate ratio of emergency admission of switching against not switching, by months from "
        "the switch (month -1 = 1), 95% CI; before the switch it shows pre-trends."),
    "place_of_death": PublishedFigure(
        ("place_of_death",),
        lambda t, care_models: _figure_of(plot_place_of_death(
            numeric_published(t["place_of_death"]), care_models=care_models)),
        "Share of deaths that happened in hospital by care model, exact binomial 95% CI "
        "from the published counts."),
}
#: Figure name -> the published tables it is drawn from.
FIGURE_TABLES: dict[str, tuple[str, ...]] = {k: f.tables for k, f in PUBLISHED_FIGURES.items()}
#: Figure name -> its caption (the report adds what publishing does to it).
FIGURE_CAPTIONS: dict[str, str] = {k: f.caption for k, f in PUBLISHED_FIGURES.items()}


def plot_published(
    name: str, tables: Mapping[str, pd.DataFrame], *, care_models: CareModelsLike = None
) -> Figure:
    """Draw report figure ``name`` (a key of :data:`PUBLISHED_FIGURES`) from published tables.

    ``tables`` maps table names to the published tables as read from CSV.
    """
    if name not in PUBLISHED_FIGURES:
        raise KeyError(f"no published figure {name!r}; known: {sorted(PUBLISHED_FIGURES)}")
    spec = PUBLISHED_FIGURES[name]
    missing = [t for t in spec.tables if t not in tables]
    if missing:
        raise ValueError(f"figure {name!r} needs published table(s) {missing}")
    t = {k: v if k in spec.raw else numeric_published(v) for k, v in tables.items()}
    return spec.draw(t, care_models)
