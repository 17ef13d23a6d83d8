"""Who switched when: switches from the history and the estimation frame's codes."""

import pandas as pd

from optimal_analysis.evaluation.design import estimation_frame, home_switches


def _inputs():
    homes = pd.DataFrame({"care_home_id": ["A", "B", "C", "D"],
                          "care_model": ["usual_care"] * 3 + ["paid_gp"]})
    history = pd.DataFrame({
        "care_home_id": ["A", "A", "B", "B", "B", "C", "C"],
        "care_model": ["usual_care", "dedicated_team", "usual_care", "usual_care", "paid_gp",
                       "usual_care", "dedicated_team"],
        "start_date": pd.to_datetime(["2020-01-01", "2020-03-15", "2020-01-01", "2020-02-01",
                                      "2020-04-01", "2020-01-01", "2020-02-01"])})
    return homes, history


def test_home_switches():
    s = home_switches(*_inputs()).set_index("care_home_id")
    # A: usual_care -> dedicated_team on 15 Mar; B: a repeated usual_care row is no change,
    # paid_gp from 1 Apr; C switches on 1 Feb; D has no history and never switches.
    assert s.loc["A", "scheme"] == "dedicated_team"
    assert s.loc["A", "switch_date"] == pd.Timestamp("2020-03-15")
    assert s.loc["B", "scheme"] == "paid_gp"
    assert s.loc["B", "switch_date"] == pd.Timestamp("2020-04-01")
    assert s.loc["D", "scheme"] is None and pd.isna(s.loc["D", "switch_date"])
    assert s.loc["D", "origin"] == "paid_gp" and s.loc["A", "origin"] == "usual_care"
    assert s["end_date"].isna().all()


def test_estimation_frame_drops_split_months_and_after_second_change():
    homes, history = _inputs()
    history = pd.concat([history, pd.DataFrame({
        "care_home_id": ["C"], "care_model": ["paid_gp"],
        "start_date": pd.to_datetime(["2020-04-10"])})], ignore_index=True)
    months = pd.date_range("2020-01-01", periods=6, freq="MS")
    panel = pd.DataFrame([{"care_home_id": h, "month": m, "care_model": "x", "person_days": 30,
                           "person_years": 30 / 365.25, "emergency_admission": 1}
                          for h in "ABCD" for m in months])
    f = estimation_frame(panel, home_switches(homes, history), "emergency_admission")
    kept = f.groupby("care_home_id")["month_index"].apply(list).to_dict()
    # A switches mid-March: March (index 2) left out; cohort = April (3).
    assert kept["A"] == [0, 1, 3, 4, 5]
    assert f.loc[f["care_home_id"] == "A", "cohort"].unique().tolist() == [3]
    # C switches 1 Feb (cohort 1) and changes again on 10 Apr: April on are left out.
    assert kept["C"] == [0, 1, 2]
    assert f.loc[f["care_home_id"] == "C", "cohort"].unique().tolist() == [1]
    assert kept["D"] == list(range(6))
    assert f.loc[f["care_home_id"] == "D", "cohort"].unique().tolist() == [-1]
