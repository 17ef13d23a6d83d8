"""Rate-ratio models by care model and model-standardised rates.

Tables (see ``docs/developing.md`` for the extra columns):

* ``rate_ratios.csv``: one row per outcome × model (``poisson``, ``negbin``) ×
  adjustment (``crude``, ``adjusted``) × exposure × care-model term.
* ``standardised_rates.csv``: g-computation rates per care model and rate
  differences vs the reference, per 1,000 resident-years.
* ``caveats.csv``: design caveats the report must state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import product

import numpy as np
import pandas as pd

from optimal_analysis.care_models import care_model_levels
from optimal_analysis.model_frame import (
    REASONS,
    check_cohort_columns,
    design_matrix,
    drop_aliased_columns,
)
from optimal_analysis.rates.design import analysis_set_reason, make_caveats, term_reasons
from optimal_analysis.rates.fit import RateFit, fit_rate_model, standardise, wild_p_value
from optimal_analysis.rates.weighted import add_e_values, weighted_rate_ratios
from optimal_analysis.tidy import tidy_coefficients, wald_inference

#: The ``small_sample_method`` of every rate_ratios.csv row, chosen by the coverage
#: simulation benchmarks/sim_rates_small_sample.py (see docs/developing.md).
SMALL_SAMPLE_METHOD = "CR2-Satterthwaite"

__all__ = ["EXPOSURES", "RateFit", "RateModelResults", "fit_rate_model", "make_rate_models"]

log = logging.getLogger(__name__)

#: Exposure name -> (cohort column, divisor to person-years).
EXPOSURES: dict[str, tuple[str, float]] = {
    "person_years": ("person_years", 1.0),
    "days_at_risk": ("days_at_risk", 365.25),
}


@dataclass(frozen=True)
class RateModelResults:
    """The tables of :func:`make_rate_models`."""

    rate_ratios: pd.DataFrame
    standardised_rates: pd.DataFrame
    caveats: pd.DataFrame


ESTIMATE_COLUMNS = ["estimate", "std_error", "conf_low", "conf_high", "p_value"]
_SE_COLUMNS = ESTIMATE_COLUMNS[1:]


def _single_cluster(term: str, reference: str, homes: pd.Series) -> bool:
    """Fewer than 2 homes in the term's care model or the reference (their score sums are 0)."""
    return min(int(homes.get(term, 0)), int(homes.get(reference, 0))) < 2


def _rate_ratio_rows(
    fit: RateFit | None,
    *,
    terms: Sequence[str],
    reasons: dict[str, str],
    reference: str,
    homes: pd.Series,
    few_clusters_threshold: int,
    alpha: float,
    wild: Callable[[int], float],
) -> pd.DataFrame:
    """One row per care-model term (all of ``terms``): tidy estimates, reason, few-cluster columns.

    Terms with a reason are empty; ``single_cluster`` terms keep the estimate only.
    The t-based columns use t(G − 1), G = ``n_clusters`` (the homes in the fitted
    model, the one definition shared with survival and standardised rates); the
    small-sample columns (:data:`~optimal_analysis.tidy.SMALL_SAMPLE_COLUMNS`)
    are CR2 with Satterthwaite df on every row.
    """
    out = pd.DataFrame(np.nan, index=pd.Index(list(terms), name="term"), columns=ESTIMATE_COLUMNS)
    extra = pd.DataFrame(np.nan, index=out.index, columns=["std_error_joint", "se_cr2", "df_cr2"])
    reason = pd.Series([reasons[t] for t in terms], index=out.index, dtype=object)
    if fit is not None:
        tidy = tidy_coefficients(fit.params, fit.cov, fit.names, exponentiate=True, alpha=alpha)
        fitted = [t for t in terms if t in fit.names]
        out.loc[fitted] = tidy.set_index("term").loc[fitted, ESTIMATE_COLUMNS].to_numpy()
        idx = [fit.names.index(t) for t in fitted]
        with np.errstate(invalid="ignore"):
            extra.loc[fitted] = np.column_stack(
                [
                    np.sqrt(np.diag(fit.cov_joint)[idx]),
                    np.sqrt(np.diag(fit.cov_cr2)[idx]),
                    fit.df_cr2[idx],
                ]
            )
        if not fit.converged:  # no finite estimate exists
            out.loc[fitted] = np.nan
            reason[fitted] = "not_converged"
    single = (reason == "").to_numpy() & np.array(
        [_single_cluster(t, reference, homes) for t in terms], dtype=bool
    )
    reason[single] = "single_cluster"
    out.loc[single, _SE_COLUMNS] = np.nan
    ok = (reason == "").to_numpy()
    extra.loc[~ok] = np.nan
    comparison = np.array(
        [int(homes.get(t, 0) + homes.get(reference, 0)) for t in terms], dtype=int
    )
    few = comparison < few_clusters_threshold
    n_clusters = 0 if fit is None else fit.n_clusters
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rr = np.log(out["estimate"].to_numpy(dtype=float))
        low_t, high_t, p_t = wald_inference(
            log_rr, out["std_error"], alpha=alpha, df=max(n_clusters - 1, 1)
        )
        low_s, high_s, p_s = wald_inference(
            log_rr, extra["se_cr2"], alpha=alpha, df=extra["df_cr2"].to_numpy()
        )
    small = few & ok
    out = out.reset_index().assign(
        std_error_joint=extra["std_error_joint"].to_numpy(),
        n_residents=0 if fit is None else fit.n_residents,
        n_clusters=n_clusters,
        n_clusters_comparison=comparison,
        few_clusters=few,
        conf_low_t=np.where(small, np.exp(low_t), np.nan),
        conf_high_t=np.where(small, np.exp(high_t), np.nan),
        p_value_t=np.where(small, p_t, np.nan),
        conf_low_small=np.exp(low_s),
        conf_high_small=np.exp(high_s),
        p_value_small=p_s,
        df_small=extra["df_cr2"].to_numpy(),
        small_sample_method=SMALL_SAMPLE_METHOD,
        p_value_wild=[
            wild(fit.names.index(t)) if s and fit is not None else np.nan
            for t, s in zip(terms, small, strict=True)
        ],
        dispersion=np.nan if fit is None else fit.alpha,
        converged=False if fit is None else fit.converged,
        reason=reason.to_numpy(),
    )
    return out


