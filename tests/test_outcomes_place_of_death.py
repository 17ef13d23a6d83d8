"""Place of death: normalisation, contract checks and the by-care-model table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimal_analysis.derived_outcomes import make_place_of_death
from optimal_analysis.place_of_death import (
    PLACE_OF_DEATH_COLUMNS,
    normalise_places,
    place_problems,
)
from optimal_analysis.stats.binomial import clopper_pearson


def test_normalise_places():
    raw = pd.Series(["hospital", " Care home", "HOSPICE", "care-home", "other", "", None, "home"])
    normal, unknown = normalise_places(raw)
    assert normal.tolist() == [
        "hospital",
        "care_home",
        "hospice",
        "care_home",
        "other",
        None,
        None,
        None,
    ]
    assert unknown.tolist() == [False] * 7 + [True]


def test_place_problems():
    exit_reason = pd.Series(["died", "died", "study_end", "moved_out", "died"])
    place = pd.Series(["hospital", "street", "", "care_home", None])
    why = place_problems(exit_reason, place)
    assert why.tolist() == [
        "",
        "not one of hospital, care_home, hospice, other",
        "",
        "given for a resident who did not die",
        "",
    ]


def test_table_hand_fixture():
    # A: 4 deaths with a place, 1 in hospital (+1 death without place, +1 alive)
    # B: 2 deaths, both in hospital; C: no deaths
    res = pd.DataFrame(
        {
            "care_model": ["A"] * 6 + ["B"] * 3 + ["C"],
            "exit_reason": ["died"] * 5
            + ["study_end"]
            + ["died", "died", "moved_out", "study_end"],
            "place_of_death": [
                "hospital",
                "care_home",
                "hospice",
                "other",
                None,
                None,
                "hospital",
                "hospital",
                None,
                None,
            ],
        }
    )
    t = make_place_of_death(res, ["C", "B", "A"])
    assert tuple(t.columns) == PLACE_OF_DEATH_COLUMNS
    assert t["care_model"].tolist() == ["C", "B", "A"]
    assert t["deaths"].tolist() == [0, 2, 4]
    assert t["deaths_in_hospital"].tolist() == [0, 2, 1]
    assert np.isnan(t["share"].iloc[0]) and np.isnan(t["conf_low"].iloc[0])
    assert t["share"].iloc[1:].tolist() == [1.0, 0.25]
    _, lo, hi = clopper_pearson(np.array([2, 1]), np.array([2, 4]))
    np.testing.assert_allclose(t["conf_low"].iloc[1:], lo)
    np.testing.assert_allclose(t["conf_high"].iloc[1:], hi)
    assert t["conf_high"].iloc[1] == 1.0


def test_row_order_changes_nothing():
    rng = np.random.default_rng(3)
    n = 400
    res = pd.DataFrame(
        {
            "care_model": rng.choice(["x", "y"], n),
            "exit_reason": rng.choice(["died", "study_end"], n),
            "place_of_death": rng.choice(["hospital", "care_home", None], n),
        }
    )
    a = make_place_of_death(res, ["x", "y"])
    b = make_place_of_death(res.sample(frac=1, random_state=1), ["x", "y"])
    pd.testing.assert_frame_equal(a, b)
    died = res["exit_reason"].eq("died") & res["place_of_death"].notna()
    assert a["deaths"].sum() == died.sum()
    assert a["deaths_in_hospital"].sum() == (died & res["place_of_death"].eq("hospital")).sum()
