"""Derived outcomes (issue 19): costs of their stays, their curves, synthetic deaths in hospital.

- costs: the rows of each derived outcome in costs.csv equal a hand count (plain Python
  over the admissions, priced from the unit-cost table), and the other rows, ``total``
  included, are those of a run without the derived column;
- curves: a derived outcome's cumulative incidence equals R survival
  (tests/reference/derived_curves) and is the R-checked
  ``stats.aalen_johansen.aalen_johansen`` (tests/reference/survival) applied to the
  cohort's derived time/status columns; publishing keeps each time scale apart;
- generator: the share of deaths in hospital is within sampling error of its truth.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis import outcomes as registry
from optimal_analysis.cohort import make_cohort
from optimal_analysis.costing import make_cost_tables
from optimal_analysis.icd10 import normalise_codes
from optimal_analysis.io import read_code_list
from optimal_analysis.report.curves import curve_family, publish_cumulative_incidence
from optimal_analysis.stats.aalen_johansen import aalen_johansen
from optimal_analysis.survival.curves import derived_cumulative_incidence
from optimal_analysis.synthetic import generate
from optimal_analysis.unit_costs import (
    rebase_unit_costs,
    select_scheme,
    validate_inflation,
    validate_unit_costs,
)

ROOT = Path(__file__).resolve().parents[1]
UNIT_COSTS = ROOT / "config/unit_costs/unit_costs_2015.csv"
INFLATION = ROOT / "config/unit_costs/inflation_index.csv"
NAMES = ("avoidable_emergency_admission", "fall_injury_admission")


@pytest.fixture(scope="module")
def built():
    ds = generate(n_residents=400, seed=31, diagnoses=True)
    tables = {t: ds.table(t) for t in ("care_homes", "residents", "contacts", "admissions")}
    tables["admissions"]["primary_diagnosis"] = normalise_codes(
        tables["admissions"]["primary_diagnosis"])[0]
    try:
        cohort, events = make_cohort(**tables, code_list=read_code_list(
            ROOT / "config/outcome_codes.csv"))
        yield tables, cohort, events
    finally:  # registration is process-wide: leave the registry as other tests expect it
        for name in NAMES:
            registry.OUTCOMES.pop(name, None)


def _costs(events, cohort, scheme):
    return make_cost_tables(
        events, cohort, pd.read_csv(UNIT_COSTS), pd.read_csv(INFLATION), price_year=2024,
        scheme=scheme, replicates=99, rng=np.random.default_rng(5))


def _hand_costs(tables, scheme):
    """{(outcome, care_model): [stays, cost]} by plain Python over the admission rows."""
    table = rebase_unit_costs(validate_unit_costs(pd.read_csv(UNIT_COSTS)),
                              validate_inflation(pd.read_csv(INFLATION)), price_year=2024)
    table = select_scheme(table, scheme)
    tiers = sorted((0.0 if pd.isna(r.min_days) else float(r.min_days), float(r.cost_gbp))
                   for r in table.itertuples() if r.item == "emergency_admission")
    bed = [(0.0 if pd.isna(r.after_days) else float(r.after_days), float(r.cost_gbp))
           for r in table.itertuples() if r.item == "emergency_bed_day"]
    prefixes: dict[str, list[str]] = {}
    with open(ROOT / "config/outcome_codes.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            prefixes.setdefault(row["outcome"], []).append(row["code_prefix"].replace(".", ""))
    model = dict(zip(tables["care_homes"]["care_home_id"], tables["care_homes"]["care_model"],
                     strict=True))
    res = {r.resident_id: r for r in tables["residents"].itertuples()}
    out: dict[tuple[str, str], list[float]] = {}
    for a in tables["admissions"].itertuples():
        code = a.primary_diagnosis
        if a.method != "emergency" or not isinstance(code, str):
            continue
        r = res[a.resident_id]
        end = r.exit_date if pd.isna(a.discharge_date) else min(a.discharge_date, r.exit_date)
        days = (end - a.admission_date).days
        fit = [c for m, c in tiers if m <= days]  # the tier with the largest min_days <= days
        cost = fit[-1] if fit else 0.0
        for after, c in bed:
            cost += max(days - after, 0) * c
        for outcome, pre in prefixes.items():
            if any(code.startswith(p) for p in pre):
                cell = out.setdefault((outcome, model[r.care_home_id]), [0, 0.0])
                cell[0] += 1
                cell[1] += cost
    return out


@pytest.mark.parametrize("scheme", ["spell", "bed_day"])
def test_derived_costs_equal_a_hand_count(built, scheme):
    tables, cohort, events = built
    main, sensitivity, _ = _costs(events, cohort, "spell")
    costs = pd.concat([main, sensitivity])
    rows = costs[(costs["service_group"] == "derived_outcome") & (costs["scheme"] == scheme)]
    want = _hand_costs(tables, scheme)
    assert set(rows["item"]) == set(NAMES)
    for r in rows.itertuples():
        stays, cost = want.get((r.item, r.care_model), [0, 0.0])
        assert r.units == stays, (r.item, r.care_model)
        assert r.cost == pytest.approx(cost, rel=1e-9), (r.item, r.care_model, scheme)
        assert r.cost_per_resident_year == pytest.approx(r.cost / r.person_years, rel=1e-12)
        assert np.isfinite([r.conf_low, r.conf_high, r.conf_low_small]).all()
    assert sum(v[0] for v in want.values()) == rows["units"].sum() > 20


def test_total_excludes_derived_rows(built):
    _, cohort, events = built
    with_d = _costs(events, cohort, "spell")
    without = _costs(events.drop(columns="derived_outcomes"), cohort, "spell")
    for a, b in zip(with_d[:2], without[:2], strict=True):
        kept = a[a["service_group"] != "derived_outcome"].reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, b, check_exact=False, rtol=1e-12)
        # the derived rows follow each care model's total; total = the items only
        for _, g in a.groupby("care_model"):
            items = g[~g["service_group"].isin(["total", "derived_outcome"])]
            assert g.loc[g["item"] == "total", "cost"].item() == pytest.approx(items["cost"].sum())
            assert list(g["item"])[-2:] == list(NAMES)
    pd.testing.assert_frame_equal(with_d[2], without[2])  # resident costs unchanged


def test_derived_curves_are_the_r_checked_estimator_on_the_derived_columns(built):
    _, cohort, _ = built
    ci = derived_cumulative_incidence(cohort, list(NAMES), care_models=None)
    for name in NAMES:
        for model, sub in cohort.groupby("care_model"):
            aj = aalen_johansen(sub[f"time_to_{name}_days"], sub[f"{name}_status"].astype(int),
                                causes=(1, 2), cluster=sub["care_home_id"])
            aj = aj[aj.groupby("time")["n_events"].transform("sum") > 0]
            got = ci[(ci["care_model"] == model) & (ci["event"] == name) & (ci["time"] > 0)]
            want = aj[aj["cause"] == 1]
            np.testing.assert_array_equal(got["time"], want["time"].astype(int))
            np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=1e-12)
            np.testing.assert_allclose(got["std_error"], want["std_error"], rtol=1e-12)
            assert got["n_events"].sum() == (sub[f"{name}_status"] == 1).sum()
            dead = ci[(ci["care_model"] == model) & (ci["event"] == f"death_before_{name}")]
            assert dead["n_events"].sum() == (sub[f"{name}_status"] == 2).sum()


def test_too_few_events_give_no_curve(built):
    _, cohort, _ = built
    few = cohort.assign(fall_injury_admission_status=np.where(
        np.arange(len(cohort)) < 3, 1, 0).astype(np.int8))
    ci = derived_cumulative_incidence(few, ["fall_injury_admission"])
    assert ci.empty and "event" in ci.columns


def test_publishing_keeps_each_time_scale_apart(built):
    from optimal_analysis.survival import make_cumulative_incidence

    _, cohort, _ = built
    main = make_cumulative_incidence(cohort).assign(adjustment="crude")
    both = pd.concat([main, derived_cumulative_incidence(cohort, list(NAMES)).assign(
        adjustment="crude")], ignore_index=True)
    kw = {"grid_days": 7, "min_events": 8, "round_to": 5}
    pub_main = publish_cumulative_incidence(main, **kw)
    pub = publish_cumulative_incidence(both, **kw)
    fam = curve_family(pub["event"])
    pd.testing.assert_frame_equal(pub[fam == ""].reset_index(drop=True), pub_main)
    assert set(fam) == {"", *NAMES}
    for name in NAMES:  # its own number at risk: everyone at day 0, no emergency events
        d = pub[(fam == name) & (pub["time"] == 0)]
        tot = both[curve_family(both["event"]) == name].groupby(["care_model", "event"])[
            "n_events"].sum().unstack()
        ok = ((tot == 0) | (tot >= 8)).all(axis=1)  # publishable: 0 or >= min_events each
        assert set(d["care_model"]) == set(ok.index[ok]) and ok.sum() >= 1
        assert (d["n_events"] == 0).all() and len(d) == 2 * ok.sum()
        n0 = d.groupby("care_model")["n_at_risk"].first()
        want = cohort.groupby("care_model").size().reindex(n0.index)
        assert (n0 - want).abs().max() <= 2  # everyone at risk (rounded to 5)


def test_generator_hospital_death_share_matches_its_truth():
    ds = generate(n_residents=20000, n_homes=150, seed=4242, diagnoses=True)
    truth = ds.truth["diagnoses"]["hospital_deaths"]["by_care_model"]
    res = ds.table("residents")
    adm = ds.table("admissions")
    homes = ds.table("care_homes")
    model = res["care_home_id"].map(homes.set_index("care_home_id")["care_model"])
    died = res["exit_reason"].eq("died")
    open_ids = set(adm.loc[adm["discharge_date"].isna(), "resident_id"].astype(str))
    in_hosp = died & res["resident_id"].astype(str).isin(open_ids)
    shares = {}
    for m, t in truth.items():
        sel = died & model.eq(m)
        n, k = int(sel.sum()), int((in_hosp & sel).sum())
        p = t["expected_share"]
        assert n == t["deaths"] and n > 500
        assert abs(k / n - p) < 4 * np.sqrt(p * (1 - p) / n), (m, k / n, p, n)
        shares[m] = k / n
        assert 0.15 < p < 0.35  # PHE NEoLCIN 2017: ~30% of residents die outside the home
    assert shares["dedicated_team"] < shares["usual_care"]
    # the recorded places agree with the stays (place_of_death 'hospital' <=> open stay)
    written = res["place_of_death"].astype(str).str.strip().str.lower()
    recorded = written.ne("") & died
    assert (written[recorded].eq("hospital") == in_hosp[recorded]).all()
    # every terminal stay: emergency, no discharge, in follow-up, after the resident's other stays
    last = adm[adm["discharge_date"].isna()].merge(res, on="resident_id")
    assert (last["admission_date"] >= last["entry_date"]).all()
    assert (last["admission_date"] <= last["exit_date"]).all()
    a = adm.sort_values(["resident_id", "admission_date"], kind="stable")
    prev_end = a.groupby("resident_id", observed=True)["discharge_date"].shift()
    assert not (a["admission_date"] < prev_end).any()
    assert (a.groupby("resident_id", observed=True)["discharge_date"]
            .apply(lambda s: s.isna().sum()).max() <= 1)


def test_published_total_leaves_out_derived_rows_and_report_says_so(built):
    from optimal_analysis.report.check import check_tables
    from optimal_analysis.report.commissioner import derived_cost_text
    from optimal_analysis.report.costs import public_unit_costs, publish_costs

    _, cohort, events = built
    costs = _costs(events, cohort, "spell")[0]
    unit = public_unit_costs(pd.read_csv(UNIT_COSTS), pd.read_csv(INFLATION), price_year=2024)
    rules = {"suppress_max": 7, "round_to": 5}
    pub = publish_costs(costs, "costs", unit, **rules)
    plain = publish_costs(costs[costs["service_group"] != "derived_outcome"], "costs", unit,
                          **rules)
    assert list(pub["item"]) == list(costs["item"])  # rows in costs.csv order
    tot = pub[pub["item"] == "total"].set_index("care_model")["cost"].astype(float)
    want = plain[plain["item"] == "total"].set_index("care_model")["cost"].astype(float)
    pd.testing.assert_series_equal(tot, want)
    assert check_tables({"costs": pub}, unit_costs=unit, **rules) == []
    config = {"care_models": ["usual_care", "paid_gp", "dedicated_team"]}
    text = derived_cost_text(pub, config)
    assert text is not None and "avoidable emergency admission: " in text
    assert "not extra" in text
    assert derived_cost_text(plain, config) is None


def test_a_derived_curve_with_too_few_events_in_a_care_model_is_not_published(built):
    _, cohort, _ = built
    name = "fall_injury_admission"
    col = f"{name}_status"
    model = cohort["care_model"].iloc[0]
    in_model = (cohort["care_model"] == model).to_numpy()
    events_in_model = np.flatnonzero(in_model & (cohort[col] == 1).to_numpy())
    few = cohort.copy()
    few.loc[few.index[events_in_model[3:]], col] = 0  # 3 events left in that care model
    ci = derived_cumulative_incidence(few, [name]).assign(adjustment="crude")
    assert ci.loc[(ci["care_model"] == model) & (ci["event"] == name), "n_events"].sum() == 3
    pub = publish_cumulative_incidence(ci, grid_days=7, min_events=8, round_to=5)
    assert model not in set(pub["care_model"])
    assert set(pub["care_model"]) == set(cohort["care_model"]) - {model}


def test_derived_curves_equal_r_survival():
    """tests/reference/derived_curves: R survfit(Surv(time, state) ~ 1, id, influence = TRUE),
    influence summed within care home (reference.R), on the derived time/status columns."""
    ref_dir = ROOT / "tests/reference/derived_curves"
    d = pd.read_csv(ref_dir / "data.csv")
    name = "avoidable_emergency_admission"
    cohort = d.rename(columns={"time": f"time_to_{name}_days", "status": f"{name}_status"}).assign(
        time_to_admission_days=d["time"], admission_status=0, follow_up_days=d["time"],
        died=d["status"].eq(2))
    ours = derived_cumulative_incidence(cohort, [name])
    ours = ours[ours["time"] > 0]
    ref = pd.read_csv(ref_dir / "aj.csv")
    m = ours.merge(ref, on=["care_model", "event", "time"], suffixes=("", "_r"), how="left",
                   validate="1:1")
    assert len(m) == len(ours) > 100 and m["estimate_r"].notna().all()
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m["std_error"], m["std_err_cluster"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m["conf_low"], m["conf_low_r"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m["conf_high"], m["conf_high_r"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(m["n_events"], m["n_event"])
    assert (m["n_clusters"] == m["n_homes"]).all()
    # every R time where an estimate changes is one of ours
    steps = ref[ref["n_event"] > 0]
    assert len(steps.merge(ours, on=["care_model", "event", "time"])) == len(steps)