def _standardised_rows(
    fit: RateFit | None,
    x: np.ndarray,
    weights: np.ndarray,
    *,
    reasons: dict[str, str],
    reference: str,
    homes: pd.Series,
    few_clusters_threshold: int,
    alpha: float,
) -> pd.DataFrame:
    """Standardised rates (every care model of ``reasons``) and differences, with reasons.

    A care model with a reason (or every one, when no converged fit exists) is
    empty. ``single_cluster`` rows (the care model has < 2 homes, or the reference
    has, for its own rate and every difference) keep the estimate only. When the
    fitted model has fewer homes than ``few_clusters_threshold`` (``few_clusters``,
    G = ``n_clusters``), CIs and p-values use t(G − 1) quantiles (``df``), as the
    rate ratios' ``conf_low_t``; otherwise the normal (``df`` empty).
    """
    levels = list(reasons)
    keys = [
        (m, k) for m in levels for k in ("rate", "rate_difference") if m != reference or k == "rate"
    ]
    index = pd.MultiIndex.from_tuples(keys, names=["care_model", "measure"])
    out = pd.DataFrame(np.nan, index=index, columns=ESTIMATE_COLUMNS)
    why = pd.Series([reasons[m] for m, _ in keys], index=index, dtype=object)
    few = fit is not None and fit.n_clusters < few_clusters_threshold
    df = max(fit.n_clusters - 1, 1) if few and fit is not None else None
    if fit is not None and not fit.converged:
        why[why == ""] = "not_converged"
    elif fit is not None:
        fitted = [m for m in levels if not reasons[m]]
        std = standardise(fit, x, weights, fitted, reference, alpha, df=df)
        std = std.set_index(["care_model", "measure"])
        out.loc[std.index] = std[ESTIMATE_COLUMNS].to_numpy()
        bad_ref = int(homes.get(reference, 0)) < 2
        single = np.array(
            [
                not reasons[m]
                and (int(homes.get(m, 0)) < 2 or (bad_ref and (m == reference or k != "rate")))
                for m, k in keys
            ]
        )
        out.loc[single, _SE_COLUMNS] = np.nan
        why[single] = "single_cluster"
    return out.reset_index().assign(
        few_clusters=few, df=np.nan if df is None else float(df), reason=why.to_numpy()
    )


