"""Home x month panel: hand-computed fixture, totals, order invariance."""

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.evaluation.panel import home_periods, make_panel

OUTCOMES = {"emergency_admission": ["emergency_admission"], "ae": ["ae"], "death": []}


def _fixture():
    homes = pd.DataFrame({"care_home_id": ["A", "B"], "care_model": ["usual_care", "paid_gp"]})
    history = pd.DataFrame({"care_home_id": ["A", "A"],
                            "care_model": ["usual_care", "dedicated_team"],
                            "start_date": pd.to_datetime(["2020-01-01", "2020-02-15"])})
    cohort = pd.DataFrame({
        "resident_id": ["R1", "R2"], "care_home_id": ["A", "B"],
        "entry_date": pd.to_datetime(["2020-01-20", "2020-01-31"]),
        "exit_date": pd.to_datetime(["2020-03-10", "2020-02-01"]), "died": [True, False]})
    events = pd.DataFrame({
        "resident_id": ["R1", "R1", "R2"], "care_home_id": ["A", "A", "B"],
        "item": ["emergency_admission", "ae", "emergency_admission"],
        "event_date": pd.to_datetime(["2020-02-14", "2020-02-15", "2020-02-01"]),
        "n": [1, 2, 1]})
    return cohort, events, homes, history


def test_hand_computed_panel():
    # R1 in A, 20 Jan - 10 Mar 2020 (leap year); A switches to dedicated_team on 15 Feb:
    #   Jan 20-31 = 12 days usual; Feb 1-14 = 14 usual (emergency 14 Feb); Feb 15-29 = 15
    #   dedicated (2 A&E on 15 Feb); Mar 1-10 = 10 dedicated, death on 10 Mar.
    # R2 in B (no history: paid_gp), 31 Jan - 1 Feb: Jan 1 day, Feb 1 day (emergency 1 Feb).
    panel = make_panel(*_fixture(), OUTCOMES)
    expected = pd.DataFrame({
        "care_home_id": ["A", "A", "A", "A", "B", "B"],
        "month": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-02-01", "2020-03-01",
                                 "2020-01-01", "2020-02-01"]),
        "care_model": ["usual_care", "usual_care", "dedicated_team", "dedicated_team",
                       "paid_gp", "paid_gp"],
        "person_days": [12, 14, 15, 10, 1, 1],
        "emergency_admission": [0, 1, 0, 0, 0, 1],
        "ae": [0, 0, 2, 0, 0, 0],
        "death": [0, 0, 0, 1, 0, 0]})
    got = panel[expected.columns].astype({"month": "datetime64[ns]"})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert panel["person_years"].to_numpy() == pytest.approx(
        np.array([12, 14, 15, 10, 1, 1]) / 365.25)


def test_periods_end_the_day_before_the_next_start():
    _, _, homes, history = _fixture()
    p = home_periods(homes, history).set_index(["care_home_id", "care_model"])
    assert p.loc[("A", "usual_care"), "end_date"] == pd.Timestamp("2020-02-14")
    assert pd.isna(p.loc[("A", "dedicated_team"), "end_date"])
    assert pd.isna(p.loc[("B", "paid_gp"), "start_date"])


def test_totals_and_row_order():
    rng = np.random.default_rng(5)
    n = 400
    homes = pd.DataFrame({"care_home_id": [f"H{i}" for i in range(6)],
                          "care_model": ["usual_care"] * 6})
    history = pd.DataFrame({
        "care_home_id": ["H0", "H0", "H1", "H1", "H1"],
        "care_model": ["usual_care", "dedicated_team", "usual_care", "paid_gp", "usual_care"],
        "start_date": pd.to_datetime(["2019-01-01", "2020-03-17", "2019-06-01", "2020-01-01",
                                      "2020-07-31"])})
    start = np.datetime64("2020-01-01")
    entry = start + rng.integers(0, 300, n).astype("timedelta64[D]")
    exit_ = entry + rng.integers(0, 400, n).astype("timedelta64[D]")
    cohort = pd.DataFrame({"resident_id": np.arange(n),
                           "care_home_id": rng.choice(homes["care_home_id"], n),
                           "entry_date": entry, "exit_date": exit_, "died": rng.random(n) < .3})
    k = rng.integers(0, n, 900)
    day = entry[k] + (rng.random(900) * ((exit_[k] - entry[k]).astype(int) + 1)).astype(
        "timedelta64[D]")
    events = pd.DataFrame({"resident_id": k, "care_home_id": cohort["care_home_id"].to_numpy()[k],
                           "item": rng.choice(["emergency_admission", "ae", "gp"], 900),
                           "event_date": day, "n": rng.integers(1, 4, 900)})
    panel = make_panel(cohort, events, homes, history, OUTCOMES)
    follow_up = (exit_ - entry).astype(int) + 1
    assert panel["person_days"].sum() == follow_up.sum()
    for name in ("emergency_admission", "ae"):
        assert panel[name].sum() == events.loc[events["item"] == name, "n"].sum()
    assert panel["death"].sum() == cohort["died"].sum()
    # H1 is paid_gp from 1 Jan 2020 to 30 Jul 2020 only: its person-days then equal the
    # residents' days inside that window.
    h1 = cohort["care_home_id"] == "H1"
    lo, hi = np.datetime64("2020-01-01"), np.datetime64("2020-07-30")
    days = (np.minimum(exit_[h1], hi) - np.maximum(entry[h1], lo)).astype(int) + 1
    got = panel.loc[(panel["care_home_id"] == "H1") & (panel["care_model"] == "paid_gp"),
                    "person_days"].sum()
    assert got == np.clip(days, 0, None).sum()
    shuffled = make_panel(cohort.sample(frac=1, random_state=1),
                          events.sample(frac=1, random_state=2), homes.iloc[::-1],
                          history.iloc[::-1], OUTCOMES)
    key = ["care_home_id", "month", "care_model"]
    pd.testing.assert_frame_equal(panel.sort_values(key, ignore_index=True),
                                  shuffled.sort_values(key, ignore_index=True))
