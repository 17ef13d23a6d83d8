"""Poisson with absorbed home effects: against statsmodels GLM with dummies; error paths."""

import numpy as np
import pytest
import statsmodels.api as sm

from optimal_analysis.stats.fepois import FEPoissonError, fit_fepois


def _panel(seed=1, n_homes=25, n_months=8):
    rng = np.random.default_rng(seed)
    home = np.repeat(np.arange(n_homes), n_months)
    month = np.tile(np.arange(n_months), n_homes)
    t = rng.uniform(1, 3, home.size)
    x = rng.normal(size=(home.size, 2))
    mu = t * np.exp(rng.normal(size=n_homes)[home] + 0.1 * month + x @ [0.3, -0.2])
    return rng.poisson(mu), t, x, home, month


def _dummies(codes, drop_first):
    levels = np.unique(codes)[1:] if drop_first else np.unique(codes)
    return (codes[:, None] == levels[None, :]).astype(float)


def test_matches_glm_with_dummies_and_cluster_sandwich():
    y, t, x, home, month = _panel()
    fit = fit_fepois(y, np.log(t), x, ["a", "b"], absorb=home, month=month, cluster=home)
    design = np.column_stack([x, _dummies(month, True), _dummies(home, False)])
    glm = sm.GLM(y, design, family=sm.families.Poisson(), offset=np.log(t)).fit(
        tol=1e-13, cov_type="cluster", cov_kwds={"groups": home, "use_correction": False})
    k = 2 + 7
    np.testing.assert_allclose(fit.coef, glm.params[:k], atol=1e-8)
    g = 25
    np.testing.assert_allclose(fit.vcov, glm.cov_params()[:k, :k] * g / (g - 1), rtol=1e-7)
    assert fit.loglik == pytest.approx(glm.llf, rel=1e-10)
    assert fit.terms[:3] == ["a", "b", "month[1]"]
    assert fit.n_groups == 25 and fit.n_clusters == 25 and fit.converged


def test_groups_not_nested_in_clusters_use_the_full_sandwich():
    # one absorbed intercept, clusters = homes: the intercept's scores do not vanish per cluster
    y, t, x, home, month = _panel(2)
    fit = fit_fepois(y, np.log(t), x, ["a", "b"], absorb=np.zeros(y.size), month=month,
                     cluster=home)
    design = np.column_stack([x, _dummies(month, True), np.ones(y.size)])
    glm = sm.GLM(y, design, family=sm.families.Poisson(), offset=np.log(t)).fit(
        tol=1e-13, cov_type="cluster", cov_kwds={"groups": home, "use_correction": False})
    np.testing.assert_allclose(fit.coef, glm.params[:9], atol=1e-8)
    np.testing.assert_allclose(fit.std_error(), np.sqrt(np.diag(glm.cov_params())[:9] * 25 / 24),
                               rtol=1e-7)


def test_homes_without_events_are_dropped_and_row_order_is_irrelevant():
    y, t, x, home, month = _panel(3)
    y = y.copy()
    y[home == 4] = 0
    fit = fit_fepois(y, np.log(t), x, ["a", "b"], absorb=home, month=month, cluster=home)
    keep = home != 4
    ref = fit_fepois(y[keep], np.log(t[keep]), x[keep], ["a", "b"], absorb=home[keep],
                     month=month[keep], cluster=home[keep])
    np.testing.assert_allclose(fit.coef, ref.coef, atol=1e-12)
    np.testing.assert_allclose(fit.vcov, ref.vcov, rtol=1e-10)
    assert fit.used.sum() == keep.sum() and fit.n_groups == 24
    p = np.random.default_rng(0).permutation(y.size)
    shuffled = fit_fepois(y[p], np.log(t[p]), x[p], ["a", "b"], absorb=home[p], month=month[p],
                          cluster=home[p])
    np.testing.assert_allclose(shuffled.coef, fit.coef, atol=1e-10)


def test_single_regressor_closed_form():
    # Two homes, two periods, home effects only, after indicator in home 0 only: the MLE is the
    # ratio of home 0's rates, log((y01/t01)/(y00/t00)) = log((12/2)/(6/3)) = log 3.
    y = np.array([6, 12, 5, 7])
    t = np.array([3.0, 2.0, 1.0, 1.0])
    after = np.array([[0.0], [1.0], [0.0], [0.0]])
    fit = fit_fepois(y, np.log(t), after, ["after"], absorb=[0, 0, 1, 1], cluster=[0, 0, 1, 1])
    assert fit.coef[0] == pytest.approx(np.log(3.0), abs=1e-12)


def test_errors_name_the_problem():
    y, t, x, home, month = _panel(4)
    aliased = np.column_stack([x, (home == 3).astype(float)])  # constant within a home
    with pytest.raises(FEPoissonError, match=r"not identified.*'h3'"):
        fit_fepois(y, np.log(t), aliased, ["a", "b", "h3"], absorb=home, month=month,
                   cluster=home)
    with pytest.raises(FEPoissonError, match="non-negative"):
        fit_fepois(-y, np.log(t), x, ["a", "b"], absorb=home, cluster=home)
    with pytest.raises(FEPoissonError, match="two clusters"):
        fit_fepois(y, np.log(t), x, ["a", "b"], absorb=home, cluster=np.zeros(y.size))
