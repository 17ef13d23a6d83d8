"""The place-of-death figure is drawn from its table only."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from optimal_analysis.figures.deaths import plot_place_of_death  # noqa: E402


def test_bars_are_the_published_shares_and_suppressed_rows_are_left_out():
    t = pd.DataFrame(
        {
            "care_model": ["usual_care", "paid_gp", "dedicated_team"],
            "deaths": [40, 35, 20],
            "deaths_in_hospital": [10, np.nan, 5],
            "share": [0.25, np.nan, 0.25],
            "conf_low": [0.13, np.nan, 0.09],
            "conf_high": [0.41, np.nan, 0.49],
        }
    )
    ax = plot_place_of_death(t, care_models=["dedicated_team", "paid_gp", "usual_care"])
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == [25.0, 25.0]
    # configured order from the top; the suppressed paid_gp row has no bar
    assert [x.get_text() for x in ax.get_yticklabels()] == ["Dedicated team", "Usual care"]
    assert list(ax.get_yticks()) == [1, 0]


def test_empty_table_says_so():
    cols = ["care_model", "deaths", "deaths_in_hospital", "share", "conf_low", "conf_high"]
    ax = plot_place_of_death(pd.DataFrame(columns=cols))
    assert "No share of deaths in hospital" in ax.texts[0].get_text()
