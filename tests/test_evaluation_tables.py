"""Scheme rates by months from switch (hand-computed) and the evaluation figures."""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from optimal_analysis.evaluation.monthly import make_scheme_rates  # noqa: E402
from optimal_analysis.figures.evaluation import plot_event_study, plot_scheme_rates  # noqa: E402


def _frame():
    # homes 0 (switches, cohort 2) and 1 (cohort 3) to "dt" from "uc"; home 2 stays "uc".
    # y = 10 * home + month, person_years = 1 everywhere; months 0..4.
    rows = []
    for home, cohort in ((0, 2), (1, 3), (2, -1)):
        for m in range(5):
            rows.append({"care_home_id": f"H{home}", "origin": "uc",
                         "scheme": "dt" if cohort >= 0 else None, "y": 10 * home + m,
                         "person_years": 1.0, "home": home, "month_index": m, "cohort": cohort})
    return pd.DataFrame(rows)


def test_scheme_rates_by_hand():
    t = make_scheme_rates(_frame(), "emergency_admission", window=1)
    sw = t[t["group"] == "switching"].set_index("months_from_switch")
    # e = -1: home 0 month 1 (y 1) + home 1 month 2 (y 12) = 13 over 2 person-years
    # e = 0: 2 + 13 = 15; e = 1: 3 + 14 = 17
    assert sw["events"].tolist() == [13, 15, 17]
    assert sw["person_years"].tolist() == [2.0, 2.0, 2.0]  # rates 6.5, 7.5, 8.5
    cp = t[t["group"] == "comparison"].set_index("months_from_switch")
    # home 2 (y = 20 + month) at calendar months g + e, cohorts 2 and 3 with weight 1/2 each:
    # e = -1: (21 + 22) / 2 = 21.5 -> 22 (rounded), person-years 1; e = 0: 22.5; e = 1: 23.5
    assert cp["person_years"].tolist() == [1.0, 1.0, 1.0]
    assert cp["events"].tolist() == [22, 22, 24]  # round half to even: 21.5 -> 22, 22.5 -> 22
    assert set(t["term"]) == {"dt"} and set(t["outcome"]) == {"emergency_admission"}


def test_figures_draw_the_table_values():
    rates = make_scheme_rates(_frame(), "emergency_admission", window=1)
    ax = plot_scheme_rates(rates)
    lines = [ln for ln in ax.get_lines() if ln.get_label() == "Homes that switched"]
    np.testing.assert_allclose(lines[0].get_ydata(), [6.5, 7.5, 8.5])
    ev = pd.DataFrame({"outcome": "x", "term": "dt", "months_from_switch": [-2, -1, 0],
                       "estimate": [1.1, 1.0, 0.8], "conf_low": [0.9, np.nan, 0.7],
                       "conf_high": [1.3, np.nan, 0.9]})
    ax = plot_event_study(ev)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.1, 1.0, 0.8])
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="several"):
        plot_event_study(pd.concat([ev, ev.assign(term="other")]))
