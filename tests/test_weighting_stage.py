"""The weighting stage (make_weights) and the weighted rows of the rate and survival stages.

Data: tests/reference/weighting/data.csv (see its README); R values beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.rates.models import EXPOSURES
from optimal_analysis.rates.weighted import add_e_values, weighted_rate_ratios
from optimal_analysis.survival.weighted import (
    COMMON_OUTCOME,
    add_hazard_e_values,
    weighted_hazard_ratios,
)
from optimal_analysis.weighting import BALANCE_COLUMNS, make_weights

REF = Path(__file__).parent / "reference" / "weighting"
COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]
MODELS = ["dedicated_team", "paid_gp", "usual_care"]


@pytest.fixture(scope="module")
def cohort():
    d = pd.read_csv(REF / "data.csv")
    d["dementia"] = d["dementia"].astype(bool)
    d["nursing"] = d["nursing"].astype(bool)
    d["barthel"] = d["barthel"].astype("Int64")
    # the cohort columns the survival stage reads
    d["time_to_admission_days"] = d["time"]
    d["admission_status"] = d["status"]
    d["follow_up_days"] = d["time"]
    d["died"] = d["status"] == 2
    return d


@pytest.fixture(scope="module")
def overlap(cohort):
    return make_weights(cohort, covariates=COVARIATES, care_models=MODELS, reference="usual_care")


def test_weights_balance_and_summary_match_r(cohort, overlap):
    ref = pd.read_csv(REF / "weights.csv")
    w = overlap.weights.set_index("resident_id").loc[ref["resident_id"]]
    assert len(overlap.weights) == cohort["barthel"].notna().sum() == len(ref)  # complete cases
    np.testing.assert_allclose(w["weight"], ref["w_overlap"], rtol=1e-9)
    for m in MODELS:
        np.testing.assert_allclose(w[f"ps_{m}"], ref[f"ps_{m}"], atol=1e-10)
    bal = overlap.balance
    assert list(bal.columns) == BALANCE_COLUMNS
    smd = pd.read_csv(REF / "smd.csv").replace({"sex_M": "sex"})
    level = {"age": "mean", "sex": "M", "dementia": "yes", "nursing": "yes", "barthel": "mean"}
    for r in smd.itertuples():
        row = bal[(bal["covariate"] == r.covariate) & (bal["level"] == level[r.covariate])
                  & (bal["care_model"] == r.care_model)].iloc[0]
        assert row["smd_crude"] == pytest.approx(r.smd_crude, abs=1e-10)
        assert row["smd_weighted"] == pytest.approx(r.smd_weighted, abs=1e-10)
        assert row["mean_weighted"] == pytest.approx(r.mean_weighted, abs=1e-10)
    # both sex levels shown; reference rows have no SMD; counts by hand
    assert set(bal.loc[bal["covariate"] == "sex", "level"]) == {"F", "M"}
    assert bal.loc[bal["is_reference"], "smd_crude"].isna().all()
    complete = cohort.dropna(subset=["barthel"])
    males = complete[(complete["care_model"] == "paid_gp") & (complete["sex"] == "M")]
    row = bal[(bal["covariate"] == "sex") & (bal["level"] == "M")
              & (bal["care_model"] == "paid_gp")]
    assert int(row["n_level"].iloc[0]) == len(males)
    s = overlap.summary.set_index("care_model")
    w_dt = overlap.weights.loc[overlap.weights["care_model"] == "dedicated_team", "weight"]
    assert s.loc["dedicated_team", "effective_sample_size"] == pytest.approx(
        w_dt.sum() ** 2 / (w_dt**2).sum())
    assert list(s.index) == MODELS
    # overlap table: every resident counted once per score
    ov = overlap.overlap
    assert (ov.groupby("score_of")["residents"].sum() == len(complete)).all()


def test_ipw_options_and_errors(cohort):
    ipw = make_weights(cohort, covariates=COVARIATES, care_models=MODELS, reference="usual_care",
                       method="ipw", stabilise=True, trim=0.05)
    ps = ipw.weights[[f"ps_{m}" for m in ["usual_care", *MODELS[:2]]]].to_numpy()
    trimmed = ps.min(axis=1) < 0.05
    assert trimmed.any() and (ipw.weights.loc[trimmed, "weight"] == 0).all()
    assert (ipw.weights.loc[~trimmed, "weight"] > 0).all()
    assert ipw.summary["method"].iloc[0] == "ipw_stabilised_trim0.05"
    with pytest.raises(ValueError, match="ipw weights only"):
        make_weights(cohort, covariates=COVARIATES, care_models=MODELS, reference="usual_care",
                     trim=0.05)
    with pytest.raises(ValueError, match="method"):
        make_weights(cohort, covariates=COVARIATES, care_models=MODELS, reference="usual_care",
                     method="entropy")


def test_weighted_rate_rows_match_r(cohort, overlap):
    rows = weighted_rate_ratios(
        cohort, overlap.weights, outcomes=["emergency_admission"], levels=MODELS,
        reference="usual_care", exposures={"person_years": EXPOSURES["person_years"]},
        few_clusters_threshold=30,
    )
    ref = pd.read_csv(REF / "weighted.csv").query("weights == 'overlap'")
    for model in ["poisson", "negbin"]:
        got = rows[rows["model"] == model].set_index("term")
        r = ref[ref["model"] == model].set_index("term")
        for term in MODELS[:2]:
            assert np.log(got.loc[term, "estimate"]) == pytest.approx(r.loc[term, "estimate"],
                                                                      abs=1e-8)
            assert got.loc[term, "std_error"] == pytest.approx(r.loc[term, "std_error"], abs=1e-8)
    assert (rows["adjustment"] == "weighted").all()
    assert (rows["n_dropped"] == len(cohort) - len(overlap.weights)).all()
    ev = add_e_values(rows)
    rr = ev["estimate"].to_numpy()
    star = np.maximum(rr, 1 / rr)
    np.testing.assert_allclose(ev["e_value"], star + np.sqrt(star * (star - 1)))


def test_weighted_hazard_rows_match_r(cohort, overlap):
    cols = ["outcome", "model", "adjustment", "term", "estimate", "std_error", "conf_low",
            "conf_high", "n_residents", "n_events", "small_sample_method"]
    one_region = cohort.assign(region="all")  # R's finegray: one censoring distribution
    rows = weighted_hazard_ratios(one_region, overlap.weights, levels=MODELS,
                                  reference="usual_care", columns=cols, few_clusters_threshold=30)
    ref = pd.read_csv(REF / "weighted.csv").query("weights == 'overlap'")
    for model, r_model in [("cox", "cox"), ("fine_gray", "finegray")]:
        got = rows[(rows["outcome"] == "emergency_admission") & (rows["model"] == model)]
        r = ref[ref["model"] == r_model].set_index("term")
        for g in got.itertuples():
            assert np.log(g.estimate) == pytest.approx(r.loc[g.term, "estimate"], abs=1e-8)
            assert g.std_error == pytest.approx(r.loc[g.term, "std_error"], abs=1e-8)
    assert set(rows["small_sample_method"]) == {"t(G-1)"}
    # common outcome: E-value of the HR put on the risk-ratio scale first
    ev = add_hazard_e_values(rows)
    first = ev.iloc[0]
    assert first["n_events"] / first["n_residents"] > COMMON_OUTCOME
    h = first["estimate"]
    rr = (1 - 0.5 ** np.sqrt(h)) / (1 - 0.5 ** np.sqrt(1 / h))
    rs = max(rr, 1 / rr)
    assert first["e_value"] == pytest.approx(rs + np.sqrt(rs * (rs - 1)))


def test_separation_gives_zero_weight_to_residents_without_counterpart(cohort):
    """Nursing homes never under usual care: their residents have P(usual care) -> 0."""
    d = cohort[~((cohort["care_model"] == "usual_care") & cohort["nursing"])]
    res = make_weights(d, covariates=COVARIATES, care_models=MODELS, reference="usual_care")
    w = res.weights.merge(d[["resident_id", "nursing"]], on="resident_id")
    assert (w.loc[w["nursing"], "weight"] == 0).all()
    assert (w.loc[~w["nursing"], "weight"] > 0).all()
    s = res.summary.set_index("care_model")
    assert not s["converged"].any()
    assert s["n_no_overlap"].sum() == int(w["nursing"].sum())
    # the weighted groups hold no nursing-home residents: nursing balanced at 0
    nursing = res.balance[res.balance["covariate"] == "nursing"]
    assert (nursing["mean_weighted"] == 0).all()


def test_survival_tables_carry_weighted_curves_matching_r(cohort, overlap):
    from optimal_analysis.survival import make_survival_tables

    tables = make_survival_tables(
        cohort, reference="usual_care", covariates=COVARIATES, at_risk_days=[0, 90],
        rmst_horizon_days=180, few_clusters_threshold=30, rng=np.random.default_rng(1),
        wild_bootstrap_replicates=99, care_models=MODELS,
        ps_weights=overlap.weights[["resident_id", "weight"]],
    )
    ci = tables["cumulative_incidence"]
    assert list(ci.columns[:3]) == ["care_model", "event", "adjustment"]
    assert set(ci["adjustment"]) == {"crude", "weighted"}
    ref = pd.read_csv(REF / "aj.csv").assign(
        event=lambda t: t["cause"].map({1: "emergency_admission", 2: "death"}))
    got = ci[ci["adjustment"] == "weighted"].merge(ref, on=["care_model", "event", "time"],
                                                   suffixes=("", "_r"))
    assert len(got) > 100
    np.testing.assert_allclose(got["estimate"], got["estimate_r"], atol=1e-12)
    np.testing.assert_allclose(got["std_error"], got["std_error_r"], atol=1e-12)
    hr = tables["hazard_ratios"]
    assert {"crude", "adjusted", "weighted"} == set(hr["adjustment"])
    assert hr["e_value"].notna().all() and (hr["e_value"] >= 1).all()
