"""Economics stage: scheme-cost table checks, per-home totals, economics.csv against costs.csv."""

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.economics import SchemeCostError, make_economics, validate_scheme_costs
from optimal_analysis.economics.scheme_costs import rebase_scheme_costs
from optimal_analysis.economics.tables import ECONOMICS_COLUMNS, home_totals

MODELS = ["dedicated_team", "paid_gp", "usual_care"]


def _scheme_table(**changes: object) -> pd.DataFrame:
    t = pd.DataFrame({"care_model": MODELS, "cost": [684.0, 120.0, 0.0],
                      "unit": ["resident_year", "bed_year", "resident_year"],
                      "price_year": [2023, 2021, 2024], "source": ["a", "b", "c"]})
    for k, v in changes.items():
        t[k] = v
    return t


def test_bundled_scheme_costs_are_valid_and_rebased() -> None:
    table = pd.read_csv("config/scheme_costs.csv")
    checked = validate_scheme_costs(table, care_models=MODELS)
    index = pd.Series({2021: 112.7636, 2023: 126.2338, 2024: 131.6745})
    out = rebase_scheme_costs(checked, index, price_year=2024).set_index("care_model")
    # 684 x 131.6745 / 126.2338 = 713.48; 120 x 131.6745 / 112.7636 = 140.12
    np.testing.assert_allclose(out.loc[["dedicated_team", "paid_gp", "usual_care"], "cost_gbp"],
                               [684 * 131.6745 / 126.2338, 120 * 131.6745 / 112.7636, 0.0])
    assert out["source"].str.len().min() > 20


def test_scheme_cost_errors_are_listed_together() -> None:
    bad = _scheme_table(unit=["resident_year", "per_visit", "resident_year"],
                        cost=[-1.0, 120.0, 0.0], source=["a", "", "c"])
    with pytest.raises(SchemeCostError) as err:
        validate_scheme_costs(bad, care_models=[*MODELS, "enhanced_practice"])
    message = str(err.value)
    for part in ("cost must be a number >= 0 (GBP) for: ['dedicated_team']",
                 "unknown unit(s) ['per_visit']", "needs a source"):
        assert part in message


def test_a_care_model_without_a_row_costs_nothing_to_run_and_says_so() -> None:
    out = validate_scheme_costs(_scheme_table(), care_models=[*MODELS, "enhanced_practice"])
    row = out.set_index("care_model").loc["enhanced_practice"]
    assert row["cost"] == 0.0 and row["unit"] == "resident_year"
    assert row["source"].startswith("not given")


def _cohort() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six homes, two per care model, three residents each; costs and admissions by hand."""
    homes = np.repeat(np.arange(6), 3)
    model = np.array(MODELS)[homes // 2]
    py = np.tile([1.0, 0.5, 0.5], 6)
    cohort = pd.DataFrame({
        "resident_id": [f"r{i}" for i in range(18)], "care_home_id": [f"h{h}" for h in homes],
        "care_model": model, "region": "north", "beds": 40,
        "age": np.linspace(70, 95, 18), "sex": np.tile(["F", "M", "F"], 6),
        "person_years": py, "emergency_admission": np.tile([1, 0, 2], 6),
        "entry_date": pd.Timestamp("2024-04-01"),
        "exit_date": pd.Timestamp("2025-03-31") - pd.to_timedelta(np.tile([0, 182, 182], 6),
                                                                   unit="D"),
    })
    cost = np.where(model == "usual_care", 3000.0, np.where(model == "paid_gp", 2500.0, 2000.0))
    resident_costs = pd.DataFrame({"resident_id": cohort["resident_id"],
                                   "cost_gbp": cost * py * (1 + 0.1 * (homes % 2))})
    return cohort, resident_costs


def test_home_totals_by_hand() -> None:
    cohort, costs = _cohort()
    homes = home_totals(cohort, costs)
    assert list(homes["care_home_id"]) == [f"h{i}" for i in range(6)]
    np.testing.assert_allclose(homes["person_years"], 2.0)
    np.testing.assert_allclose(homes["admissions"], 3)
    np.testing.assert_allclose(homes["home_years"], 365 / 365.25)  # 2024-04-01..2025-03-31
    np.testing.assert_allclose(homes.loc[0, "nhs_cost_gbp"], 2000.0 * 2.0)


def test_make_economics_known_values() -> None:
    cohort, costs = _cohort()
    scheme = _scheme_table(cost_gbp=[500.0, 10.0, 0.0])
    econ, reps, curve = make_economics(
        cohort, costs, scheme, reference="usual_care", care_models=MODELS, covariates=["age"],
        price_year=2024, replicates=200, rng=np.random.default_rng(4))
    assert list(econ.columns[:len(ECONOMICS_COLUMNS)]) == ECONOMICS_COLUMNS
    e = econ.set_index("care_model")
    # NHS cost per resident-year: (2 homes x 2 py: 1.0 and 1.1 times the rate) / 4 py
    np.testing.assert_allclose(e["nhs_cost_per_resident_year"],
                               [2000 * 1.05, 2500 * 1.05, 3000 * 1.05])
    # paid GP: 10 per bed-year x 40 beds x 365/365.25 years per home / 2 py per home
    np.testing.assert_allclose(e.loc["paid_gp", "scheme_cost_per_resident_year"],
                               10 * 40 * 365 / 365.25 / 2)
    np.testing.assert_allclose(e.loc["dedicated_team", "incremental_cost"],
                               2000 * 1.05 + 500 - 3000 * 1.05)
    # every home has 1.5 admissions per resident-year: nothing avoided, in every replicate
    np.testing.assert_allclose(e.loc["dedicated_team", ["admissions_avoided_per_resident_year",
                                                        "admissions_avoided_low",
                                                        "admissions_avoided_high"]]
                               .to_numpy(float), 0.0)
    assert e.loc["dedicated_team", "cost_per_admission_avoided"] == "no difference in admissions"
    # NHS saving 1,050 minus running cost 500: saves money in every replicate
    assert e.loc["dedicated_team", "prob_cost_saving"] == 1.0
    np.testing.assert_allclose(e.loc["dedicated_team", "break_even_running_cost"], 1050.0)
    assert np.isnan(e.loc["usual_care", "incremental_cost"])
    assert set(reps["care_model"]) == {"dedicated_team", "paid_gp"} and len(reps) == 400
    c = curve[curve["care_model"] == "dedicated_team"]
    assert c["prob_cost_saving"].is_monotonic_decreasing
    # NHS differences lie in [-1,300, -800] (home factors 1 and 1.1): certain saving below 800
    running = c["running_cost_per_resident_year"]
    assert c.loc[running < 800, "prob_cost_saving"].min() == 1.0
    assert c.loc[running > 1300, "prob_cost_saving"].max() == 0.0
