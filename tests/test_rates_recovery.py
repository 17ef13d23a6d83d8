"""Recovery: rate ratios estimated on a large synthetic dataset match truth.json."""

import numpy as np
import pytest

from optimal_analysis.rate_models import make_rate_models
from optimal_analysis.synthetic import generate
from tests.helpers import cohort_of

OUTCOMES = ["emergency_admission", "ae", "ambulance", "elective_admission"]
# Stated tolerance on the rate ratio, relative: about 3 standard errors at this size
# (cluster-robust SE of the log rate ratio ~0.016 for the common outcomes, ~0.035 for
# elective admissions, the rarest).
TOLERANCE = {"emergency_admission": 0.05, "ae": 0.05, "ambulance": 0.05, "elective_admission": 0.10}


@pytest.fixture(scope="module")
def recovered():
    # No care-home effect and gamma frailty of variance 0.5: the intensity ratios in truth.json
    # are then the rate ratios of a correctly specified adjusted NB2 model (and of Poisson, whose
    # estimates stay consistent under overdispersion), exactly with days out of hospital as the
    # exposure, and the NB2 dispersion is the frailty variance.
    ds = generate(n_residents=60_000, n_homes=2_000, seed=20240611, home_sd=0.0, overdispersion=0.5)
    cohort = cohort_of(ds)
    out = make_rate_models(
        cohort,
        reference=ds.truth["reference"],
        covariates=["age", "sex", "dementia", "nursing", "barthel"],
        outcomes=OUTCOMES,
        few_clusters_threshold=30,
        wild_bootstrap_replicates=99,
        rng=np.random.default_rng(1),
        exposures=["days_at_risk"],
    )
    return out.rate_ratios, ds.truth


@pytest.mark.slow
@pytest.mark.parametrize("model", ["poisson", "negbin"])
def test_adjusted_rate_ratios_recover_truth(recovered, model):
    rr, truth = recovered
    rows = rr[(rr["model"] == model) & (rr["adjustment"] == "adjusted")]
    assert len(rows) == len(OUTCOMES) * 2
    for row in rows.itertuples():
        expected = truth["rate_ratios"][row.outcome][row.term]
        assert row.estimate == pytest.approx(expected, rel=TOLERANCE[row.outcome]), (
            row.outcome,
            row.term,
            row.estimate,
            expected,
        )
        # The truth within 4 cluster-robust SEs, and the CI is the normal Wald interval.
        assert abs(np.log(row.estimate / expected)) < 4 * row.std_error
        assert np.log(row.conf_high / row.estimate) == pytest.approx(
            1.959963984540054 * row.std_error, rel=1e-9
        )


@pytest.mark.slow
def test_negbin_dispersion_recovers_frailty_variance(recovered):
    rr, truth = recovered
    em = rr[
        (rr["model"] == "negbin")
        & (rr["adjustment"] == "adjusted")
        & (rr["outcome"] == "emergency_admission")
    ]
    assert em["dispersion"].iloc[0] == pytest.approx(truth["overdispersion"], abs=0.1)
