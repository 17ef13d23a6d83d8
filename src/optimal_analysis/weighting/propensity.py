"""Propensity scores for the care models, weights, balance and overlap tables.

The weighting stage: a multinomial logistic model of care model on the configured
covariates (complete cases; the reference care model is the baseline category;
:func:`optimal_analysis.stats.multinom.fit_multinom`, the exact MLE), then
generalised overlap weights (default) or inverse-probability weights
(:mod:`optimal_analysis.stats.weights`), and the evidence that they work:
standardised mean differences of every covariate level against the reference
care model before and after weighting, effective sample sizes, and the
distribution of the propensity scores by care model (overlap).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimal_analysis.model_frame import INTERCEPT, design_matrix, drop_aliased_columns
from optimal_analysis.stats.multinom import fit_multinom, multinom_probabilities
from optimal_analysis.stats.weights import (
    effective_sample_size,
    ipw_weights,
    overlap_weights,
    weighted_balance,
)

__all__ = ["BALANCE_COLUMNS", "WEIGHT_METHODS", "WeightingResults", "make_weights"]

log = logging.getLogger(__name__)

WEIGHT_METHODS = ("overlap", "ipw")
BALANCE_COLUMNS = [
    "covariate", "level", "care_model", "smd_crude", "smd_weighted", "mean_crude",
    "mean_weighted", "is_reference", "n_residents", "n_level",
]
SUMMARY_COLUMNS = [
    "care_model", "n_residents", "n_no_overlap", "effective_sample_size", "weight_min",
    "weight_max", "ps_own_min", "ps_own_max", "method", "converged",
]
#: A propensity score below this for some care model: the resident has no counterpart
#: there (positivity fails, e.g. a covariate separates care models) and gets weight 0.
NO_OVERLAP = 1e-10
OVERLAP_COLUMNS = ["score_of", "care_model", "bin_low", "bin_high", "residents"]


@dataclass(frozen=True)
class WeightingResults:
    """``weights`` (interim: resident_id, care_model, weight, ps_<model>...),
    ``balance`` (balance.csv), ``summary`` (weighting_summary.csv: effective
    sample sizes, weight range) and ``overlap`` (ps_overlap.csv: binned propensity
    scores by care model)."""

    weights: pd.DataFrame
    balance: pd.DataFrame
    summary: pd.DataFrame
    overlap: pd.DataFrame


def _balance_columns(data: pd.DataFrame, covariates: Sequence[str]):
    """The columns of the balance table: (covariate, level, values, binary) per level.

    Booleans: level ``yes`` (a proportion); numbers: level ``mean``; text: every
    level as an indicator (``F`` and ``M``), so the table shows each level.
    """
    out = []
    for cov in covariates:
        s = data[cov]
        if pd.api.types.is_bool_dtype(s):
            out.append((cov, "yes", s.astype(float).to_numpy(), True))
        elif pd.api.types.is_numeric_dtype(s):
            values = s.astype(float).to_numpy()
            is_01 = bool(np.isin(values, [0.0, 1.0]).all())
            out.append((cov, "yes" if is_01 else "mean", values, is_01))
        else:
            text = s.astype(str).to_numpy()
            out += [(cov, lv, (text == lv).astype(float), True) for lv in sorted(np.unique(text))]
    return out


def _overlap_table(ps: np.ndarray, z: np.ndarray, models: Sequence[str], bins: int):
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for k, of in enumerate(models):
        idx = np.clip(np.floor(ps[:, k] * bins).astype(np.int64), 0, bins - 1)
        counts = np.zeros((len(models), bins), dtype=np.int64)
        np.add.at(counts, (z, idx), 1)
        for g, m in enumerate(models):
            rows.append(pd.DataFrame({
                "score_of": of, "care_model": m, "bin_low": edges[:-1], "bin_high": edges[1:],
                "residents": counts[g],
            }))
    return pd.concat(rows, ignore_index=True)[OVERLAP_COLUMNS]


def make_weights(
    cohort: pd.DataFrame,
    *,
    covariates: Sequence[str],
    care_models: Sequence[str],
    reference: str,
    method: str = "overlap",
    stabilise: bool = False,
    trim: float = 0.0,
    bins: int = 20,
) -> WeightingResults:
    """Propensity scores, weights and balance for the cohort (complete cases).

    Parameters
    ----------
    cohort
        One row per resident: ``resident_id``, ``care_model`` and the covariates.
    covariates
        Columns of the propensity model (booleans 0/1, numbers linear, text as indicators).
    care_models
        Display order; care models present but not listed follow, sorted.
    reference
        The baseline category and the comparator of the SMDs.
    method
        ``overlap`` (generalised overlap weights) or ``ipw``.
    stabilise, trim
        IPW only: stabilised weights; residents with a propensity score below
        ``trim`` for any care model get weight 0.
    bins
        Bins of [0, 1] of the overlap table.

    Returns
    -------
    WeightingResults
        Residents with a missing covariate are not in ``weights`` (no weight:
        the weighted models are complete-case analyses, as the adjusted ones).
    """
    if method not in WEIGHT_METHODS:
        raise ValueError(f"weighting method {method!r}: expected one of {WEIGHT_METHODS}")
    if method == "overlap" and (stabilise or trim):
        raise ValueError("stabilise and trim apply to ipw weights only")
    complete = cohort.dropna(subset=list(covariates)).reset_index(drop=True)
    present = set(complete["care_model"])
    if reference not in present:
        raise ValueError(f"reference care model {reference!r} has no complete-case residents")
    order = [m for m in care_models if m in present] + sorted(present - set(care_models))
    models = [reference] + [m for m in order if m != reference]  # class 0 = reference
    if len(models) < 2:
        raise ValueError("propensity scores need at least two care models")
    z = complete["care_model"].map({m: i for i, m in enumerate(models)}).to_numpy(np.intp)
    x, names = design_matrix(complete, levels=[reference], reference=reference,
                             covariates=covariates)
    x, names, dropped = drop_aliased_columns(x, names)
    if dropped:
        log.warning("propensity model: aliased covariate columns dropped: %s", dropped)
    assert names[0] == INTERCEPT
    fit = fit_multinom(z, x, n_classes=len(models))
    ps = multinom_probabilities(x, fit.coef)
    if fit.infinite.any():
        diverging = sorted({names[j] for j in np.flatnonzero(fit.infinite.any(axis=1))})
        log.warning("propensity model: separation in %s: some residents have no counterpart "
                    "in another care model and get weight 0", diverging)
    no_overlap = ps.min(axis=1) < NO_OVERLAP
    if method == "overlap":
        w = overlap_weights(ps, z)
    else:
        w = ipw_weights(ps, z, stabilise=stabilise, trim=max(trim, NO_OVERLAP))
    w = np.where(no_overlap, 0.0, w)
    log.info("propensity model: %d residents, %d care models, %d columns, %d Newton steps%s",
             len(z), len(models), x.shape[1], fit.n_iter,
             "" if fit.converged else " (NOT converged)")
    weights = pd.DataFrame({
        "resident_id": complete["resident_id"].to_numpy(),
        "care_model": complete["care_model"].astype(str).to_numpy(),
        "weight": w,
        **{f"ps_{m}": ps[:, i] for i, m in enumerate(models)},
    })
    levels = _balance_columns(complete, covariates)
    bal = weighted_balance(
        np.column_stack([v for _, _, v, _ in levels]), z, w, n_classes=len(models),
        binary=[b for *_, b in levels],
    )
    n_model = np.bincount(z, minlength=len(models))
    rows = []
    for j, (cov, level, values, binary) in enumerate(levels):
        n_level = (np.bincount(z, weights=values, minlength=len(models)) if binary
                   else n_model.astype(float))
        for m in order:
            k = models.index(m)
            rows.append({
                "covariate": cov, "level": level, "care_model": m,
                "smd_crude": np.nan if k == 0 else bal["smd_crude"][k, j],
                "smd_weighted": np.nan if k == 0 else bal["smd_weighted"][k, j],
                "mean_crude": bal["mean_crude"][k, j], "mean_weighted": bal["mean_weighted"][k, j],
                "is_reference": k == 0,
                "n_residents": int(n_model[k]), "n_level": int(round(n_level[k])),
            })
    balance = pd.DataFrame(rows, columns=BALANCE_COLUMNS)
    ess = effective_sample_size(w, z, len(models))
    label = method + ("_stabilised" if stabilise else "") + (f"_trim{trim:g}" if trim else "")
    own = ps[np.arange(z.size), z]
    summary = pd.DataFrame({
        "care_model": models,
        "n_residents": n_model,
        "n_no_overlap": np.bincount(z, weights=no_overlap, minlength=len(models)).astype(int),
        "effective_sample_size": ess,
        "weight_min": [w[z == k].min() for k in range(len(models))],
        "weight_max": [w[z == k].max() for k in range(len(models))],
        "ps_own_min": [own[z == k].min() for k in range(len(models))],
        "ps_own_max": [own[z == k].max() for k in range(len(models))],
        "method": label,
        "converged": fit.converged,
    })
    summary = summary.set_index("care_model").loc[order].reset_index()[SUMMARY_COLUMNS]
    overlap = _overlap_table(ps, z, models, bins)
    overlap = overlap[overlap["score_of"].isin(order)]
    return WeightingResults(weights, balance, summary, overlap)
