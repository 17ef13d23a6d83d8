"""Recovery: hazard ratios estimated on a large synthetic dataset with a care-home effect.

The data have a real care-home random effect (log-normal, ``home_sd`` = 0.3) and an
individual gamma frailty (variance 0.5) on the admission intensities. Which truth each
estimate is compared with:

- death (all-cause Cox): the generator gives death no home effect or frailty, so the
  conditional hazard ratio in truth.json is the marginal one the adjusted Cox model
  estimates (its covariate effects are in the model).
- first emergency admission, Cox (cause-specific) and Fine–Gray: with the home effect
  and frailty the marginal hazard ratio (a Cox model without frailty) is attenuated
  towards 1 relative to truth.json's conditional intensity ratio and depends on the
  censoring; the Fine–Gray model is misspecified here (constant cause-specific hazards
  with effects on both causes do not give proportional subdistribution hazards), so its
  estimand is its probability limit under this design. Both truths are therefore taken
  from a very large sample of the same generator and design
  (``tests/reference/survival_recovery/make_truth.py``: 1.2 million residents,
  inverse-variance pooled over 4 datasets; stored in ``truth.csv`` with its SE).
- a null design (no care-model effect on admission or death) where every estimand is
  exactly 1 whatever the frailty: the subdistribution hazards are then proportional
  (equal), so the Fine–Gray model is correctly specified and sHR = 1 exactly.

Tolerance: |log(estimate / truth)| < 3 x sqrt(SE² + SE_truth²), with SE the reported
cluster-robust standard error (about 0.02 here), and the SE itself below 0.035 (so a
too-wide SE cannot make the check pass).
"""

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.survival import make_survival_models
from optimal_analysis.synthetic import generate
from tests.conftest import REPO
from tests.helpers import cohort_of

COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]
DESIGN = {"home_sd": 0.3, "overdispersion": 0.5}  # as make_truth.py, 30 residents per home
LARGE = pd.read_csv(REPO / "tests/reference/survival_recovery/truth.csv").set_index(
    ["outcome", "model", "term"]
)
MAX_SE = 0.035
NULL_EFFECTS = {
    "rate_ratios": {
        k: {"dedicated_team": 1.0, "paid_gp": 1.0} for k in ("emergency_admission", "death")
    }
}


def _fit(seed: int, effects=None):  # type: ignore[no-untyped-def]
    ds = generate(n_residents=60_000, n_homes=2_000, seed=seed, effects=effects, **DESIGN)
    hr = make_survival_models(
        cohort_of(ds), reference=ds.truth["reference"], covariates=COVARIATES,
        care_models=ds.truth["care_models"],
    ).hazard_ratios  # fmt: skip
    return hr[hr["adjustment"] == "adjusted"], ds.truth


@pytest.fixture(scope="module")
def recovered():
    return _fit(20240612)


def _check(rows: pd.DataFrame, truth: dict[str, float], truth_se: dict[str, float]) -> None:
    assert len(rows) == 2
    for row in rows.itertuples():
        err = abs(np.log(row.estimate / truth[row.term]))
        tol = 3 * np.hypot(row.std_error, truth_se[row.term])
        assert row.std_error < MAX_SE, (row.outcome, row.model, row.term, row.std_error)
        assert err < tol, (row.outcome, row.model, row.term, row.estimate, truth[row.term], tol)


@pytest.mark.slow
def test_death_cox_recovers_truth_json(recovered):
    hr, truth = recovered
    rows = hr[(hr["model"] == "cox") & (hr["outcome"] == "death")]
    _check(rows, truth["hazard_ratios"]["death"], {"dedicated_team": 0.0, "paid_gp": 0.0})


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cox", "fine_gray"])
def test_emergency_admission_recovers_large_sample_truth(recovered, model):
    hr, truth = recovered
    rows = hr[(hr["model"] == model) & (hr["outcome"] == "emergency_admission")]
    big = LARGE.loc[("emergency_admission", model)]
    _check(rows, big["hr"].to_dict(), big["se_log_hr"].to_dict())
    # The attenuation is real: the marginal Cox truth is nearer 1 than the conditional ratio
    # by far more than its Monte Carlo error (else a frailty-free truth would do).
    conditional = np.log(pd.Series(truth["hazard_ratios"]["emergency_admission"]))
    gap = (np.abs(conditional[big.index]) - np.abs(big["log_hr"])) / big["se_log_hr"]
    assert (gap > 3).all(), gap


@pytest.mark.slow
def test_null_design_gives_hazard_ratios_of_one_for_cox_and_fine_gray():
    hr, _ = _fit(20240613, effects=NULL_EFFECTS)
    one, zero = {"dedicated_team": 1.0, "paid_gp": 1.0}, {"dedicated_team": 0.0, "paid_gp": 0.0}
    for _, rows in hr.groupby(["outcome", "model"]):
        _check(rows, one, zero)
    assert set(hr["model"]) == {"cox", "fine_gray"}
