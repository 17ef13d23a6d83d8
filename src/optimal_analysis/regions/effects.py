"""Between-region heterogeneity: the adjusted rate ratio in each region, and their meta-analysis.

For each outcome and region where the reference care model and another care model
both have residents, the adjusted Poisson model of the rates stage (care model +
configured covariates, complete cases, offset log person-years) is fitted within
the region, cluster-robust by care home (CR1, ``sandwich::vcovCL(type = "HC1")``;
a region needs at least two care homes for a standard error). Across the regions
with an estimate, a random-effects meta-analysis of the log rate ratios by REML
(:func:`optimal_analysis.stats.meta.rma_reml`, ``metafor::rma(method = "REML")``)
gives the pooled rate ratio, tau², I² and the 95% prediction interval: the range
in which the effect in a new region would be expected to lie.

Where no region holds two care models (the OPTIMAL design: one model per
region), region and care model cannot be separated and the table is empty.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.model_frame import design_matrix, drop_aliased_columns
from optimal_analysis.stats.cluster import cr1_covariance
from optimal_analysis.stats.glm import count_scores_information, fit_count_model
from optimal_analysis.stats.meta import rma_reml

__all__ = ["REGION_COLUMNS", "make_region_effects", "regions_with_comparison"]

log = logging.getLogger(__name__)

REGION_COLUMNS = [
    "outcome", "term", "region", "estimate", "std_error", "conf_low", "conf_high",
    "n_residents", "n_clusters", "tau2", "i2", "pi_low", "pi_high", "k_regions",
]
POOLED = "pooled"


def regions_with_comparison(cohort: pd.DataFrame, reference: str) -> dict[str, list[str]]:
    """``care model -> regions`` holding both it and ``reference`` (empty lists dropped)."""
    pairs = cohort[["region", "care_model"]].drop_duplicates()
    with_ref = set(pairs.loc[pairs["care_model"] == reference, "region"])
    out: dict[str, list[str]] = {}
    for model, g in pairs[pairs["care_model"] != reference].groupby("care_model"):
        regions = sorted(set(g["region"]) & with_ref)
        if regions:
            out[str(model)] = regions
    return out


def _region_rows(data: pd.DataFrame, outcome: str, region: str, *, covariates, reference, z):
    present = sorted(set(data["care_model"]))
    x, names = design_matrix(data, levels=present, reference=reference, covariates=covariates)
    x, names, dropped = drop_aliased_columns(x, names)
    if dropped:
        log.info("region %s, %s: aliased columns dropped: %s", region, outcome, dropped)
    y = data[outcome].to_numpy(float)
    off = np.log(data["person_years"].to_numpy(float))
    fit = fit_count_model("poisson", y, x, off)
    homes = pd.factorize(data["care_home_id"])[0]
    n_clusters = int(homes.max()) + 1
    cov = np.full((len(names), len(names)), np.nan)
    if fit.converged and n_clusters >= 2:
        scores, info = count_scores_information("poisson", y, x, off, fit.params)
        cov = cr1_covariance(scores, np.linalg.inv(info), homes)
    rows = []
    for term in (m for m in present if m != reference and m in names):
        j = names.index(term)
        b, se = fit.params[j], float(np.sqrt(cov[j, j])) if np.isfinite(cov[j, j]) else np.nan
        rows.append({
            "outcome": outcome, "term": term, "region": region, "estimate": np.exp(b),
            "std_error": se, "conf_low": np.exp(b - z * se), "conf_high": np.exp(b + z * se),
            "n_residents": len(y), "n_clusters": n_clusters,
        })
    return rows


def make_region_effects(
    cohort: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    covariates: Sequence[str],
    reference: str,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """region_effects.csv: per-region adjusted rate ratios and pooled REML rows.

    Returns
    -------
    DataFrame with :data:`REGION_COLUMNS`: one row per outcome x care-model term
    x region with both models (``estimate`` the rate ratio, ``std_error`` on the
    log scale), then per outcome x term with at least two regions with a standard
    error, a ``region = "pooled"`` row: the REML pooled rate ratio and its CI,
    ``tau2`` (log scale), ``i2`` (percent), ``pi_low``/``pi_high`` (95% prediction
    interval, rate-ratio scale) and ``k_regions``. Empty (header only) when no
    region holds the reference and another care model.
    """
    z = float(stats.norm.ppf(1 - alpha / 2))
    comparisons = regions_with_comparison(cohort, reference)
    complete = cohort.dropna(subset=list(covariates))
    rows: list[dict] = []
    for outcome in outcomes:
        for region in sorted({r for rs in comparisons.values() for r in rs}):
            data = complete[complete["region"] == region]
            if data["care_model"].nunique() < 2 or reference not in set(data["care_model"]):
                continue
            rows += _region_rows(data, outcome, region, covariates=covariates,
                                 reference=reference, z=z)
    table = pd.DataFrame(rows, columns=REGION_COLUMNS)
    pooled = []
    for (outcome, term), g in table.groupby(["outcome", "term"], sort=False):
        ok = g[np.isfinite(g["std_error"]) & (g["std_error"] > 0)]
        if len(ok) < 2:
            continue
        res = rma_reml(np.log(ok["estimate"]), ok["std_error"], level=1 - alpha)
        pooled.append({
            "outcome": outcome, "term": term, "region": POOLED,
            "estimate": np.exp(res.estimate), "std_error": res.std_error,
            "conf_low": np.exp(res.conf_low), "conf_high": np.exp(res.conf_high),
            "n_residents": int(ok["n_residents"].sum()), "n_clusters": int(ok["n_clusters"].sum()),
            "tau2": res.tau2, "i2": res.i2, "pi_low": np.exp(res.pi_low),
            "pi_high": np.exp(res.pi_high), "k_regions": res.k,
        })
    if pooled:
        table = pd.concat([table, pd.DataFrame(pooled, columns=REGION_COLUMNS)], ignore_index=True)
    return table.astype({"n_residents": "int64", "n_clusters": "int64"})
