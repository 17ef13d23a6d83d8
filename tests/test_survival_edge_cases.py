"""Survival models that cannot be (fully) estimated: no events, one care home, aliasing, no data.

Every fixture is small enough to solve by hand. The one closed form used throughout:
usual_care (reference, x = 0) has two residents with the event on day 2; paid_gp (x = 1)
has residents with the event on days 1 and 3. Efron partial likelihood, u = exp(b):
  day 1: risk set U, U, P1, P3 -> -log(2 + 2u) + b
  day 2: U, U tied, risk set U, U, P3 -> denominators 2 + u and 1 + u
  day 3: P3 alone -> b - b = 0
  dL/db = 1 - 2u/(2 + 2u) - u/(2 + u) - u/(1 + u) = 0
  -> (1 + u)(2 + u) - 2u(2 + u) - u(1 + u) = 0 -> 2 - 2u - 2u^2 = 0 -> u^2 + u - 1 = 0
  -> HR = u = (sqrt(5) - 1) / 2 = 0.6180339887...
Residents entering no risk set at these days (dedicated_team censored on day 5 or later are
in every risk set, so they are dropped from the fit when they have no events).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from optimal_analysis.figures.survival import plot_cumulative_incidence, plot_km  # noqa: E402
from optimal_analysis.survival import (  # noqa: E402
    make_cumulative_incidence,
    make_km,
    make_survival_models,
    make_survival_tables,
)

GOLDEN = (np.sqrt(5) - 1) / 2
MODELS = ["usual_care", "dedicated_team", "paid_gp"]


def _cohort(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    """rows: (care_model, care_home_id, time, admission_status); no deaths unless status 2."""
    model, home, time, status = (list(c) for c in zip(*rows, strict=True))
    n = len(rows)
    return pd.DataFrame(
        {
            "resident_id": [f"r{i}" for i in range(n)],
            "region": "north",
            "care_model": model,
            "care_home_id": home,
            "time_to_admission_days": time,
            "admission_status": np.asarray(status, dtype="int8"),
            "follow_up_days": time,
            "died": np.asarray(status) == 2,
            "nursing": [m == "paid_gp" for m in model],
            "barthel": pd.array([10] * n, dtype="Int64"),
            "age": np.linspace(80.0, 90.0, n),
        }
    )


# usual_care: events day 2 (homes u1, u2); paid_gp: events days 1, 3 (homes p1, p2);
# dedicated_team: censored on days 5, 6 (homes d1, d2): no emergency admissions, no deaths.
BASE = [
    ("usual_care", "u1", 2, 1),
    ("usual_care", "u2", 2, 1),
    ("paid_gp", "p1", 1, 1),
    ("paid_gp", "p2", 3, 1),
    ("dedicated_team", "d1", 5, 0),
    ("dedicated_team", "d2", 6, 0),
]


def _hr(cohort: pd.DataFrame, covariates=(), **kw) -> pd.DataFrame:
    hr = make_survival_models(
        cohort, reference="usual_care", covariates=list(covariates), care_models=MODELS, **kw
    ).hazard_ratios
    return hr.set_index(["outcome", "model", "adjustment", "term"]).sort_index()


def test_care_model_without_events_is_not_estimated_and_the_others_are():
    # dedicated_team has no admissions: its coefficient would run to -inf (the old code
    # reported HR ~ 1e-15, p ~ 1e-198, converged). It is left out of the fit; paid_gp is
    # estimated from usual_care + paid_gp alone: HR = (sqrt 5 - 1)/2 (module docstring).
    hr = _hr(_cohort(BASE))
    for model in ("cox", "fine_gray"):  # no competing deaths: Fine-Gray is the Cox model
        dt = hr.loc[("emergency_admission", model, "crude", "dedicated_team")]
        cols = ["estimate", "std_error", "conf_low", "conf_high", "p_value"]
        assert np.isnan(dt[cols].astype(float)).all()
        assert not dt["converged"]
        assert dt["reason"] == "no emergency_admission events in dedicated_team"
        pg = hr.loc[("emergency_admission", model, "crude", "paid_gp")]
        assert pg["estimate"] == pytest.approx(GOLDEN, abs=1e-9)
        assert pg["converged"] and pg["reason"] == ""
        assert pg["n_residents"] == 4 and pg["n_events"] == 4 and pg["n_clusters"] == 4
        assert pg["n_clusters_comparison"] == 4
    # nobody died, not even in the reference: no death model at all, and no crash
    death = hr.loc[("death", "cox", "crude")]
    assert death["estimate"].isna().all() and not death["converged"].any()
    assert (death["reason"] == "no death events in usual_care (reference)").all()


def test_single_care_home_has_no_robust_standard_error():
    # paid_gp in one home: its cluster score sum is ~0, the sandwich SE is far too small.
    # The estimate stands (HR (sqrt 5 - 1)/2); SE, CI and p are withheld.
    rows = [r if r[0] != "paid_gp" else (r[0], "p1", r[2], r[3]) for r in BASE]
    hr = _hr(_cohort(rows))
    pg = hr.loc[("emergency_admission", "cox", "crude", "paid_gp")]
    assert pg["estimate"] == pytest.approx(GOLDEN, abs=1e-9)
    assert np.isnan(pg[["std_error", "conf_low", "conf_high", "p_value"]].astype(float)).all()
    # model-based SE by hand: -d2 logL/db2 = 2u/(1 + u)^2 + 2u/(2 + u)^2 at u = HR
    info = 2 * GOLDEN / (1 + GOLDEN) ** 2 + 2 * GOLDEN / (2 + GOLDEN) ** 2
    assert pg["std_error_model"] == pytest.approx(info**-0.5, rel=1e-8)
    assert pg["reason"] == "fewer than 2 care homes in paid_gp"
    small = ["conf_low_small", "conf_high_small", "p_value_small", "df_small", "p_value_wild"]
    assert np.isnan(pg[small].astype(float)).all() and pg["small_sample_method"] == ""
    # comparison homes: 1 (paid_gp) + 2 (usual_care) = 3 < 30 (default threshold)
    assert pg["n_clusters_comparison"] == 3 and pg["few_clusters"]
    hr3 = _hr(_cohort(rows), few_clusters_threshold=3)
    assert not hr3.loc[("emergency_admission", "cox", "crude", "paid_gp"), "few_clusters"]


@pytest.mark.parametrize("nursing", ["constant", "same_as_paid_gp"])
def test_aliased_covariate_is_dropped_and_named(nursing):
    # nursing all True (aliased with the baseline hazard) or nursing == paid_gp indicator:
    # it is dropped, so the adjusted model is the crude one: HR (sqrt 5 - 1)/2.
    c = _cohort(BASE)
    if nursing == "constant":
        c["nursing"] = True
    hr = _hr(c, covariates=["nursing"])
    adj = hr.loc[("emergency_admission", "cox", "adjusted", "paid_gp")]
    assert adj["estimate"] == pytest.approx(GOLDEN, abs=1e-9)
    assert adj["dropped_terms"] == "nursing"
    assert hr.loc[("emergency_admission", "cox", "crude", "paid_gp"), "dropped_terms"] == ""


def test_care_model_without_complete_cases_gets_a_reason():
    # dedicated_team now has admissions (days 2, 3) but barthel is missing for all of it:
    # adjusted row NaN, named; paid_gp adjusted = crude = (sqrt 5 - 1)/2 (barthel constant 10,
    # aliased, dropped).
    rows = [r if r[0] != "dedicated_team" else (r[0], r[1], r[2] - 3, 1) for r in BASE]
    c = _cohort(rows)
    c.loc[c["care_model"] == "dedicated_team", "barthel"] = pd.NA
    hr = _hr(c, covariates=["barthel"])
    dt = hr.loc[("emergency_admission", "cox", "adjusted", "dedicated_team")]
    assert np.isnan(dt["estimate"])
    assert dt["reason"] == "no complete cases in dedicated_team (barthel missing)"
    pg = hr.loc[("emergency_admission", "cox", "adjusted", "paid_gp")]
    assert pg["estimate"] == pytest.approx(GOLDEN, abs=1e-9) and pg["dropped_terms"] == "barthel"
    assert np.isfinite(
        hr.loc[("emergency_admission", "cox", "crude", "dedicated_team"), "estimate"]
    )


def test_no_complete_cases_names_the_all_missing_covariate():
    c = _cohort(BASE)
    c["barthel"] = pd.array([pd.NA] * len(c), dtype="Int64")
    hr = _hr(c, covariates=["age", "barthel"])
    adjusted = hr.xs("adjusted", level="adjustment")
    assert len(adjusted) == 6 and adjusted["estimate"].isna().all()
    assert (adjusted["n_residents"] == 0).all()
    assert (adjusted["reason"] == "no complete cases: ['barthel'] missing for every resident").all()
    crude = hr.loc[("emergency_admission", "cox", "crude", "paid_gp")]
    assert crude["estimate"] == pytest.approx(GOLDEN, abs=1e-9)


def test_everyone_censored_gives_tables_not_a_crash():
    # no admissions, no deaths: every model unestimable; curves are day-0 rows only
    c = _cohort([(m, f"{m}-h{i}", 3 + i, 0) for m in MODELS for i in range(2)])
    tables = make_survival_tables(
        c,
        reference="usual_care",
        covariates=["age"],
        at_risk_days=[0, 5],
        rmst_horizon_days=10,
        care_models=MODELS,
        few_clusters_threshold=30,
        rng=np.random.default_rng(1),
        wild_bootstrap_replicates=99,
    )
    hr = tables["hazard_ratios"]
    assert len(hr) == 12 and hr["estimate"].isna().all()
    assert hr["reason"].str.startswith("no ").all()
    assert tables["ph_tests"].empty
    ci = tables["cumulative_incidence"]
    assert len(ci) == 6 and (ci["time"] == 0).all() and (ci["estimate"] == 0).all()
    km = tables["km"]
    assert list(km["care_model"]) == MODELS and (km["estimate"] == 1).all()
    assert (tables["km_summary"]["rmst_days"] == 10).all()  # S = 1 up to the horizon
    ax = plot_km(km, at_risk=tables["at_risk"])
    plt.close(ax.figure)
    ax = plot_cumulative_incidence(ci, event="death", at_risk=tables["at_risk"])
    plt.close(ax.figure)


def test_km_and_cumulative_incidence_keep_a_curve_for_a_model_without_events():
    # dedicated_team: 2 residents, no events: one day-0 row each (KM 1, CIF 0, n at risk 2)
    c = _cohort(BASE)
    km = make_km(c, care_models=MODELS)
    dt = km[km["care_model"] == "dedicated_team"]
    assert dt[["time", "estimate", "n_at_risk", "n_events"]].values.tolist() == [[0, 1, 2, 0]]
    day0 = km[km["time"] == 0]
    assert list(day0["care_model"]) == MODELS and (day0["estimate"] == 1).all()
    ci = make_cumulative_incidence(c, care_models=MODELS)
    dt = ci[ci["care_model"] == "dedicated_team"]
    assert sorted(dt["event"]) == ["death", "emergency_admission"]
    assert (dt["time"] == 0).all() and (dt["estimate"] == 0).all() and (dt["n_at_risk"] == 2).all()
    ax = plot_km(km)
    assert len(ax.get_lines()) == 3
    plt.close(ax.figure)


def test_care_model_with_late_events_only_is_refitted_without_it():
    # dedicated_team's admissions (days 8, 9) all come after everyone else has left (day 3):
    # at days 1-3 its residents are at risk without events, at 8-9 alone in the risk set,
    # so its log HR runs to -inf (fit_cox flags it). Its row is NaN; the refit without it
    # gives paid_gp (sqrt 5 - 1)/2, converged.
    rows = [r if r[0] != "dedicated_team" else (r[0], r[1], r[2] + 3, 1) for r in BASE]
    hr = _hr(_cohort(rows))
    dt = hr.loc[("emergency_admission", "cox", "crude", "dedicated_team")]
    assert np.isnan(dt["estimate"]) and not dt["converged"]
    assert dt["reason"].startswith("coefficient may be infinite")
    pg = hr.loc[("emergency_admission", "cox", "crude", "paid_gp")]
    assert pg["estimate"] == pytest.approx(GOLDEN, abs=1e-9) and pg["converged"]
    assert pg["n_residents"] == 4


def test_each_care_model_keeps_its_own_reason_when_none_is_estimable():
    # dedicated_team and paid_gp without admissions: nothing to fit, each row says why
    rows = [r if r[0] == "usual_care" else (r[0], r[1], r[2], 0) for r in BASE]
    hr = _hr(_cohort(rows)).loc[("emergency_admission", "cox", "crude")]
    assert hr["estimate"].isna().all()
    assert hr.loc["paid_gp", "reason"] == "no emergency_admission events in paid_gp"
    assert hr.loc["dedicated_team", "reason"] == "no emergency_admission events in dedicated_team"
