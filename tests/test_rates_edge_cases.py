"""Rate models on degenerate data: every problem gives NaN rows with a ``reason``, never a
silently different comparison or a crash (statistical review, issues 1-6)."""

import logging

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimal_analysis.figures.rates import plot_rate_ratios
from optimal_analysis.rates import make_crude_rates
from optimal_analysis.rates.models import make_rate_models

LEVELS = ["dedicated_team", "paid_gp", "usual_care"]
COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]
ESTIMATES = ["estimate", "std_error", "conf_low", "conf_high", "p_value"]


def _cohort() -> pd.DataFrame:
    # 24 residents, 4 per home, 1 person-year each; two homes per care model.
    #   dedicated_team h1 [1,0,2,1] + h2 [0,1,0,1] = 6 events / 8 PY -> 0.75
    #   paid_gp        h3 [1,1,0,0] + h4 [0,1,1,0] = 4 events / 8 PY -> 0.50
    #   usual_care     h5 [2,1,1,0] + h6 [1,2,0,1] = 8 events / 8 PY -> 1.00
    # Crude Poisson rate ratios vs usual_care (care model only: the MLE fits each crude rate):
    #   dedicated_team 0.75, paid_gp 0.50.
    homes = np.repeat(["h1", "h2", "h3", "h4", "h5", "h6"], 4)
    model = np.repeat(["dedicated_team", "paid_gp", "usual_care"], 8)
    region = np.repeat(["r1", "r2", "r3"], 8)
    counts = [1, 0, 2, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 2, 1, 1, 0, 1, 2, 0, 1]
    i = np.arange(24)
    return pd.DataFrame(
        {
            "resident_id": [f"p{k:02d}" for k in i],
            "region": region,
            "care_home_id": homes,
            "care_model": model,
            "nursing": i % 3 == 0,
            "sex": np.where(i % 2 == 0, "F", "M"),
            "age": 80.0 + (i * 7) % 13,
            "dementia": i % 4 < 2,
            "barthel": pd.array((i * 5) % 21, dtype="Int64"),
            "person_years": 1.0,
            "days_at_risk": 365,
            "emergency_admission": counts,
        }
    )


