"""The rebuilt report's pieces: economics display and text, labels, empty tables, paths."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from optimal_analysis.report import SectionInputs, make_provenance, render_report
from optimal_analysis.report.economics import display_economics, economics_text
from optimal_analysis.report.economics_rounding import round_economics
from optimal_analysis.report.narrative import survival_text
from optimal_analysis.report.render import display_path
from optimal_analysis.report.tables import display_table

CONFIG = yaml.safe_load((Path(__file__).parents[1] / "config" / "config.yaml").read_text())


def _economics() -> pd.DataFrame:
    return pd.DataFrame({
        "care_model": ["dedicated_team", "usual_care"],
        "nhs_cost_per_resident_year": [7200.0, 7480.0],
        "scheme_cost_per_resident_year": [710.0, 0.0],
        "total_cost_per_resident_year": [7910.0, 7480.0],
        "incremental_cost": [430.0, np.nan], "incremental_cost_low": [-750.0, np.nan],
        "incremental_cost_high": [1800.0, np.nan],
        "admissions_avoided_per_resident_year": [0.138, np.nan],
        "admissions_avoided_low": [-0.095, np.nan], "admissions_avoided_high": [0.342, np.nan],
        "cost_per_admission_avoided": ["3100", ""], "prob_cost_saving": [0.28, np.nan],
        "icer": [3100.0, np.nan], "quadrant": ["costs more, avoids admissions", "reference"],
        "break_even_running_cost": [280.0, np.nan], "price_year": [2024, 2024],
        "scheme_cost_unit": ["resident_year", "resident_year"],
        "scheme_cost_gbp_per_unit": [710.0, 0.0],
        "adjusted_nhs_cost_difference": [-500.0, np.nan],
        "adjusted_nhs_cost_difference_low": [-1260.0, np.nan],
        "adjusted_nhs_cost_difference_high": [2260.0, np.nan],
    })


def test_economics_display_row_by_hand() -> None:
    d = display_economics(_economics(), CONFIG)
    row = dict(zip(d["columns"], d["rows"][0], strict=True))
    assert row["Extra total cost (95% CI)"] == "£430 (\u2212£750 to £1,800)"
    assert row["Cost per admission avoided"] == "£3,100"
    assert row["Chance it costs less"] == "28%" and row["Break-even running cost"] == "£280"
    assert d["rows"][1][0].endswith("(reference)") and d["rows"][1][4] == ""
    assert "2024 prices" in d["note"]


def test_economics_text_respects_uncertainty() -> None:
    text = economics_text({"economics": _economics()}, CONFIG)
    assert text[0].startswith("Dedicated care home team: no clear difference in total cost per "
                              "resident-year including its running cost of £710 from usual GP "
                              "care (£430 higher, 95% CI £750 lower to £1,800 higher)")
    assert "the chance that it costs less is 28%" in text[0]
    assert any("per emergency admission avoided (the number of admissions avoided is itself "
               "uncertain" in s for s in text)
    assert any("adjusted for residents' characteristics, the NHS cost difference was −£500"
               in s for s in text)
    assert text[-1].startswith("Running costs used:")
    assert economics_text({}, CONFIG) == [
        "The economic comparison could not be made in this run (no economics table)."]


def test_published_economics_money_is_rounded_to_ten_pounds() -> None:
    t = pd.DataFrame({"incremental_cost": [434.9, -755.1], "prob_cost_saving": [0.2849, 1.0],
                      "icer": [3104.0, np.nan],
                      "cost_per_admission_avoided": ["3104.00", "dominant"],
                      "admissions_avoided_per_resident_year": [0.13849, 0.2]})
    out = round_economics(t)
    assert out["incremental_cost"].tolist() == [430.0, -760.0]
    assert out["prob_cost_saving"].tolist() == [0.28, 1.0]
    assert out["cost_per_admission_avoided"].tolist() == ["3100", "dominant"]
    assert out["admissions_avoided_per_resident_year"].tolist() == [0.138, 0.2]


def test_reader_labels_not_reached_and_ph_sentence() -> None:
    use = pd.DataFrame({"service": ["ae", "gp_visit"], "care_model": "usual_care",
                        "contacts_per_resident_year": [1.2, 3.4]})
    rows = display_table("service_use", use, CONFIG)["rows"]
    assert [r[0] for r in rows] == ["A&E attendance", "GP home visit"]
    km = pd.DataFrame({"care_model": ["paid_gp", "usual_care"], "n_residents": [70, 85],
                       "median_days": [np.nan, "[c]"], "rmst_days": [290.0, 287.0]})
    cells = display_table("km_summary", km, CONFIG)["rows"]
    assert "not reached" in cells[0] and "[c]" in cells[1] and "not reached" not in cells[1]
    ph = pd.DataFrame({"outcome": ["emergency_admission", "emergency_admission", "death"],
                       "term": ["care_model", "GLOBAL", "GLOBAL"],
                       "p_value": [0.003, 0.003, 0.79]})
    text = survival_text({"ph_tests": ph}, CONFIG)
    assert len(text) == 1 and text[0].startswith(
        "The proportional-hazards test fails for emergency admissions (p = 0.003)")


def test_empty_table_is_one_line_and_paths_relative_to_the_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "north").mkdir(parents=True)
    f = data / "north" / "residents.csv"
    f.write_text("resident_id\nr1\n")
    assert display_path(str(f), str(data)) == "<data>/north/residents.csv"
    assert display_path("config/scheme_costs.csv", str(data)) == "config/scheme_costs.csv"
    empty = pd.DataFrame(columns=["care_model", "item", "cost_per_resident_year", "scheme"])
    html = render_report(
        sections={"costs": SectionInputs(tables=("costs_sensitivity",))},
        tables={"costs_sensitivity": empty}, figures={},
        config={**CONFIG, "data_dir": str(data)},
        provenance=make_provenance(CONFIG, [f], run_date="2026-01-02"))
    assert 'data-table="costs_sensitivity"' not in html
    assert "No sensitivity analysis of hospital costing: the unit-cost table names no other" \
        in html
    assert "&lt;data&gt;/north/residents.csv" in html and str(data) + "/north" not in html
    first = re.search(r'<section id="([\w-]+)"', html)
    assert first is not None and first.group(1) == "key-findings"
