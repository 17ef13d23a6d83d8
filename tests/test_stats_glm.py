"""Count-model fits: likelihood against scipy, boundary, error paths, few-cluster test size."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimal_analysis.model_frame import design_matrix
from optimal_analysis.rates.models import fit_rate_model
from optimal_analysis.stats.cluster import wild_cluster_score_test
from optimal_analysis.stats.glm import count_scores_information, fit_count_model, nb2_loglik


def test_nb2_loglik_matches_scipy():
    # scipy's nbinom(n, p) with n = 1/alpha, p = n / (n + mu) is NB2 with variance mu + alpha mu^2.
    y = np.array([0, 1, 2, 7, 30], float)
    mu = np.array([0.5, 1.0, 3.0, 6.0, 10.0])
    for alpha in [1e-6, 0.3, 2.0]:
        n = 1 / alpha
        expected = stats.nbinom.logpmf(y, n, n / (n + mu)).sum()
        assert nb2_loglik(y, mu, alpha) == pytest.approx(expected, rel=1e-10)


def test_nb2_scores_are_gradients_of_the_loglik():
    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(50), rng.normal(size=50)])
    y = rng.poisson(2.0, 50).astype(float)
    beta, alpha, off = np.array([0.5, 0.2]), 0.4, np.zeros(50)
    scores, info = count_scores_information("negbin", y, x, off, beta, alpha)

    def ll(t):
        return nb2_loglik(y, np.exp(x @ t[:2] + off), t[2])

    t0, h = np.r_[beta, alpha], 1e-6
    numeric = [(ll(t0 + h * e) - ll(t0 - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(scores.sum(axis=0), numeric, rtol=1e-6)
    h = 1e-4  # second differences: larger step, rounding error ~ eps |ll| / h^2
    hess = np.array(
        [
            [
                (
                    ll(t0 + h * (a + b))
                    - ll(t0 + h * (a - b))
                    - ll(t0 - h * (a - b))
                    + ll(t0 - h * (a + b))
                )
                / (4 * h * h)
                for b in np.eye(3)
            ]
            for a in np.eye(3)
        ]
    )
    np.testing.assert_allclose(-info, hess, rtol=1e-4, atol=1e-4)


def test_negbin_on_underdispersed_data_stops_at_poisson_boundary():
    # Counts less variable than Poisson: the NB2 likelihood increases as alpha -> 0, so the ML
    # estimate is the Poisson fit.
    x = np.column_stack([np.ones(8), [0, 0, 0, 0, 1, 1, 1, 1]])
    y = np.array([2, 2, 3, 2, 1, 1, 1, 2], float)
    nb = fit_count_model("negbin", y, x, np.zeros(8))
    pois = fit_count_model("poisson", y, x, np.zeros(8))
    assert nb.converged and nb.alpha <= 1e-8
    np.testing.assert_allclose(nb.params, pois.params, atol=1e-6)
    # Poisson closed form: exp(b0) = mean of group 0 = 9/4, exp(b1) = (5/4) / (9/4).
    np.testing.assert_allclose(np.exp(pois.params), [9 / 4, 5 / 9], rtol=1e-10)


def test_bad_inputs_are_all_named():
    x = np.ones((3, 1))
    with pytest.raises(ValueError, match="non-negative whole numbers.*offset"):
        fit_count_model("poisson", np.array([1.0, -1.0, 0.5]), x, np.array([0.0, -np.inf, 0.0]))
    with pytest.raises(ValueError, match="unknown count model 'zip'"):
        fit_count_model("zip", np.ones(3), x, np.zeros(3))
    # No rows (e.g. no complete cases) used to raise IndexError deep in the fit.
    with pytest.raises(ValueError, match="no observations"):
        fit_count_model("poisson", np.empty(0), np.empty((0, 0)), np.empty(0))


@pytest.mark.slow
def test_wild_bootstrap_holds_its_size_with_ten_clusters():
    # Poisson counts with a strong care-home effect (SD 0.5 on the log scale), 5 homes per arm,
    # no arm effect (H0 true). 400 seeded replications: the wild cluster score bootstrap rejects
    # near 5% (binomial SD 1.1%), while the CR1 Wald test with normal quantiles over-rejects.
    rng = np.random.default_rng(11)
    homes = np.repeat(np.arange(10), 20)
    arm = (homes >= 5).astype(float)
    data = pd.DataFrame({"care_model": np.where(arm == 1, "a", "ref")})
    x, names = design_matrix(data, levels=["a", "ref"], reference="ref")
    wild, wald = [], []
    for _ in range(400):
        y = rng.poisson(np.exp(rng.normal(0, 0.5, 10))[homes]).astype(float)
        fit = fit_rate_model("poisson", y, x, np.zeros(200), homes, names)
        wald.append(stats.norm.sf(abs(fit.params[1]) / np.sqrt(fit.cov[1, 1])) * 2 < 0.05)
        r = fit_count_model("poisson", y, x[:, :1], np.zeros(200))
        s, info = count_scores_information("poisson", y, x, np.zeros(200), np.r_[r.params, 0.0])
        wild.append(wild_cluster_score_test(s, info, homes, 1, rng=rng, replicates=399)[1] < 0.05)
    assert 0.02 <= np.mean(wild) <= 0.08
    assert np.mean(wald) > np.mean(wild)
