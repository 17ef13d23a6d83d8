"""The survival stage against R's survival package on a fixed synthetic dataset.

Data: tests/reference/survival/data.csv (make_data.py, seeded); reference values:
the CSVs beside it, written by reference.R (versions in versions.txt) and, for the
cluster-robust curves, clustered_curves.R (clustered_versions.txt). Times are
multiples of 3 days, so almost every event time is tied.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as t_dist

from optimal_analysis.stats.aalen_johansen import aalen_johansen
from optimal_analysis.stats.cox import fit_cox
from optimal_analysis.stats.km import (
    kaplan_meier,
    km_median,
    restricted_mean,
    restricted_mean_clustered,
)
from optimal_analysis.survival import (
    make_cumulative_incidence,
    make_km,
    make_km_summary,
    make_survival_models,
)

REF = Path(__file__).parent / "reference" / "survival"
COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]
MODELS = ["dedicated_team", "paid_gp", "usual_care"]
# R names the dummies care_model<level> and sexM
R_TERM = {
    "care_modeldedicated_team": "dedicated_team",
    "care_modelpaid_gp": "paid_gp",
    "sexM": "sex_M",
}


def _cohort() -> pd.DataFrame:
    """The reference data in the cohort.parquet layout; death = status 2 (before admission)."""
    d = pd.read_csv(REF / "data.csv")
    out = d.rename(columns={"time": "time_to_admission_days", "status": "admission_status"})
    out["follow_up_days"] = d["time"]
    out["region"] = "one"  # one region: the censoring G of R's finegray
    out["died"] = d["status"] == 2
    out["barthel"] = out["barthel"].astype("Int64")
    out["dementia"] = out["dementia"].astype(bool)
    out["nursing"] = out["nursing"].astype(bool)
    return out


@pytest.fixture(scope="module")
def models():
    return make_survival_models(
        _cohort(), reference="usual_care", covariates=COVARIATES, care_models=MODELS
    )


def test_cumulative_incidence_matches_survfit():
    """Unclustered AJ (one resident per home: R's multi-state survfit IJ), rows as the table."""
    c = _cohort()
    ours = make_cumulative_incidence(c.assign(care_home_id=c["resident_id"]), care_models=MODELS)
    ours = ours[ours["time"] > 0]  # day-0 rows start the curves; R reports none
    ref = pd.read_csv(REF / "aj.csv")
    m = ours.merge(ref, on=["care_model", "event", "time"], suffixes=("", "_r"), validate="1:1")
    assert len(m) == len(ours)  # every day we report is a day R reports
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(m["std_error"], m["std_err"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(m["conf_low"], m["conf_low_r"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(m["conf_high"], m["conf_high_r"], rtol=0, atol=1e-8)
    np.testing.assert_array_equal(m["n_at_risk"], m["n_at_risk_r"])
    # R has a row at every distinct time; ours are exactly the days where either estimate moves
    wide = ref.pivot_table(
        index=["care_model", "time"], columns="event", values="estimate"
    ).sort_index()
    moved = wide.groupby(level="care_model").diff().fillna(wide).ne(0).any(axis=1)
    assert set(moved[moved].index) == set(zip(ours["care_model"], ours["time"], strict=True))


@pytest.mark.parametrize(
    ("outcome", "model", "adjustment"),
    [
        ("emergency_admission", "cox", "crude"),
        ("emergency_admission", "cox", "adjusted"),
        ("death", "cox", "crude"),
        ("death", "cox", "adjusted"),
        ("emergency_admission", "fine_gray", "crude"),
        ("emergency_admission", "fine_gray", "adjusted"),
    ],
)
def test_hazard_ratios_match_coxph(models, outcome, model, adjustment):
    ref = pd.read_csv(REF / "cox.csv")
    ref = ref[
        (ref["outcome"] == outcome) & (ref["model"] == model) & (ref["adjustment"] == adjustment)
    ]
    ref = ref.assign(term=ref["term"].map(lambda t: R_TERM.get(t, t)))
    ours = models.hazard_ratios
    ours = ours[
        (ours["outcome"] == outcome) & (ours["model"] == model) & (ours["adjustment"] == adjustment)
    ]
    m = ours.merge(ref, on="term", suffixes=("", "_r"), validate="1:1")
    assert len(m) == 2
    np.testing.assert_allclose(np.log(m["estimate"]), m["estimate_r"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(m["std_error"], m["robust_se"], rtol=0, atol=1e-4)
    if model == "cox":
        np.testing.assert_allclose(m["std_error_model"], m["naive_se"], rtol=0, atol=1e-4)
    else:  # the inverse IPCW-weighted information is no Fine-Gray variance: not reported
        assert m["std_error_model"].isna().all()
    assert (m["n_events"] == m["n_events_r"]).all()
    if model == "cox":  # finegray's n counts expanded rows
        assert (m["n_residents"] == m["n"]).all()


def test_every_coefficient_and_score_residuals_match_coxph():
    """All adjusted coefficients (not only care model), and R's per-resident score residuals."""
    c = _cohort().dropna(subset=["barthel"])
    from optimal_analysis.rates.models import design_matrix

    x, names = design_matrix(c, levels=MODELS, reference="usual_care", covariates=COVARIATES)
    fit = fit_cox(
        c["time_to_admission_days"], c["admission_status"] == 1, x[:, 1:], cluster=c["care_home_id"]
    )
    ref = pd.read_csv(REF / "cox.csv")
    ref = ref[
        (ref["outcome"] == "emergency_admission")
        & (ref["model"] == "cox")
        & (ref["adjustment"] == "adjusted")
    ]
    np.testing.assert_allclose(fit.coef, ref["estimate"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        np.sqrt(np.diag(fit.robust_cov)), ref["robust_se"], rtol=0, atol=1e-4
    )
    np.testing.assert_allclose(fit.loglik, ref["loglik"].iloc[0], rtol=1e-10)
    fit_plain = fit_cox(c["time_to_admission_days"], c["admission_status"] == 1, x[:, 1:])
    sr = pd.read_csv(REF / "score_residuals.csv")
    assert list(sr["resident_id"]) == list(c["resident_id"])
    np.testing.assert_allclose(
        fit_plain.score_residuals, sr.iloc[:, 1:].to_numpy(), rtol=0, atol=1e-8
    )


def test_ph_tests_match_cox_zph(models):
    ref = pd.read_csv(REF / "zph.csv")
    ref = ref[ref["transform"] == "km"]
    m = models.ph_tests.merge(
        ref, on=["outcome", "adjustment", "term"], suffixes=("", "_r"), validate="1:1"
    )
    assert len(m) == len(models.ph_tests) == len(ref)
    np.testing.assert_allclose(m["chisq"], m["chisq_r"], rtol=1e-8)
    np.testing.assert_array_equal(m["df"], m["df_r"])
    np.testing.assert_allclose(m["p_value"], m["p"], rtol=1e-7)


def test_ph_tests_identity_transform_match_cox_zph():
    ours = make_survival_models(
        _cohort(),
        reference="usual_care",
        covariates=COVARIATES,
        care_models=MODELS,
        ph_transform="identity",
    ).ph_tests
    ref = pd.read_csv(REF / "zph.csv")
    ref = ref[ref["transform"] == "identity"]
    m = ours.merge(ref, on=["outcome", "adjustment", "term"], suffixes=("", "_r"), validate="1:1")
    assert len(m) == len(ref)
    np.testing.assert_allclose(m["chisq"], m["chisq_r"], rtol=1e-8)


def test_km_greenwood_matches_survfit():
    """Unclustered kaplan_meier: R's default Greenwood standard error and log CI."""
    c = _cohort()
    ref = pd.read_csv(REF / "km.csv")
    for model in MODELS:
        sub = c[c["care_model"] == model]
        ours = kaplan_meier(sub["follow_up_days"], sub["died"])
        m = ours.merge(ref[ref["care_model"] == model], on="time", suffixes=("", "_r"),
                       validate="1:1")
        assert len(m) == len(ours)
        for col in ["estimate", "conf_low", "conf_high"]:
            np.testing.assert_allclose(m[col], m[f"{col}_r"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(m["std_error"], m["std_err"], rtol=0, atol=1e-10)
        np.testing.assert_array_equal(m["n_at_risk"], m["n_at_risk_r"])
        rmst, se = restricted_mean(ours, 365)
        r = pd.read_csv(REF / "km_summary.csv").set_index("care_model").loc[model]
        np.testing.assert_allclose([rmst, se], [r["rmst"], r["rmst_se"]], rtol=1e-8)


def test_km_matches_survfit_influence_summed_by_home():
    """km.csv: estimate as survfit; std_error = R's influence.surv summed by care home."""
    ours = make_km(_cohort(), care_models=MODELS)
    ours = ours[ours["time"] > 0]  # day-0 rows start the curves; R reports none
    ref = pd.read_csv(REF / "clustered_km.csv")
    m = ours.merge(ref, on=["care_model", "time"], suffixes=("", "_r"), validate="1:1")
    assert len(m) == len(ours)
    for col in ["estimate", "conf_low", "conf_high"]:
        np.testing.assert_allclose(m[col], m[f"{col}_r"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(m["std_error"], m["std_err_cluster"], rtol=0, atol=1e-10)
    # clustering matters in these data: the clustered SE is not the unclustered IJ one
    assert np.abs(m["std_err_cluster"] - m["std_err_ij"]).max() > 1e-3
    # one resident per home: R's unclustered IJ (sqrt(colSums(influence.surv^2)))
    c = _cohort()
    own = make_km(c.assign(care_home_id=c["resident_id"]), care_models=MODELS)
    mm = own[own["time"] > 0].merge(ref, on=["care_model", "time"], validate="1:1")
    np.testing.assert_allclose(mm["std_error"], mm["std_err_ij"], rtol=0, atol=1e-12)


def test_km_summary_matches_survfit_rmean_clustered():
    ours = make_km_summary(_cohort(), rmst_horizon_days=365, care_models=MODELS)
    ref = pd.read_csv(REF / "km_summary.csv")
    m = ours.merge(ref, on="care_model", validate="1:1").merge(
        pd.read_csv(REF / "clustered_rmst.csv"), on="care_model", suffixes=("", "_cl"),
        validate="1:1",
    )
    assert len(m) == 3
    np.testing.assert_allclose(m["rmst_days"], m["rmst"], rtol=1e-10)
    np.testing.assert_allclose(m["rmst_std_error"], m["rmst_se_cluster"], rtol=1e-10)
    z = 1.959963984540054
    np.testing.assert_allclose(m["rmst_conf_low"], m["rmst"] - z * m["rmst_se_cluster"],
                               rtol=1e-10)
    np.testing.assert_array_equal(m["median_days"], m["median"])
    np.testing.assert_array_equal(m["n_events"], m["events"])
    # the median's limits: where R's clustered confidence curves first reach 1/2
    km = pd.read_csv(REF / "clustered_km.csv")
    for row in m.itertuples():
        curve = km[km["care_model"] == row.care_model]
        expect = km_median(curve)
        np.testing.assert_array_equal(
            [row.median_conf_low, row.median_conf_high], list(expect[1:])
        )


def test_rmst_unclustered_ij_matches_r():
    c = _cohort()
    ref = pd.read_csv(REF / "clustered_rmst.csv").set_index("care_model")
    for model in MODELS:
        sub = c[c["care_model"] == model]
        rmst, se = restricted_mean_clustered(sub["follow_up_days"], sub["died"], None, 365)
        np.testing.assert_allclose([rmst, se], ref.loc[model, ["rmst", "rmst_se_ij"]],
                                   rtol=1e-10)


def test_cumulative_incidence_matches_survfit_influence_summed_by_home():
    """cumulative_incidence.csv: R's influence.pstate summed by care home; unclustered IJ."""
    ours = make_cumulative_incidence(_cohort(), care_models=MODELS)
    ours = ours[ours["time"] > 0]
    ref = pd.read_csv(REF / "clustered_aj.csv")
    m = ours.merge(ref, on=["care_model", "event", "time"], suffixes=("", "_r"), validate="1:1")
    assert len(m) == len(ours)
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m["std_error"], m["std_err_cluster"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m["conf_low"], m["conf_low_r"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m["conf_high"], m["conf_high_r"], rtol=0, atol=1e-12)
    assert np.abs(m["std_err_cluster"] - m["std_err_ij"]).max() > 1e-3
    # small-sample limits: variance x G/(G-1), t(G-1) quantile on the log scale
    g = m["n_homes"].to_numpy(float)
    assert (m["n_clusters"] == m["n_homes"]).all() and set(g) == {6.0}
    half = t_dist.ppf(0.975, g - 1) * m["std_err_cluster"] * np.sqrt(g / (g - 1)) / m["estimate"]
    pos = m["estimate"] > 0
    np.testing.assert_allclose(m.loc[pos, "conf_low_small"],
                               (m["estimate"] * np.exp(-half))[pos], rtol=1e-12)
    np.testing.assert_allclose(m.loc[pos, "conf_high_small"],
                               np.minimum(1, m["estimate"] * np.exp(half))[pos], rtol=1e-12)
    assert (m.loc[pos, "conf_low_small"] < m.loc[pos, "conf_low"]).all()
    c = _cohort()
    for model in MODELS:
        sub = c[c["care_model"] == model]
        aj = aalen_johansen(sub["time_to_admission_days"], sub["admission_status"])
        aj = aj.assign(event=aj["cause"].map({1: "emergency_admission", 2: "death"}))
        mm = aj.merge(ref[ref["care_model"] == model], on=["event", "time"], validate="1:1")
        assert len(mm) == len(aj)
        np.testing.assert_allclose(mm["std_error"], mm["std_err_ij"], rtol=0, atol=1e-12)
