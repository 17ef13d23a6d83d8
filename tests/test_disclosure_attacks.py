"""The attack suite (disclosure_check) and the publish step it guards (disclosure_publish).

Negative control: :func:`legacy_publish` keeps a copy of the publish step as it
was before issue 13 (counts masked cell by cell beside exact statistics); the
checker must find the leaks the issue describes in its output. The new publish
step must leave nothing to find.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.io import write_csv
from optimal_analysis.report.check import check_published, check_tables, format_findings
from optimal_analysis.report.costs import public_unit_costs, publish_costs
from optimal_analysis.report.curves import coarsen_curve, publish_km, signif
from optimal_analysis.report.disclosure import TABLE_SPECS, disclose, round_counts
from optimal_analysis.report.publish import DisclosureError, assert_safe, publish
from optimal_analysis.report.rounding import is_rounded

REPO = Path(__file__).resolve().parents[1]
RULES = {"suppress_max": 7, "round_to": 5}


def legacy_publish(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Today's (pre-issue-13) publish step: every table disclosed cell by cell."""
    return {name: disclose(t, TABLE_SPECS[name], name=name, **RULES) for name, t in tables.items()}


@pytest.fixture(scope="module")
def unit_costs() -> pd.DataFrame:
    return public_unit_costs(pd.read_csv(REPO / "config/unit_costs/unit_costs_2015.csv"),
                             pd.read_csv(REPO / "config/unit_costs/inflation_index.csv"),
                             price_year=2024)


def exact_km(rng: np.random.Generator, n: int, care_model: str = "a") -> pd.DataFrame:
    """An exact km.csv curve (Greenwood standard error) of ``n`` residents over a year."""
    death = np.ceil(rng.exponential(900.0, n))
    cens = np.ceil(rng.uniform(30, 500, n))
    time = np.minimum(np.minimum(death, cens), 365)
    event = death <= np.minimum(cens, 365)
    t_ev = np.unique(time[event])
    at_risk = n - np.searchsorted(np.sort(time), t_ev, side="left")
    d = np.bincount(np.searchsorted(t_ev, time[event]), minlength=len(t_ev))
    s = np.cumprod(1 - d / at_risk)
    se = s * np.sqrt(np.cumsum(d / (at_risk * (at_risk - d))))
    out = pd.DataFrame({"care_model": care_model, "time": np.r_[0, t_ev].astype(int),
                        "estimate": np.r_[1.0, s], "std_error": np.r_[0.0, se],
                        "n_at_risk": np.r_[n, at_risk], "n_events": np.r_[0, d]})
    out["conf_low"] = out["estimate"] * np.exp(-1.96 * out["std_error"] / out["estimate"])
    out["conf_high"] = np.minimum(1, out["estimate"] * np.exp(1.96 * out["std_error"]
                                                              / out["estimate"]))
    return out


