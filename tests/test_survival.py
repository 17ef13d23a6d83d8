"""Survival stage: hand-computed fixtures, identities, properties and error paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimal_analysis.stats.aalen_johansen import aalen_johansen
from optimal_analysis.stats.cox import fit_cox, fit_fine_gray
from optimal_analysis.stats.km import (
    kaplan_meier,
    km_median,
    restricted_mean,
    restricted_mean_clustered,
)
from optimal_analysis.survival import (
    make_at_risk,
    make_cumulative_incidence,
    make_km,
    make_km_summary,
    make_survival_models,
)
from optimal_analysis.survival.inference import small_sample_inference
from optimal_analysis.tidy import wald_inference

# Eight residents, tied daily data (status 1 admission, 2 death, 0 censored):
#   day 2: A admitted, B died, C censored     day 3: D, E admitted
#   day 5: F died, G censored                 day 7: H admitted
TINY = pd.DataFrame({"time": [2, 2, 2, 3, 3, 5, 5, 7], "status": [1, 2, 0, 1, 1, 2, 0, 1]})


def _cohort(frame: pd.DataFrame, model: str = "usual_care") -> pd.DataFrame:
    n = len(frame)
    return pd.DataFrame(
        {
            "resident_id": [f"{model}-{i}" for i in range(n)],
            "region": "north",
            "care_model": model,
            "care_home_id": [f"{model}-h{i % 3}" for i in range(n)],
            "time_to_admission_days": frame["time"].to_numpy(),
            "admission_status": frame["status"].to_numpy().astype("int8"),
            "follow_up_days": frame["time"].to_numpy(),
            "died": frame["status"].to_numpy() == 2,
        }
    )


def test_cumulative_incidence_tied_days_by_hand():
    # Textbook Aalen–Johansen, all events of a day together:
    # day 2: n = 8, one admission, one death: F1 = 1/8 = 0.125, F2 = 0.125, S = 6/8 = 0.75
    # day 3: n = 5 (C left censored), two admissions: F1 = 0.125 + 0.75 * 2/5 = 0.425, S = 0.45
    # day 5: n = 3, one death: F2 = 0.125 + 0.45 * 1/3 = 0.275, S = 0.45 * 2/3 = 0.3
    # day 7: n = 1, one admission: F1 = 0.425 + 0.3 * 1 = 0.725, S = 0; F1 + F2 + S = 1.
    # (1 - Kaplan–Meier of admission would give 1 at day 7, overstating the risk.)
    table = make_cumulative_incidence(_cohort(TINY))
    day0 = table[table["time"] == 0]  # the curve start: 0, everyone at risk
    assert (day0["estimate"] == 0).all() and (day0["n_at_risk"] == 8).all() and len(day0) == 2
    table = table[table["time"] > 0]
    adm = table[table["event"] == "emergency_admission"].set_index("time")
    death = table[table["event"] == "death"].set_index("time")
    assert list(adm.index) == [2, 3, 5, 7]  # every day where either estimate moves
    np.testing.assert_allclose(adm["estimate"], [0.125, 0.425, 0.425, 0.725], rtol=0, atol=1e-15)
    np.testing.assert_allclose(death["estimate"], [0.125, 0.125, 0.275, 0.275], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(adm["n_at_risk"], [8, 5, 3, 1])


def test_cumulative_incidence_without_competing_events_is_one_minus_km():
    rng = np.random.default_rng(3)
    t = rng.integers(1, 40, 200)
    status = np.where(rng.random(200) < 0.7, 1, 0)
    aj = aalen_johansen(t, status, causes=(1,))
    km = kaplan_meier(t, status == 1)
    np.testing.assert_allclose(aj["estimate"], 1 - km["estimate"], atol=1e-14)


def test_cumulative_incidences_and_survival_add_to_one():
    rng = np.random.default_rng(4)
    t = rng.integers(1, 60, 300)
    status = rng.choice([0, 1, 2], 300, p=[0.2, 0.5, 0.3])
    aj = aalen_johansen(t, status)
    km = kaplan_meier(t, status > 0)
    total = aj.pivot(index="time", columns="cause", values="estimate").sum(axis=1).to_numpy()
    np.testing.assert_allclose(total + km["estimate"].to_numpy(), 1, atol=1e-14)


def test_km_median_and_rmst_by_hand():
    # deaths at days 2, 4 (n = 4, 3): S = 3/4 on [2, 4), 1/2 from day 4; censored 5, 6.
    # S = 1/2 exactly on a flat step to the end: no later drop, so the median is day 4.
    # RMST to 6: 2 * 1 + 2 * 3/4 + 2 * 1/2 = 4.5 days.
    km = kaplan_meier([2, 4, 5, 6], [True, True, False, False])
    assert km_median(km)[0] == 4
    assert restricted_mean(km, 6)[0] == pytest.approx(4.5, abs=1e-14)
    # deaths at 2, 4, 8 among 4: S = 1/2 on [4, 8) then 1/4: median (4 + 8) / 2 = 6 (R's rule)
    km2 = kaplan_meier([2, 4, 8, 9], [True, True, True, False])
    assert km_median(km2)[0] == 6


def _two_models(seed: int = 7, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for model, scale in [("usual_care", 100.0), ("dedicated_team", 140.0)]:
        t_adm, t_death = rng.exponential(scale, n), rng.exponential(200.0, n)
        t = np.ceil(np.minimum.reduce([t_adm, t_death, np.full(n, 365.0)])).astype(int)
        status = np.select([t_adm <= np.minimum(t_death, 365), t_death <= 365], [1, 2], 0)
        c = _cohort(pd.DataFrame({"time": t, "status": status}), model)
        c["care_home_id"] = [f"{model}-h{i % 10}" for i in range(n)]
        frames.append(c)
    out = pd.concat(frames, ignore_index=True)
    out["age"] = rng.normal(85, 6, len(out))
    out["sex"] = rng.choice(["F", "M"], len(out))
    out["barthel"] = pd.array(rng.integers(0, 21, len(out)), dtype="Int64")
    out.loc[rng.random(len(out)) < 0.1, "barthel"] = pd.NA
    return out


def test_tables_do_not_depend_on_row_order():
    c = _two_models()
    shuffled = c.sample(frac=1, random_state=1).reset_index(drop=True)
    kw = {"reference": "usual_care", "covariates": ["age", "sex", "barthel"]}
    a, b = make_survival_models(c, **kw), make_survival_models(shuffled, **kw)
    pd.testing.assert_frame_equal(a.hazard_ratios, b.hazard_ratios, rtol=1e-10)
    pd.testing.assert_frame_equal(a.ph_tests, b.ph_tests, rtol=1e-8)
    pd.testing.assert_frame_equal(make_cumulative_incidence(c), make_cumulative_incidence(shuffled))
    pd.testing.assert_frame_equal(make_km(c), make_km(shuffled))


def test_hazard_ratio_table_shape_and_complete_cases():
    c = _two_models()
    hr = make_survival_models(
        c,
        reference="usual_care",
        covariates=["age", "sex", "barthel"],
        care_models=["dedicated_team", "paid_gp", "usual_care"],
    ).hazard_ratios
    assert len(hr) == 6  # 3 outcome x model pairs x 2 adjustments x 1 care-model term
    assert set(hr["term"]) == {"dedicated_team"}
    adjusted = hr[hr["adjustment"] == "adjusted"]
    assert (adjusted["n_residents"] == c["barthel"].notna().sum()).all()
    assert (hr["n_clusters"] == 20).all()
    # the crude Cox row against the engine called directly, and its normal-quantile Wald CI
    crude = hr[(hr["model"] == "cox") & (hr["adjustment"] == "crude")].set_index("outcome")
    x = (c["care_model"] == "dedicated_team").to_numpy(float)
    for outcome, time, event in [
        ("emergency_admission", c["time_to_admission_days"], c["admission_status"] == 1),
        ("death", c["follow_up_days"], c["died"]),
    ]:
        fit = fit_cox(time, event, x, cluster=c["care_home_id"])
        se = np.sqrt(fit.robust_cov[0, 0])
        row = crude.loc[outcome]
        assert np.log(row["estimate"]) == pytest.approx(fit.coef[0], abs=1e-12)
        assert row["std_error"] == pytest.approx(se, rel=1e-12)
        assert row["conf_low"] == pytest.approx(np.exp(fit.coef[0] - 1.959963984540054 * se))
        assert row["conf_high"] == pytest.approx(np.exp(fit.coef[0] + 1.959963984540054 * se))
    # the admission hazard is lower under dedicated_team (scale 140 vs 100 days)
    crude_cox = hr[
        (hr["outcome"] == "emergency_admission")
        & (hr["model"] == "cox")
        & (hr["adjustment"] == "crude")
    ]
    assert crude_cox["estimate"].iloc[0] == pytest.approx(100 / 140, rel=0.15)


def test_at_risk_counts_by_hand():
    # admission scale: times 2,2,2,3,3,5,5,7
    # -> day 0: 8, day 3: 5 (time >= 3), day 6: 1, day 8: 0
    at = make_at_risk(_cohort(TINY), days=[0, 3, 6, 8])
    adm = at[at["scale"] == "admission"]
    assert list(adm["n_at_risk"]) == [8, 5, 1, 0]


def test_km_summary_rmst_is_the_sum_of_daily_survival():
    # whole-day times: S is constant on [d, d + 1), so RMST to 365 = sum_{d=0}^{364} S(d),
    # S(d) the last KM estimate at or before day d (1 before the first death)
    c = _two_models()
    s = make_km_summary(c, rmst_horizon_days=365).set_index("care_model")
    assert list(s.index) == ["dedicated_team", "usual_care"]
    for model in s.index:
        sub = c[c["care_model"] == model]
        km = kaplan_meier(sub["follow_up_days"], sub["died"])
        idx = np.searchsorted(km["time"].to_numpy(), np.arange(365), side="right")
        daily = np.r_[1.0, km["estimate"].to_numpy()][idx]
        assert s.loc[model, "rmst_days"] == pytest.approx(daily.sum(), abs=1e-9)
        se = s.loc[model, "rmst_std_error"]
        assert s.loc[model, "rmst_conf_low"] == pytest.approx(
            s.loc[model, "rmst_days"] - 1.959963984540054 * se, abs=1e-9
        )


def test_bad_cohort_is_named_completely():
    c = _cohort(TINY)
    c.loc[0, "admission_status"] = 5
    c.loc[1, "time_to_admission_days"] = 0
    with pytest.raises(
        ValueError, match=r"admission_status values \[5\].*time_to_admission_days has missing"
    ):
        make_cumulative_incidence(c)
    with pytest.raises(ValueError, match="lacks column"):
        make_km(c.drop(columns=["died", "follow_up_days"]))
    with pytest.raises(ValueError, match="reference care model 'paid_gp' has no residents"):
        make_survival_models(_two_models(), reference="paid_gp", covariates=[])
    with pytest.raises(ValueError, match="ph_transform must be 'km' or 'identity', not 'log'"):
        make_survival_models(
            _two_models(), reference="usual_care", covariates=[], ph_transform="log"
        )


def _weighted_curves(t, status, w):
    """Weighted KM (any event) and AJ (causes 1, 2) per row of weights w."""
    u = np.unique(t)
    at_risk = (t[None, :] >= u[:, None]).astype(float)  # times x residents
    on = (t[None, :] == u[:, None]).astype(float)
    n = w @ at_risk.T  # weightings x times
    d = [w @ (on * (status == k)).T for k in (1, 2)]
    lam = [dk / n for dk in d]
    surv = np.cumprod(1 - lam[0] - lam[1], axis=1)
    before = np.hstack([np.ones((w.shape[0], 1)), surv[:, :-1]])
    return u, surv, [np.cumsum(before * lk, axis=1) for lk in lam]


def _numerical_influence(t, status, eps=1e-6):
    """dEstimate/dw_i by central differences of the case-weighted estimators (an oracle)."""
    n = t.size
    up = _weighted_curves(t, status, np.ones((n, n)) + eps * np.eye(n))
    down = _weighted_curves(t, status, np.ones((n, n)) - eps * np.eye(n))
    km = (up[1] - down[1]) / (2 * eps)
    aj = [(a - b) / (2 * eps) for a, b in zip(up[2], down[2], strict=True)]
    return up[0], km, aj


@pytest.mark.parametrize("seed", [3, 4])
def test_clustered_curve_se_equal_home_sums_of_numerical_influence(seed):
    """AJ, KM and RMST clustered SEs vs home sums of numerically differentiated influence."""
    rng = np.random.default_rng(seed)
    t = rng.integers(1, 15, 45).astype(float)
    status = rng.choice([0, 1, 2], 45, p=[0.3, 0.4, 0.3])
    status[t == t.max()] = 2  # everyone still at risk at the last time dies: S reaches 0
    home = rng.integers(0, 7, 45)
    u, km_infl, aj_infl = _numerical_influence(t, status)
    for cluster, groups in ((home, 7), (np.arange(45), 45)):  # one resident per home: plain IJ
        aj = aalen_johansen(t, status, cluster=cluster)
        for k in (1, 2):
            v = np.zeros((groups, u.size))
            np.add.at(v, cluster, aj_infl[k - 1])
            np.testing.assert_allclose(aj.loc[aj["cause"] == k, "std_error"],
                                       np.sqrt((v**2).sum(axis=0)), rtol=1e-7, atol=1e-9)
        km = kaplan_meier(t, status > 0, cluster=cluster)
        v = np.zeros((groups, u.size))
        np.add.at(v, cluster, km_infl)
        se = np.sqrt((v**2).sum(axis=0))
        np.testing.assert_allclose(km["std_error"].fillna(0), se, rtol=1e-7, atol=1e-9)
        tau = 10.5
        width = np.diff(np.r_[u[u <= tau], tau])
        v = np.zeros(groups)
        np.add.at(v, cluster, km_infl[:, u <= tau] @ width)
        _, se_rmst = restricted_mean_clustered(t, status > 0, cluster, tau)
        np.testing.assert_allclose(se_rmst, np.sqrt((v**2).sum()), rtol=1e-7)


def test_one_resident_per_home_gives_the_unclustered_ij_exactly():
    rng = np.random.default_rng(8)
    t = rng.integers(1, 200, 3000).astype(float)
    status = rng.choice([0, 1, 2], 3000, p=[0.3, 0.4, 0.3])
    ids = np.array([f"R{i}" for i in range(3000)])
    a = aalen_johansen(t, status, cluster=ids)
    b = aalen_johansen(t, status)
    np.testing.assert_array_equal(a["std_error"], b["std_error"])
    # and both equal the brute-force sum of squared per-resident influence values
    _, _, aj_infl = _numerical_influence(t[:300], status[:300])
    c = aalen_johansen(t[:300], status[:300], cluster=ids[:300])
    np.testing.assert_allclose(c.loc[c["cause"] == 1, "std_error"],
                               np.sqrt((aj_infl[0] ** 2).sum(axis=0)), rtol=1e-6, atol=1e-9)


# --- small-sample inference ---------------------------------------------------------------


def _homes_cohort(seed: int, n_homes: int, log_hr: float, per_home: int = 40) -> pd.DataFrame:
    """``n_homes`` homes, alternately usual_care / dedicated_team, exponential admissions
    (log hazard ratio ``log_hr``), deaths competing, censoring at 365 days."""
    rng = np.random.default_rng(seed)
    home = np.repeat(np.arange(n_homes), per_home)
    treated = home % 2 == 1
    n = home.size
    t_adm = rng.exponential(200 * np.exp(-log_hr * treated))
    t_death = rng.exponential(400, n)
    t = np.ceil(np.minimum.reduce([t_adm, t_death, np.full(n, 365.0)])).astype(int)
    status = np.select([t_adm <= np.minimum(t_death, 365), t_death <= 365], [1, 2], 0)
    frame = pd.DataFrame({"time": t, "status": status})
    c = _cohort(frame)
    c["care_model"] = np.where(treated, "dedicated_team", "usual_care")
    c["care_home_id"] = [f"h{h}" for h in home]
    return c


def _models(
    c: pd.DataFrame, seed: int | None = 1, replicates: int = 499, threshold: int = 30
) -> pd.DataFrame:
    return make_survival_models(
        c,
        reference="usual_care",
        covariates=[],
        few_clusters_threshold=threshold,
        rng=None if seed is None else np.random.default_rng(seed),
        wild_bootstrap_replicates=replicates,
    ).hazard_ratios.set_index(["outcome", "model", "adjustment"])


def test_small_sample_interval_is_t_on_the_scaled_robust_se():
    # G = 20 homes in every fit: se * sqrt(20/19), t(19) quantiles (tidy.wald_inference)
    hr = _models(_two_models(), seed=None, threshold=20)  # 20 homes: not few, t(G-1)
    g = hr["n_clusters"].to_numpy(float)
    assert (g == 20).all() and (hr["df_small"] == 19).all()
    low, high, p = wald_inference(np.log(hr["estimate"]), hr["std_error"] * np.sqrt(20 / 19), df=19)
    np.testing.assert_allclose(hr["conf_low_small"], np.exp(low), rtol=1e-12)
    np.testing.assert_allclose(hr["conf_high_small"], np.exp(high), rtol=1e-12)
    np.testing.assert_allclose(hr["p_value_small"], p, rtol=1e-12)
    assert hr["p_value_wild"].isna().all() and (hr["small_sample_method"] == "t(G-1)").all()
    # by hand for one row: t(19) 97.5% quantile 2.093024054408263
    row = hr.iloc[0]
    se = row["std_error"] * np.sqrt(20 / 19)
    assert row["conf_high_small"] == pytest.approx(
        row["estimate"] * np.exp(2.093024054408263 * se), rel=1e-12
    )


def test_wild_p_value_is_reproducible_and_depends_on_the_seed():
    c = _homes_cohort(3, 10, 0.0)
    a, b, other = _models(c, 5), _models(c, 5), _models(c, 6)
    np.testing.assert_array_equal(a["p_value_wild"], b["p_value_wild"])
    assert a["p_value_wild"].notna().all()  # 10 homes < 30: every row is few_clusters
    assert (a["p_value_wild"] != other["p_value_wild"]).any()
    # the wild p-value is reported beside p_value_small, which is the jackknife t test's
    assert (a["p_value_small"] != a["p_value_wild"]).all()
    assert (a["small_sample_method"] == "jackknife t(G-1)").all()


@pytest.mark.parametrize("model", ["cox", "fine_gray"])
def test_wild_p_value_rejects_a_strong_effect_and_not_a_null(model):
    # 10 homes (5 per arm), 40 residents each. HR 0.4: every seeded dataset rejects at 5%.
    # HR 1: over 8 seeded datasets the p-values are not systematically small
    # (a p-value stuck near 1/(B+1), or the t test on a far too small SE, fails this).
    key = ("emergency_admission", model, "crude")
    strong = [_models(_homes_cohort(s, 10, np.log(0.4)), s).loc[key, "p_value_wild"]
              for s in range(3)]  # fmt: skip
    assert max(strong) < 0.02, strong
    null = np.array(
        [_models(_homes_cohort(100 + s, 10, 0.0), s).loc[key, "p_value_wild"] for s in range(8)]
    )
    assert (null < 0.05).sum() <= 2 and np.median(null) > 0.2, null


def test_small_sample_rows_without_a_fit_by_hand():
    rows = pd.DataFrame(
        {
            "term": ["a", "b", "c"],
            "estimate": [2.0, 0.5, 1.5],
            "std_error": [0.3, np.nan, 0.2],
            "n_clusters": [5, 4, 31],
            "few_clusters": [True, True, False],
        }
    )
    out = small_sample_inference(rows)
    # a: se 0.3 * sqrt(5/4); t(4) 97.5% quantile 2.7764451051977987
    se = 0.3 * np.sqrt(5 / 4)
    assert out.loc[0, "conf_low_small"] == pytest.approx(2 * np.exp(-2.7764451051977987 * se))
    assert out.loc[0, "df_small"] == 4 and out.loc[0, "small_sample_method"] == "t(G-1)"
    # b: no robust SE (one home in an arm): every small-sample column empty
    assert out.loc[1, ["conf_low_small", "conf_high_small", "p_value_small", "df_small",
                       "p_value_wild"]].isna().all()  # fmt: skip
    assert out.loc[1, "small_sample_method"] == ""
    # c: t(30) p-value
    z = np.log(1.5) / (0.2 * np.sqrt(31 / 30))
    assert out.loc[2, "p_value_small"] == pytest.approx(2 * stats.t.sf(z, 30), rel=1e-12)


@pytest.mark.parametrize("model", ["cox", "fine_gray"])
def test_few_homes_use_the_delete_one_home_jackknife(model):
    # the jackknife by an explicit loop over homes, refitting the engine each time
    c = _homes_cohort(8, 10, np.log(0.7))
    row = _models(c, seed=None).loc[("emergency_admission", model, "crude")]
    x = (c["care_model"] == "dedicated_team").to_numpy(float)
    b = []
    for h in sorted(set(c["care_home_id"])):
        k = (c["care_home_id"] != h).to_numpy()
        t, s = c["time_to_admission_days"][k], c["admission_status"][k].to_numpy()
        f = (
            fit_cox(t, s == 1, x[k])
            if model == "cox"
            else fit_fine_gray(t, s, x[k], censoring_group=c["region"][k])
        )
        b.append(f.coef[0])
    b = np.array(b)
    se = np.sqrt(9 / 10 * np.sum((b - b.mean()) ** 2))
    t975 = stats.t.ppf(0.975, 9)
    assert row["small_sample_method"] == "jackknife t(G-1)" and row["df_small"] == 9
    assert row["conf_low_small"] == pytest.approx(row["estimate"] * np.exp(-t975 * se), rel=1e-9)
    assert row["p_value_small"] == pytest.approx(
        2 * stats.t.sf(abs(np.log(row["estimate"])) / se, 9), rel=1e-8
    )
    # the jackknife SE is not the scaled sandwich (else this test could not tell them apart)
    assert abs(se - row["std_error"] * np.sqrt(10 / 9)) > 1e-3
