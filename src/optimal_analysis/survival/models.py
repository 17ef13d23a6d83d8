"""Survival stage models: Cox and Fine–Gray hazard ratios, proportional-hazards tests.

Also the cohort checks and care-model ordering shared with :mod:`optimal_analysis.survival`.

A model is fitted on what can be estimated and every care-model term gets a row:

- a care model (other than the reference) with no events of the outcome has a
  monotone partial likelihood (its log hazard ratio runs to -inf; R's ``coxph``
  warns "coefficient may be infinite"), one with no complete cases has no data:
  its residents are left out of that fit, its row is NaN with a ``reason``; the
  other care models are estimated from the rest (the same comparisons with the
  reference, without a parameter that has no maximum).
  If the reference has no complete cases or no events, no care model can be
  compared and every row of that model is NaN;
- covariate columns aliased with the care models or earlier covariates (constant,
  or identical to a care model) are dropped and named in ``dropped_terms``;
  care-model columns are never dropped;
- a care-model coefficient still found infinite by
  :func:`optimal_analysis.stats.cox.fit_cox` (monotone likelihood of another
  pattern, e.g. its events all after the other care models' follow-up ends) is
  NaN with a ``reason`` and the model is refitted without that care model; an
  infinite covariate coefficient leaves the care-model estimates (the fit is
  then not ``converged``) with a ``reason``;
- a comparison whose care model or reference has fewer than 2 care homes keeps
  its estimate but has no cluster-robust SE, CI or p-value: with one home the
  between-home variation of that arm cannot be estimated and the sandwich is far
  too small (seen: robust SE 0.13 against model-based 0.40).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimal_analysis import outcomes as registry
from optimal_analysis.care_models import care_model_levels
from optimal_analysis.derived_outcomes import status_column
from optimal_analysis.model_frame import design_matrix, independent_columns
from optimal_analysis.stats.cox import CoxFit
from optimal_analysis.stats.cox_zph import cox_zph
from optimal_analysis.survival.checks import check_survival_cohort
from optimal_analysis.survival.inference import fit_hazard_model, small_sample_inference
from optimal_analysis.tidy import SMALL_SAMPLE_COLUMNS, tidy_coefficients

__all__ = ["HAZARD_RATIO_COLUMNS", "SurvivalModelTables", "make_survival_models"]

log = logging.getLogger(__name__)

_MODELS = [("emergency_admission", "cox"), ("emergency_admission", "fine_gray"), ("death", "cox")]
_INFERENCE = ["std_error", "conf_low", "conf_high", "p_value"]
HAZARD_RATIO_COLUMNS = [
    "outcome",
    "model",
    "adjustment",
    "term",
    "estimate",
    *_INFERENCE,
    "std_error_model",
    "n_residents",
    "n_events",
    "n_clusters",
    "n_clusters_comparison",
    "few_clusters",
    "converged",
    "dropped_terms",
    "reason",
    *SMALL_SAMPLE_COLUMNS,
    "p_value_wild",
]
PH_COLUMNS = ["outcome", "model", "adjustment", "transform", "term", "chisq", "df", "p_value"]


def _event(data: pd.DataFrame, outcome: str) -> pd.Series:
    if outcome == "death":
        return data["died"].astype(bool)
    if registry.get(outcome).source == "diagnosis":  # derived outcome (docs/outcome_codes.md)
        return data[status_column(outcome)].astype(int) == 1
    return data["admission_status"].astype(int) == 1


def _models(columns: pd.Index) -> list[tuple[str, str]]:
    """The fixed models, then Cox and Fine–Gray for each registered derived outcome
    the cohort has columns for."""
    derived = [o.name for o in registry.OUTCOMES.values()
               if o.source == "diagnosis" and status_column(o.name) in columns]
    return _MODELS + [(d, m) for d in derived for m in ("cox", "fine_gray")]


def _complete_cases(
    cohort: pd.DataFrame, covs: list[str], levels: list[str], reference: str
) -> tuple[pd.DataFrame, dict[str, str], str]:
    """Complete cases, reasons for care models without any, and a reason for the whole model."""
    if not covs:
        return cohort, {}, ""
    complete = cohort[covs].notna().all(axis=1)
    if not complete.any():
        gone = [c for c in covs if cohort[c].isna().all()]
        what = f"{gone} missing for every resident" if gone else f"no resident has all of {covs}"
        return cohort[complete], {}, f"no complete cases: {what}"
    reasons = {}
    care = cohort["care_model"].astype(str)
    for m in levels:  # a handful of care models
        if not complete[care == m].any():
            sub = cohort[care == m]
            gone = [c for c in covs if sub[c].isna().all()]
            which = f"{', '.join(gone)} missing" if gone else f"no resident has all of {covs}"
            label = f"{m} (reference)" if m == reference else m
            reasons[m] = f"no complete cases in {label} ({which})"
    return cohort[complete], reasons, reasons.pop(reference, "")


@dataclass
class _Fit:
    """One outcome × model × adjustment: the fit (if any) and why terms lack estimates."""

    outcome: str
    model: str
    adjustment: str
    terms: list[str]  # every care model but the reference
    reasons: dict[str, str] = field(default_factory=dict)  # term -> reason
    whole: str = ""  # reason no term can be estimated
    data: pd.DataFrame = field(default_factory=pd.DataFrame)  # residents in the fit
    names: list[str] = field(default_factory=list)
    x: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # design of the fit
    dropped: list[str] = field(default_factory=list)
    fit: CoxFit | None = None
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)  # complete cases by care model


_fit_model = fit_hazard_model  # the name benchmarks/bench_survival.py imports


def _each_model(
    cohort: pd.DataFrame, reference: str, covariates: Sequence[str], levels: list[str]
) -> Iterator[_Fit]:
    terms = [m for m in levels if m != reference]
    for adjustment in ("crude", "adjusted"):
        covs = list(covariates) if adjustment == "adjusted" else []
        cc, cc_reasons, cc_whole = _complete_cases(cohort, covs, levels, reference)
        for outcome, model in _models(cohort.columns):
            out = _Fit(outcome, model, adjustment, terms, dict(cc_reasons), cc_whole)
            care = cc["care_model"].astype(str)
            out.counts = (
                pd.DataFrame({"n": 1, "events": _event(cc, outcome), "home": cc["care_home_id"]})
                .groupby(care)
                .agg(n=("n", "sum"), events=("events", "sum"), homes=("home", "nunique"))
                .reindex(levels, fill_value=0)
            )
            no_events = out.counts.index[out.counts["events"] == 0]
            for m in no_events:
                if m == reference and not out.whole:
                    out.whole = f"no {outcome} events in {reference} (reference)"
                elif m != reference:
                    out.reasons.setdefault(m, f"no {outcome} events in {m}")
            fitted = [m for m in terms if m not in out.reasons]
            if not out.whole and fitted:
                _fit_one(out, cc[care.isin([reference, *fitted])], fitted, reference, covs)
            yield out


def _fit_one(
    out: _Fit, data: pd.DataFrame, fitted: list[str], reference: str, covs: list[str]
) -> None:
    x, names = design_matrix(
        data, levels=[reference, *fitted], reference=reference, covariates=covs
    )
    x, names = x[:, 1:], names[1:]  # Cox has no intercept
    keep = independent_columns(x, len(fitted))
    out.dropped = [n for k, n in enumerate(names) if k not in keep]
    if out.dropped:
        log.warning(
            "%s %s %s: aliased covariate column(s) %s dropped",
            out.outcome,
            out.model,
            out.adjustment,
            out.dropped,
        )
    out.data, out.names, out.x = data, [names[k] for k in keep], x[:, keep]
    try:
        out.fit = fit_hazard_model(out.model, out.outcome, data, out.x)
    except ValueError as exc:  # e.g. a singular information matrix left after the checks
        log.warning("%s %s %s not fitted: %s", out.outcome, out.model, out.adjustment, exc)
        out.whole = f"model could not be fitted: {exc}"
        return
    f = out.fit
    log.info(
        "%s %s %s: %d residents, %d events, %d iterations",
        out.outcome,
        out.model,
        out.adjustment,
        f.n,
        f.n_events,
        f.n_iter,
    )
    infinite = [n for n, inf in zip(out.names, f.infinite, strict=True) if inf]
    gone = [n for n in infinite if n in fitted]
    for n in gone:  # monotone likelihood of another pattern: refit without that care model
        out.reasons[n] = f"coefficient may be infinite (monotone likelihood, {out.outcome})"
    if gone:
        out.fit, rest = None, [m for m in fitted if m not in gone]
        if rest:
            care = data["care_model"].astype(str)
            _fit_one(out, data[care.isin([reference, *rest])], rest, reference, covs)
        return
    for n in infinite:  # a covariate: care-model estimates kept, not converged, with a caveat
        for m in fitted:
            out.reasons.setdefault(m, f"covariate coefficient {n} may be infinite")


def _rows(
    out: _Fit,
    reference: str,
    threshold: int,
    alpha: float,
    rng: np.random.Generator | None = None,
    replicates: int = 999,
) -> pd.DataFrame:
    """One row per care-model term of one model, with reasons where estimates are missing."""
    counts = out.counts
    homes = counts["homes"]
    rows = pd.DataFrame({"term": out.terms})
    rows[["estimate", *_INFERENCE, "std_error_model"]] = np.nan
    rows["n_residents"] = int(counts["n"].sum())
    rows["n_events"] = int(counts["events"].sum())
    rows["n_clusters"] = int(homes.sum())
    rows["converged"] = False
    f = out.fit
    if f is not None and f.robust_cov is not None:
        tidy = tidy_coefficients(f.coef, f.robust_cov, out.names, exponentiate=True, alpha=alpha)
        # inverse weighted information: no Fine-Gray variance (ignores the IPCW weights)
        tidy["std_error_model"] = np.sqrt(np.diag(f.cov)) if out.model == "cox" else np.nan
        ok = dict(zip(out.names, f.converged & ~f.infinite, strict=True))
        tidy = tidy.set_index("term").reindex(out.terms).reset_index()
        fitted = tidy["estimate"].notna().to_numpy()
        for col in ["estimate", *_INFERENCE, "std_error_model"]:
            rows[col] = tidy[col].where(fitted, np.nan).to_numpy(dtype=float)
        rows["converged"] = [bool(ok.get(t, False)) for t in out.terms]
        for col, value in [
            ("n_residents", f.n),
            ("n_events", f.n_events),
            ("n_clusters", f.n_clusters),
        ]:
            rows[col] = np.where(fitted, value, rows[col])
    reasons = []
    for i, t in enumerate(out.terms):  # a handful of care models
        reason = out.whole or out.reasons.get(t, "")
        few = [f"fewer than 2 care homes in {t}"] if homes[t] < 2 else []
        if homes[reference] < 2:
            few.append(f"fewer than 2 care homes in {reference} (reference)")
        if few and pd.notna(rows.loc[i, "estimate"]):
            rows.loc[i, _INFERENCE] = np.nan
            reason = "; ".join([reason, *few] if reason else few)
        reasons.append(reason)
    comparison = (homes.reindex(out.terms).to_numpy() + homes[reference]).astype(np.int64)
    rows = rows.assign(
        outcome=out.outcome,
        model=out.model,
        adjustment=out.adjustment,
        n_clusters_comparison=comparison,
        few_clusters=comparison < threshold,
        dropped_terms=", ".join(out.dropped),
        reason=reasons,
    )
    if out.fit is not None:
        rows = small_sample_inference(
            rows, out.model, out.outcome, out.data, out.x, out.names,
            rng=rng, replicates=replicates, alpha=alpha,
        )  # fmt: skip
    else:
        rows = small_sample_inference(rows, alpha=alpha)
    return rows[HAZARD_RATIO_COLUMNS]


@dataclass(frozen=True)
class SurvivalModelTables:
    """``hazard_ratios`` and ``ph_tests`` tables from one pass of model fits."""

    hazard_ratios: pd.DataFrame
    ph_tests: pd.DataFrame


def make_survival_models(
    cohort: pd.DataFrame,
    *,
    reference: str,
    covariates: Sequence[str],
    care_models: Sequence[str] | None = None,
    ph_transform: str = "km",
    few_clusters_threshold: int = 30,
    alpha: float = 0.05,
    rng: np.random.Generator | None = None,
    wild_bootstrap_replicates: int = 999,
) -> SurvivalModelTables:
    """Hazard ratios of each care model against ``reference`` and the proportional-hazards tests.

    ``hazard_ratios``: one row per outcome × model × adjustment × care-model term,
    :data:`HAZARD_RATIO_COLUMNS`. ``estimate`` is the hazard ratio; ``std_error``
    (log scale) is cluster-robust by care home, as R's ``coxph(..., cluster =
    care_home_id)`` (sandwich of the Efron score residuals summed by home, no
    small-sample factor), Wald CI and p-value with the normal quantile;
    ``std_error_model`` the model-based one (inverse information) for ``cox``
    rows, NaN for ``fine_gray`` rows (the inverse of the IPCW-weighted
    information is not a valid Fine–Gray variance). Models: ``cox`` for
    ``emergency_admission`` (cause-specific: death and other exits censor) and for
    ``death`` (all-cause, time ``follow_up_days``), Efron ties; ``fine_gray`` for
    ``emergency_admission`` with death competing, the censoring distribution
    estimated within the resident's ``region`` (regions have their own study
    windows): a resident whose death came first stays in every later risk set
    with weight G_r(t-)/G_r(T_i-), G_r the censoring Kaplan–Meier of region r;
    the estimator of R's ``cmprsk::crr(..., cengroup = region)``, with Efron
    ties and clustered by care home (:mod:`optimal_analysis.stats.finegray`;
    not ``finegray(... + strata(region))`` + an unstratified ``coxph``).
    ``adjusted`` adds
    ``covariates`` (complete cases); ``crude`` has care model only.
    ``n_residents, n_events, n_clusters`` describe the fit behind the row (for a
    row without one: the complete cases of all care models);
    ``n_clusters_comparison`` counts the homes of the term's care model and the
    reference, ``few_clusters`` is ``n_clusters_comparison <
    few_clusters_threshold``; ``dropped_terms`` names aliased covariate columns
    dropped; ``reason`` says why estimates are missing ("" when none are). See
    the module docstring for what cannot be estimated.

    Small-sample columns (:data:`~optimal_analysis.tidy.SMALL_SAMPLE_COLUMNS`,
    :func:`optimal_analysis.survival.inference.small_sample_inference`): t(G-1)
    limits and p-value on the robust SE times sqrt(G/(G-1)), G = ``n_clusters``,
    ``df_small`` = G - 1; where ``few_clusters``, ``p_value_wild`` (restricted
    wild cluster score bootstrap, Webb weights, ``wild_bootstrap_replicates``,
    drawn from ``rng``; NaN when ``rng`` is None) and it is ``p_value_small``
    (``small_sample_method`` says which).

    ``ph_tests``: for each fitted Cox model, one row per term and ``GLOBAL``:
    :data:`PH_COLUMNS`; R's ``cox.zph`` (survival >= 3) score test with time
    transform ``ph_transform`` (``km``: 1 − KM, R's default, or ``identity``);
    care model is one term with several df; dropped covariates have no row.
    Fine–Gray models are not tested.
    """
    if ph_transform not in ("km", "identity"):
        raise ValueError(f"ph_transform must be 'km' or 'identity', not {ph_transform!r}")
    check_survival_cohort(cohort, ["region", *covariates])
    levels = care_model_levels(cohort, care_models)
    if reference not in levels:
        raise ValueError(
            f"reference care model {reference!r} has no residents; care models: {levels}"
        )
    hr_rows, ph_rows = [], []
    for out in _each_model(cohort, reference, covariates, levels):
        hr_rows.append(
            _rows(out, reference, few_clusters_threshold, alpha, rng, wild_bootstrap_replicates)
        )
        if out.model == "cox" and out.fit is not None:
            ph_rows.append(_ph_test(out, out.fit, levels, covariates, ph_transform))
    ph = pd.concat(ph_rows, ignore_index=True) if ph_rows else pd.DataFrame(columns=PH_COLUMNS)
    return SurvivalModelTables(
        hazard_ratios=pd.concat(hr_rows, ignore_index=True), ph_tests=ph[PH_COLUMNS]
    )


def _ph_test(
    out: _Fit, fit: CoxFit, levels: list[str], covariates: Sequence[str], transform: str
) -> pd.DataFrame:
    names = out.names
    terms: dict[str, list[int]] = {"care_model": [i for i, n in enumerate(names) if n in levels]}
    for cov in covariates if out.adjustment == "adjusted" else []:
        cols = [i for i, n in enumerate(names) if n == cov or n.startswith(f"{cov}_")]
        if cols:
            terms[cov] = cols
    try:
        z = cox_zph(
            fit,
            out.data[_time_col(out.outcome)],
            _event(out.data, out.outcome),
            terms,
            transform=transform,
        )
    except np.linalg.LinAlgError as exc:  # e.g. an infinite coefficient: singular information
        log.warning(
            "%s cox %s: no proportional-hazards test (%s)", out.outcome, out.adjustment, exc
        )
        return pd.DataFrame(columns=PH_COLUMNS)
    return z.assign(
        outcome=out.outcome, model="cox", adjustment=out.adjustment, transform=transform
    )


def _time_col(outcome: str) -> str:
    """The cohort column of days to the first event of ``outcome`` (its registry entry)."""
    return registry.get(outcome).time_column
