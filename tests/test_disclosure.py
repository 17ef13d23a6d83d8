"""Disclosure control: suppression, rounding, derived statistics and secondary suppression."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimal_analysis.describe import make_baseline, make_service_use
from optimal_analysis.report.check import check_published
from optimal_analysis.report.costs import public_unit_costs
from optimal_analysis.report.disclosure import (
    TABLE_SPECS,
    SecondaryGroup,
    TableSpec,
    disclose,
    disclose_named,
    round_counts,
)
from optimal_analysis.stats.poisson import exact_poisson_rate_ci
from optimal_analysis.tidy import MARKER

REPO = Path(__file__).resolve().parents[1]


def _public_rules() -> dict:
    unit_costs = public_unit_costs(
        pd.read_csv(REPO / "config/unit_costs/unit_costs_2015.csv"),
        pd.read_csv(REPO / "config/unit_costs/inflation_index.csv"), price_year=2024)
    return {"unit_costs": unit_costs, "suppress_max": 7, "round_to": 5}


def _crude_rates() -> pd.DataFrame:
    # outcome a: x has 3 events (primary); without secondary suppression
    # all - y - z = 64 - 20 - 41 = 3 would give it away.
    t = pd.DataFrame(
        {
            "outcome": ["a"] * 4 + ["b"] * 4,
            "care_model": ["x", "y", "z", "all"] * 2,
            "residents": [50, 60, 70, 180] * 2,
            "events": [3, 20, 41, 64, 0, 12, 31, 43],
            "person_years": [40.0, 50.0, 60.0, 150.0] * 2,
        }
    )
    t["rate"] = t["events"] / t["person_years"]
    t["conf_low"], t["conf_high"] = t["rate"] * 0.5, t["rate"] * 2
    return t


def _is_published_count(values: pd.Series, round_to: int = 5) -> pd.Series:
    """A published count is the marker, 0, or a positive multiple of round_to."""
    num = pd.to_numeric(values.where(values.astype(str) != MARKER), errors="coerce")
    ok_num = num.isna() | (num == 0) | ((num % round_to == 0) & (num > 0))
    return (values.astype(str) == MARKER) | (ok_num & values.notna())


def test_round_counts_hand_values():
    # 8/5 + .5 = 2.1 -> 10; 12/5 + .5 = 2.9 -> 10; 13/5 + .5 = 3.1 -> 15; 1 -> 0 -> bumped to 5
    got = round_counts(np.array([0, 1, 8, 12, 13, 17, 18, 100, np.nan]), 5)
    np.testing.assert_array_equal(got, [0, 5, 10, 10, 15, 15, 20, 100, np.nan])


def test_crude_rates_primary_secondary_and_derived():
    out = disclose_named(_crude_rates(), "crude_rates", suppress_max=7, round_to=5)
    a = out[out["outcome"] == "a"].set_index("care_model")
    # primary: x (3 events); secondary: next-smallest events of the group, y (20)
    for model in ("x", "y"):
        assert a.loc[model, "events"] == MARKER
        for stat in ("rate", "conf_low", "conf_high"):
            assert a.loc[model, stat] == MARKER
    # z: 41 -> 40, rate recomputed from the rounded count 40 / 60
    assert a.loc["z", "events"] == 40
    assert a.loc["z", "rate"] == pytest.approx(40 / 60)
    _, low, high = exact_poisson_rate_ci(np.array([40.0]), np.array([60.0]))
    assert a.loc["z", "conf_low"] == pytest.approx(low[0])
    assert a.loc["z", "conf_high"] == pytest.approx(high[0])
    assert a.loc["all", "events"] == 65  # 64 -> 65
    b = out[out["outcome"] == "b"].set_index("care_model")
    # zero stays 0 and is not suppressed; nothing in b is 1..7, so nothing suppressed
    assert b.loc["x", "events"] == 0 and b.loc["x", "rate"] == 0
    assert (b.astype(str) != MARKER).all().all()
    assert list(b["events"]) == [0, 10, 30, 45]  # 12 -> 10, 31 -> 30, 43 -> 45
    # person-years are not counts: kept unless residents are suppressed
    assert out["person_years"].tolist() == _crude_rates()["person_years"].tolist()


def test_secondary_suppression_stops_recovery_by_subtraction():
    out = disclose_named(_crude_rates(), "crude_rates", suppress_max=7, round_to=5)
    for _, g in out.groupby("outcome"):
        n_marked = int((g["events"].astype(str) == MARKER).sum())
        assert n_marked != 1, "a lone suppressed cell could be recovered from the total"
    # the recovered value from what is published is not determined: all - z leaves x + y
    a = out[out["outcome"] == "a"].set_index("care_model")
    published = [v for v in a["events"] if v != MARKER]
    assert published == [40, 65]


def test_stricter_mode_suppresses_eight_and_nine():
    t = _crude_rates()
    t.loc[5, "events"] = 9  # outcome b, care model y
    t.loc[6, "events"] = 8
    default = disclose_named(t, "crude_rates", suppress_max=7, round_to=5)
    strict = disclose_named(t, "crude_rates", suppress_max=9, round_to=5)
    assert default.loc[5, "events"] == 10 and default.loc[6, "events"] == 10
    assert strict.loc[5, "events"] == MARKER and strict.loc[6, "events"] == MARKER
    assert strict.loc[5, "rate"] == MARKER


def test_model_estimates_kept_n_columns_disclosed():
    rr = pd.DataFrame(
        {
            "outcome": ["ae", "ae"],
            "model": ["poisson"] * 2,
            "adjustment": ["crude", "adjusted"],
            "term": ["paid_gp"] * 2,
            "estimate": [1.5, 1.4],
            "std_error": [0.2, 0.25],
            "conf_low": [1.0, 0.9],
            "conf_high": [2.2, 2.3],
            "p_value": [0.04, 0.1],
            "n_residents": [5, 123],
            "n_clusters": [4, 4],
        }
    )
    out = disclose_named(rr, "rate_ratios", suppress_max=7, round_to=5)
    assert out["n_residents"].tolist() == [MARKER, 125]
    assert out["estimate"].tolist() == [1.5, 1.4]
    assert out["conf_low"].tolist() == [1.0, 0.9]
    assert out["n_clusters"].tolist() == [4, 4]  # care homes, not people


def test_cumulative_incidence_at_risk_and_curve_suppressed():
    ci = pd.DataFrame(
        {
            "care_model": ["x"] * 3,
            "event": ["death"] * 3,
            "time": [10, 20, 30],
            "estimate": [0.1, 0.2, 0.3],
            "conf_low": [0.05, 0.1, 0.2],
            "conf_high": [0.2, 0.3, 0.4],
            "n_at_risk": [40, 12, 6],
        }
    )
    out = disclose_named(ci, "cumulative_incidence", suppress_max=7, round_to=5)
    assert out["n_at_risk"].tolist() == [40, 10, MARKER]
    assert out.loc[2, ["estimate", "conf_low", "conf_high"]].tolist() == [MARKER] * 3
    assert out.loc[1, "estimate"] == 0.2


def test_costs_secondary_within_care_model():
    costs = pd.DataFrame(
        {
            "care_model": ["x"] * 4,
            "item": ["gp_visit", "ae", "podiatry", "total"],
            "units": [200, 30, 2, 232],
            "cost": [8000.0, 4500.0, 80.0, 12580.0],
        }
    )
    costs["cost_per_resident_year"] = costs["cost"] / 50
    costs["conf_low"], costs["conf_high"] = costs["cost"] * 0.9, costs["cost"] * 1.1
    costs["price_year"] = 2024
    out = disclose_named(costs, "costs", suppress_max=7, round_to=5).set_index("item")
    # podiatry (2 units) primary; ae (30, next smallest) secondary, with their costs
    assert out.loc["podiatry", "cost"] == MARKER and out.loc["ae", "cost"] == MARKER
    assert out.loc["gp_visit", "cost"] == 8000.0 and out.loc["total", "units"] == 230


def test_baseline_published_counts_and_recovery():
    rng = np.random.default_rng(7)
    n = 70
    cohort = pd.DataFrame(
        {
            "care_model": rng.choice(["a", "b", "usual_care"], n, p=[0.5, 0.1, 0.4]),
            "sex": rng.choice(["F", "M"], n),
            "dementia": rng.random(n) < 0.1,
            "nursing": rng.random(n) < 0.5,
            "exit_reason": rng.choice(["died", "moved_out", "study_end"], n),
            "age": rng.normal(85, 6, n),
            "barthel": pd.array(rng.integers(0, 21, n), dtype="Int64"),
        }
    )
    out = disclose_named(
        make_baseline(cohort, "usual_care"), "baseline", suppress_max=7, round_to=5
    )
    assert _is_published_count(out["n"]).all()
    assert (out["n"].astype(str) == MARKER).any()
    for _, g in out.groupby(["variable", "care_model"]):
        assert int((g["n"].astype(str) == MARKER).sum()) != 1
    # percent and a category's SMD of a suppressed n are suppressed (where the cell had a value)
    raw = make_baseline(cohort, "usual_care")
    sup = out["n"].astype(str) == MARKER
    categorical = raw["percent"].notna()
    for stat in ("percent", "smd"):
        assert (out.loc[sup & categorical & raw[stat].notna(), stat] == MARKER).all()


def test_baseline_mean_follows_primary_suppression_only():
    # barthel: care model a has 3 missing (primary) -> its observed n (17) is suppressed
    # secondarily, but the mean of 17 values does not reveal the count and stays;
    # care model b has only 5 residents, all observed: n = 5 is primary, so the mean goes.
    cohort = pd.DataFrame(
        {
            "care_model": ["a"] * 20 + ["b"] * 5 + ["usual_care"] * 20,
            "sex": "F",
            "dementia": True,
            "nursing": False,
            "exit_reason": "died",
            "age": 80.0 + np.arange(45) % 7,
            "barthel": pd.array(
                [pd.NA] * 3 + list(range(17)) + list(range(5)) + list(range(20)), dtype="Int64"
            ),
        }
    )
    out = disclose_named(
        make_baseline(cohort, "usual_care"), "baseline", suppress_max=7, round_to=5
    )
    b = out.set_index(["variable", "level", "care_model"])
    assert b.loc[("barthel", "missing", "a"), "n"] == MARKER
    assert b.loc[("barthel", "mean_sd", "a"), "n"] == MARKER  # secondary
    assert b.loc[("barthel", "mean_sd", "a"), "mean"] == pytest.approx(8.0)  # mean of 0..16
    assert (
        b.loc[("barthel", "mean_sd", "b"), "mean"] == MARKER
        and b.loc[("barthel", "mean_sd", "b"), "smd"] == MARKER
    )
    assert b.loc[("residents", "total", "b"), "n"] == MARKER


def test_data_flow_care_homes_are_not_people():
    flow = pd.DataFrame(
        {
            "region": "r",
            "table": ["care_homes", "care_homes", "residents", "residents"],
            "step": ["read", "analysed", "read", "analysed"],
            "rows": [4, 4, 83, 83],
        }
    )
    out = disclose_named(flow, "data_flow", suppress_max=7, round_to=5)
    assert out["rows"].tolist() == [4, 4, 85, 85]


def test_missing_column_and_unknown_table_raise_readably():
    with pytest.raises(ValueError, match=r"lacks column\(s\).*'events'"):
        disclose_named(
            _crude_rates().drop(columns="events"), "crude_rates", suppress_max=7, round_to=5
        )
    with pytest.raises(KeyError, match="no disclosure spec for table 'nope'"):
        disclose_named(_crude_rates(), "nope", suppress_max=7, round_to=5)


def test_input_not_modified_and_row_order_irrelevant():
    t = _crude_rates()
    before = t.copy()
    out = disclose_named(t, "crude_rates", suppress_max=7, round_to=5)
    pd.testing.assert_frame_equal(t, before)
    perm = np.random.default_rng(3).permutation(len(t))
    out_perm = disclose_named(t.iloc[perm], "crude_rates", suppress_max=7, round_to=5)
    pd.testing.assert_frame_equal(out_perm.sort_index(), out)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=60), min_size=12, max_size=12),
    suppress_max=st.sampled_from([7, 9]),
)
def test_property_no_small_or_unrounded_count_and_no_lone_suppression(counts, suppress_max):
    t = pd.DataFrame(
        {
            "group": np.repeat(["g1", "g2", "g3"], 4),
            "cell": list("abcd") * 3,
            "count": counts,
            "share": 1.0,
        }
    )
    spec = TableSpec(
        counts=("count",),
        derived={"share": ("count",)},
        secondary=(SecondaryGroup("count", ("group",)),),
    )
    out = disclose(t, spec, suppress_max=suppress_max, round_to=5)
    assert _is_published_count(out["count"]).all()
    assert (out["count"].astype(str) != MARKER).sum() == (out["share"].astype(str) != MARKER).sum()
    for _, g in out.groupby("group"):
        marked = int((g["count"].astype(str) == MARKER).sum())
        assert marked != 1


def test_every_spec_names_columns_consistently():
    for name, spec in TABLE_SPECS.items():
        earlier: set[str] = set()
        for stat, sources in spec.derived.items():
            assert set(sources) <= set(spec.counts) | earlier, (name, stat)
            earlier.add(stat)
        for stat, sources in spec.derived_primary.items():
            assert set(sources) <= set(spec.counts), (name, stat)
        for g in spec.secondary:
            assert g.count in spec.counts, (name, g)


def test_service_use_published():
    cohort = pd.DataFrame(
        {
            "resident_id": [f"r{i}" for i in range(40)],
            "care_model": ["x"] * 20 + ["y"] * 20,
            "person_years": 0.5,
        }
    )
    events = pd.DataFrame(
        {
            "resident_id": ["r0"] * 3 + ["r1"] * 30 + ["r25"] * 40,
            "event_type": "contact",
            "item": ["podiatry"] * 3 + ["gp_visit"] * 30 + ["gp_visit"] * 40,
            "n": 1,
        }
    )
    out = disclose_named(
        make_service_use(events, cohort), "service_use", suppress_max=7, round_to=5
    )
    x = out[out["care_model"] == "x"].set_index("service")
    assert x.loc["podiatry", "contacts"] == MARKER
    assert x.loc["podiatry", "contacts_per_resident_year"] == MARKER
    assert x.loc["gp_visit", "contacts"] == MARKER  # secondary: the all_contacts row is a total
    assert x.loc["all_contacts", "contacts"] == 35  # 33 -> 35
    assert x.loc["all_contacts", "contacts_per_resident_year"] == pytest.approx(35 / 10)
    for col in ("residents", "residents_with_any", "contacts"):
        assert _is_published_count(out[col]).all()


def test_baseline_disclosed_after_csv_round_trip(tmp_path):
    # the workflow discloses tables read back from CSV: the SMD of a mean must survive
    rng = np.random.default_rng(2)
    n = 60
    cohort = pd.DataFrame(
        {
            "care_model": np.repeat(["a", "usual_care"], n // 2),
            "sex": rng.choice(["F", "M"], n),
            "dementia": rng.random(n) < 0.5,
            "nursing": rng.random(n) < 0.5,
            "exit_reason": "died",
            "age": rng.normal(85, 5, n),
            "barthel": pd.array(rng.integers(0, 21, n), dtype="Int64"),
        }
    )
    raw = make_baseline(cohort, "usual_care")
    raw.to_csv(tmp_path / "baseline.csv", index=False)
    out = disclose_named(
        pd.read_csv(tmp_path / "baseline.csv"), "baseline", suppress_max=7, round_to=5
    )
    age = out[(out["variable"] == "age") & (out["level"] == "mean_sd") & (out["care_model"] == "a")]
    expected = raw.loc[
        (raw["variable"] == "age") & (raw["level"] == "mean_sd") & (raw["care_model"] == "a"), "smd"
    ]
    assert float(age["smd"].iloc[0]) == pytest.approx(float(expected.iloc[0]))


@pytest.mark.slow
def test_published_tables_of_a_synthetic_run(synthetic_results):
    published = sorted((synthetic_results / "published" / "tables").glob("*.csv"))
    assert {"baseline", "crude_rates", "service_use"} <= {p.stem for p in published}
    for path in published:
        spec = TABLE_SPECS[path.stem]
        table = pd.read_csv(path)
        exempt = pd.Series(False, index=table.index)
        for col, values in spec.exempt.items():
            exempt |= table[col].isin(values)
        curve = path.stem in ("km", "cumulative_incidence")
        for col in (c for c in spec.counts if c in table):
            values = table.loc[~exempt, col]
            if curve and col in ("n_events", "n_censored"):
                # a step's events and censorings are differences of rounded running totals
                keys = [c for c in ("care_model", "event") if c in table]
                values = pd.to_numeric(values).groupby([table[k] for k in keys]).cumsum()
            ok = _is_published_count(values) | values.isna()
            assert ok.all(), f"{path.name}: {col} has a small or unrounded count"
        unpublished = pd.read_csv(synthetic_results / "tables" / path.name)
        if curve:  # published on the coarse grid: fewer steps, one more column (n_censored)
            assert len(table) < len(unpublished) and "n_censored" in table, path.name
        else:
            assert table.shape == unpublished.shape, path.name
    assert check_published(synthetic_results, **_public_rules()) == []
