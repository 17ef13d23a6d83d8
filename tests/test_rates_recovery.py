"""Recovery: rate ratios estimated on a large synthetic dataset with a care-home effect.

The data have a real care-home random effect (log-normal, ``home_sd`` = 0.3, mean 1) and
an individual gamma frailty (variance 0.5). Both multiply every acute intensity and
have mean 1 independently of care model and covariates, so the ratio of marginal mean
counts per day out of hospital between care models (what Poisson and NB2 estimate with
``days_at_risk`` as exposure; the estimating equations need only the mean model) is
the conditional intensity ratio in truth.json: for log-linear models the home effect
does not attenuate the ratio (unlike the Cox hazard ratio, see
test_survival_recovery.py).

Tolerance: |log(estimate / truth)| < 3 x the reported cluster-robust SE, and the SE
below a stated ceiling (so a too-wide SE cannot make the check pass): at this size the
SE of the log rate ratio is about 0.022 for the common outcomes and 0.037 for elective
admissions (the rarest).
"""

import numpy as np
import pytest

from optimal_analysis.rates.models import make_rate_models
from optimal_analysis.synthetic import generate
from tests.helpers import cohort_of

OUTCOMES = ["emergency_admission", "ae", "ambulance", "elective_admission"]
HOME_SD, OVERDISPERSION = 0.3, 0.5
MAX_SE = {"emergency_admission": 0.03, "ae": 0.03, "ambulance": 0.03, "elective_admission": 0.05}


@pytest.fixture(scope="module")
def recovered():
    ds = generate(n_residents=60_000, n_homes=2_000, seed=20240611, home_sd=HOME_SD,
                  overdispersion=OVERDISPERSION)
    out = make_rate_models(
        cohort_of(ds),
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
        assert row.std_error < MAX_SE[row.outcome], (row.outcome, row.term, row.std_error)
        assert abs(np.log(row.estimate / expected)) < 3 * row.std_error, (
            row.outcome, row.term, row.estimate, row.std_error, expected,
        )  # fmt: skip
        # the CI is the normal Wald interval on the log scale
        assert np.log(row.conf_high / row.estimate) == pytest.approx(
            1.959963984540054 * row.std_error, rel=1e-9
        )


@pytest.mark.slow
def test_negbin_dispersion_recovers_the_mixing_variance(recovered):
    # The NB2 dispersion estimates the variance of the mean-1 multiplier of each resident's
    # intensity, here home effect x frailty: (1 + 0.5) exp(0.3²) - 1 = 0.641 (to first order:
    # the product is not exactly gamma). A frailty-only value (0.5) is outside the tolerance.
    rr, truth = recovered
    em = rr[
        (rr["model"] == "negbin")
        & (rr["adjustment"] == "adjusted")
        & (rr["outcome"] == "emergency_admission")
    ]
    expected = (1 + truth["overdispersion"]) * np.exp(truth["home_sd"] ** 2) - 1
    assert em["dispersion"].iloc[0] == pytest.approx(expected, abs=0.1)
