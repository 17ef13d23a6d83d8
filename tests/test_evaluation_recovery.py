"""Scheme evaluation recovers a known effect on generated data; the naive before-after does not.

Data: the synthetic generator (240 homes, 9,000 residents, 24 months, two care models) with
`add_scheme_history`: 40% of the usual-care homes switch to dedicated_team in months 12-17,
chosen on their first-year emergency admission rate; every home's rate falls 15% a year;
causal rate ratio of switching 0.80 (truth.json).
"""

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.cohort import make_cohort
from optimal_analysis.evaluation.design import estimation_frame, home_switches
from optimal_analysis.evaluation.effects import make_scheme_effects
from optimal_analysis.evaluation.panel import make_panel
from optimal_analysis.synthetic import generate
from optimal_analysis.synthetic.history import add_scheme_history

OUTCOME = "emergency_admission"


def _effects(seed: int, *, home_sd: float, selection: float, transient_sd: float):
    ds = generate(n_residents=9000, n_homes=240, months=24, seed=seed, home_sd=home_sd,
                  care_models=["dedicated_team", "usual_care"])
    ds = add_scheme_history(ds, np.random.default_rng(seed), scheme_model="dedicated_team",
                            rate_ratio=0.8, share_switching=0.4, selection_strength=selection,
                            trend_per_year=-0.15, transient_sd=transient_sd)

    def cat(name):
        return pd.concat([t[name].assign(region=r) for r, t in ds.regions.items()],
                         ignore_index=True)

    homes, history = cat("care_homes"), cat("care_model_history")
    contacts, admissions = cat("contacts"), cat("admissions")
    for df in (contacts, admissions):
        df["resident_id"] = df["resident_id"].astype(str)
    cohort, events = make_cohort(homes, cat("residents"), contacts, admissions)
    panel = make_panel(cohort, events, homes, history, {OUTCOME: [OUTCOME]})
    frame = estimation_frame(panel, home_switches(homes, history), OUTCOME)
    effects, events_table = make_scheme_effects(frame, OUTCOME, window=6)
    return ds.truth["scheme"], effects.set_index("method"), events_table


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_did_covers_truth_and_naive_before_after_does_not(seed):
    # Selected on high first-year rates (pre-switch rate ratio well above 1), lasting home
    # differences (home_sd 0.5), no transient home effect: the shared 15%/year fall biases the
    # before-after; the difference in differences removes it.
    truth, eff, _ = _effects(seed, home_sd=0.5, selection=1.0, transient_sd=0.0)
    rr = truth["rate_ratio"]
    assert rr == 0.8 and truth["n_switched"] == 48
    did, naive = eff.loc["did"], eff.loc["before_after"]
    assert did["conf_low"] < rr < did["conf_high"]
    assert not naive["conf_low"] < rr < naive["conf_high"]
    assert naive["estimate"] < did["estimate"]
    assert eff.loc["pre_switch_rate_ratio", "conf_low"] > 1.0  # they were selected on high rates
    assert did["n_homes_switched"] == 48 and did["n_homes_comparison"] == 72
    assert did["pre_trend_p_value"] > 0.05


def test_transient_high_biases_did_and_the_baseline_variant_moves_towards_truth():
    # A transient home effect (SD 0.4, first year only) and strong selection on it: the
    # difference in differences reads the fall from the transient high as an effect
    # (Ashenfelter dip); conditioning on the baseline rate removes most of that.
    truth, eff, _ = _effects(1, home_sd=0.3, selection=2.0, transient_sd=0.4)
    rr = np.log(truth["rate_ratio"])
    did, adj = eff.loc["did"], eff.loc["did_baseline_adjusted"]
    assert did["conf_high"] < truth["rate_ratio"]
    assert adj["conf_low"] < truth["rate_ratio"] < adj["conf_high"]
    assert abs(np.log(adj["estimate"]) - rr) < abs(np.log(did["estimate"]) - rr) / 2
    assert eff.loc["pre_switch_rate_ratio", "conf_low"] > 1.5


def test_event_study_shape():
    _, _, ev = _effects(1, home_sd=0.5, selection=1.0, transient_sd=0.0)
    assert ev["months_from_switch"].tolist() == list(range(-6, 7))
    ref = ev[ev["months_from_switch"] == -1].iloc[0]
    assert ref["estimate"] == 1.0 and np.isnan(ref["conf_low"])
    post = ev[ev["months_from_switch"] >= 0]
    # every post-switch month: the true ratio 0.8 within the interval for most months
    assert ((post["conf_low"] < 0.8) & (0.8 < post["conf_high"])).sum() >= 5
