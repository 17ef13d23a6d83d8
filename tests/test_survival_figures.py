"""Survival figures are drawn from the results tables alone."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from optimal_analysis.care_models import CareModels
from optimal_analysis.figures.survival import plot_cumulative_incidence, plot_km  # noqa: E402

CI = pd.DataFrame(
    {
        "care_model": ["usual_care"] * 4 + ["dedicated_team"] * 4,
        "event": ["emergency_admission", "death"] * 4,
        "time": [2, 2, 5, 5, 3, 3, 6, 6],
        "estimate": [0.1, 0.05, 0.3, 0.1, 0.05, 0.0, 0.2, 0.1],
        "conf_low": [0.01, 0.01, 0.1, 0.02, 0.01, None, 0.05, 0.02],
        "conf_high": [0.4, 0.3, 0.6, 0.4, 0.3, None, 0.5, 0.4],
        "n_at_risk": [10, 10, 7, 7, 12, 12, 9, 9],
    }
)
KM = pd.DataFrame(
    {
        "care_model": ["usual_care", "usual_care", "dedicated_team"],
        "time": [2, 5, 6],
        "estimate": [0.9, 0.7, 0.8],
        "conf_low": [0.7, 0.5, 0.6],
        "conf_high": [1, 0.9, 1],
        "n_at_risk": [10, 7, 9],
    }
)
AT_RISK = pd.DataFrame(
    {
        "care_model": ["usual_care", "dedicated_team"] * 2,
        "scale": ["admission"] * 2 + ["death"] * 2,
        "time": [0, 0, 0, 0],
        "n_at_risk": [10, 12, 10, 12],
    }
)


def test_cumulative_incidence_panel_has_one_curve_per_care_model_and_at_risk_rows():
    models = CareModels.of(
        ["dedicated_team", "usual_care"], {"dedicated_team": "Dedicated care home team"}
    )
    ax = plot_cumulative_incidence(CI, event="death", at_risk=AT_RISK, care_models=models)
    # labels from config care_model_labels; a model without one gets a readable default
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Dedicated care home team",
        "Usual care",
    ]
    assert len(ax.get_lines()) == 2
    texts = [t.get_text() for t in ax.texts]
    assert "Number at risk" in texts and "12" in texts and "10" in texts
    # step curves start at 0 on day 0
    assert ax.get_lines()[0].get_ydata()[0] == 0
    plt.close(ax.figure)


def test_km_starts_at_one():
    ax = plot_km(KM, at_risk=AT_RISK)
    assert all(line.get_ydata()[0] == 1 for line in ax.get_lines())
    assert ax.get_ylabel() == "Proportion alive"
    plt.close(ax.figure)


def test_unknown_event_is_named():
    with pytest.raises(ValueError, match="no rows with event 'ae'"):
        plot_cumulative_incidence(CI, event="ae")


def test_curves_cope_with_missing_values_and_a_model_without_events():
    # paid_gp has only its day-0 row (no events); usual_care has a row with NaN estimate
    # and limits (e.g. a suppressed published value): no crash, one line per care model
    km = pd.concat(
        [
            KM,
            pd.DataFrame(
                {
                    "care_model": ["paid_gp", "usual_care"],
                    "time": [0, 7],
                    "estimate": [1.0, None],
                    "conf_low": [1.0, None],
                    "conf_high": [1.0, None],
                    "n_at_risk": [5, 4],
                }
            ),
        ],
        ignore_index=True,
    )
    ax = plot_km(km, at_risk=AT_RISK)
    assert len(ax.get_lines()) == 3
    plt.close(ax.figure)
    ci = pd.concat([CI, km.iloc[-2:].assign(event="death", estimate=[0.0, None])])
    ax = plot_cumulative_incidence(ci, event="death")
    assert len(ax.get_lines()) == 3
    plt.close(ax.figure)
