"""Propensity-score weighted hazard ratios and cumulative incidence, and E-values of hazard ratios.

Weights from the weighting stage (``interim/weights.parquet``: ``resident_id, weight``,
complete cases); this module does not import that stage. Care model only in the model:

* ``cox``: cause-specific Cox for first emergency admission and all-cause Cox for death,
  case weights, Efron ties, cluster-robust by care home (R ``coxph(..., weights = w,
  cluster = care_home_id)``);
* ``fine_gray``: the Fine–Gray model with case weights, the censoring distribution
  estimated (unweighted) within region as the unweighted rows
  (:func:`optimal_analysis.stats.weighted_survival.fit_fine_gray_weighted`);
* weighted Aalen–Johansen curves by care model
  (:func:`optimal_analysis.stats.weighted_survival.weighted_aalen_johansen`): adjusted
  cumulative incidence, the curves the care models would have in the weighted
  (overlap) population.

The weights are treated as fixed: the uncertainty of the estimated propensity scores
is not carried (conservative for inverse-probability weights, Lunceford and Davidian
2004; usually so for overlap weights).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimal_analysis.stats.cox import fit_cox
from optimal_analysis.stats.evalue import e_value, e_value_ci, hr_to_rr
from optimal_analysis.stats.weighted_survival import (
    fit_fine_gray_weighted,
    weighted_aalen_johansen,
)
from optimal_analysis.survival.curves import EVENTS, _small_sample_limits
from optimal_analysis.survival.inference import small_sample_inference, time_status
from optimal_analysis.tidy import wald_inference

__all__ = [
    "COMMON_OUTCOME",
    "WEIGHTED",
    "add_hazard_e_values",
    "weighted_cumulative_incidence",
    "weighted_hazard_ratios",
]

WEIGHTED = "weighted"
#: Above this share of residents with the event, a hazard ratio is converted to the
#: risk-ratio scale before its E-value (VanderWeele 2020).
COMMON_OUTCOME = 0.15
_MODELS = [("emergency_admission", "cox"), ("emergency_admission", "fine_gray"), ("death", "cox")]


def add_hazard_e_values(table: pd.DataFrame) -> pd.DataFrame:
    """``e_value``, ``e_value_ci`` of every hazard-ratio row.

    Where more than :data:`COMMON_OUTCOME` of the row's residents had the event
    (``n_events / n_residents``), the hazard ratio and its limits are first put on
    the risk-ratio scale, RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)); a rarer
    outcome's hazard ratio is used as it is.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        common = (table["n_events"] / table["n_residents"]).to_numpy(float) > COMMON_OUTCOME

    def scale(col: str) -> np.ndarray:
        v = table[col].to_numpy(float)
        return np.where(common, hr_to_rr(v), v)

    return table.assign(
        e_value=e_value(scale("estimate")),
        e_value_ci=e_value_ci(scale("estimate"), scale("conf_low"), scale("conf_high")),
    )


