"""The report's generated sections: methods (from the run's settings and the tables) and
caveats (from the published tables)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from optimal_analysis import outcomes
from optimal_analysis.care_models import CareModels
from optimal_analysis.report.tables import care_models_of, price_year_of
from optimal_analysis.tidy import MARKER

__all__ = ["SMALL_SAMPLE_METHODS", "compute_caveats", "make_methods"]


def _care_model_list(care_models: CareModels) -> str:
    return ", ".join(f"{care_models.label(m)} ({m})" for m in care_models.order)


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
    disc = config["disclosure"]
    care_models = care_models_of(config)
    # the price year the costs were computed at, from the cost table (config if none shown)
    price_year = (price_year_of(tables["costs"]) if "costs" in tables else "").split("/")[0]
    price_year = price_year or str(config["price_year"])
    return [
        ("Care models", _care_model_list(care_models)),
        ("Reference care model", care_models.label(str(config["reference_care_model"]))),
        (
            "Follow-up",
            "From entry_date to exit_date, both days counted (days = exit − entry + 1); "
            "person-years = days / 365.25. Events count if dated within follow-up.",
        ),
        (
            "Outcomes",
            "Counts per person-year of "
            + ", ".join(f"{outcomes.label(o)} ({o})" for o in config["rate_outcomes"])
            + "; time to first emergency admission = admission − entry + 1 days, death the "
            "competing "
            "event, moving out and study end censored.",
        ),
        ("Models", ", ".join(models) if models else "no model tables in this run"),
        *_interval_methods(tables),
        (
            "Covariates (adjusted models)",
            ", ".join(config["covariates"]) + " (complete cases)",
        ),
        (
            "Unit costs",
            f"{config['unit_costs']}, re-based with {config['inflation']} to "
            f"{price_year}/{(int(price_year) + 1) % 100:02d} "
            "prices; "
            f"hospital stays costed per {config['hospital_costing']} "
            "(the other scheme as a sensitivity analysis).",
        ),
        (
            "Bootstrap",
            f"{config['bootstrap_replicates']} replicates resampling care homes within care "
            "model.",
        ),
        *([(
            "Scheme evaluation",
            "Home × calendar-month counts from the care_model_history table; Poisson model with "
            "home and month fixed effects and a log person-time offset, one parameter per "
            "switching cohort × month (Wooldridge's extended two-way fixed effects, 2023), so "
            "homes that switched earlier are never the controls of later ones; the rate ratio "
            "weights the cells by their expected events without the scheme. Event study by "
            "months from the switch against never-switched homes (Sun & Abraham 2021) with a "
            "joint F test of the pre-switch months; naive before-after in switching homes; "
            "regression-to-the-mean check and a variant adjusted for each home's rate in the "
            f"{config['evaluation']['pre_switch_months']} months before the first switch. "
            "Cluster-robust by care home (G/(G−1)), t(G−1) intervals. Power: variance of the "
            "difference in differences from the data's overdispersion and between-home "
            "variation (docs/evaluation.md)."
        )] if "scheme_effects" in tables and "evaluation" in config else []),
        ("Seed", f"{config['seed']} (every random step)"),
        (
            "Disclosure control",
            f"Counts 1–{disc['suppress_max']} suppressed (shown as {MARKER}), "
            f"others rounded to the nearest {disc['round_to']}; statistics of a suppressed "
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
        threshold = int(config["few_clusters_threshold"])
        care_models = care_models_of(config)
        total = sum(homes.values())
        if total < threshold or min(homes.values(), default=0) < 10:
            out.append(
                f"Few clusters: {total} care homes in all ("
                + ", ".join(f"{n} {care_models.label(m)}" for m, n in homes.items())
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
                    f"{care_models.label(m)}: {', '.join(sorted(r))}" for m, r in regions.items()
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
