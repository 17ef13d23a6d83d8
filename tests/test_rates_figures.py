"""Rates figures: drawn from the results tables alone, on a given or a new Axes."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from optimal_analysis.care_models import CareModels
from optimal_analysis.figures.rates import plot_crude_rates, plot_rate_ratios


def _crude() -> pd.DataFrame:
    rows = []
    for outcome, base in [("emergency_admission", 1.0), ("death", 0.4), ("bed_days", 8.0)]:
        for k, model in enumerate(["usual_care", "dedicated_team", "all"]):
            rate = base * (1 - 0.2 * k)
            ci = (np.nan, np.nan) if outcome == "bed_days" else (rate * 0.7, rate * 1.4)
            rows.append(
                {
                    "outcome": outcome,
                    "care_model": model,
                    "residents": 10,
                    "events": 5,
                    "person_years": 5 / rate,
                    "rate": rate,
                    "conf_low": ci[0],
                    "conf_high": ci[1],
                }
            )
    return pd.DataFrame(rows)


def test_crude_rates_plot_one_series_per_care_model_and_no_all_row():
    fig, ax = plt.subplots()
    models = CareModels.of(["dedicated_team", "usual_care"], {"usual_care": "Usual GP care"})
    out = plot_crude_rates(_crude(), ax=ax, care_models=models)
    assert out is ax and ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    # configured order and labels (a model without a label gets a readable default); no "all"
    assert labels == ["Dedicated team", "Usual GP care"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Emergency admissions",
        "Deaths",
        "Hospital bed days",
    ]
    plt.close(fig)


def test_forest_plot_main_exposure_rows_and_annotations():
    base = {
        "outcome": "ae",
        "estimate": 0.8,
        "conf_low": 0.6,
        "conf_high": 1.1,
        "n_residents": 1234,
        "n_clusters": 12,
        "few_clusters": True,
        "region_confounded": False,
    }
    rows = [
        dict(base, model=m, adjustment=a, term=t, exposure=e)
        for m in ["poisson", "negbin"]
        for a in ["crude", "adjusted"]
        for t in ["dedicated_team", "paid_gp"]
        for e in ["person_years", "days_at_risk"]
    ]
    ax = plot_rate_ratios(pd.DataFrame(rows))
    assert len(ax.get_yticklabels()) == 8  # the days_at_risk sensitivity rows are not drawn
    assert ax.get_yticklabels()[0].get_text() == "poisson crude"
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("n=1,234, homes=12 †") == 8 and "ae".upper() not in texts
    assert any(line.get_xdata()[0] == 1.0 for line in ax.get_lines())  # reference line at 1
    plt.close(ax.figure)
