"""Costing stage: hand-computed fixture, properties and error paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.costing import (
    InflationIndexError,
    MissingUnitCostError,
    UnitCostTableError,
    cost_events,
    make_cost_tables,
    rebase_unit_costs,
    select_scheme,
    validate_inflation,
    validate_unit_costs,
)
from optimal_analysis.tidy import SMALL_SAMPLE_COLUMNS

REPO = Path(__file__).resolve().parents[1]
SEED = 20170529


def unit_costs() -> pd.DataFrame:
    """Hand fixture table (2015 prices): spell scheme with a 5-day trim point, bed_day scheme."""
    rows = [
        # item, unit, cost, price_year, source, after_days, min_days, scheme
        ("gp_surgery", "contact", 40.0, 2015, "fixture", None, None, ""),
        ("district_nurse", "contact", 30.0, 2015, "fixture", None, None, ""),
        ("ae", "contact", 100.0, 2015, "fixture", None, None, ""),
        ("emergency_admission", "admission", 600.0, 2015, "fixture short stay", None, 0, "spell"),
        ("emergency_admission", "admission", 3000.0, 2015, "fixture long stay", None, 2, "spell"),
        ("emergency_bed_day", "bed_day", 300.0, 2015, "fixture excess", 5, None, "spell"),
        ("elective_admission", "admission", 3500.0, 2015, "fixture", None, 0, "spell"),
        ("emergency_bed_day", "bed_day", 250.0, 2015, "fixture per diem", 0, None, "bed_day"),
        ("elective_bed_day", "bed_day", 250.0, 2015, "fixture per diem", 0, None, "bed_day"),
    ]
    cols = ["item", "unit", "cost", "price_year", "source", "after_days", "min_days", "scheme"]
    return pd.DataFrame(rows, columns=cols)


def inflation() -> pd.DataFrame:
    return pd.DataFrame({"year": [2013, 2015, 2024], "index": [95.0, 100.0, 130.0],
                         "source": "fixture"})


def cohort() -> pd.DataFrame:
    return pd.DataFrame({
        "resident_id": ["r1", "r2", "r3", "r4", "r5"],
        "care_home_id": ["h1", "h1", "h2", "h3", "h3"],
        "care_model": ["A", "A", "A", "B", "B"],
        "person_years": [1.0, 0.5, 1.0, 2.0, 1.0],
    })


def events() -> pd.DataFrame:
    # r3's elective stay: admitted 3 days before exit, discharged after exit, so the
    # cohort stage truncated it at exit: bed_days = min(discharge, exit) - admission = 3.
    rows = [
        ("r1", "h1", "A", "contact", "gp_surgery", 2, 0),
        ("r1", "h1", "A", "contact", "district_nurse", 1, 0),
        ("r2", "h1", "A", "contact", "ae", 1, 0),
        ("r1", "h1", "A", "admission", "emergency_admission", 1, 8),  # longer than trim point
        ("r2", "h1", "A", "admission", "emergency_admission", 1, 0),  # same-day stay
        ("r3", "h2", "A", "admission", "emergency_admission", 1, 1),
        ("r3", "h2", "A", "admission", "elective_admission", 1, 3),  # truncated at exit
        ("r4", "h3", "B", "contact", "gp_surgery", 1, 0),
        ("r4", "h3", "B", "admission", "emergency_admission", 1, 6),
    ]
    cols = ["resident_id", "care_home_id", "care_model", "event_type", "item", "n", "bed_days"]
    return pd.DataFrame(rows, columns=cols)


def run(ev=None, co=None, uc=None, infl=None, *, price_year=2015, scheme="spell", reps=200,
        care_models=None):
    return make_cost_tables(
        events() if ev is None else ev, cohort() if co is None else co,
        unit_costs() if uc is None else uc, inflation() if infl is None else infl,
        price_year=price_year, scheme=scheme, replicates=reps,
        rng=np.random.default_rng(SEED), care_models=care_models,
    )


def lookup(costs: pd.DataFrame, model: str, item: str, col: str = "cost") -> float:
    row = costs[(costs["care_model"] == model) & (costs["item"] == item)]
    assert len(row) == 1, (model, item)
    return float(row[col].iloc[0])


def test_hand_computed_spell_scheme():
    # Care model A (person-years 1 + 0.5 + 1 = 2.5), spell scheme, 2015 prices:
    #   gp_surgery 2 x 40 = 80; district_nurse 1 x 30 = 30; ae 1 x 100 = 100
    #   emergency_admission: r1 8 days >= 2 -> long stay 3000; r2 0 days -> short 600;
    #     r3 1 day -> short 600; total 4200 (3 admissions)
    #   emergency_bed_day: r1 8 - 5 = 3 excess days x 300 = 900; r2, r3 none
    #   elective_admission: 3500 (the spell scheme has no elective bed-day item)
    #   total 80 + 30 + 100 + 4200 + 900 + 3500 = 8810 -> 8810 / 2.5 = 3524 per year
    # Care model B (person-years 2 + 1 = 3; r5 has no events):
    #   gp_surgery 40; emergency_admission 6 days -> 3000; bed days 6 - 5 = 1 x 300
    #   total 3340 -> 3340 / 3 per year
    costs, sens, res = run()
    expected_a = {"gp_surgery": 80, "district_nurse": 30, "ae": 100, "emergency_admission": 4200,
                  "emergency_bed_day": 900, "elective_admission": 3500, "total": 8810}
    for item, cost in expected_a.items():
        assert lookup(costs, "A", item) == pytest.approx(cost, rel=1e-12)
    assert lookup(costs, "A", "total", "cost_per_resident_year") == pytest.approx(3524.0)
    assert lookup(costs, "A", "emergency_admission", "units") == 3
    assert lookup(costs, "A", "emergency_bed_day", "units") == 3
    assert lookup(costs, "A", "gp_surgery", "units") == 2
    assert lookup(costs, "B", "total") == pytest.approx(3340.0)
    assert lookup(costs, "B", "total", "cost_per_resident_year") == pytest.approx(3340.0 / 3)
    assert lookup(costs, "B", "ae") == 0.0
    assert set(costs["price_year"]) == {2015}
    assert set(costs["scheme"]) == {"spell"}
    # per-resident: r1 = 80 + 30 + 3000 + 900 = 4010 over 1 year; r5 costs nothing
    r = res.set_index("resident_id")
    assert r.loc["r1", "cost_gbp"] == pytest.approx(4010.0)
    assert r.loc["r2", "annual_cost_gbp"] == pytest.approx((100 + 600) / 0.5)
    assert r.loc["r5", "cost_gbp"] == 0.0
    assert res["cost_gbp"].sum() == pytest.approx(8810 + 3340)
    assert set(sens["scheme"]) == {"bed_day"}


def test_hand_computed_bed_day_scheme():
    # Bed-day scheme, every bed day at 250, no admission items:
    #   A: contacts 210; emergency bed days 8 + 0 (same-day) + 1 = 9 -> 2250;
    #      elective bed days 3 (truncated at exit) -> 750; total 3210 -> 3210 / 2.5 = 1284
    #   B: 40 + 6 x 250 = 1540 -> 1540 / 3
    costs, sens, _ = run(scheme="bed_day")
    assert lookup(costs, "A", "emergency_bed_day", "units") == 9
    assert lookup(costs, "A", "emergency_bed_day") == pytest.approx(2250.0)
    assert lookup(costs, "A", "elective_bed_day") == pytest.approx(750.0)
    assert lookup(costs, "A", "total", "cost_per_resident_year") == pytest.approx(1284.0)
    assert lookup(costs, "B", "total") == pytest.approx(1540.0)
    assert "emergency_admission" not in set(costs["item"])
    # the sensitivity table of this run is the spell scheme, identical to its main run
    spell_main, _, _ = run(scheme="spell")
    pd.testing.assert_frame_equal(sens.reset_index(drop=True), spell_main)


def test_scaling_unit_costs_by_k_scales_every_cost():
    k = 3.7
    uc = unit_costs()
    uc["cost"] = uc["cost"] * k
    base, base_s, base_r = run()
    scaled, scaled_s, scaled_r = run(uc=uc)
    for col in ["cost", "cost_per_resident_year", "conf_low", "conf_high"]:
        np.testing.assert_allclose(scaled[col], k * base[col], rtol=1e-12)
        np.testing.assert_allclose(scaled_s[col], k * base_s[col], rtol=1e-12)
    np.testing.assert_allclose(scaled["units"], base["units"])
    np.testing.assert_allclose(scaled_r["cost_gbp"], k * base_r["cost_gbp"], rtol=1e-12)


def test_missing_unit_cost_names_every_service():
    ev = pd.concat([events(), pd.DataFrame({
        "resident_id": ["r1", "r2", "r3"], "care_home_id": ["h1", "h1", "h2"],
        "care_model": "A", "event_type": "contact",
        "item": ["podiatry", "podiatry", "pharmacist"], "n": [2, 3, 1], "bed_days": 0,
    })], ignore_index=True)
    with pytest.raises(MissingUnitCostError) as err:
        run(ev=ev)
    msg = str(err.value)
    assert "podiatry (5 events in 2 rows)" in msg and "pharmacist (1 events in 1 rows)" in msg
    assert set(err.value.missing["item"]) == {"podiatry", "pharmacist"}


def test_admission_without_any_hospital_item_is_uncosted():
    uc = unit_costs()
    uc = uc[~uc["item"].str.startswith("elective")]
    with pytest.raises(MissingUnitCostError, match="elective_admission"):
        run(uc=uc)


def test_rebasing_matches_hand_calculation():
    # 100 at 2013 prices to 2024 prices: 100 x 130 / 95 = 136.8421052631579;
    # 40 at 2015 prices: 40 x 130 / 100 = 52
    table = validate_unit_costs(pd.DataFrame({
        "item": ["gp_surgery", "ae"], "unit": "contact", "cost": [100.0, 40.0],
        "price_year": [2013, 2015], "source": "fixture"}))
    out = rebase_unit_costs(table, validate_inflation(inflation()), price_year=2024)
    np.testing.assert_allclose(out["cost_gbp"], [100 * 130 / 95, 52.0], rtol=1e-14)
    # and through the whole stage: gp_surgery of care model B at 2024 prices = 40 x 1.3
    costs, _, _ = run(price_year=2024)
    assert lookup(costs, "B", "gp_surgery") == pytest.approx(52.0)
    assert set(costs["price_year"]) == {2024}


def test_missing_inflation_year_is_named():
    infl = inflation()
    with pytest.raises(InflationIndexError, match="2020"):
        run(infl=infl, price_year=2020)
    uc = unit_costs()
    uc.loc[0, "price_year"] = 2011
    with pytest.raises(InflationIndexError, match="2011"):
        run(uc=uc)


def test_unit_cost_table_problems_are_all_listed():
    uc = unit_costs()
    uc.loc[0, "cost"] = -1.0
    uc.loc[1, "source"] = ""
    uc.loc[2, "unit"] = "visit"
    uc.loc[5, "unit"] = "contact"  # emergency_bed_day must be bed_day
    uc.loc[3, "unit"] = None
    uc = pd.concat([uc, uc.iloc[[6]]], ignore_index=True)  # duplicate elective_admission
    with pytest.raises(UnitCostTableError) as err:
        validate_unit_costs(uc, name="my_costs.csv")
    msg = str(err.value)
    assert msg.startswith("my_costs.csv")
    for needle in ["line 2 (gp_surgery): cost", "line 3 (district_nurse): source",
                   "line 4 (ae): unit must be", "line 7 (emergency_bed_day): unit does not match",
                   "line 8 (elective_admission): duplicate", "line 11 (elective_admission)",
                   "line 5 (emergency_admission): unit must be"]:
        assert needle in msg, needle
    assert msg.count("line 8 (elective_admission): duplicate") == 1


def test_missing_columns_and_unknown_scheme():
    with pytest.raises(UnitCostTableError, match="source"):
        validate_unit_costs(unit_costs().drop(columns="source"))
    with pytest.raises(UnitCostTableError, match="per_case"):
        select_scheme(validate_unit_costs(unit_costs()), "per_case")


def test_table_without_schemes_is_one_scheme():
    uc = select_scheme(validate_unit_costs(unit_costs()), "spell").drop(columns="scheme")
    costs, sens, _ = run(uc=uc, scheme="spell")
    assert lookup(costs, "A", "total") == pytest.approx(8810.0)
    assert sens.empty and list(sens.columns) == list(costs.columns)


def test_row_order_changes_nothing():
    rng = np.random.default_rng(1)
    ev = events().sample(frac=1, random_state=rng)
    co = cohort().sample(frac=1, random_state=rng)
    uc = unit_costs().sample(frac=1, random_state=rng)
    a = run()
    b = run(ev=ev, co=co, uc=uc)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-12)


def synthetic_costing_data(seed: int = 7, homes_per_model: int = 15):
    """A few hundred residents in 2 x 15 homes with random contacts and stays."""
    rng = np.random.default_rng(seed)
    n_homes = 2 * homes_per_model
    home = np.repeat(np.arange(n_homes), rng.integers(3, 12, size=n_homes))
    n = len(home)
    co = pd.DataFrame({
        "resident_id": [f"r{i}" for i in range(n)],
        "care_home_id": [f"h{h}" for h in home],
        "care_model": np.where(home < homes_per_model, "A", "B"),
        "person_years": rng.uniform(0.1, 1.5, size=n),
    })
    k = rng.poisson(3, size=n)
    res = np.repeat(np.arange(n), k)
    is_adm = rng.random(len(res)) < 0.2
    ev = pd.DataFrame({
        "resident_id": co["resident_id"].to_numpy()[res],
        "care_home_id": co["care_home_id"].to_numpy()[res],
        "care_model": co["care_model"].to_numpy()[res],
        "event_type": np.where(is_adm, "admission", "contact"),
        "item": np.where(is_adm, "emergency_admission",
                         rng.choice(["gp_surgery", "district_nurse", "ae"], size=len(res))),
        "n": np.where(is_adm, 1, rng.integers(1, 4, size=len(res))),
        "bed_days": np.where(is_adm, rng.integers(0, 20, size=len(res)), 0),
    })
    return ev, co


def test_bootstrap_reproducible_and_covers_point():
    ev, co = synthetic_costing_data()
    a, sa, _ = run(ev=ev, co=co, reps=400)
    b, sb, _ = run(ev=ev, co=co, reps=400)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(sa, sb)
    c, _, _ = make_cost_tables(ev, co, unit_costs(), inflation(), price_year=2015,
                               scheme="spell", replicates=400, rng=np.random.default_rng(SEED + 1))
    assert not np.allclose(a["conf_low"], c["conf_low"], equal_nan=True)
    for table in (a, sa):
        tot = table[table["item"] == "total"]
        assert len(tot) == 2
        assert (tot["conf_low"] < tot["cost_per_resident_year"]).all()
        assert (tot["cost_per_resident_year"] < tot["conf_high"]).all()


def test_single_home_care_model_has_no_interval():
    # care model B of the hand fixture has one home (h3): every replicate redraws h3, so
    # the old percentile interval was [1113.33, 1113.33] (= 3340 / 3), zero width, which
    # reads as certainty. One cluster cannot estimate between-home variation: NaN + a note.
    costs, sens, _ = run()
    for table in (costs, sens):
        b = table[table["care_model"] == "B"]
        assert len(b) == table["item"].nunique()
        assert b["conf_low"].isna().all() and b["conf_high"].isna().all()
        assert (b["care_homes"] == 1).all()
        assert b["ci_note"].str.contains("1 care home").all()
        # A has 2 homes (h1, h2): an interval, and no note
        a = table[table["care_model"] == "A"]
        assert (a["care_homes"] == 2).all()
        assert a["conf_low"].notna().all() and (a["ci_note"] == "").all()
    # the point estimate is still there: 3340 / 3
    assert lookup(costs, "B", "total", "cost_per_resident_year") == pytest.approx(3340.0 / 3)


def test_care_models_in_configured_order_then_the_rest_sorted():
    # rows come in config order (B before A), an unconfigured model C after them
    co = pd.concat([cohort(), pd.DataFrame({"resident_id": ["r6"], "care_home_id": ["h4"],
                                            "care_model": ["C"], "person_years": [1.0]})],
                   ignore_index=True)
    costs, sens, _ = run(co=co, care_models=["B", "A"])
    for table in (costs, sens):
        order = list(dict.fromkeys(table["care_model"]))
        assert order == ["B", "A", "C"]
    default, _, _ = run(co=co)
    assert list(dict.fromkeys(default["care_model"])) == ["A", "B", "C"]
    # order changes nothing else: same rows as the default run, re-sorted
    key = ["care_model", "item"]
    pd.testing.assert_frame_equal(
        costs.sort_values(key, ignore_index=True)[["cost", "units", "cost_per_resident_year"]],
        default.sort_values(key, ignore_index=True)[["cost", "units", "cost_per_resident_year"]])


def test_cost_events_one_row_per_costed_item():
    table = rebase_unit_costs(select_scheme(validate_unit_costs(unit_costs()), "spell"),
                              validate_inflation(inflation()), price_year=2015)
    costed = cost_events(events(), table)
    # 4 contact rows + 5 admissions + 4 emergency_bed_day rows (units may be 0)
    assert len(costed) == 4 + 5 + 4
    assert costed["cost_gbp"].sum() == pytest.approx(8810 + 3340)


@pytest.mark.parametrize("name", ["unit_costs_2015.csv", "unit_costs_2024.csv"])
def test_shipped_tables_are_valid_and_cost_every_code(name):
    table = validate_unit_costs(pd.read_csv(REPO / "config/unit_costs" / name), name=name)
    index = validate_inflation(pd.read_csv(REPO / "config/unit_costs/inflation_index.csv"))
    rebased = rebase_unit_costs(table, index, price_year=2024)
    assert set(schemes_of(rebased)) == {"spell", "bed_day"}
    codes = {"gp_surgery", "gp_visit", "gp_phone", "practice_nurse", "district_nurse",
             "community_matron", "care_home_team", "geriatrician", "mental_health",
             "physiotherapy", "occupational_therapy", "speech_therapy", "dietitian", "podiatry",
             "pharmacist", "out_of_hours", "ambulance", "ae", "outpatient"}
    for scheme in ("spell", "bed_day"):
        sel = select_scheme(rebased, scheme)
        assert codes <= set(sel.loc[sel["unit"] == "contact", "item"])
        assert {"emergency_bed_day", "elective_bed_day"} <= set(sel["item"])


def schemes_of(table: pd.DataFrame) -> list[str]:
    return sorted(set(table["scheme"]) - {""})


def test_cost_figure_stacks_to_the_total_and_draws_its_interval():
    import matplotlib

    matplotlib.use("Agg")
    from optimal_analysis.figures.costs import (
        plot_cost_by_service_group,
        plot_resident_cost_distribution,
    )

    costs, _, res = run()
    ax = plot_cost_by_service_group(costs, care_models=["B", "A"])
    tops = {}
    for patch in ax.patches:
        x = round(patch.get_x() + patch.get_width() / 2)
        tops[x] = max(tops.get(x, 0.0), patch.get_y() + patch.get_height())
    # care models drawn in the configured order B, A: stacked tops are the totals
    assert tops[0] == pytest.approx(3340.0 / 3)
    assert tops[1] == pytest.approx(3524.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["B", "A"]
    # B has one care home, so no interval: marked above its bar, and A's is drawn
    assert [t.get_text() for t in ax.texts] == ["no CI"]
    assert ax.texts[0].xy == pytest.approx((0, 3340.0 / 3))
    ax2 = plot_resident_cost_distribution(res, care_models=["A", "B"])
    assert "(n = 3)" in ax2.get_xticklabels()[0].get_text()


def test_arrow_backed_strings_give_identical_tables():
    # interim tables come from io.read_parquet with string[pyarrow] columns; the integer-code
    # path (factorize once) must give exactly what object-dtype input gives
    ev, co = synthetic_costing_data(seed=3)
    strings = ["resident_id", "care_home_id", "care_model"]
    ev_a = ev.astype({c: "string[pyarrow]" for c in [*strings, "event_type", "item"]})
    co_a = co.astype({c: "string[pyarrow]" for c in strings})
    for x, y in zip(run(ev=ev, co=co), run(ev=ev_a, co=co_a), strict=True):
        pd.testing.assert_frame_equal(x.astype({"care_model": str}), y.astype({"care_model": str}),
                                      check_exact=True, check_dtype=False)


def test_events_of_residents_or_homes_not_in_the_cohort_are_named():
    ev = events()
    ev.loc[0, "resident_id"] = "r99"
    with pytest.raises(ValueError, match="1 resident_id value.*r99"):
        run(ev=ev)
    ev = events()
    ev.loc[[0, 8], "care_home_id"] = ["h98", "h99"]
    with pytest.raises(ValueError, match="2 care_home_id value.*h98, h99"):
        run(ev=ev)


T1 = 12.706204736174694  # t quantile, 0.975, 1 df (scipy.stats.t.ppf(0.975, 1))


def test_small_sample_interval_by_hand():
    # Care model A, total (test_hand_computed_spell_scheme): home h1 = r1 4010 + r2 700 = 4710
    # over 1.5 person-years, h2 = r3 600 + 3500 = 4100 over 1; R = 8810 / 2.5 = 3524.
    #   z = (4710 - 3524 x 1.5) / 2.5 = -230.4 and (4100 - 3524) / 2.5 = 230.4
    #   Var = 2/1 x (230.4^2 + 230.4^2) = 460.8^2, se = 460.8; G = 2, df 1
    #   limits 3524 exp(-+t(1) 460.8 / 3524)
    # B has one home: no small-sample interval either. Both have < 30 homes: few_clusters.
    costs, sens, _ = run()
    for table in (costs, sens):
        assert set(SMALL_SAMPLE_COLUMNS + ["few_clusters"]) <= set(table.columns)
        assert table["few_clusters"].all()
        assert table["p_value_small"].isna().all()  # a cost level has no null value to test
        assert (table["small_sample_method"] == "t(G-1)-log-linearised").all()
    half = T1 * 460.8 / 3524
    assert lookup(costs, "A", "total", "conf_low_small") == pytest.approx(
        3524 * np.exp(-half), rel=1e-12)
    assert lookup(costs, "A", "total", "conf_high_small") == pytest.approx(
        3524 * np.exp(half), rel=1e-12)
    assert lookup(costs, "A", "total", "df_small") == 1
    # ae costs 0 in B and only r2's 100 in A (h1): z = (100 - 40 x 1.5) / 2.5 = 16,
    # (0 - 40) / 2.5 = -16, se = 32, limits 40 exp(-+t(1) 32 / 40)
    assert lookup(costs, "A", "ae", "conf_low_small") == pytest.approx(
        40 * np.exp(-T1 * 32 / 40), rel=1e-12)
    b = costs[costs["care_model"] == "B"]
    assert b["conf_low_small"].isna().all() and b["df_small"].isna().all()
    # the threshold is a parameter: 2 homes are not "few" below a threshold of 2
    c = make_cost_tables(events(), cohort(), unit_costs(), inflation(), price_year=2015,
                         scheme="spell", replicates=50, rng=np.random.default_rng(SEED),
                         few_clusters_threshold=2)[0]
    assert dict(zip(c["care_model"], c["few_clusters"], strict=False)) == {"A": False, "B": True}
