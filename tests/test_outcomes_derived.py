"""Derived outcomes from the code list: flags, per-resident columns, missing counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimal_analysis.derived_outcomes import (
    derived_flags,
    derived_names,
    missing_diagnoses,
    missing_places,
    resident_columns,
)
from optimal_analysis.icd10 import check_code_list, normalise_codes


def _codes():
    return check_code_list(
        pd.DataFrame(
            {
                "outcome": ["avoid", "avoid", "fall"],
                "code_prefix": ["J18", "N39.0", "S72.0"],
                "label": ["pneumonia", "uti", "hip"],
                "source": ["s", "s", "s"],
            },
            dtype="string",
        )
    )


def test_flags_need_emergency_and_a_listed_code():
    method = pd.Series(["emergency", "elective", "emergency", "emergency", "emergency", "contact"])
    dx, _ = normalise_codes(pd.Series(["J18.9", "J18.9", "n390", "", "S72.01", "J18.9"]))
    f = derived_flags(method, dx, _codes())
    assert list(f.columns) == ["avoid", "fall"]
    assert f["avoid"].tolist() == [True, False, True, False, False, False]
    assert f["fall"].tolist() == [False, False, False, False, True, False]


def test_no_code_list_no_outcomes():
    method = pd.Series(["emergency"])
    assert derived_flags(method, pd.Series([None]), None).shape == (1, 0)
    assert derived_names(None) == []


def test_resident_columns_hand_fixture():
    # residents: 0 two avoidable events (days 5 and 3), 1 none and died,
    # 2 none and censored, 3 one fall on day 40
    pos = np.array([0, 0, 3, 1])
    day = np.array([5, 3, 40, 9])
    flags = pd.DataFrame({"avoid": [True, True, False, False], "fall": [False, False, True, False]})
    died = np.array([False, True, False, True])
    fu = np.array([100, 50, 365, 60])
    out = resident_columns(4, pos, day, flags, died, fu)
    assert out["avoid"].tolist() == [2, 0, 0, 0]
    assert out["time_to_avoid_days"].tolist() == [3, 50, 365, 60]
    assert out["avoid_status"].tolist() == [1, 2, 0, 2]
    assert out["fall"].tolist() == [0, 0, 0, 1]
    assert out["time_to_fall_days"].tolist() == [100, 50, 365, 40]
    assert out["fall_status"].tolist() == [0, 2, 0, 1]


def test_missing_counts_by_region():
    adm = pd.DataFrame(
        {
            "region": ["n", "n", "n", "s", "s", "w"],
            "method": ["emergency", "emergency", "elective", "emergency", "emergency", "elective"],
            "primary_diagnosis": ["J189", None, None, None, None, "I10"],
        }
    )
    m = missing_diagnoses(adm)
    assert m["region"].tolist() == ["n", "s", "w"]
    assert m["emergency_admissions"].tolist() == [2, 2, 0]
    assert m["diagnosis_missing"].tolist() == [1, 2, 0]
    assert m["share_missing"].iloc[:2].tolist() == [0.5, 1.0] and np.isnan(
        m["share_missing"].iloc[2]
    )
    res = pd.DataFrame(
        {
            "region": ["n", "n", "s"],
            "exit_reason": ["died", "died", "study_end"],
            "place_of_death": ["hospital", None, None],
        }
    )
    p = missing_places(res)
    assert p["deaths"].tolist() == [2, 0] and p["place_missing"].tolist() == [1, 0]


def test_cohort_columns_equal_the_generator_truth():
    from pathlib import Path

    from optimal_analysis import outcomes as registry
    from optimal_analysis.cohort import make_cohort
    from optimal_analysis.io import read_code_list
    from optimal_analysis.synthetic import generate

    ds = generate(n_residents=400, seed=31, diagnoses=True)
    tables = {t: ds.table(t) for t in ("care_homes", "residents", "contacts", "admissions")}
    tables["admissions"]["primary_diagnosis"] = normalise_codes(
        tables["admissions"]["primary_diagnosis"]
    )[0]
    code_list = read_code_list(Path(__file__).resolve().parents[1] / "config/outcome_codes.csv")
    try:
        cohort, _ = make_cohort(**tables, code_list=code_list)
        truth = ds.truth["diagnoses"]["derived_events"]
        for name in ("avoidable_emergency_admission", "fall_injury_admission"):
            got = cohort.groupby("care_model")[name].sum().to_dict()
            assert got == truth[name], name
            assert registry.get(name).source == "diagnosis"
            first = cohort[f"{name}_status"] == 1
            assert (first == (cohort[name] > 0)).all()
            assert (
                cohort.loc[~first, f"time_to_{name}_days"] == cohort.loc[~first, "follow_up_days"]
            ).all()
    finally:  # registration is process-wide: leave the registry as other tests expect it
        for name in ("avoidable_emergency_admission", "fall_injury_admission"):
            registry.OUTCOMES.pop(name, None)
