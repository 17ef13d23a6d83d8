"""Rate-ratio models: closed forms, R reference values, and the table contract."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from optimal_analysis.model_frame import design_matrix, drop_aliased_columns
from optimal_analysis.rates import make_caveats, make_crude_rates
from optimal_analysis.rates.fit import wild_p_value
from optimal_analysis.rates.models import fit_rate_model, make_rate_models

REF = Path(__file__).parent / "reference" / "rates"
LEVELS = ["dedicated_team", "paid_gp", "usual_care"]
COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    d = pd.read_csv(REF / "cohort.csv", dtype={"barthel": "Int64"})
    return d


@pytest.fixture(scope="module")
def r_reference() -> pd.DataFrame:
    return pd.read_csv(REF / "reference_estimates.csv")


def _fit(cohort, outcome, model, adjustment, exposure, **kw):
    years = (
        cohort["person_years"] if exposure == "person_years" else cohort["days_at_risk"] / 365.25
    )
    data = cohort if adjustment == "crude" else cohort[cohort["barthel"].notna()]
    years = years.loc[data.index].to_numpy()
    # R's model has sex_M as the 5th covariate: order our columns the same way for comparison.
    x, names = design_matrix(
        data,
        levels=LEVELS,
        reference="usual_care",
        covariates=[] if adjustment == "crude" else COVARIATES,
    )
    clusters = pd.factorize(data["care_home_id"])[0]
    return fit_rate_model(
        model, data[outcome].to_numpy(float), x, np.log(years), clusters, names, **kw
    )


CASES = [
    (o, m, a, e)
    for o in ["emergency_admission", "ae"]
    for m in ["poisson", "negbin"]
    for a in ["crude", "adjusted"]
    for e in ["person_years", "days_at_risk"]
]


@pytest.mark.parametrize(("outcome", "model", "adjustment", "exposure"), CASES)
def test_estimates_and_cluster_robust_se_match_r(
    cohort, r_reference, outcome, model, adjustment, exposure
):
    # R: glm(..., family = poisson) / MASS::glm.nb with offset(log(years)) and
    # sandwich::vcovCL(cluster = ~care_home_id, type = "HC1") (tests/reference/rates/reference.R).
    # The reported std_error (fit.cov) is R's for both models: for negbin the glm.nb bread
    # (expected information, IWLS weights mu/(1 + alpha mu)) and estfun at fixed theta.
    ref = r_reference.query(
        "outcome == @outcome and model == @model and adjustment == @adjustment"
        " and exposure == @exposure"
    ).set_index("term")
    fit = _fit(cohort, outcome, model, adjustment, exposure)
    ours = pd.DataFrame(
        {"estimate": fit.params, "std_error": np.sqrt(np.diag(fit.cov))}, index=fit.names
    ).loc[ref.index]
    assert fit.n_residents == ref["n"].iloc[0] and fit.n_clusters == ref["n_clusters"].iloc[0]
    np.testing.assert_allclose(ours["estimate"], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose(ours["std_error"], ref["std_error"], rtol=1e-4)
    if model == "negbin":
        np.testing.assert_allclose(fit.alpha, ref["alpha"].iloc[0], rtol=1e-5)


@pytest.mark.parametrize("adjustment", ["crude", "adjusted"])
def test_negbin_joint_sandwich_matches_statsmodels(cohort, adjustment):
    # Independent implementation of the joint (beta, alpha) CR1 sandwich (std_error_joint):
    # statsmodels' cov_type="cluster" (correction G/(G-1)(N-1)/(N-K), K counting alpha).
    fit = _fit(cohort, "emergency_admission", "negbin", adjustment, "person_years")
    data = cohort if adjustment == "crude" else cohort[cohort["barthel"].notna()]
    x, _ = design_matrix(
        data,
        levels=LEVELS,
        reference="usual_care",
        covariates=[] if adjustment == "crude" else COVARIATES,
    )
    nb = sm.NegativeBinomial(
        data["emergency_admission"].to_numpy(float),
        x,
        offset=np.log(data["person_years"].to_numpy()),
        loglike_method="nb2",
    )
    res = nb.fit(
        start_params=np.r_[fit.params, fit.alpha],
        method="newton",
        disp=0,
        cov_type="cluster",
        cov_kwds={"groups": pd.factorize(data["care_home_id"])[0]},
    )
    np.testing.assert_allclose(fit.params, res.params[:-1], rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_joint)), res.bse[:-1], rtol=1e-6)


def test_crude_poisson_rate_ratio_is_ratio_of_crude_rates(cohort):
    # Closed form: with care model as the only regressor the Poisson MLE fits each care model's
    # crude rate exactly, so exp(beta_m) = rate_m / rate_ref.
    out = make_rate_models(
        cohort,
        reference="usual_care",
        covariates=COVARIATES,
        outcomes=["emergency_admission", "ae"],
        few_clusters_threshold=0,
        wild_bootstrap_replicates=9,
        rng=np.random.default_rng(1),
        care_models=LEVELS,
        exposures=["person_years"],
    )
    crude = make_crude_rates(
        cohort.assign(died=False, elective_admission=0, ambulance=0, bed_days=0), care_models=LEVELS
    ).set_index(["outcome", "care_model"])["rate"]
    rr = out.rate_ratios.query("model == 'poisson' and adjustment == 'crude'")
    for row in rr.itertuples():
        expected = crude[(row.outcome, row.term)] / crude[(row.outcome, "usual_care")]
        assert row.estimate == pytest.approx(expected, rel=1e-10)
    # ... and the standardised rates of the crude Poisson model are the crude rates (per 1,000).
    std = out.standardised_rates.query("model == 'poisson' and adjustment == 'crude'")
    for row in std[std["measure"] == "rate"].itertuples():
        assert row.estimate == pytest.approx(1000 * crude[(row.outcome, row.care_model)], rel=1e-9)
    for row in std[std["measure"] == "rate_difference"].itertuples():
        diff = 1000 * (crude[(row.outcome, row.care_model)] - crude[(row.outcome, "usual_care")])
        assert row.estimate == pytest.approx(diff, rel=1e-8)


def test_table_contract_few_clusters_and_seed(cohort):
    kw = dict(
        reference="usual_care",
        covariates=COVARIATES,
        outcomes=["emergency_admission"],
        few_clusters_threshold=12,
        wild_bootstrap_replicates=199,
        care_models=LEVELS,
    )
    a = make_rate_models(cohort, rng=np.random.default_rng(7), **kw)
    b = make_rate_models(cohort, rng=np.random.default_rng(7), **kw)
    pd.testing.assert_frame_equal(a.rate_ratios, b.rate_ratios)
    rr = a.rate_ratios
    for col in [
        "outcome",
        "model",
        "adjustment",
        "term",
        "estimate",
        "std_error",
        "conf_low",
        "conf_high",
        "p_value",
        "n_residents",
        "n_clusters",
    ]:
        assert col in rr.columns
    assert len(rr) == 1 * 2 * 2 * 2 * 2  # outcome x model x adjustment x exposure x term
    assert set(rr["term"]) == {"dedicated_team", "paid_gp"}
    # Homes: dedicated_team 6, paid_gp 5, usual_care 5 -> comparisons 11 and 10, both < 12.
    assert rr["n_clusters"].eq(16).all()
    assert (
        rr.set_index("term")["n_clusters_comparison"].groupby("term").first()
        == pd.Series({"dedicated_team": 11, "paid_gp": 10})
    ).all()
    assert rr["few_clusters"].all()
    # Wild p-values lie on the grid (1 + k) / (B + 1), k = 0..B ...
    k = rr["p_value_wild"] * 200 - 1
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)
    assert (k >= 0).all() and (k <= 199).all()
    # ... and the first one (person_years, crude, emergency_admission, poisson, dedicated_team)
    # is the wild cluster score test recomputed by hand from the same seed.
    first = rr.iloc[0]
    assert (first["exposure"], first["adjustment"], first["model"], first["term"]) == (
        "person_years",
        "crude",
        "poisson",
        "dedicated_team",
    )
    x, _ = design_matrix(cohort, levels=LEVELS, reference="usual_care")
    expected = wild_p_value(
        "poisson",
        cohort["emergency_admission"].to_numpy(float),
        x,
        np.log(cohort["person_years"].to_numpy()),
        pd.factorize(cohort["care_home_id"])[0],
        1,
        rng=np.random.default_rng(7),
        replicates=199,
    )
    assert first["p_value_wild"] == expected
    # t(G - 1) limits with G the homes in the fitted model (n_clusters), by hand
    q = stats.t.ppf(0.975, rr["n_clusters"] - 1)
    log_rr = np.log(rr["estimate"])
    np.testing.assert_allclose(rr["conf_low_t"], np.exp(log_rr - q * rr["std_error"]), rtol=1e-12)
    np.testing.assert_allclose(rr["conf_high_t"], np.exp(log_rr + q * rr["std_error"]), rtol=1e-12)
    adjusted = rr[(rr["adjustment"] == "adjusted") & (rr["exposure"] == "person_years")]
    n_missing = int(cohort["barthel"].isna().sum())
    assert (adjusted["n_dropped"] == n_missing).all() and (
        adjusted["n_residents"] == 420 - n_missing
    ).all()
    assert not rr["region_confounded"].any()


def test_no_small_sample_columns_when_clusters_many(cohort):
    out = make_rate_models(
        cohort,
        reference="usual_care",
        covariates=[],
        outcomes=["ae"],
        few_clusters_threshold=5,
        wild_bootstrap_replicates=99,
        rng=np.random.default_rng(1),
        exposures=["person_years"],
    )
    rr = out.rate_ratios
    assert not rr["few_clusters"].any() and rr[["p_value_wild", "p_value_t"]].isna().all().all()


def test_caveats_detect_one_care_model_per_region():
    cohort = pd.DataFrame(
        {
            "region": ["a", "a", "b", "c", "c"],
            "care_model": ["usual_care", "usual_care", "paid_gp", "dedicated_team", "usual_care"],
        }
    )
    cav = make_caveats(cohort, reference="usual_care").set_index("care_model")
    assert (
        cav.loc["paid_gp", "region_confounded"]
        and not cav.loc["dedicated_team", "region_confounded"]
    )


def test_missing_columns_and_reference_are_reported(cohort):
    with pytest.raises(ValueError, match=r"\['barthel', 'days_at_risk'\]"):
        make_rate_models(
            cohort.drop(columns=["barthel", "days_at_risk"]),
            reference="usual_care",
            covariates=COVARIATES,
            outcomes=["ae"],
            few_clusters_threshold=0,
            wild_bootstrap_replicates=9,
            rng=np.random.default_rng(1),
        )
    with pytest.raises(ValueError, match="reference care model 'nope'"):
        make_rate_models(
            cohort,
            reference="nope",
            covariates=[],
            outcomes=["ae"],
            few_clusters_threshold=0,
            wild_bootstrap_replicates=9,
            rng=np.random.default_rng(1),
        )


def test_aliased_columns_dropped_like_r():
    # x2 = 2 * x1 is aliased (R reports NA for it); a constant covariate is aliased with the
    # intercept; an all-zero column carries no information.
    x1 = np.array([0.0, 1, 2, 3])
    x = np.column_stack([np.ones(4), x1, 2 * x1, np.full(4, 5.0), np.zeros(4), [1.0, 0, 0, 1]])
    names = ["(Intercept)", "x1", "x2", "const", "zero", "z"]
    reduced, kept, dropped = drop_aliased_columns(x, names)
    assert kept == ["(Intercept)", "x1", "z"] and dropped == ["x2", "const", "zero"]
    np.testing.assert_array_equal(reduced, x[:, [0, 1, 5]])


def test_covariate_constant_in_data_is_dropped_and_no_events_give_empty_estimates(cohort):
    data = cohort.assign(nursing=True)
    data.loc[data["care_model"] == "paid_gp", "elective"] = 0
    data["elective"] = data["elective"].fillna(data["emergency_admission"]).astype(int)
    out = make_rate_models(
        data,
        reference="usual_care",
        covariates=COVARIATES,
        outcomes=["elective"],
        few_clusters_threshold=0,
        wild_bootstrap_replicates=9,
        rng=np.random.default_rng(1),
        care_models=LEVELS,
        exposures=["person_years"],
        models=["poisson"],
    )
    rr = out.rate_ratios.set_index(["adjustment", "term"])
    # Review issue 4: paid_gp (no events) is empty with reason "no_events"; it is left out of
    # the fit, so dedicated_team vs usual_care is still estimated (it used to be empty too).
    paid_gp = rr.xs("paid_gp", level="term")
    assert paid_gp["estimate"].isna().all() and (paid_gp["reason"] == "no_events").all()
    assert rr.xs("dedicated_team", level="term")["estimate"].notna().all()
    assert len(rr) == 4  # both terms still reported
    assert list(rr["dropped_terms"]) == ["", "", "nursing", "nursing"]  # constant: dropped
