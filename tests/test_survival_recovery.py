"""Recovery: hazard ratios estimated on a large synthetic dataset match truth.json."""

import numpy as np
import pytest

from optimal_analysis.survival import make_survival_models
from optimal_analysis.synthetic import generate
from tests.helpers import cohort_of

COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]
# Stated tolerance on the hazard ratio, relative: about 3 cluster-robust standard errors
# of the log hazard ratio at this size (~0.016 for first emergency admission, ~0.018
# for death, 25,000 and 18,000 events).
TOLERANCE = {"emergency_admission": 0.05, "death": 0.06}


@pytest.fixture(scope="module")
def recovered():
    # home_sd = 0 and overdispersion = 0 (truth.json notes): the care-model intensity
    # ratio of emergency admission is then the cause-specific hazard ratio of the first
    # emergency admission (death competing; off by elective time in hospital, < 1%),
    # and the death hazard ratio is the all-cause Cox hazard ratio.
    ds = generate(n_residents=60_000, n_homes=2_000, seed=20240612, home_sd=0.0, overdispersion=0.0)
    cohort = cohort_of(ds)
    models = make_survival_models(
        cohort,
        reference=ds.truth["reference"],
        covariates=COVARIATES,
        care_models=ds.truth["care_models"],
    )
    return cohort, models.hazard_ratios, ds.truth


@pytest.mark.slow
@pytest.mark.parametrize("outcome", ["emergency_admission", "death"])
def test_adjusted_cox_hazard_ratios_recover_truth(recovered, outcome):
    _, hr, truth = recovered
    rows = hr[
        (hr["model"] == "cox") & (hr["adjustment"] == "adjusted") & (hr["outcome"] == outcome)
    ]
    assert len(rows) == len(truth["care_models"]) - 1
    for row in rows.itertuples():
        expected = truth["hazard_ratios"][outcome][row.term]
        assert row.estimate == pytest.approx(expected, rel=TOLERANCE[outcome]), (
            row.term,
            row.estimate,
            row.std_error,
            expected,
        )
        assert abs(np.log(row.estimate / expected)) < 3 * row.std_error
