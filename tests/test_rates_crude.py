"""Crude rates: a hand-computed fixture, properties and error paths."""

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.rates import make_crude_rates

CARE_MODELS = ["dedicated_team", "paid_gp", "usual_care"]


def _cohort() -> pd.DataFrame:
    # Six residents, two per care model.
    #   dedicated_team: PY 1.0 + 0.5 = 1.5; emergency 0 + 3 = 3 -> rate 2.0; died 0 + 1 = 1
    #   paid_gp:        PY 1.0 + 1.0 = 2.0; emergency 1 + 0 = 1 -> rate 0.5; died 0
    #   usual_care:     PY 0.25 + 0.75 = 1.0; emergency 5 + 0 = 5 -> rate 5.0; died 1 + 1 = 2
    #   bed_days:       dt 4 + 10 = 14 -> 14/1.5; pg 2 -> 1.0; uc 0 -> 0
    #   all:            PY 4.5, emergency 9 -> 2.0
    return pd.DataFrame(
        {
            "resident_id": list("abcdef"),
            "care_model": [
                "usual_care",
                "dedicated_team",
                "paid_gp",
                "dedicated_team",
                "paid_gp",
                "usual_care",
            ],
            "person_years": [0.25, 1.0, 1.0, 0.5, 1.0, 0.75],
            "emergency_admission": [5, 0, 1, 3, 0, 0],
            "elective_admission": [0, 0, 0, 0, 0, 0],
            "ae": [1, 1, 1, 1, 1, 1],
            "ambulance": [0, 2, 0, 0, 0, 0],
            "died": [True, False, False, True, False, True],
            "bed_days": [0, 4, 2, 10, 0, 0],
        }
    )


def test_hand_computed_rates_and_order():
    out = make_crude_rates(_cohort(), care_models=CARE_MODELS)
    assert list(out.columns) == [
        "outcome",
        "care_model",
        "residents",
        "events",
        "person_years",
        "rate",
        "conf_low",
        "conf_high",
    ]
    em = out[out["outcome"] == "emergency_admission"].set_index("care_model")
    assert list(em.index) == [*CARE_MODELS, "all"]
    np.testing.assert_allclose(em["person_years"], [1.5, 2.0, 1.0, 4.5])
    np.testing.assert_array_equal(em["events"], [3, 1, 5, 9])
    np.testing.assert_allclose(em["rate"], [2.0, 0.5, 5.0, 2.0])
    np.testing.assert_array_equal(em["residents"], [2, 2, 2, 6])
    # Garwood limits for k = 5 over 1 PY: 1.6235, 11.6683 (published table values).
    np.testing.assert_allclose(
        em.loc["usual_care", ["conf_low", "conf_high"]].astype(float), [1.6235, 11.6683], atol=6e-5
    )
    death = out[out["outcome"] == "death"].set_index("care_model")
    np.testing.assert_array_equal(death["events"], [1, 0, 2, 3])
    assert death.loc["paid_gp", "conf_low"] == 0.0
    beds = out[out["outcome"] == "bed_days"].set_index("care_model")
    np.testing.assert_allclose(beds["rate"], [14 / 1.5, 1.0, 0.0, 16 / 4.5])
    assert beds[["conf_low", "conf_high"]].isna().all().all()
    assert set(out["outcome"]) == {
        "emergency_admission",
        "elective_admission",
        "ae",
        "ambulance",
        "death",
        "bed_days",
    }


def test_row_order_changes_nothing():
    a = make_crude_rates(_cohort(), care_models=CARE_MODELS)
    b = make_crude_rates(_cohort().sample(frac=1, random_state=3), care_models=CARE_MODELS)
    pd.testing.assert_frame_equal(a, b)


def test_resident_without_events_adds_person_time_only():
    extra = (
        _cohort()
        .iloc[[1]]
        .assign(
            resident_id="g",
            person_years=2.0,
            emergency_admission=0,
            ambulance=0,
            died=False,
            bed_days=0,
        )
    )
    out = make_crude_rates(pd.concat([_cohort(), extra]), care_models=CARE_MODELS)
    dt = out[(out["outcome"] == "emergency_admission") & (out["care_model"] == "dedicated_team")]
    assert (
        dt["events"].item() == 3
        and dt["person_years"].item() == 3.5
        and dt["residents"].item() == 3
    )


def test_missing_columns_are_all_named():
    with pytest.raises(ValueError, match=r"\['ae', 'bed_days'\]"):
        make_crude_rates(_cohort().drop(columns=["ae", "bed_days"]))


def test_zero_person_time_raises():
    bad = _cohort()
    bad.loc[bad["care_model"] == "paid_gp", "person_years"] = 0.0
    with pytest.raises(ValueError, match="person_years must be positive"):
        make_crude_rates(bad)
