"""economics.csv and the tables behind its figures (results contract, "economics.csv").

Per care home: NHS cost (the costing stage's resident costs), scheme running cost
(:func:`~optimal_analysis.stats.economics.scheme_cost_per_home`), emergency
admissions and person-years. One bootstrap resamples care homes within each care
model and carries all three together
(:func:`~optimal_analysis.stats.economics.joint_home_bootstrap`), so a replicate's
incremental cost and admissions avoided keep their correlation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.care_models import care_model_order
from optimal_analysis.model_frame import design_matrix, drop_aliased_columns
from optimal_analysis.stats.cost_glm import (
    cost_glm_covariance,
    fit_cost_glm,
    standardised_difference,
)
from optimal_analysis.stats.economics import (
    break_even_running_cost,
    incremental_summary,
    joint_home_bootstrap,
    prob_saving_curve,
    scheme_cost_per_home,
)

__all__ = ["ADJUSTED_MODEL", "ECONOMICS_COLUMNS", "home_totals", "make_economics"]

#: The contract's columns, in order.
ECONOMICS_COLUMNS = [
    "care_model", "nhs_cost_per_resident_year", "scheme_cost_per_resident_year",
    "total_cost_per_resident_year", "incremental_cost", "incremental_cost_low",
    "incremental_cost_high", "admissions_avoided_per_resident_year", "admissions_avoided_low",
    "admissions_avoided_high", "cost_per_admission_avoided", "prob_cost_saving",
]
#: ``adjusted_model`` of economics.csv.
ADJUSTED_MODEL = ("gamma-family log-link GLM (quasi-likelihood, person-year weights, offset "
                  "log person-years), CR1 by care home, standardised difference, t(G-1)")


def home_totals(
    cohort: pd.DataFrame, resident_costs: pd.DataFrame, *, outcome: str = "emergency_admission"
) -> pd.DataFrame:
    """One row per care home: ``care_home_id, care_model, person_years, nhs_cost_gbp,
    admissions, home_years, beds, residents``.

    ``home_years`` = (last exit − first entry of its residents + 1 day) / 365.25: the
    time the home was observed. ``nhs_cost_gbp`` sums the residents' costs (every
    cohort resident must be in ``resident_costs``; a resident without events costs 0
    there). Sorted by care home id.
    """
    cost = resident_costs.set_index("resident_id")["cost_gbp"]
    pos = cost.index.get_indexer(cohort["resident_id"])
    if (pos < 0).any():
        raise ValueError(f"{int((pos < 0).sum())} cohort resident(s) have no resident cost row")
    data = cohort.assign(_cost=cost.to_numpy(float)[pos],
                         _beds=pd.to_numeric(cohort["beds"], errors="coerce").astype(float)
                         if "beds" in cohort.columns else np.nan)
    homes = data.groupby("care_home_id", sort=True, observed=True).agg(
        care_model=("care_model", "first"), person_years=("person_years", "sum"),
        nhs_cost_gbp=("_cost", "sum"), admissions=(outcome, "sum"),
        first_entry=("entry_date", "min"), last_exit=("exit_date", "max"),
        beds=("_beds", "first"), residents=("resident_id", "size"))
    days = (homes["last_exit"] - homes["first_entry"]).dt.days + 1
    homes["home_years"] = days.to_numpy(float) / 365.25
    homes["care_model"] = homes["care_model"].astype(str)
    return homes.drop(columns=["first_entry", "last_exit"]).reset_index()


def _adjusted(cohort: pd.DataFrame, resident_costs: pd.DataFrame, models: list[str], *,
              reference: str, covariates: Sequence[str], level: float) -> pd.DataFrame:
    """Adjusted cost difference per resident-year of each care model against the reference."""
    cost = resident_costs.set_index("resident_id")["cost_gbp"]
    data = cohort.assign(_cost=cost.reindex(cohort["resident_id"]).to_numpy(float))
    data = data[data["person_years"] > 0].dropna(subset=list(covariates))
    out = pd.DataFrame({"care_model": models})
    for col in ("adjusted_nhs_cost_difference", "adjusted_nhs_cost_difference_low",
                "adjusted_nhs_cost_difference_high", "adjusted_nhs_cost_ratio"):
        out[col] = np.nan
    out["adjusted_n_residents"] = len(data)
    out["adjusted_note"] = ""
    present = [m for m in models if (data["care_model"].astype(str) == m).any()]
    if reference not in present or len(present) < 2 or data["care_home_id"].nunique() < 2:
        out["adjusted_note"] = "not estimable: too few residents or care homes with covariates"
        return out
    x, names = design_matrix(data, levels=present, reference=reference, covariates=covariates)
    x, names, dropped = drop_aliased_columns(x, names)
    y = data["_cost"].to_numpy(float)
    py = data["person_years"].to_numpy(float)
    try:
        fit = fit_cost_glm(y, x, np.log(py), weights=py)
    except ValueError as err:
        out["adjusted_note"] = f"not estimable: {err}"
        return out
    clusters, homes = pd.factorize(data["care_home_id"])
    cov = cost_glm_covariance(y, x, np.log(py), fit.params, clusters, weights=py)
    q = stats.t.ppf((1 + level) / 2, len(homes) - 1)
    note = "" if fit.converged else "the fit did not converge"
    if dropped:
        note = (note + "; " if note else "") + "aliased and dropped: " + ", ".join(dropped)

    def at(model: str) -> np.ndarray:
        full, full_names = design_matrix(data.assign(care_model=model), levels=present,
                                         reference=reference, covariates=covariates)
        return full[:, [full_names.index(n) for n in names]]

    x_ref = at(reference)
    for i, m in enumerate(models):
        out.loc[i, "adjusted_note"] = note
        if m == reference or m not in names:
            if m != reference:
                out.loc[i, "adjusted_note"] = "not estimable: no residents or aliased"
            continue
        diff, se, _, _ = standardised_difference(fit.params, cov, at(m), x_ref, py)
        out.loc[i, ["adjusted_nhs_cost_difference", "adjusted_nhs_cost_difference_low",
                    "adjusted_nhs_cost_difference_high", "adjusted_nhs_cost_ratio"]] = [
            diff, diff - q * se, diff + q * se, float(np.exp(fit.params[names.index(m)]))]
    return out


def _ratio_text(icer: float, quadrant: str) -> str:
    """cost_per_admission_avoided: the ratio where it means something, else why not."""
    if quadrant == "costs more, avoids admissions":
        return f"{icer:.2f}"
    return "" if quadrant == "reference" else quadrant


def make_economics(
    cohort: pd.DataFrame,
    resident_costs: pd.DataFrame,
    scheme_costs: pd.DataFrame,
    *,
    reference: str,
    care_models: Sequence[str] | None,
    covariates: Sequence[str],
    price_year: int,
    replicates: int,
    rng: np.random.Generator,
    level: float = 0.95,
    grid_points: int = 101,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(economics, economics_replicates, saving_curve)``.

    ``scheme_costs``: validated and re-based (``cost_gbp`` at ``price_year``).
    economics: one row per care model (reference included, its incremental columns
    empty), the contract's columns then ``reference_care_model, icer, quadrant,
    break_even_running_cost(_low/_high), admissions_per_resident_year, residents,
    reference_residents, care_homes, person_years, admissions, scheme_cost_unit,
    scheme_cost_gbp_per_unit, scheme_cost_source, price_year, replicates, ci_note`` and
    the adjusted difference
    (``adjusted_nhs_cost_difference(_low/_high), adjusted_nhs_cost_ratio, adjusted_model,
    adjusted_n_residents, adjusted_note``). ``nhs_cost_per_resident_year`` is costs.csv's
    ``total`` for the model (same resident costs, same ratio estimator).
    economics_replicates: ``care_model, replicate, incremental_cost,
    admissions_avoided, residents, reference_residents`` (the cost-effectiveness plane).
    saving_curve: ``care_model, running_cost_per_resident_year, prob_cost_saving,
    residents, reference_residents`` on a grid from 0
    to twice the larger of the scheme's running cost and its break-even cost.
    """
    homes = home_totals(cohort, resident_costs)
    models = care_model_order(homes["care_model"].unique(), care_models)
    if reference not in models:
        raise ValueError(f"reference care model {reference!r} has no care homes in the data")
    code = pd.Index(models).get_indexer(homes["care_model"])
    sc = scheme_costs.set_index("care_model").loc[models]
    scheme = scheme_cost_per_home(
        sc["cost_gbp"].to_numpy(float)[code], sc["unit"].to_numpy(object)[code],
        person_years=homes["person_years"], home_years=homes["home_years"], beds=homes["beds"])
    values = np.column_stack([homes["nhs_cost_gbp"], scheme, homes["admissions"]])
    ref = models.index(reference)
    boot = joint_home_bootstrap(values, homes["person_years"], code, n_groups=len(models),
                                replicates=replicates, rng=rng)
    s = incremental_summary(boot, reference=ref, level=level)
    by_model = homes.groupby("care_model")
    out = pd.DataFrame({
        "care_model": models,
        "nhs_cost_per_resident_year": s["nhs_cost"],
        "scheme_cost_per_resident_year": s["scheme_cost"],
        "total_cost_per_resident_year": s["total_cost"],
        "incremental_cost": s["incremental_cost"],
        "incremental_cost_low": s["incremental_cost_low"],
        "incremental_cost_high": s["incremental_cost_high"],
        "admissions_avoided_per_resident_year": s["admissions_avoided"],
        "admissions_avoided_low": s["admissions_avoided_low"],
        "admissions_avoided_high": s["admissions_avoided_high"],
        "cost_per_admission_avoided": [_ratio_text(i, q) for i, q in
                                       zip(s["icer"], s["quadrant"], strict=True)],
        "prob_cost_saving": s["prob_cost_saving"],
        "reference_care_model": reference, "icer": s["icer"], "quadrant": s["quadrant"],
    })
    be = [break_even_running_cost(s["nhs_cost"][i] - s["nhs_cost"][ref],
                                  s["delta_nhs_replicates"][:, i], float(s["scheme_cost"][ref]),
                                  level=level)
          if i != ref else (np.nan,) * 3 for i in range(len(models))]
    out[["break_even_running_cost", "break_even_low", "break_even_high"]] = np.array(be)
    out["admissions_per_resident_year"] = boot.estimate[:, 2]
    residents = by_model["residents"].sum().reindex(models).to_numpy()
    out["residents"] = residents
    out["reference_residents"] = residents[ref]
    out["care_homes"] = boot.n_homes
    out["person_years"] = by_model["person_years"].sum().reindex(models).to_numpy()
    out["admissions"] = by_model["admissions"].sum().reindex(models).to_numpy()
    out["scheme_cost_unit"] = sc["unit"].to_numpy()
    out["scheme_cost_gbp_per_unit"] = sc["cost_gbp"].to_numpy(float)
    out["scheme_cost_source"] = sc["source"].astype(str).to_numpy()
    out["price_year"] = int(price_year)
    out["replicates"] = int(replicates)
    few = (boot.n_homes < 2) | (boot.n_homes[ref] < 2)
    out["ci_note"] = np.where(few, "fewer than 2 care homes: no bootstrap interval", "")
    out.loc[ref, "ci_note"] = "reference" if boot.n_homes[ref] >= 2 else out.loc[ref, "ci_note"]
    adjusted = _adjusted(cohort, resident_costs, models, reference=reference,
                         covariates=covariates, level=level)
    out = out.merge(adjusted, on="care_model", how="left")
    out["adjusted_model"] = ADJUSTED_MODEL
    others = [i for i in range(len(models)) if i != ref]
    reps = pd.DataFrame({
        "care_model": np.repeat([models[i] for i in others], replicates),
        "replicate": np.tile(np.arange(1, replicates + 1), len(others)),
        "incremental_cost": s["delta_cost_replicates"][:, others].T.ravel(),
        "admissions_avoided": s["avoided_replicates"][:, others].T.ravel(),
        "residents": np.repeat(residents[others], replicates),
        "reference_residents": residents[ref],
    })
    curves = []
    for i in others:
        top = 2 * max(float(s["scheme_cost"][i]), float(np.nan_to_num(out.loc[i,
                      "break_even_running_cost"])), 50.0)
        grid = np.linspace(0.0, top, grid_points)
        curves.append(pd.DataFrame({
            "care_model": models[i], "running_cost_per_resident_year": grid,
            "prob_cost_saving": prob_saving_curve(s["delta_nhs_replicates"][:, i],
                                                  s["reference_scheme_replicates"], grid),
            "residents": residents[i], "reference_residents": residents[ref]}))
    curve = (pd.concat(curves, ignore_index=True) if curves else
             pd.DataFrame(columns=["care_model", "running_cost_per_resident_year",
                                   "prob_cost_saving", "residents", "reference_residents"]))
    return out, reps, curve
