"""Synthetic care-model history: who switches, when, and thinning to the causal rate ratio."""

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.synthetic import generate
from optimal_analysis.synthetic.history import add_scheme_history


@pytest.fixture(scope="module")
def base():
    return generate(n_residents=3000, n_homes=60, months=24, seed=11,
                    care_models=["dedicated_team", "usual_care"])


def _cat(ds, name):
    return pd.concat([t[name] for t in ds.regions.values()], ignore_index=True)


def _key(adm):
    return adm.astype({"resident_id": str}).sort_values(
        ["resident_id", "admission_date"], ignore_index=True)


def test_no_effect_no_trend_keeps_every_admission(base):
    ds = add_scheme_history(base, np.random.default_rng(1), scheme_model="dedicated_team",
                            rate_ratio=1.0, trend_per_year=0.0, transient_sd=0.0)
    pd.testing.assert_frame_equal(_key(_cat(ds, "admissions")), _key(_cat(base, "admissions")))
    hist = _cat(ds, "care_model_history")
    homes = _cat(base, "care_homes").set_index("care_home_id")
    n_usual = int((homes["care_model"] == "usual_care").sum())
    assert len(hist) == 2 * round(0.4 * n_usual) == 2 * ds.truth["scheme"]["n_switched"]
    assert (homes.loc[hist["care_home_id"], "care_model"] == "usual_care").all()
    first = hist.groupby("care_home_id").first()
    last = hist.groupby("care_home_id").last()
    assert (first["care_model"] == "usual_care").all()
    assert (first["start_date"] == pd.Timestamp("2014-04-01")).all()
    assert (last["care_model"] == "dedicated_team").all()
    assert (last["start_date"].dt.day == 1).all()
    months = (last["start_date"].dt.year - 2014) * 12 + last["start_date"].dt.month - 4
    assert months.between(12, 17).all()
    assert ds.truth["scheme"]["rate_ratio"] == 1.0
    assert "scheme" not in base.truth  # the input is not changed


def test_switched_homes_keep_rate_ratio_share_after_switching(base):
    ds = add_scheme_history(base, np.random.default_rng(2), scheme_model="dedicated_team",
                            rate_ratio=0.5, trend_per_year=0.0, transient_sd=0.0)
    hist = _cat(ds, "care_model_history")
    switch = hist.groupby("care_home_id")["start_date"].last()
    res = _cat(base, "residents").astype({"resident_id": str}).set_index("resident_id")

    def after_switch(adm):
        adm = adm.astype({"resident_id": str})
        home = res.loc[adm["resident_id"], "care_home_id"].to_numpy()
        sw = pd.Series(home).map(switch).to_numpy()
        emergency = (adm["method"].astype(str) == "emergency").to_numpy()
        return emergency & (adm["admission_date"].to_numpy() >= sw)

    n_before = after_switch(_cat(base, "admissions")).sum()
    n_after = after_switch(_cat(ds, "admissions")).sum()
    # each kept with probability 0.5: Binomial(n_before, 0.5), 4 SD band
    assert abs(n_after - n_before / 2) < 4 * np.sqrt(n_before / 4)
    assert n_before > 150
    others = ~after_switch(_cat(base, "admissions"))
    assert len(_cat(ds, "admissions")) - n_after == others.sum()


def test_strong_selection_picks_the_highest_window_rates(base):
    ds = add_scheme_history(base, np.random.default_rng(3), scheme_model="dedicated_team",
                            rate_ratio=1.0, trend_per_year=0.0, selection_strength=200.0,
                            share_switching=0.25)
    res = _cat(base, "residents").astype({"resident_id": str})
    adm = _cat(base, "admissions").astype({"resident_id": str})
    homes = _cat(base, "care_homes")
    usual = homes.loc[homes["care_model"] == "usual_care", "care_home_id"]
    end = pd.Timestamp("2015-04-01")
    days = (res["exit_date"].clip(upper=end - pd.Timedelta(days=1)) - res["entry_date"]).dt.days + 1
    py = days.clip(lower=0).groupby(res["care_home_id"]).sum() / 365.25
    adm = adm.merge(res[["resident_id", "care_home_id"]], on="resident_id")
    y = adm[(adm["method"].astype(str) == "emergency") & (adm["admission_date"] < end)].groupby(
        "care_home_id").size()
    rate = ((y.reindex(usual).fillna(0) + 0.5) / py.reindex(usual)).sort_values(ascending=False)
    top = set(rate.index[: ds.truth["scheme"]["n_switched"]])
    assert set(_cat(ds, "care_model_history")["care_home_id"]) == top


def test_bad_arguments_raise(base):
    with pytest.raises(ValueError, match="switch_months"):
        add_scheme_history(base, np.random.default_rng(1), scheme_model="dedicated_team",
                           switch_months=(6, 12))