def _with_weights(cohort: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    w_of = weights.set_index("resident_id")["weight"]
    data = cohort.assign(weight=cohort["resident_id"].map(w_of).to_numpy(float))
    return data[data["weight"].notna() & (data["weight"] > 0)]


def weighted_hazard_ratios(
    cohort: pd.DataFrame,
    weights: pd.DataFrame,
    *,
    levels: Sequence[str],
    reference: str,
    columns: Sequence[str],
    few_clusters_threshold: int,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rows of hazard_ratios.csv with ``adjustment = weighted`` (``columns`` in that order).

    ``n_residents``, ``n_events`` are unweighted counts of the fit; small-sample
    columns t(G-1) on the robust SE times sqrt(G/(G-1))
    (:func:`optimal_analysis.survival.inference.small_sample_inference` without refits).
    """
    data = _with_weights(cohort, weights)
    care = data["care_model"].astype(str).to_numpy()
    terms = [m for m in levels if m != reference]
    homes = data.groupby(care)["care_home_id"].nunique().reindex(levels, fill_value=0)
    parts = []
    for outcome, model in _MODELS:
        time, status = time_status(outcome, data)
        events = pd.Series(status == 1).groupby(care).sum().reindex(levels, fill_value=0)
        present = [m for m in terms if events[m] > 0] if events[reference] > 0 else []
        reason = {m: "" if m in present else f"no {outcome} events in {m} or {reference}"
                  for m in terms}
        keep = np.isin(care, [reference, *present])
        rows = pd.DataFrame({"term": terms, "estimate": np.nan, "std_error": np.nan,
                             "converged": False})
        if present:
            x = np.column_stack([care[keep] == m for m in present]).astype(float)
            w = data["weight"].to_numpy(float)[keep]
            home = data["care_home_id"].astype(str).to_numpy()[keep]
            if model == "cox":
                fit = fit_cox(time[keep], status[keep] == 1, x, weight=w, cluster=home)
            else:
                fit = fit_fine_gray_weighted(
                    time[keep], status[keep], x, w, cluster=home,
                    censoring_group=data["region"].astype(str).to_numpy()[keep],
                )
            idx = [terms.index(m) for m in present]
            assert fit.robust_cov is not None  # clustered fit
            rows.loc[idx, "estimate"] = np.exp(fit.coef)
            rows.loc[idx, "std_error"] = np.sqrt(np.diag(fit.robust_cov))
            rows.loc[idx, "converged"] = fit.converged & ~fit.infinite
        comparison = (homes[terms].to_numpy() + homes[reference]).astype(np.int64)
        single = (homes[terms].to_numpy() < 2) | (homes[reference] < 2)
        rows.loc[single, "std_error"] = np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            low, high, p = wald_inference(np.log(rows["estimate"].to_numpy(float)),
                                          rows["std_error"], alpha=alpha)
        rows = rows.assign(
            outcome=outcome, model=model, adjustment=WEIGHTED, conf_low=np.exp(low),
            conf_high=np.exp(high), p_value=p, std_error_model=np.nan,
            n_residents=int(keep.sum()), n_events=int((status[keep] == 1).sum()),
            n_clusters=int(pd.unique(data["care_home_id"].to_numpy()[keep]).size),
            n_clusters_comparison=comparison, few_clusters=comparison < few_clusters_threshold,
            dropped_terms="",
            reason=[reason[m] or ("fewer than 2 care homes" if s else "")
                    for m, s in zip(terms, single, strict=True)],
        )
        parts.append(small_sample_inference(rows, alpha=alpha))
    return pd.concat(parts, ignore_index=True)[list(columns)]


def weighted_cumulative_incidence(
    cohort: pd.DataFrame,
    weights: pd.DataFrame,
    *,
    levels: Sequence[str],
    columns: Sequence[str],
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Weighted Aalen–Johansen rows of cumulative_incidence.csv (``columns``, as the crude ones).

    ``n_at_risk`` and ``n_events`` are unweighted counts; the estimate and its
    cluster-robust standard error use the weights.
    """
    data = _with_weights(cohort, weights)
    parts = []
    for model in levels:
        sub = data[data["care_model"].astype(str) == model]
        if sub.empty:
            continue
        aj = weighted_aalen_johansen(
            sub["time_to_admission_days"], sub["admission_status"].astype(int),
            sub["weight"], causes=tuple(EVENTS), cluster=sub["care_home_id"], alpha=alpha,
        )  # fmt: skip
        aj = aj[aj.groupby("time")["n_events"].transform("sum") > 0]
        start = pd.DataFrame({"cause": list(EVENTS), "time": 0.0, "estimate": 0.0,
                              "std_error": 0.0, "conf_low": np.nan, "conf_high": np.nan,
                              "n_at_risk": len(sub), "n_events": 0})
        aj = _small_sample_limits(pd.concat([start, aj], ignore_index=True),
                                  sub["care_home_id"].nunique(), alpha)
        parts.append(aj.assign(care_model=model, event=aj["cause"].map(EVENTS)))
    if not parts:
        return pd.DataFrame(columns=list(columns))
    out = pd.concat(parts, ignore_index=True).assign(adjustment=WEIGHTED)
    out["time"] = out["time"].astype(np.int64)
    return out[list(columns)]
