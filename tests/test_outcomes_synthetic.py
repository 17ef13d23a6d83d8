"""Synthetic diagnoses and places of death: truth, formats, exact derived counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.derived_outcomes import make_place_of_death
from optimal_analysis.icd10 import check_code_list, match_outcomes, normalise_codes
from optimal_analysis.place_of_death import normalise_places
from optimal_analysis.synthetic import generate
from optimal_analysis.synthetic.diagnoses import (
    DEFAULT_DIAGNOSIS_PARAMS,
    POOLS,
    _format,
    derived_rate_ratios,
    diagnosis_truth,
    draw_diagnoses,
    draw_places_of_death,
)

DEFAULT_LIST = Path(__file__).resolve().parents[1] / "config" / "outcome_codes.csv"
GROUP_OF = {"avoidable": "avoidable_emergency_admission", "fall": "fall_injury_admission"}


@pytest.fixture(scope="module")
def dataset():
    ds = generate(n_residents=3000, n_homes=30, seed=1919)
    res = ds.table("residents")
    homes = ds.table("care_homes")
    adm = ds.table("admissions")
    res = res.merge(homes[["care_home_id", "care_model"]], on="care_home_id", how="left")
    model = adm["resident_id"].map(res.set_index("resident_id")["care_model"]).to_numpy()
    rng = np.random.default_rng(7)
    dx = draw_diagnoses(adm, model, rng)
    pod = draw_places_of_death(res, adm, rng)
    return res, adm.assign(care_model=model), dx, pod


def test_pool_codes_classify_as_their_group_in_every_format():
    cl = check_code_list(pd.read_csv(DEFAULT_LIST, dtype="string"))
    for group, codes in POOLS.items():
        for style in range(5):
            written = _format(np.array(codes, dtype=object), np.full(len(codes), style))
            normal, bad = normalise_codes(pd.Series(written))
            assert not bad.any(), (group, style)
            hit = match_outcomes(normal, cl)
            for g, outcome in GROUP_OF.items():
                assert hit[outcome].tolist() == [group == g] * len(codes), (group, style, outcome)


def test_derived_counts_equal_truth_exactly(dataset):
    res, adm, dx, _ = dataset
    cl = check_code_list(pd.read_csv(DEFAULT_LIST, dtype="string"))
    normal, bad = normalise_codes(dx["primary_diagnosis"])
    assert not bad.any()
    assert (normal.isna() == ~dx["diagnosis_recorded"]).all()
    hit = match_outcomes(normal, cl)
    emergency = adm["method"].eq("emergency")
    for g, outcome in GROUP_OF.items():
        derived = (hit[outcome] & emergency).groupby(adm["care_model"]).sum()
        truth = (
            (dx["diagnosis_group"].eq(g) & dx["diagnosis_recorded"] & emergency)
            .groupby(adm["care_model"])
            .sum()
        )
        pd.testing.assert_series_equal(derived, truth, check_names=False)
        assert truth.sum() > 50
    # elective stays carry avoidable codes too (so a pipeline must filter on method)
    assert (hit["avoidable_emergency_admission"] & ~emergency).sum() > 0


def test_formats_are_varied_and_some_missing(dataset):
    _, _, dx, _ = dataset
    s = dx["primary_diagnosis"]
    assert s.str.contains(r"\.").any() and s.str.match(r"^[A-Z]\d\d\d$").any()
    assert s.str.match(r"^[a-z]").any() and s.str.startswith(" ").any()
    assert s.str.endswith("X").any() and s.str.endswith("-").any()
    share_missing = (s == "").mean()
    assert 0.03 < share_missing < 0.07  # 5% of ~ thousands of stays


def test_avoidable_share_by_care_model_is_recovered(dataset):
    # binomial share of avoidable among emergency stays, within 4 SE of the input
    _, adm, dx, _ = dataset
    emergency = adm["method"].eq("emergency")
    for model, p in DEFAULT_DIAGNOSIS_PARAMS["avoidable_share"].items():
        rows = emergency & adm["care_model"].eq(model)
        n = int(rows.sum())
        got = dx.loc[rows, "diagnosis_group"].eq("avoidable").mean()
        assert abs(got - p) < 4 * np.sqrt(p * (1 - p) / n), (model, got, p, n)


def test_places_of_death_follow_the_histories(dataset):
    res, adm, _, pod = dataset
    died = res["exit_reason"].eq("died")
    open_stay = set(adm.loc[adm["discharge_date"].isna(), "resident_id"])
    in_hosp = died & res["resident_id"].isin(open_stay)
    assert (pod["place_true"].eq("hospital") == in_hosp).all()
    assert (pod["place_true"].eq("") == ~died).all()
    assert (pod.loc[~died, "place_of_death"] == "").all()
    normal, unknown = normalise_places(pod["place_of_death"])
    assert not unknown.any()
    assert (normal.notna() == pod["place_recorded"]).all()
    assert (normal[pod["place_recorded"]] == pod.loc[pod["place_recorded"], "place_true"]).all()
    assert pod["place_of_death"].str.contains("Care home").any()
    # the table counts exactly the recorded deaths and recorded hospital deaths
    t = make_place_of_death(
        res.assign(place_of_death=normal), ["usual_care", "paid_gp", "dedicated_team"]
    )
    rec = died & pod["place_recorded"]
    want_d = rec.groupby(res["care_model"]).sum().reindex(t["care_model"]).to_numpy()
    want_h = (rec & in_hosp).groupby(res["care_model"]).sum().reindex(t["care_model"]).to_numpy()
    assert (
        t["deaths"].tolist() == want_d.tolist()
        and t["deaths_in_hospital"].tolist() == want_h.tolist()
    )
    assert 0 < t["deaths_in_hospital"].sum() < t["deaths"].sum()


def test_same_seed_same_draws(dataset):
    res, adm, dx, pod = dataset
    model = adm["care_model"].to_numpy()
    a = draw_diagnoses(adm, model, np.random.default_rng(7))
    pd.testing.assert_frame_equal(a, dx)


def test_truth_ratios():
    rr = {"usual_care": 1.0, "paid_gp": 0.9, "dedicated_team": 0.8}
    d = derived_rate_ratios(rr, DEFAULT_DIAGNOSIS_PARAMS, "usual_care")
    assert d["avoidable_emergency_admission"]["dedicated_team"] == pytest.approx(0.8 * 0.32 / 0.40)
    assert d["avoidable_emergency_admission"]["usual_care"] == 1.0
    assert d["fall_injury_admission"] == rr
    t = diagnosis_truth(DEFAULT_DIAGNOSIS_PARAMS, rr, "usual_care")
    assert set(t) == {"diagnosis_params", "diagnosis_pools", "derived_rate_ratios"}
