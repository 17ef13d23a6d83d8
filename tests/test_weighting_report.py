"""Report section "How fair is the comparison?" and its figures, from small published tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from optimal_analysis.care_models import CareModels
from optimal_analysis.figures.published import plot_published
from optimal_analysis.regions import REGION_COLUMNS
from optimal_analysis.report.fairness import FAIRNESS_DISPLAYS, fairness_text

CONFIG = {"care_models": ["dedicated_team", "usual_care"], "reference_care_model": "usual_care",
          "care_model_labels": {"dedicated_team": "Team", "usual_care": "Usual care"},
          "weighting": {"method": "overlap"}}


def _tables(regions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    balance = pd.DataFrame({
        "covariate": ["age", "age"], "level": "mean", "care_model": ["dedicated_team",
                                                                     "usual_care"],
        "smd_crude": [0.42, np.nan], "smd_weighted": [0.03, np.nan], "mean_crude": [87, 84],
        "mean_weighted": [85.5, 85.4], "is_reference": [False, True],
        "n_residents": [100, 120], "n_level": [100, 120]})
    rr = pd.DataFrame({
        "outcome": "emergency_admission", "model": "poisson",
        "adjustment": ["adjusted", "weighted"], "exposure": "person_years",
        "term": "dedicated_team", "estimate": [0.7, 0.72], "conf_low": [0.55, 0.5],
        "conf_high": [0.9, 1.04], "e_value": [2.21, 2.12], "e_value_ci": [1.46, 1.0]})
    return {"balance": balance, "rate_ratios": rr, "region_effects": regions}


def test_intro_states_balance_e_values_and_that_regions_cannot_be_separated():
    text = " ".join(fairness_text(_tables(pd.DataFrame(columns=REGION_COLUMNS)), CONFIG))
    assert "0.42 before weighting and 0.03 after (all below 0.1)" in text
    assert "For Team the adjusted emergency admission" in text
    assert "risk ratio of 2.21 each" in text and "a risk ratio of 1.46 each would do" in text
    assert "region and care model cannot be separated" in text
    assert "weights as fixed" in text
    tables = _tables(pd.DataFrame(columns=REGION_COLUMNS))
    assert ("Team, emergency admission rate ratio: regression-adjusted 0.700 (0.550 to 0.900), "
            "propensity-score weighted 0.720 (0.500 to 1.04).") in text
    regions = FAIRNESS_DISPLAYS["region_effects"](tables["region_effects"], CONFIG)
    assert regions["rows"] == [] and "cannot be separated" in regions["note"]
    balance = FAIRNESS_DISPLAYS["balance"](tables["balance"], CONFIG)
    assert balance["rows"] == [["age", "0.42", "0.03"]]
    fig = plot_published("region_forest", {"region_effects": pd.DataFrame(
        columns=REGION_COLUMNS)}, care_models=CONFIG["care_models"])
    assert "cannot be separated" in fig.axes[0].texts[0].get_text()
    plt.close(fig)


def test_intro_gives_tau2_i2_and_prediction_interval():
    regions = pd.DataFrame([
        ["emergency_admission", "dedicated_team", "r1", 0.8, 0.2, 0.54, 1.18, 200, 8,
         np.nan, np.nan, np.nan, np.nan, np.nan],
        ["emergency_admission", "dedicated_team", "r2", 0.6, 0.2, 0.41, 0.89, 210, 8,
         np.nan, np.nan, np.nan, np.nan, np.nan],
        ["emergency_admission", "dedicated_team", "pooled", 0.69, 0.15, 0.52, 0.93, 410, 16,
         0.012, 23.5, 0.45, 1.06, 2]], columns=REGION_COLUMNS)
    text = " ".join(fairness_text(_tables(regions), CONFIG))
    assert "across 2 regions the pooled adjusted rate ratio of Team is 0.690" in text
    assert "tau² 0.012 (I² 23.5%)" in text and "between 0.450 and 1.06" in text
    models = CareModels.of(CONFIG["care_models"], CONFIG["care_model_labels"])
    fig = plot_published("region_forest", {"region_effects": regions}, care_models=models)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Team: r1", "Team: r2", "Team: pooled (I² 24%)"]
    plt.close(fig)