def _fit(cohort: pd.DataFrame, **kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    args = dict(
        reference="usual_care",
        covariates=COVARIATES,
        outcomes=["emergency_admission"],
        few_clusters_threshold=0,
        wild_bootstrap_replicates=9,
        rng=np.random.default_rng(1),
        care_models=LEVELS,
        exposures=["person_years"],
        models=["poisson"],
    )
    out = make_rate_models(cohort, **{**args, **kw})
    rr = out.rate_ratios.set_index(["adjustment", "term"]).sort_index()
    std = out.standardised_rates.set_index(["adjustment", "care_model", "measure"]).sort_index()
    return rr, std


def test_reference_without_complete_cases_gives_nan_rows_not_a_new_reference(caplog):
    # Issue 1: barthel missing throughout usual_care. Before the fix the paid_gp column became
    # collinear with the intercept, was dropped as aliased and silently became the reference:
    # the "dedicated_team vs usual_care" row was dedicated_team vs paid_gp (here 1.496, near
    # the crude 0.75 / 0.50 = 1.5) and the paid_gp row was missing.
    cohort = _cohort()
    cohort.loc[cohort["care_model"] == "usual_care", "barthel"] = pd.NA
    with caplog.at_level(logging.WARNING):
        rr, std = _fit(cohort)
    adjusted = rr.loc["adjusted"]
    assert adjusted[ESTIMATES].isna().all().all()
    assert (adjusted["reason"] == "no_reference_residents").all()
    assert set(adjusted.index) == {"dedicated_team", "paid_gp"}
    assert std.loc["adjusted", "estimate"].isna().all()
    assert (std.loc["adjusted", "reason"] == "no_reference_residents").all()
    assert "usual_care" in caplog.text
    # The crude model is unaffected: closed-form ratios of crude rates (see _cohort).
    assert rr.loc[("crude", "dedicated_team"), "estimate"] == pytest.approx(0.75, rel=1e-9)
    assert rr.loc[("crude", "paid_gp"), "estimate"] == pytest.approx(0.50, rel=1e-9)
    assert (rr.loc["crude", "reason"] == "").all()


def test_single_home_care_model_has_no_cluster_robust_se():
    # Issue 2: paid_gp in one home (h4 -> h3). Its cluster's score for the paid_gp indicator
    # sums to zero at the MLE, so the CR1 variance of that term had no between-home part: here
    # (crude Poisson, all of paid_gp's residual in one cluster) it was exactly 0, CI 0.5-0.5.
    cohort = _cohort()
    cohort["care_home_id"] = cohort["care_home_id"].replace("h4", "h3")
    rr, std = _fit(cohort, covariates=[])
    pg, dt = rr.loc[("crude", "paid_gp")], rr.loc[("crude", "dedicated_team")]
    assert pg["estimate"] == pytest.approx(0.50, rel=1e-9)  # 4/8 over 8/8: kept
    assert pg[["std_error", "conf_low", "conf_high", "p_value"]].isna().all()
    assert pg["reason"] == "single_cluster" and pg["n_clusters_comparison"] == 3
    assert np.isfinite(dt["std_error"]) and dt["reason"] == ""
    # Standardised: paid_gp's rate (500 per 1,000) kept, its SEs empty; the others' kept.
    assert std.loc[("crude", "paid_gp", "rate"), "estimate"] == pytest.approx(500, rel=1e-9)
    assert np.isnan(std.loc[("crude", "paid_gp", "rate"), "std_error"])
    assert np.isnan(std.loc[("crude", "paid_gp", "rate_difference"), "std_error"])
    assert np.isfinite(std.loc[("crude", "usual_care", "rate"), "std_error"])
    assert np.isfinite(std.loc[("crude", "dedicated_team", "rate_difference"), "std_error"])


def test_no_complete_cases_at_all_gives_nan_adjusted_rows_and_runs_on(caplog):
    # Issue 3: barthel missing for everyone used to crash (IndexError in the GLM fit).
    cohort = _cohort().assign(barthel=pd.array([pd.NA] * 24, dtype="Int64"))
    with caplog.at_level(logging.WARNING):
        rr, std = _fit(cohort)
    adjusted = rr.loc["adjusted"]
    assert adjusted[ESTIMATES].isna().all().all()
    assert (adjusted["reason"] == "no_complete_cases: barthel").all()
    assert (adjusted["n_residents"] == 0).all() and (adjusted["n_dropped"] == 24).all()
    assert (std.loc["adjusted", "reason"] == "no_complete_cases: barthel").all()
    assert "barthel" in caplog.text
    assert rr.loc[("crude", "dedicated_team"), "estimate"] == pytest.approx(0.75, rel=1e-9)


def test_no_complete_cases_names_partly_missing_covariates_when_none_is_all_missing():
    # barthel missing for even residents, age for odd ones: nobody complete, neither all-missing.
    cohort = _cohort()
    cohort.loc[cohort.index % 2 == 0, "barthel"] = pd.NA
    cohort.loc[cohort.index % 2 == 1, "age"] = np.nan
    rr, _ = _fit(cohort)
    assert (rr.loc["adjusted", "reason"] == "no_complete_cases: age, barthel").all()


def test_zero_events_in_one_care_model_keeps_the_other_contrasts():
    # Issue 4: paid_gp has no events. Its term is NaN ("no_events"); the model is fitted without
    # its residents, so dedicated_team vs usual_care is still 0.75 (6/8 over 8/8) and the
    # standardised crude rates are the crude rates: 750 and 1000 per 1,000 resident-years.
    cohort = _cohort()
    cohort.loc[cohort["care_model"] == "paid_gp", "emergency_admission"] = 0
    rr, std = _fit(cohort, models=["poisson", "negbin"])
    for model in ["poisson", "negbin"]:
        m = rr[rr["model"] == model]
        pg = m.loc[("crude", "paid_gp")]
        assert pg[ESTIMATES].isna().all() and pg["reason"] == "no_events"
        dt = m.loc[("crude", "dedicated_team")]
        assert dt["reason"] == "" and np.isfinite(dt["std_error"])
        assert dt["n_residents"] == 16 and dt["n_clusters"] == 4
        assert np.isfinite(m.loc[("adjusted", "dedicated_team"), "estimate"])
    poisson = rr[rr["model"] == "poisson"]
    assert poisson.loc[("crude", "dedicated_team"), "estimate"] == pytest.approx(0.75, rel=1e-9)
    s = std[std["model"] == "poisson"]
    assert s.loc[("crude", "dedicated_team", "rate"), "estimate"] == pytest.approx(750, rel=1e-9)
    assert s.loc[("crude", "usual_care", "rate"), "estimate"] == pytest.approx(1000, rel=1e-9)
    assert s.loc[("crude", "paid_gp", "rate"), "reason"] == "no_events"
    assert np.isnan(s.loc[("crude", "paid_gp", "rate"), "estimate"])


def test_reference_without_events_gives_nan_rows():
    cohort = _cohort()
    cohort.loc[cohort["care_model"] == "usual_care", "emergency_admission"] = 0
    rr, _ = _fit(cohort, covariates=[])
    assert rr["estimate"].isna().all() and (rr["reason"] == "no_reference_events").all()


def test_dropped_covariates_are_listed_and_lost_care_model_is_a_nan_row():
    # Issue 5: nursing constant (aliased with the intercept) and dementia identical to the
    # dedicated_team indicator are dropped: dropped_terms "dementia;nursing" (covariate order).
    cohort = _cohort()
    cohort["nursing"] = True
    cohort["dementia"] = cohort["care_model"] == "dedicated_team"
    rr, std = _fit(cohort)
    assert (rr.loc["adjusted", "dropped_terms"] == "dementia;nursing").all()
    assert (rr.loc["crude", "dropped_terms"] == "").all()
    assert (std.loc["adjusted", "dropped_terms"] == "dementia;nursing").all()
    # paid_gp loses every complete case: a NaN row (not omitted); dedicated_team estimable.
    cohort = _cohort()
    cohort.loc[cohort["care_model"] == "paid_gp", "barthel"] = pd.NA
    rr, std = _fit(cohort)
    pg = rr.loc[("adjusted", "paid_gp")]
    assert pg[ESTIMATES].isna().all() and pg["reason"] == "no_residents"
    assert rr.loc[("adjusted", "dedicated_team"), "reason"] == ""
    assert np.isfinite(rr.loc[("adjusted", "dedicated_team"), "std_error"])
    assert rr.loc[("adjusted", "dedicated_team"), "n_residents"] == 16
    assert std.loc[("adjusted", "paid_gp", "rate"), "reason"] == "no_residents"


def test_t_df_is_fitted_model_clusters_minus_one_and_region_on_analysed_subset():
    # Issue 12: one definition of G - 1 for rates and survival, G = the homes in the fitted
    # model: the crude model has 6 homes, so t has 5 df although dedicated_team vs
    # usual_care has 2 + 2 = 4 homes (issue 6 used 3 df: p_value_t 0.3651 with t(3), is
    # 0.3357 with t(5)).
    # h1 (dedicated_team) and h5 (usual_care) share region r1, but every h5 resident lacks
    # barthel: in the adjusted (complete-case) analysis the two never share a region.
    cohort = _cohort()
    cohort.loc[cohort["care_home_id"].isin(["h1", "h5"]), "region"] = "r1"
    cohort.loc[cohort["care_home_id"] == "h5", "barthel"] = pd.NA
    rr, _ = _fit(cohort, covariates=["age", "barthel"], few_clusters_threshold=99)
    row = rr.loc[("crude", "dedicated_team")]
    assert row["n_clusters_comparison"] == 4 and row["n_clusters"] == 6
    z = abs(np.log(row["estimate"]) / row["std_error"])
    assert row["p_value_t"] == pytest.approx(2 * stats.t.sf(z, 5), rel=1e-12)
    assert row["p_value_t"] == pytest.approx(0.3357, abs=5e-5)
    assert row["conf_high_t"] == pytest.approx(
        row["estimate"] * np.exp(stats.t.ppf(0.975, 5) * row["std_error"]), rel=1e-12
    )
    assert not row["region_confounded"]
    adjusted = rr.loc[("adjusted", "dedicated_team")]
    assert adjusted["region_confounded"] and adjusted["n_clusters_comparison"] == 3
    assert adjusted["reason"] == "single_cluster"  # usual_care is left with h6 only


def test_forest_plot_marks_rows_that_are_not_estimable():
    base = {"outcome": "ae", "model": "poisson", "n_clusters": 6, "few_clusters": False}
    rows = [
        dict(base, adjustment="crude", term="dedicated_team", estimate=0.8, conf_low=0.6,
             conf_high=1.1, n_residents=20, reason=""),
        dict(base, adjustment="crude", term="paid_gp", estimate=0.5, conf_low=np.nan,
             conf_high=np.nan, n_residents=20, reason="single_cluster"),
        dict(base, adjustment="adjusted", term="dedicated_team", estimate=np.nan,
             conf_low=np.nan, conf_high=np.nan, n_residents=0, reason="no_complete_cases: x"),
    ]  # fmt: skip
    ax = plot_rate_ratios(pd.DataFrame(rows))
    texts = [t.get_text() for t in ax.texts]
    assert any("not estimable (no_complete_cases: x)" in t for t in texts)
    assert any("no CI (single_cluster)" in t for t in texts)
    plt.close(ax.figure)


def test_crude_rates_skip_a_configured_care_model_without_residents():
    # A care model in config with no residents has no row (no rate to give), rather than 0/0.
    cohort = _cohort().assign(died=False, elective_admission=0, ae=0, ambulance=0, bed_days=0)
    cohort = cohort[cohort["care_model"] != "paid_gp"]
    out = make_crude_rates(cohort, care_models=LEVELS, outcomes=["emergency_admission"])
    assert list(out["care_model"]) == ["dedicated_team", "usual_care", "all"]
    assert list(out["rate"]) == pytest.approx([0.75, 1.0, 14 / 16])