def _fit_outcome(
    data: pd.DataFrame,
    years: np.ndarray,
    outcome: str,
    *,
    levels: Sequence[str],
    reference: str,
    covariates: Sequence[str],
    set_reason: str,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[str], list[str], dict[str, str]]:
    """The residents, design and per-care-model reasons of one outcome's fits.

    Care models without residents or events are left out; care-model columns are
    never dropped as aliased (were one aliased, no contrast would be reported),
    only covariates. Returns the data, offset, X and its names (no columns when
    nothing can be fitted), dropped covariate names, and
    :func:`~optimal_analysis.rates.design.term_reasons`.
    """
    reasons = term_reasons(data, outcome, levels=levels, reference=reference, set_reason=set_reason)
    if reasons[reference]:
        return data.iloc[:0], np.empty(0), np.empty((0, 0)), [], [], reasons
    fitted = [m for m in levels if not reasons[m]]
    use = data["care_model"].astype(str).isin(fitted).to_numpy()
    sub = data.loc[use]
    x, names = design_matrix(sub, levels=fitted, reference=reference, covariates=covariates)
    x, names, dropped = drop_aliased_columns(x, names)
    if set(dropped) & set(fitted):
        log.warning("%s: care-model column(s) aliased %s: no contrast reported", outcome, dropped)
        aliased = {m: r or "aliased" for m, r in reasons.items()}
        return data.iloc[:0], np.empty(0), np.empty((0, 0)), [], [], aliased
    return sub, np.log(years[use]), x, names, dropped, reasons