def _csv_round_trip(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    (folder / "published" / "tables").mkdir(parents=True, exist_ok=True)
    for name, t in tables.items():
        write_csv(t, folder / "published" / "tables" / f"{name}.csv")
    return folder


def test_round_counts_midpoint6():
    x = np.array([0, 1, 6, 7, 12, 13, 18, 19, np.nan])
    got = round_counts(x, 5, "midpoint6")
    np.testing.assert_array_equal(got, [0, 3, 3, 9, 9, 15, 15, 21, np.nan])
    assert is_rounded(got, 5, "midpoint6").all()
    assert not is_rounded(np.array([6.0, 10.0]), 5, "midpoint6").any()
    with pytest.raises(ValueError, match="rounding"):
        round_counts(x, 5, "nearest10")


def test_coarsen_curve_by_hand():
    # 100 at entry; events 5, 4, 6 at days 3, 10, 20 (1 censored after day 10, 4 after day
    # 20), 9 at day 40. Grid 30: days 0-30 hold 15 events and 5 censorings, day 60 9 events.
    # Rounded cumulative counts: events 15 -> 15, 24 -> 25; censorings 5 < 8 -> 0, so the
    # actuarial denominators n - c/2 are the numbers at risk.
    curve = pd.DataFrame({"time": [0, 3, 10, 20, 40], "n_at_risk": [100, 100, 95, 90, 80],
                          "d": [0, 5, 4, 6, 9]})
    c = coarsen_curve(curve, ["d"], grid_days=30, min_events=8, round_to=5)
    assert c["time"].tolist() == [0, 30, 60]
    assert c["n_at_risk"].tolist() == [100, 100, 85]
    assert c["d"].tolist() == [0, 15, 10]
    np.testing.assert_allclose(c["surv"], [1, 0.85, 0.85 * (1 - 10 / 85)], rtol=1e-15)
    c = coarsen_curve(curve, ["d"], grid_days=7, min_events=8, round_to=5)
    # weekly: day 3 (5) + day 10 (4) = 9 close at day 14; day 20 (6) + day 40 (9) at day 42
    assert c["time"].tolist() == [0, 14, 42]
    # with censorings counted: 10 censored by day 30 (rounded 10), half at risk in the step
    curve["n_at_risk"] = [100, 100, 95, 85, 75]  # 1 + 4 + 5 censored: cumulative 10
    c = coarsen_curve(curve, ["d"], grid_days=30, min_events=8, round_to=5)
    assert c["n_censored"].tolist() == [0, 10, 0] and c["n_at_risk"].tolist() == [100, 100, 75]
    np.testing.assert_allclose(c["surv"], [1, 1 - 15 / 95, (1 - 15 / 95) * (1 - 10 / 75)])


def test_signif():
    np.testing.assert_allclose(signif(np.array([0.012345, 123456.0, 0.0, -0.0996]), 2),
                               [0.012, 120000.0, 0.0, -0.1])


def test_issue_km_example_is_found_in_legacy_tables():
    # day 2: one death among 1,043 at risk; legacy shows n_events [c], n_at_risk 1045
    km = pd.DataFrame({"care_model": "a", "time": [0, 2], "estimate": [1.0, 1 - 1 / 1043],
                       "std_error": [0.0, np.sqrt(1 / (1043 * 1042)) * (1 - 1 / 1043)],
                       "conf_low": [1.0, 0.99], "conf_high": [1.0, 1.0],
                       "n_at_risk": [1043, 1043], "n_events": [0, 1]})
    legacy = legacy_publish({"km": km})["km"]
    assert legacy.loc[1, "n_events"] == "[c]" and legacy.loc[1, "n_at_risk"] == 1045
    findings = check_tables({"km": legacy}, **RULES)
    steps = [f for f in findings if f.attack == "curve_step"]
    assert [(f.row, f.value) for f in steps] == [(1, 1.0)]
    assert "1/1043" in steps[0].detail
    assert {f.attack for f in findings} == {"curve_step", "greenwood"}


def test_published_curves_resist_the_attacks_legacy_does_not(tmp_path):
    rng = np.random.default_rng(13)
    km = pd.concat([exact_km(rng, 1043, "a"), exact_km(rng, 300, "b")], ignore_index=True)
    legacy = check_published(_csv_round_trip(legacy_publish({"km": km}), tmp_path / "old"),
                             **RULES)
    assert sum(f.attack == "curve_step" for f in legacy) > 50
    new = publish_km(km, grid_days=30, min_events=8, round_to=5)
    assert check_published(_csv_round_trip({"km": new}, tmp_path / "new"), **RULES) == []
    # every step holds >= 8 exact events; published counts are rounded; estimate from them
    assert (new["n_at_risk"] % 5 == 0).all() and (new.groupby("care_model")["n_events"]
                                                   .cumsum() % 5 == 0).all()
    for _, g in new.groupby("care_model"):
        s = np.cumprod(1 - g["n_events"] / (g["n_at_risk"] - g["n_censored"] / 2))
        np.testing.assert_allclose(g["estimate"], s, rtol=1e-12)
    # precision: published vs exact survival at day 365 within 0.02 on these curves
    for m, g in new.groupby("care_model"):
        exact = km[(km["care_model"] == m) & (km["time"] <= 365)]["estimate"].iloc[-1]
        assert abs(g["estimate"].iloc[-1] - exact) < 0.02


def _costs_table(c: dict[str, float]) -> pd.DataFrame:
    # gp_surgery: 281 units (the issue's example); emergency admissions: 10 short + 38 long
    # stays; pharmacist 3 and dietitian 4 (suppressed, so the total gives them away)
    units = {"gp_surgery": 281, "gp_visit": 350, "emergency_admission": 48, "pharmacist": 3,
             "dietitian": 4}
    cost = {k: u * c[k] for k, u in units.items() if k != "emergency_admission"}
    short, long_ = sorted(c["emergency_admission_all"])
    cost["emergency_admission"] = 10 * short + 38 * long_
    rows = [{"care_model": "x", "item": k, "units": u, "cost": cost[k]} for k, u in units.items()]
    rows.append({"care_model": "x", "item": "total", "units": np.nan,
                 "cost": sum(cost.values())})
    t = pd.DataFrame(rows).assign(residents=300, person_years=250.0, price_year=2024,
                                  scheme="spell")
    t["cost_per_resident_year"] = t["cost"] / t["person_years"]
    t["conf_low"], t["conf_high"] = t["cost_per_resident_year"] * 0.8, t[
        "cost_per_resident_year"] * 1.3
    return t


def test_costs_legacy_leaks_and_published_do_not(unit_costs, tmp_path):
    spell = unit_costs[unit_costs["scheme"].fillna("spell").isin(["spell", ""])]
    c = spell.groupby("item")["cost_gbp"].first().to_dict()
    c["emergency_admission_all"] = spell.loc[spell["item"] == "emergency_admission",
                                             "cost_gbp"].to_numpy()
    costs = _costs_table(c)
    legacy = legacy_publish({"costs": costs})["costs"]
    assert legacy.loc[0, "units"] == 280  # rounded, beside an exact cost
    found = check_tables({"costs": legacy}, unit_costs=unit_costs, **RULES)
    got = {(f.attack, f.row, f.value) for f in found}
    assert ("unit_cost", 0, 281.0) in got  # cost / unit cost
    assert ("unit_cost", 2, 48.0) in got  # 10 short + 38 long stays
    assert {("total_minus_parts", 3, 3.0), ("total_minus_parts", 4, 4.0)} <= got
    new = publish_costs(costs, "costs", unit_costs, **RULES)
    assert check_tables({"costs": new}, unit_costs=unit_costs, **RULES) == []
    assert new.loc[0, "cost"] == pytest.approx(280 * c["gp_surgery"], rel=1e-12)
    assert new.loc[3, "cost"] == "[c]" and new.loc[4, "cost"] == "[c]"
    shown = pd.to_numeric(new["cost"], errors="coerce")
    # the total counts each suppressed item as 5 units: the constant, not the count
    assert shown.iloc[-1] == pytest.approx(shown.iloc[:3].sum() + 5 * (c["pharmacist"]
                                                                       + c["dietitian"]))
    assert new["cost_per_resident_year"].iloc[-1] == pytest.approx(shown.iloc[-1] / 250.0)
    written = check_published(_csv_round_trip({"costs": new}, tmp_path), unit_costs=unit_costs,
                              **RULES)
    assert written == []


def test_ratio_attack_finds_a_rate_from_exact_events():
    # a rate left at 48/py beside events rounded to 50: rate x person-years gives 48 back
    t = pd.DataFrame({"outcome": "a", "care_model": ["x", "y"], "residents": [100, 90],
                      "events": [50, 20], "person_years": [66.71, 50.2]})
    t["rate"] = [48 / 66.71, 20 / 50.2]
    t["conf_low"], t["conf_high"] = t["rate"] * 0.8, t["rate"] * 1.2
    found = check_tables({"crude_rates": t}, **RULES)
    assert [(f.attack, f.row, f.value) for f in found] == [("ratio", 0, 48.0)]


def test_assert_safe_stops_with_a_readable_message():
    km = pd.DataFrame({"care_model": "a", "time": [0, 2], "estimate": [1.0, 1 - 1 / 1043],
                       "n_at_risk": [1045, 1045], "n_events": [0, 0]})
    with pytest.raises(DisclosureError, match=r"km.csv row 1 \[n_events\]: curve_step recovers 1"):
        assert_safe({"km": km}, **RULES)
    assert format_findings([]) == "no count recovered from the published tables"


def test_publish_recomputes_crude_model_rates_from_rounded_events():
    # y's 3 events are suppressed, z's 20 with them (all - x - z would give y away)
    cr = pd.DataFrame({"outcome": "a", "care_model": ["x", "y", "z", "all"],
                       "residents": [90, 80, 70, 240], "events": [48, 3, 20, 71],
                       "person_years": [60.0, 50.0, 40.0, 150.0]})
    cr["rate"] = cr["events"] / cr["person_years"]
    cr["conf_low"], cr["conf_high"] = cr["rate"] * 0.8, cr["rate"] * 1.2
    sr = pd.DataFrame({"outcome": "a", "model": "poisson", "adjustment": "crude",
                       "exposure": "person_years", "care_model": ["x", "y"], "measure": "rate",
                       "estimate": [48000 / 60.0, 3000 / 50.0], "std_error": [100.0, 30.0],
                       "conf_low": [600.0, 20.0], "conf_high": [1000.0, 200.0],
                       "n_residents": 170})
    out = publish({"crude_rates": cr, "standardised_rates": sr}, **RULES)
    got = out["standardised_rates"]
    assert got.loc[0, "estimate"] == pytest.approx(50000 / 60.0)
    assert got.loc[0, "conf_low"] == pytest.approx(600.0 * 50 / 48)
    assert got.loc[1, "estimate"] == "[c]"  # y's 3 events are suppressed
    assert check_tables(out, **RULES) == []
    # and the unmodified table gives 48 and 3 back
    found = check_tables({"crude_rates": out["crude_rates"], "standardised_rates": sr}, **RULES)
    assert sorted(f.value for f in found) == [3.0, 48.0]


def test_published_cumulative_incidence_by_hand():
    # 100 at entry; admissions / deaths 8/0 at day 5, 2/9 at day 20, 8/8 at day 40, nobody
    # censored. Grid 30: days 0-30 hold 10/9, days 31-60 8/8. Rounded running totals:
    # admissions 10, 18 -> 10, 20; deaths 9, 17 -> 10, 15. At risk 100, then 100 - 20 = 80.
    from optimal_analysis.report.curves import publish_cumulative_incidence

    times, n = [0, 5, 20, 40], [100, 100, 92, 81]
    adm, death = [0, 8, 2, 8], [0, 0, 9, 8]
    ci = pd.DataFrame({"care_model": "a", "event": ["emergency_admission", "death"] * 4,
                       "time": np.repeat(times, 2), "n_at_risk": np.repeat(n, 2),
                       "n_events": np.ravel(np.column_stack([adm, death])),
                       "estimate": 0.0, "std_error": 0.01})
    out = publish_cumulative_incidence(ci, grid_days=30, min_events=8, round_to=5)
    a = out[out["event"] == "emergency_admission"]
    d = out[out["event"] == "death"]
    assert a["time"].tolist() == [0, 30, 40]  # the last step at the table's last event day
    assert a["n_at_risk"].tolist() == [100, 100, 80]
    assert a["n_events"].tolist() == [0, 10, 10] and d["n_events"].tolist() == [0, 10, 5]
    np.testing.assert_allclose(a["estimate"], [0, 0.1, 0.1 + 0.8 * 10 / 80], rtol=1e-14)
    np.testing.assert_allclose(d["estimate"], [0, 0.1, 0.1 + 0.8 * 5 / 80], rtol=1e-14)
    assert check_tables({"cumulative_incidence": out}, **RULES) == []


def test_published_curves_carry_the_small_sample_limits_by_hand():
    # As above, with 4 care homes (G) and an analyst's SE of 0.0123 (0.012 published):
    # small-sample limits est exp(-+ t_3 * 0.012 * sqrt(4/3) / est).
    from scipy import stats

    from optimal_analysis.report.curves import publish_cumulative_incidence

    times, n = [0, 5, 20, 40], [100, 100, 92, 81]
    adm, death = [0, 8, 2, 8], [0, 0, 9, 8]
    ci = pd.DataFrame({"care_model": "a", "event": ["emergency_admission", "death"] * 4,
                       "time": np.repeat(times, 2), "n_at_risk": np.repeat(n, 2),
                       "n_events": np.ravel(np.column_stack([adm, death])),
                       "estimate": 0.0, "std_error": 0.0123, "n_clusters": 4})
    out = publish_cumulative_incidence(ci, grid_days=30, min_events=8, round_to=5)
    a = out[(out["event"] == "emergency_admission") & (out["time"] == 40)].iloc[0]
    est, half = 0.2, stats.t.ppf(0.975, 3) * 0.012 * np.sqrt(4 / 3) / 0.2
    assert a["std_error"] == 0.012
    np.testing.assert_allclose([a["conf_low_small"], a["conf_high_small"]],
                               [est * np.exp(-half), est * np.exp(half)], rtol=1e-12)
    # one care home: no small-sample limits
    one = publish_cumulative_incidence(ci.assign(n_clusters=1), grid_days=30, min_events=8,
                                       round_to=5)
    assert one["conf_low_small"].isna().all()
    assert check_tables({"cumulative_incidence": out}, **RULES) == []


# Two published km rows of a 40,000-resident run (events 270, rounded, among 8,675 at risk):
# the SEs are the clustered SE to 2 significant figures. The Greenwood attack used to match
# the rounded SEs to 1e-6 by chance with d/n = 647/8672 and stopped the run.
_KM_40K = pd.DataFrame({
    "care_model": "dedicated_team", "time": [210, 240],
    "estimate": [0.7890953533, 0.7642201933], "std_error": [0.0048, 0.0052],
    "n_at_risk": [9220, 8675], "n_events": [310, 270], "n_censored": [235, 220]})


def test_greenwood_attack_allows_for_the_rounding_of_published_ses():
    # the increment from 2-significant-figure SEs is known to about +-4%: at n = 8,675 that
    # is hundreds of possible deaths, so nothing is recovered
    s, se = _KM_40K["estimate"], _KM_40K["std_error"]
    gw = (se[1] / s[1]) ** 2 - (se[0] / s[0]) ** 2
    assert abs(647 / (8672 * (8672 - 647)) - gw) < 1e-6 * gw  # the chance match of old
    assert check_tables({"km": _KM_40K}, **RULES) == []


def test_greenwood_attack_needs_ses_precise_enough_to_single_out_a_count():
    # 1 death among 50 (h = 1/(50*49)), S = 0.98: the Greenwood SE to 10 figures gives the
    # death back; to 2 figures (0.020, +-4% on h) it does not: the published SE is the
    # cluster-robust one, so a 2-figure match is an accident of rounding
    se = 0.98 * np.sqrt(1 / (50 * 49))
    km = pd.DataFrame({"care_model": "a", "time": [0, 30], "estimate": [1.0, 0.98],
                       "std_error": [0.0, float(f"{se:.10g}")], "n_at_risk": [50, 50],
                       "n_events": [0, "[c]"], "n_censored": [0, 0]})
    found = [f for f in check_tables({"km": km}, **RULES) if f.attack == "greenwood"]
    assert [(f.row, f.value) for f in found] == [(1, 1.0)]
    km["std_error"] = [0.0, 0.020]
    assert [f for f in check_tables({"km": km}, **RULES) if f.attack == "greenwood"] == []


def _crude_row(events_for_ci: float, published_events: float) -> pd.DataFrame:
    from optimal_analysis.stats.poisson import exact_poisson_rate_ci
    py = 1473420.372
    _, low, high = exact_poisson_rate_ci(np.array([events_for_ci]), np.array([py]))
    sig = lambda x: float(f"{x:.10g}")  # noqa: E731  (as the CSVs give them)
    return pd.DataFrame({"care_model": ["a"], "outcome": ["emergency_admission"],
                         "events": [published_events], "person_years": [py],
                         "rate": [sig(published_events / py)],
                         "conf_low": [sig(low[0])], "conf_high": [sig(high[0])]})


def test_exact_ci_attack_at_a_million_events():
    # five national years: 1,214,060 events (rounded). Neighbouring counts give limits within
    # 1e-6 of each other, so the attack must first ask whether the published count explains
    # the limits; it does (they are computed from it): nothing learnt
    found = check_tables({"crude_rates": _crude_row(1214060, 1214060)}, **RULES)
    assert [f for f in found if f.attack == "exact_ci"] == []
    # limits from the unrounded count 1,214,063 are not explained: the count is recovered
    found = check_tables({"crude_rates": _crude_row(1214063, 1214060)}, **RULES)
    assert 1214063 in {f.value for f in found if f.attack == "exact_ci"}
