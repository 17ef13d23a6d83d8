"""Cohort and events: person-time, counts, bed days, time to first admission (hand-computed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.cohort import make_cohort
from optimal_analysis.ingest import ingest_region
from optimal_analysis.ingest.quality import combine_regions
from tests.helpers import CARE_MODELS, TINY, write_region


def _cohort(tmp_path, **overrides):
    r = ingest_region(write_region(tmp_path, "north", **overrides), care_models=CARE_MODELS)
    assert not (r.failures["severity"] == "error").any(), r.failures
    combined, _, _ = combine_regions({"north": r.tables}, r.failures,
                                     {"north": {t: t for t in TINY}})
    return make_cohort(combined["care_homes"], combined["residents"], combined["contacts"],
                       combined["admissions"])


def test_hand_computed_cohort(tmp_path):
    cohort, events = _cohort(tmp_path)
    c = cohort.set_index("resident_id")
    # R1: 2015-01-01..2015-12-31 -> 365 days; R2: 01-01..01-10 -> 10; R3: 06-01..06-30 -> 30
    assert c["follow_up_days"].tolist() == [365, 10, 30]
    np.testing.assert_allclose(c["person_years"], np.array([365, 10, 30]) / 365.25)
    # R1: emergency 03-01..03-05 = 4 bed days; elective same-day = 0
    # R2: emergency 01-05 with no discharge runs to exit 01-10 = 5 bed days
    assert c["emergency_bed_days"].tolist() == [4, 5, 0]
    assert c["elective_bed_days"].tolist() == [0, 0, 0]
    assert c["bed_days"].tolist() == [4, 5, 0]
    assert c["days_at_risk"].tolist() == [361, 5, 30]
    assert c["emergency_admission"].tolist() == [1, 1, 0]
    assert c["elective_admission"].tolist() == [1, 0, 0]
    # contacts count n: R1 gp_visit n=2 + ae (n empty -> 1) = 3
    assert c["contacts"].tolist() == [3, 1, 1]
    assert c["ae"].tolist() == [1, 0, 1]
    assert c["ambulance"].tolist() == [0, 1, 0]
    # first emergency admission: R1 03-01 - 01-01 + 1 = 60; R2 01-05 -> 5; R3 none, moved out
    assert c["time_to_admission_days"].tolist() == [60, 5, 30]
    assert c["admission_status"].tolist() == [1, 1, 0]
    assert c["care_model"].tolist() == ["usual_care", "dedicated_team", "dedicated_team"]
    assert c["died"].tolist() == [False, True, False]
    assert len(events) == 4 + 3
    assert events["day"].min() >= 1


def test_death_before_admission_is_the_competing_event(tmp_path):
    adm = TINY["admissions"].replace("R2,2015-01-05,,emergency\n", "")
    cohort, _ = _cohort(tmp_path, admissions=adm)
    r2 = cohort.set_index("resident_id").loc["R2"]
    assert (r2["time_to_admission_days"], r2["admission_status"]) == (10, 2)


def test_only_the_first_emergency_admission_times_the_event(tmp_path):
    adm = TINY["admissions"] + "R1,2015-02-01,2015-02-03,emergency\n"
    cohort, _ = _cohort(tmp_path, admissions=adm)
    r1 = cohort.set_index("resident_id").loc["R1"]
    assert r1["time_to_admission_days"] == 32 and r1["emergency_admission"] == 2
    assert r1["emergency_bed_days"] == 4 + 2


def test_resident_without_events_adds_person_time_only(tmp_path):
    res = TINY["residents"] + "R4,H1,M,77,false,12,2015-03-01,2015-03-31,study_end\n"
    base, base_ev = _cohort(tmp_path / "a")
    more, more_ev = _cohort(tmp_path / "b", residents=res)
    assert len(more) == len(base) + 1
    r4 = more.set_index("resident_id").loc["R4"]
    assert r4["follow_up_days"] == 31 and r4["contacts"] == 0 and r4["admission_status"] == 0
    pd.testing.assert_frame_equal(base_ev, more_ev)


def test_row_order_changes_nothing(tmp_path):
    def shuffled(text):
        head, *rows = text.splitlines()
        return "\n".join([head, *reversed(rows)]) + "\n"

    a = _cohort(tmp_path / "a")
    b = _cohort(tmp_path / "b", **{t: shuffled(TINY[t]) for t in TINY})
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)


@pytest.mark.parametrize("n", [1, 3])
def test_contact_n_counts_as_n_events(tmp_path, n):
    con = TINY["contacts"].replace("R3,2015-06-01,ae,1", f"R3,2015-06-01,ae,{n}")
    cohort, _ = _cohort(tmp_path, contacts=con)
    assert cohort.set_index("resident_id").loc["R3", "ae"] == n
