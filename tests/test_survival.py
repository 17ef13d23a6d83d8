"""Survival stage: hand-computed fixtures, identities, properties and error paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.stats.aalen_johansen import aalen_johansen
from optimal_analysis.stats.km import kaplan_meier, km_median, restricted_mean
from optimal_analysis.survival import (
    make_at_risk,
    make_cumulative_incidence,
    make_km,
    make_km_summary,
    make_survival_models,
)

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
    assert (adm["conf_low"] <= adm["estimate"]).all() and (
        adm["conf_high"] >= adm["estimate"]
    ).all()


def test_cumulative_incidence_without_competing_events_is_one_minus_km():
    rng = np.random.default_rng(3)
    t = rng.integers(1, 40, 200)
    status = np.where(rng.random(200) < 0.7, 1, 0)
    aj = aalen_johansen(t, status, causes=(1,))
    km = kaplan_meier(t, status == 1)
    np.testing.assert_allclose(aj["estimate"], 1 - km["estimate"], atol=1e-14)
    assert (aj["conf_low"].fillna(0) <= aj["estimate"]).all()


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
    assert (hr["conf_low"] < hr["estimate"]).all() and (hr["estimate"] < hr["conf_high"]).all()
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


def test_km_summary_columns():
    s = make_km_summary(_two_models(), rmst_horizon_days=365)
    assert list(s["care_model"]) == ["dedicated_team", "usual_care"]
    assert (s["rmst_days"] <= 365).all() and (s["rmst_conf_low"] < s["rmst_days"]).all()


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
