"""Describe stage: baseline table with SMDs, service use, cohort summary, flow of records."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from optimal_analysis.describe import (
    make_baseline,
    make_cohort_summary,
    make_data_flow,
    make_service_use,
)
from optimal_analysis.figures.describe import plot_service_use
from optimal_analysis.stats.smd import smd_binary, smd_continuous


def _cohort() -> pd.DataFrame:
    # dedicated_team (dt): 3 residents, usual_care (uc): 2 residents
    return pd.DataFrame(
        {
            "resident_id": ["a", "b", "c", "d", "e"],
            "region": ["north"] * 3 + ["south"] * 2,
            "care_home_id": ["h1", "h1", "h2", "h3", "h3"],
            "care_model": ["dedicated_team"] * 3 + ["usual_care"] * 2,
            "sex": ["F", "F", "M", "F", "M"],
            "age": [70.0, 80.0, 90.0, 80.0, 90.0],
            "dementia": [True, True, False, True, False],
            "nursing": [True, False, False, False, False],
            "barthel": pd.array([10, pd.NA, 14, 5, 9], dtype="Int64"),
            "exit_reason": ["died", "study_end", "study_end", "moved_out", "died"],
            "follow_up_days": [100, 365, 200, 50, 150],
            "person_years": np.array([100, 365, 200, 50, 150]) / 365.25,
            "died": [True, False, False, False, True],
        }
    )


def test_smd_functions_hand_values():
    # (80 - 85) / sqrt((10^2 + sqrt(50)^2) / 2) = -5 / sqrt(75) = -0.5773503
    assert smd_continuous(80, 10, 85, math.sqrt(50)) == pytest.approx(-5 / math.sqrt(75))
    # (2/3 - 1/2) / sqrt((2/9 + 1/4) / 2) = (1/6) / sqrt(17/72) = 0.3429972
    assert smd_binary(2 / 3, 1 / 2) == pytest.approx((1 / 6) / math.sqrt(17 / 72))
    assert np.isnan(smd_binary(0.0, 0.0)) and np.isnan(smd_continuous(1, 0, 1, 0))


def test_baseline_hand_computed():
    b = make_baseline(_cohort(), reference="usual_care").set_index(
        ["variable", "level", "care_model"]
    )
    dt, uc = "dedicated_team", "usual_care"
    assert (
        b.loc[("residents", "total", dt), "n"] == 3 and b.loc[("residents", "total", uc), "n"] == 2
    )
    # age: dt mean 80, SD 10; uc mean 85, SD sqrt(50) = 7.071
    assert b.loc[("age", "mean_sd", dt), "mean"] == pytest.approx(80)
    assert b.loc[("age", "mean_sd", dt), "sd"] == pytest.approx(10)
    assert b.loc[("age", "mean_sd", uc), "sd"] == pytest.approx(math.sqrt(50))
    assert b.loc[("age", "mean_sd", dt), "smd"] == pytest.approx(-5 / math.sqrt(75))  # -0.5774
    assert np.isnan(b.loc[("age", "mean_sd", uc), "smd"])
    # dementia yes: dt 2/3, uc 1/2 -> SMD 0.3430; n 2 of 3 = 66.67%
    assert b.loc[("dementia", "yes", dt), "n"] == 2
    assert b.loc[("dementia", "yes", dt), "percent"] == pytest.approx(200 / 3)
    assert b.loc[("dementia", "yes", dt), "smd"] == pytest.approx((1 / 6) / math.sqrt(17 / 72))
    # nursing yes: dt 1/3, uc 0 -> (1/3) / sqrt((2/9 + 0) / 2) = (1/3) / sqrt(1/9) = 1
    assert b.loc[("nursing", "yes", dt), "smd"] == pytest.approx(1.0)
    # barthel: dt observed [10, 14] (1 missing) mean 12, SD sqrt(8); uc [5, 9] mean 7, SD sqrt(8)
    assert (
        b.loc[("barthel", "mean_sd", dt), "n"] == 2 and b.loc[("barthel", "missing", dt), "n"] == 1
    )
    assert b.loc[("barthel", "missing", dt), "percent"] == pytest.approx(100 / 3)
    assert b.loc[("barthel", "mean_sd", dt), "smd"] == pytest.approx(5 / math.sqrt(8))
    # exit reason moved_out: dt 0, uc 1/2 -> (0 - 1/2) / sqrt((0 + 1/4) / 2) = -sqrt(2)
    assert b.loc[("exit_reason", "moved_out", dt), "smd"] == pytest.approx(-math.sqrt(2))


def test_baseline_levels_sum_to_residents_and_row_order_irrelevant():
    c = _cohort()
    b = make_baseline(c, reference="usual_care")
    cat = b[b["variable"].isin(["sex", "dementia", "nursing", "exit_reason"])]
    sums = cat.groupby(["variable", "care_model"])["n"].sum().groupby("care_model").unique()
    assert sums["dedicated_team"].tolist() == [3] and sums["usual_care"].tolist() == [2]
    shuffled = make_baseline(
        c.iloc[::-1], reference="usual_care", care_models=["dedicated_team", "usual_care"]
    )
    pd.testing.assert_frame_equal(shuffled, b)


def test_baseline_bad_reference_and_missing_columns():
    with pytest.raises(ValueError, match="reference care model 'paid_gp' has no residents"):
        make_baseline(_cohort(), reference="paid_gp")
    with pytest.raises(ValueError, match=r"lacks column\(s\): \['age', 'barthel'\]"):
        make_baseline(_cohort().drop(columns=["age", "barthel"]), reference="usual_care")


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "resident_id": ["a", "a", "b", "d", "d"],
            "event_type": ["contact", "contact", "contact", "contact", "admission"],
            "item": ["gp_visit", "ae", "gp_visit", "gp_visit", "emergency_admission"],
            "n": [2, 1, 3, 4, 1],
        }
    )


def test_service_use_hand_computed():
    su = make_service_use(_events(), _cohort()).set_index(["service", "care_model"])
    py_dt = (100 + 365 + 200) / 365.25  # 1.8207 person-years
    py_uc = (50 + 150) / 365.25
    # gp_visit dt: a 2 + b 3 = 5 contacts by 2 residents of 3
    row = su.loc[("gp_visit", "dedicated_team")]
    assert (row["contacts"], row["residents_with_any"], row["residents"]) == (5, 2, 3)
    assert row["contacts_per_resident_year"] == pytest.approx(5 / py_dt)
    assert row["percent_with_any"] == pytest.approx(200 / 3)
    # ae uc: none -> zeros, not missing
    assert su.loc[("ae", "usual_care"), "contacts"] == 0
    assert su.loc[("ae", "usual_care"), "person_years"] == pytest.approx(py_uc)
    # all contacts dt: 2 + 1 + 3 = 6; admissions are not contacts
    assert su.loc[("all_contacts", "dedicated_team"), "contacts"] == 6
    assert su.loc[("all_contacts", "usual_care"), "contacts"] == 4
    assert "emergency_admission" not in su.index.get_level_values("service")


def test_service_use_resident_without_contacts_adds_person_time_only():
    c = _cohort()
    extra = c.iloc[[0]].assign(resident_id="z", person_years=1.0)
    base = make_service_use(_events(), c).set_index(["service", "care_model"])
    more = make_service_use(_events(), pd.concat([c, extra])).set_index(["service", "care_model"])
    assert (more["contacts"] == base["contacts"]).all()
    assert more.loc[("gp_visit", "dedicated_team"), "person_years"] == pytest.approx(
        base.loc[("gp_visit", "dedicated_team"), "person_years"] + 1.0
    )


def test_service_use_unknown_resident_raises():
    ev = pd.concat(
        [
            _events(),
            pd.DataFrame(
                {"resident_id": ["ghost"], "event_type": ["contact"], "item": ["ae"], "n": [1]}
            ),
        ]
    )
    with pytest.raises(ValueError, match="1 resident.*ghost"):
        make_service_use(ev, _cohort())


def test_cohort_summary():
    s = make_cohort_summary(_cohort()).set_index("care_model")
    assert s.loc["dedicated_team", "care_homes"] == 2 and s.loc["all", "care_homes"] == 3
    assert s.loc["all", "residents"] == 5 and s.loc["all", "deaths"] == 2
    assert s.loc["all", "regions"] == "north;south" and s.loc["usual_care", "n_regions"] == 1
    assert s.loc["usual_care", "median_follow_up_days"] == 100  # median of 50, 150
    assert list(s.index) == ["dedicated_team", "usual_care", "all"]


def test_data_flow_hand_computed_and_inconsistency():
    dq = pd.DataFrame(
        {
            "region": ["n", "n", "n"],
            "table": ["residents", "contacts", "contacts"],
            "rows_read": [10, 20, 20],
            "rows_used": [10, 15, 15],
            "rows_excluded": [0, 3, 2],
            "reason": [None, "outside_follow_up", "unknown_resident"],
        }
    )
    flow = make_data_flow(dq)
    contacts = flow[flow["table"] == "contacts"]
    assert contacts["step"].tolist() == [
        "read",
        "excluded: outside_follow_up",
        "excluded: unknown_resident",
        "analysed",
    ]
    assert contacts["rows"].tolist() == [20, 3, 2, 15]
    assert flow[flow["table"] == "residents"]["rows"].tolist() == [10, 10]
    bad = dq.assign(rows_used=[10, 16, 16])
    with pytest.raises(ValueError, match="n/contacts: 20 != 16 \\+ 5"):
        make_data_flow(bad)


def test_plot_service_use_draws_a_bar_per_service_and_model():
    su = make_service_use(_events(), _cohort())
    ax = plot_service_use(su)
    # 2 services (ae, gp_visit) x 2 care models; all_contacts left out
    assert len(ax.patches) == 4
    assert ax.get_xlabel() == "Contacts per resident-year"
    plt.close(ax.figure)