def make_rate_models(
    cohort: pd.DataFrame,
    *,
    reference: str,
    covariates: Sequence[str],
    outcomes: Sequence[str],
    few_clusters_threshold: int,
    wild_bootstrap_replicates: int,
    rng: np.random.Generator,
    care_models: Sequence[str] | None = None,
    models: Sequence[str] = ("poisson", "negbin"),
    exposures: Sequence[str] = ("person_years", "days_at_risk"),
    alpha: float = 0.05,
    ps_weights: pd.DataFrame | None = None,
) -> RateModelResults:
    """Fit every rate model; return rate ratios, standardised rates and caveats.

    For each outcome × model × adjustment × exposure: a log-linear model of the
    resident's count with offset log(exposure in years), care model (reference
    from config) and, when ``adjusted``, ``covariates`` (complete cases);
    CR1 cluster-robust covariance by care home, Wald CIs. Exposure
    ``days_at_risk`` (days not in hospital / 365.25) is the sensitivity analysis;
    residents with no days at risk are dropped from it (counted in ``n_dropped``).
    Where a comparison has fewer care homes than ``few_clusters_threshold``
    (``few_clusters``), small-sample inference is added: a restricted wild
    cluster score bootstrap p-value (``p_value_wild``, Webb weights) and Wald
    limits and p-value with t(G − 1) quantiles, G = ``n_clusters`` (homes in the
    fitted model) (``conf_low_t``, ``conf_high_t``, ``p_value_t``). Standardised rates and
    differences use t(G − 1), G = ``n_clusters`` (homes in the fitted model),
    when G < ``few_clusters_threshold``. Every row has the CR2 +
    Satterthwaite interval (:data:`~optimal_analysis.tidy.SMALL_SAMPLE_COLUMNS`,
    chosen by coverage) and ``std_error_joint`` (NB2 joint (β, α) sandwich;
    ``std_error`` is R's ``vcovCL`` HC1, see :func:`fit_rate_model`). Residents are clustered by
    ``care_home_id``. Every care-model term has a row: one that cannot be
    estimated is empty with a ``reason`` (:data:`~optimal_analysis.model_frame.REASONS`;
    logged as a warning). Care models without events are left out of that
    outcome's fit (the other contrasts are kept); covariates aliased with
    earlier columns are dropped and listed in ``dropped_terms``; care-model
    columns are never dropped. ``region_confounded`` is judged on the analysed
    residents. With ``ps_weights`` (the weighting stage's ``resident_id, weight``),
    ``adjustment = weighted`` rows are added
    (:func:`optimal_analysis.rates.weighted.weighted_rate_ratios`); every row gets
    ``e_value`` and ``e_value_ci``. See ``docs/developing.md`` for every column.
    """
    needed = ["care_model", "care_home_id", "region", *outcomes, *covariates]
    check_cohort_columns(cohort, [*needed, *(EXPOSURES[e][0] for e in exposures)])
    levels = care_model_levels(cohort, care_models)
    if reference not in levels:
        raise ValueError(
            f"reference care model {reference!r} has no residents; care models: {levels}"
        )
    caveats = make_caveats(cohort, reference=reference)
    complete = cohort[list(covariates)].notna().all(axis=1).to_numpy()
    rr_rows, std_rows = [], []
    for exposure, adjustment in product(exposures, ("crude", "adjusted")):
        column, per_year = EXPOSURES[exposure]
        years = cohort[column].astype(float).to_numpy() / per_year
        keep = (years > 0) & (complete if adjustment == "adjusted" else True)
        data, years = cohort.loc[keep], years[keep]
        covs = list(covariates) if adjustment == "adjusted" else []
        set_reason = analysis_set_reason(data, cohort, reference=reference, covariates=covs)
        if set_reason:
            log.warning(
                "%s %s (reference %r): no model fitted, rows left empty: %s (%s)",
                adjustment, exposure, reference, set_reason,
                REASONS[set_reason.split(":")[0]],
            )  # fmt: skip
        analysed = make_caveats(data, reference=reference)
        confounded = dict(zip(analysed["care_model"], analysed["region_confounded"], strict=True))
        homes = data.groupby(data["care_model"].astype(str))["care_home_id"].nunique()
        key = {"adjustment": adjustment, "exposure": exposure}
        for outcome in outcomes:
            sub, offset, x, names, dropped, reasons = _fit_outcome(
                data, years, outcome, levels=levels, reference=reference,
                covariates=covs, set_reason=set_reason,
            )  # fmt: skip
            if any(reasons.values()) and not set_reason:  # set_reason: logged above
                bad = {m: r for m, r in reasons.items() if r}
                log.warning("%s %s %s: no estimate for %s", outcome, adjustment, exposure, bad)
            if dropped:
                log.warning("%s %s %s: aliased covariate(s) dropped: %s",
                            outcome, adjustment, exposure, dropped)  # fmt: skip
            y = sub[outcome].astype(float).to_numpy()
            clusters = pd.factorize(sub["care_home_id"])[0]
            weights = np.exp(offset)
            extra = {"dropped_terms": ";".join(dropped), **key}
            for model in models:
                fit = fit_rate_model(model, y, x, offset, clusters, names) if len(names) else None
                wild = partial(wild_p_value, model, y, x, offset, clusters, rng=rng,
                               replicates=wild_bootstrap_replicates)  # fmt: skip
                rows = _rate_ratio_rows(
                    fit, terms=[m for m in levels if m != reference], reasons=reasons,
                    reference=reference, homes=homes,
                    few_clusters_threshold=few_clusters_threshold, alpha=alpha, wild=wild,
                )  # fmt: skip
                rr_rows.append(
                    rows.assign(
                        outcome=outcome,
                        model=model,
                        n_dropped=len(cohort)
                        - int(rows["n_residents"].iloc[0] if len(rows) else 0),
                        region_confounded=[bool(confounded.get(t, False)) for t in rows["term"]],
                        **extra,
                    )
                )
                std = _standardised_rows(
                    fit, x, weights, reasons=reasons, reference=reference,
                    homes=homes, few_clusters_threshold=few_clusters_threshold, alpha=alpha,
                )  # fmt: skip
                std_rows.append(
                    std.assign(
                        outcome=outcome,
                        model=model,
                        n_residents=0 if fit is None else fit.n_residents,
                        n_clusters=0 if fit is None else fit.n_clusters,
                        **extra,
                    )
                )
    rate_ratios = _key_first(rr_rows)
    if ps_weights is not None:  # propensity-score weighted rows (rates/weighted.py)
        weighted = weighted_rate_ratios(
            cohort, ps_weights, outcomes=outcomes, levels=levels, reference=reference,
            exposures={e: EXPOSURES[e] for e in exposures}, models=models, alpha=alpha,
            few_clusters_threshold=few_clusters_threshold,
        )  # fmt: skip
        confounded = dict(zip(caveats["care_model"], caveats["region_confounded"], strict=True))
        weighted["region_confounded"] = [bool(confounded.get(t, False)) for t in weighted["term"]]
        rate_ratios = pd.concat([rate_ratios, weighted], ignore_index=True)[rate_ratios.columns]
    return RateModelResults(add_e_values(rate_ratios), _key_first(std_rows), caveats)


def _key_first(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate: the model key (outcome, model, adjustment, exposure) first,
    ``dropped_terms`` and ``reason`` last."""
    first, last = ["outcome", "model", "adjustment", "exposure"], ["dropped_terms", "reason"]
    out = pd.concat(frames, ignore_index=True)
    return out[[*first, *(c for c in out.columns if c not in first + last), *last]]
