"""Propensity-score weighted rate ratios (``adjustment = weighted``) and E-values.

The weights come from the weighting stage (``interim/weights.parquet``: one row per
complete-case resident, ``resident_id, weight``); this module does not import that
stage. Model: care model only, log person-years (or days at risk) offset, each
resident's log-likelihood multiplied by its weight
(:func:`optimal_analysis.stats.weighted_count.fit_weighted_count`: R ``glm(...,
weights = w)`` / ``MASS::glm.nb(..., weights = w)``), CR1 cluster-robust by care home
(``sandwich::vcovCL(type = "HC1")``) with the weights treated as fixed: the
uncertainty of the estimated propensity scores is not carried, which for inverse
probability weights makes the standard error conservative (too large; Lunceford and
Davidian 2004) and for overlap weights usually so. Small-sample columns: CR1 with
t(G-1) quantiles (``small_sample_method`` ``t(G-1)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimal_analysis.stats.cluster import cr1_covariance
from optimal_analysis.stats.evalue import e_value, e_value_ci
from optimal_analysis.stats.weighted_count import (
    fit_weighted_count,
    weighted_count_scores_information,
)
from optimal_analysis.tidy import wald_inference

__all__ = ["WEIGHTED", "add_e_values", "weighted_rate_ratios"]

WEIGHTED = "weighted"
T_METHOD = "t(G-1)"


def add_e_values(table: pd.DataFrame) -> pd.DataFrame:
    """``e_value`` and ``e_value_ci`` (VanderWeele and Ding 2017) of every ratio row.

    Rate ratios are used as risk ratios (:mod:`optimal_analysis.stats.evalue`).
    """
    return table.assign(
        e_value=e_value(table["estimate"]),
        e_value_ci=e_value_ci(table["estimate"], table["conf_low"], table["conf_high"]),
    )


def weighted_rate_ratios(
    cohort: pd.DataFrame,
    weights: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    levels: Sequence[str],
    reference: str,
    exposures: dict[str, tuple[str, float]],
    few_clusters_threshold: int,
    models: Sequence[str] = ("poisson", "negbin"),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per outcome x model x exposure x care-model term, ``adjustment = weighted``.

    Columns as the other rate_ratios.csv rows that apply (``std_error`` on the log
    scale; ``n_residents``, ``n_clusters`` of the weighted fit, ``n_dropped`` the
    residents without a weight or exposure). A term without residents or events
    is left empty with a ``reason``.
    """
    w_of = weights.set_index("resident_id")["weight"]
    data0 = cohort.assign(weight=cohort["resident_id"].map(w_of).to_numpy(float))
    data0 = data0[data0["weight"].notna() & (data0["weight"] > 0)]
    terms = [m for m in levels if m != reference]
    rows = []
    for exposure, (column, per_year) in exposures.items():
        years = data0[column].astype(float).to_numpy() / per_year
        data = data0[years > 0]
        years = years[years > 0]
        care = data["care_model"].astype(str).to_numpy()
        homes = data.groupby(care)["care_home_id"].nunique()
        for outcome in outcomes:
            y = data[outcome].astype(float).to_numpy()
            events = pd.Series(y).groupby(care).sum()
            present = [m for m in terms if events.get(m, 0) > 0]
            reasons = {m: ("" if m in present else f"no {outcome} events or residents in {m}")
                       for m in terms}
            if events.get(reference, 0) == 0:
                present, reasons = [], dict.fromkeys(terms, f"no {outcome} events in {reference}")
            keep = np.isin(care, [reference, *present])
            x = np.column_stack([np.ones(keep.sum())]
                                + [care[keep] == m for m in present]).astype(float)
            clusters = pd.factorize(data["care_home_id"].to_numpy()[keep])[0]
            g = int(clusters.max()) + 1 if keep.any() else 0
            for model in models:
                est = dict.fromkeys(terms, (np.nan, np.nan))
                alpha_nb, converged = np.nan, False
                if present:
                    off, w = np.log(years[keep]), data["weight"].to_numpy(float)[keep]
                    fit = fit_weighted_count(model, y[keep], x, off, w)
                    alpha_nb, converged = fit.alpha, fit.converged
                    cov = np.full((x.shape[1],) * 2, np.nan)
                    if fit.converged and g >= 2:
                        sc, info = weighted_count_scores_information(
                            model, y[keep], x, off, w, fit.params, fit.alpha)
                        cov = cr1_covariance(sc, np.linalg.inv(info), clusters)
                    for j, m in enumerate(present, start=1):
                        ok = fit.converged
                        est[m] = (fit.params[j] if ok else np.nan,
                                  np.sqrt(cov[j, j]) if ok else np.nan)
                for m in terms:
                    b, se = est[m]
                    single = min(int(homes.get(m, 0)), int(homes.get(reference, 0))) < 2
                    reason = reasons[m] or ("single_cluster" if single else "")
                    if single:
                        se = np.nan
                    comparison = int(homes.get(m, 0) + homes.get(reference, 0))
                    rows.append({
                        "outcome": outcome, "model": model, "adjustment": WEIGHTED,
                        "exposure": exposure, "term": m, "log_estimate": b, "std_error": se,
                        "n_residents": int(keep.sum()), "n_clusters": g,
                        "n_clusters_comparison": comparison,
                        "few_clusters": comparison < few_clusters_threshold,
                        "dispersion": alpha_nb, "converged": converged,
                        "n_dropped": len(cohort) - int(keep.sum()), "dropped_terms": "",
                        "reason": reason,
                    })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    b, se, g = out.pop("log_estimate").to_numpy(float), out["std_error"].to_numpy(float), \
        out["n_clusters"].to_numpy(float)
    low, high, p = wald_inference(b, se, alpha=alpha)
    low_t, high_t, p_t = wald_inference(b, se, alpha=alpha, df=np.maximum(g - 1, 1))
    ok = np.isfinite(se)
    out.insert(5, "estimate", np.exp(b))
    out = out.assign(
        conf_low=np.exp(low), conf_high=np.exp(high), p_value=p,
        conf_low_small=np.exp(low_t), conf_high_small=np.exp(high_t), p_value_small=p_t,
        df_small=np.where(ok, g - 1, np.nan), small_sample_method=np.where(ok, T_METHOD, ""),
    )
    return out
