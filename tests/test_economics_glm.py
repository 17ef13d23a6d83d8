"""Cost GLM (gamma family, log link, quasi-likelihood) against R and by hand."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.stats.cost_glm import (
    cost_glm_covariance,
    fit_cost_glm,
    standardised_difference,
)

REF = Path(__file__).parent / "reference" / "economics"
LEVELS = ["usual_care", "dedicated_team", "paid_gp"]


def _design(d: pd.DataFrame, model: str | None = None) -> np.ndarray:
    cm = d["care_model"] if model is None else pd.Series(model, index=d.index)
    return np.column_stack([
        np.ones(len(d)), (cm == "dedicated_team").astype(float), (cm == "paid_gp").astype(float),
        d["age"], (d["sex"] == "male").astype(float), d["dementia"].astype(float),
    ])


@pytest.mark.parametrize("fit_name", ["quasi_all", "gamma_positive"])
def test_cost_glm_matches_r(fit_name: str) -> None:
    d = pd.read_csv(REF / "cohort.csv")
    if fit_name == "gamma_positive":
        d = d[d["cost_gbp"] > 0].reset_index(drop=True)
    ref = pd.read_csv(REF / "reference_estimates.csv").query("fit == @fit_name")
    ref = ref.set_index("term")
    x, y, off = _design(d), d["cost_gbp"].to_numpy(), np.log(d["person_years"].to_numpy())
    w = d["person_years"].to_numpy()
    fit = fit_cost_glm(y, x, off, weights=w)
    assert fit.converged
    clusters = pd.factorize(d["care_home_id"])[0]
    cov = cost_glm_covariance(y, x, off, fit.params, clusters, weights=w)
    terms = ["(Intercept)", "care_modeldedicated_team", "care_modelpaid_gp", "age", "sex_male",
             "dementia"]
    np.testing.assert_allclose(fit.params, ref.loc[terms, "estimate"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), ref.loc[terms, "std_error"], rtol=1e-9)
    for lev in ("dedicated_team", "paid_gp"):
        diff, se, m_s, m_r = standardised_difference(fit.params, cov, _design(d, lev),
                                                     _design(d, "usual_care"), w)
        np.testing.assert_allclose([diff, se, m_s, m_r],
                                   ref.loc[[f"diff_{lev}", f"diff_{lev}", f"mean_{lev}",
                                            f"mean_ref_{lev}"], "estimate"].to_numpy()
                                   * [1, 0, 1, 1]
                                   + ref.loc[[f"diff_{lev}"] * 4, "std_error"].to_numpy()
                                   * [0, 1, 0, 0], rtol=1e-9)


def test_care_model_only_reproduces_crude_ratio_of_costs() -> None:
    """Closed form: with care model alone, exp(β) of the model term is the ratio of
    cost per person-year (Σ cost / Σ py within each model), zeros included."""
    cost = np.array([0.0, 100.0, 300.0, 50.0, 0.0, 250.0, 40.0])
    py = np.array([0.5, 1.0, 1.0, 0.25, 1.0, 0.5, 0.2])
    scheme = np.array([0, 0, 0, 1, 1, 1, 1], dtype=float)
    x = np.column_stack([np.ones(7), scheme])
    fit = fit_cost_glm(cost, x, np.log(py), weights=py)
    # reference: 400 / 2.5 = 160 per year; scheme: 340 / 1.95 = 174.358974...
    np.testing.assert_allclose(np.exp(fit.params), [160.0, (340 / 1.95) / 160.0], rtol=1e-10)
    # The standardised difference with everyone at each level is that crude difference.
    diff, _, m_s, m_r = standardised_difference(
        fit.params, np.eye(2), np.column_stack([np.ones(7), np.ones(7)]),
        np.column_stack([np.ones(7), np.zeros(7)]), py)
    np.testing.assert_allclose([m_s, m_r, diff], [340 / 1.95, 160.0, 340 / 1.95 - 160.0])


def test_unweighted_fit_is_the_mean_of_annual_costs() -> None:
    """Without weights, e^β of a care-model-only fit is the mean of y_i / T_i (by hand)."""
    cost = np.array([0.0, 100.0, 300.0, 50.0, 0.0, 250.0, 40.0])
    py = np.array([0.5, 1.0, 1.0, 0.25, 1.0, 0.5, 0.2])
    x = np.column_stack([np.ones(7), [0, 0, 0, 1, 1, 1, 1]])
    fit = fit_cost_glm(cost, x, np.log(py))
    # reference (0 + 100 + 300) / 3 = 133.33; scheme (200 + 0 + 500 + 200) / 4 = 225
    np.testing.assert_allclose(np.exp(fit.params), [400 / 3, 225 / (400 / 3)], rtol=1e-10)


def test_scaling_costs_scales_the_difference() -> None:
    d = pd.read_csv(REF / "cohort.csv")
    x, off, w = _design(d), np.log(d["person_years"].to_numpy()), d["person_years"].to_numpy()
    y = d["cost_gbp"].to_numpy()
    a = fit_cost_glm(y, x, off, weights=w).params
    b = fit_cost_glm(3.0 * y, x, off, weights=w).params
    np.testing.assert_allclose(b - a, [np.log(3.0), 0, 0, 0, 0, 0], atol=1e-9)
    da = standardised_difference(a, np.eye(6), _design(d, "paid_gp"), _design(d, "usual_care"), w)
    db = standardised_difference(b, np.eye(6), _design(d, "paid_gp"), _design(d, "usual_care"), w)
    np.testing.assert_allclose(db[0], 3.0 * da[0], rtol=1e-9)


@pytest.mark.parametrize(
    ("y", "message"),
    [(np.array([1.0, -2.0, 3.0, 4.0]), "costs must be finite and >= 0"),
     (np.zeros(4), "no resident has a positive cost")],
)
def test_bad_costs_raise(y: np.ndarray, message: str) -> None:
    x = np.column_stack([np.ones(4), [0, 0, 1, 1]])
    with pytest.raises(ValueError, match=message):
        fit_cost_glm(y, x, np.zeros(4))


def test_rank_deficient_design_raises() -> None:
    x = np.column_stack([np.ones(4), np.ones(4)])
    with pytest.raises(ValueError, match="rank-deficient"):
        fit_cost_glm(np.array([1.0, 2, 3, 4]), x, np.zeros(4))
