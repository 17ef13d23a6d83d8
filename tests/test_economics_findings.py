"""Key-findings sentence rules: wording by interval, data shapes, missing pieces."""

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.report.findings import (
    OBSERVATIONAL_CAVEAT,
    cost_sentence,
    data_sentence,
    direction,
    economics_sentence,
    fmt_count,
    fmt_gbp,
    key_findings,
    outcome_sentence,
    region_sentence,
)

LABELS = {"dedicated_team": "Dedicated care home team", "paid_gp": "Paid-for extra GP provision",
          "usual_care": "Usual GP care"}
OUTCOMES = {"emergency_admission": "emergency admissions", "ae": "A&E attendances"}


def _summary(regions: dict[str, str], residents: int = 3000) -> pd.DataFrame:
    rows = [{"care_model": m, "regions": r, "n_regions": len(r.split(";")), "care_homes": 10,
             "residents": residents // len(regions), "person_years": 700.4} for m, r in
            regions.items()]
    every = sorted(set(";".join(regions.values()).split(";")))
    rows.append({"care_model": "all", "regions": ";".join(every), "n_regions": len(every),
                 "care_homes": 10 * len(regions), "residents": residents,
                 "person_years": 2101.2})
    return pd.DataFrame(rows)


def _ratio(term: str, est: float, low: float, high: float, *, outcome: str = "emergency_admission",
           small: tuple[float, float] | None = None, model: str = "poisson",
           adjustment: str = "adjusted", reason: str = "") -> dict:
    lo_s, hi_s = small if small else (np.nan, np.nan)
    return {"outcome": outcome, "model": model, "adjustment": adjustment,
            "exposure": "person_years", "term": term, "estimate": est, "conf_low": low,
            "conf_high": high, "conf_low_small": lo_s, "conf_high_small": hi_s, "reason": reason}


def test_formats() -> None:
    assert fmt_count(3000) == "3,000" and fmt_count("[c]") == "suppressed"
    assert fmt_count(1234567.4) == "1,234,567"
    assert fmt_gbp(-1234.5) == "\u2212£1,234" and fmt_gbp(0.4) == "£0"
    assert fmt_gbp(np.nan) == "not available"


@pytest.mark.parametrize(("low", "high", "null", "expected"), [
    (0.63, 0.98, 1.0, "below"), (1.01, 1.5, 1.0, "above"), (0.8, 1.13, 1.0, "unclear"),
    (0.8, 1.0, 1.0, "unclear"),  # a limit on the null value is not a clear difference
    (np.nan, 1.2, 1.0, "unknown"), (-900, -10, 0.0, "below"), (-900, 500, 0.0, "unclear"),
])
def test_direction(low: float, high: float, null: float, expected: str) -> None:
    assert direction(low, high, null) == expected


def test_rate_ratio_wording_uses_the_small_sample_interval() -> None:
    ratios = pd.DataFrame([
        # CR1 interval excludes 1, the small-sample one does not: "no clear difference"
        _ratio("dedicated_team", 0.78, 0.63, 0.97, small=(0.55, 1.10)),
        _ratio("paid_gp", 0.78, 0.50, 1.30, small=(0.63, 0.98)),
    ])
    s = outcome_sentence(ratios, "emergency_admission", reference="usual_care", labels=LABELS,
                         outcome_label="emergency admissions")
    assert s == ("Emergency admissions, adjusted for residents' characteristics, compared with "
                 "usual GP care: no clear difference with dedicated care home team (rate ratio "
                 "0.78, 95% CI 0.55 to 1.10) and fewer with paid-for extra GP provision (rate "
                 "ratio 0.78, 95% CI 0.63 to 0.98).")


def test_more_and_missing_estimate_and_crude_fallback() -> None:
    ratios = pd.DataFrame([
        _ratio("dedicated_team", 1.4, 1.1, 1.8, outcome="ae", adjustment="crude"),
        _ratio("paid_gp", np.nan, np.nan, np.nan, outcome="ae", adjustment="crude",
               reason="no events in the comparison"),
    ])
    s = outcome_sentence(ratios, "ae", reference="usual_care", labels=LABELS,
                         outcome_label="A&E attendances")
    assert s == ("A&E attendances, compared with usual GP care: more with dedicated care home "
                 "team (rate ratio 1.40, 95% CI 1.10 to 1.80) and no estimate for paid-for extra "
                 "GP provision (no events in the comparison).")
    assert "adjusted" not in s


def test_missing_outcome() -> None:
    ratios = pd.DataFrame([_ratio("paid_gp", 0.9, 0.7, 1.1, outcome="ae")])
    assert outcome_sentence(ratios, "emergency_admission", reference="usual_care", labels=LABELS,
                            outcome_label="emergency admissions") is None
    line = outcome_sentence(None, "emergency_admission", reference="usual_care", labels=LABELS,
                            outcome_label="emergency admissions", required=True)
    assert line == ("Emergency admissions could not be compared between care models: there are "
                    "no estimates for them in these data.")


@pytest.mark.parametrize(("regions", "expected"), [
    ({"dedicated_team": "north", "paid_gp": "midlands", "usual_care": "south"},
     "Each region has a single care model"),
    ({"dedicated_team": "north;south", "paid_gp": "north;south", "usual_care": "north;south"},
     "Every region (2) has care homes with more than one care model"),
    ({"dedicated_team": "north", "paid_gp": "north", "usual_care": "north"},
     "All residents live in one region (north)"),
    ({"dedicated_team": "north;south", "paid_gp": "north", "usual_care": "east"},
     "1 of 3 regions have care homes with more than one care model"),
    ({"usual_care": "north;south"}, "Only one care model is in these data"),
])
def test_region_sentence_is_true_of_the_data(regions: dict, expected: str) -> None:
    s = region_sentence(_summary(regions))
    assert s is not None and s.startswith(expected)
    if len(set(";".join(regions.values()).split(";"))) > 1 and "Each region" not in s:
        assert "single care model" not in s


def test_data_sentence_reads_numbers() -> None:
    s = data_sentence(_summary({"paid_gp": "north", "usual_care": "north"}))
    assert s == ("The report compares 2 care models for 3,000 residents of 20 care homes "
                 "(2,101 resident-years of follow-up) in one region.")


def test_cost_sentence() -> None:
    costs = pd.DataFrame({
        "care_model": ["paid_gp", "paid_gp", "usual_care"], "item": ["ae", "total", "total"],
        "cost_per_resident_year": [10.0, 9203.1, 8172.0], "conf_low": [1, 7680.0, 6360.0],
        "conf_high": [20, 10600.0, 9080.0], "conf_low_small": [1, 6620.0, np.nan],
        "conf_high_small": [20, 12500.0, np.nan]})
    assert cost_sentence(costs, labels=LABELS) == (
        "NHS costs per resident-year were £9,203 (95% CI £6,620 to £12,500) with paid-for "
        "extra GP provision and £8,172 (95% CI £6,360 to £9,080) with usual GP care.")


def _econ(d: float, low: float, high: float, **extra: float) -> pd.Series:
    return pd.Series({"care_model": "dedicated_team", "incremental_cost": d,
                      "incremental_cost_low": low, "incremental_cost_high": high,
                      "scheme_cost_per_resident_year": 684.0, "prob_cost_saving": 0.62,
                      **extra})


def test_economics_sentence_by_interval() -> None:
    unclear = economics_sentence(_econ(-200.4, -900, 450, break_even_running_cost=884.4),
                                 reference="usual_care", labels=LABELS)
    assert unclear == (
        "Dedicated care home team: no clear difference in total cost per resident-year including "
        "its running cost of £684 from usual GP care (£200 lower, 95% CI £900 lower to £450 "
        "higher); the chance that it costs less is 62%; it breaks even at a running cost of up "
        "to £884 per resident-year.")
    lower = economics_sentence(_econ(-1200, -2100, -300), reference="usual_care", labels=LABELS)
    assert "was £1,200 lower than with usual GP care (95% CI £2,100 lower to £300 lower)" in lower
    higher = economics_sentence(_econ(500, 100, 900, break_even_running_cost=-50.0),
                                reference="usual_care", labels=LABELS)
    assert "was £500 higher" in higher and "does not break even at any running cost" in higher
    missing = economics_sentence(_econ(np.nan, np.nan, np.nan), reference="usual_care",
                                 labels=LABELS)
    assert missing == ("Dedicated care home team: the total cost could not be compared with "
                       "usual GP care.")


def _tables(regions: dict[str, str], *, with_ae: bool = True) -> dict[str, pd.DataFrame]:
    terms = [m for m in regions if m != "usual_care"]
    rows = [_ratio(t, 0.8, 0.6, 1.1, small=(0.55, 1.2)) for t in terms]
    if with_ae:
        rows += [_ratio(t, 0.7, 0.5, 0.95, outcome="ae", small=(0.52, 0.97)) for t in terms]
    econ = pd.DataFrame([dict(_econ(-100, -500, 300), care_model=t) for t in terms])
    return {"cohort_summary": _summary(regions), "rate_ratios": pd.DataFrame(rows),
            "economics": econ,
            "costs": pd.DataFrame({"care_model": list(regions), "item": "total",
                                   "cost_per_resident_year": 8000.0, "conf_low": 7000.0,
                                   "conf_high": 9000.0})}


@pytest.mark.parametrize("regions", [
    {"dedicated_team": "north;south", "paid_gp": "north;south", "usual_care": "north;south"},
    {"dedicated_team": "north", "paid_gp": "north", "usual_care": "north"},
    {"dedicated_team": "north", "paid_gp": "midlands", "usual_care": "south"},
])
def test_key_findings_on_three_shapes(regions: dict) -> None:
    out = key_findings(_tables(regions), reference="usual_care", care_model_labels=LABELS,
                       outcome_labels=OUTCOMES)
    assert 5 <= len(out) <= 8
    assert out[-1] == OBSERVATIONAL_CAVEAT
    text = " ".join(out)
    for word in ("reduced", "prevented", "caused", "because of the"):
        assert word not in text
    mixed = any(";" in r for r in regions.values())
    assert ("Each region has a single care model" in text) == (not mixed and len(
        set(regions.values())) > 1)
    assert "fewer with dedicated care home team (rate ratio 0.70, 95% CI 0.52 to 0.97)" in text
    assert "no clear difference with dedicated care home team (rate ratio 0.80" in text


def test_key_findings_missing_pieces_and_cap() -> None:
    regions = {"dedicated_team": "north", "paid_gp": "north", "enhanced": "north",
               "usual_care": "north"}
    tables = _tables(regions)
    out = key_findings(tables, reference="usual_care", care_model_labels=LABELS,
                       outcome_labels=OUTCOMES)
    # data, regions, admissions, A&E, three schemes, caveat; no cost levels beside economics
    assert len(out) == 8 and not any(s.startswith("NHS costs per resident-year") for s in out)
    five = _tables({**regions, "other": "north"})
    out = key_findings(five, reference="usual_care", care_model_labels=LABELS,
                       outcome_labels=OUTCOMES)
    assert len(out) == 8 and not any(s.startswith("A&E") for s in out)  # lowest priority dropped
    no_econ = {k: v for k, v in tables.items() if k != "economics"}
    out = key_findings(no_econ, reference="usual_care", care_model_labels=LABELS,
                       outcome_labels=OUTCOMES)
    assert any(s.startswith("NHS costs per resident-year were £8,000") for s in out)
    no_ratios = {k: v for k, v in _tables(regions, with_ae=False).items() if k != "rate_ratios"}
    out = key_findings(no_ratios, reference="usual_care", care_model_labels=LABELS,
                       outcome_labels=OUTCOMES)
    assert any(s.startswith("Emergency admissions could not be compared") for s in out)
    one = key_findings({"cohort_summary": _summary({"usual_care": "north"})},
                       reference="usual_care", care_model_labels=LABELS, outcome_labels=OUTCOMES)
    assert one[1].startswith("Only one care model") and len(one) == 3


def test_economics_sentence_without_a_given_running_cost() -> None:
    row = _econ(-300, -900, 200, scheme_cost_source="not given: no row",
                break_even_running_cost=300)
    s = economics_sentence(row, reference="usual_care", labels=LABELS)
    assert s.startswith("Dedicated care home team: no clear difference in total cost per "
                        "resident-year (no running cost was given for it, so this is its NHS "
                        "cost alone) from usual GP care")
    assert s.endswith("it breaks even at a running cost of up to £300 per resident-year.")
