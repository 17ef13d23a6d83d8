"""Propensity scores, weights, balance, E-values, REML meta-analysis: closed forms, identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.stats.aalen_johansen import aalen_johansen
from optimal_analysis.stats.cluster import cr1_covariance
from optimal_analysis.stats.cox import fit_fine_gray
from optimal_analysis.stats.evalue import e_value, e_value_ci, hr_to_rr
from optimal_analysis.stats.glm import fit_count_model
from optimal_analysis.stats.meta import rma_reml
from optimal_analysis.stats.multinom import fit_multinom, multinom_probabilities
from optimal_analysis.stats.weighted_count import (
    fit_weighted_count,
    weighted_count_scores_information,
)
from optimal_analysis.stats.weighted_survival import (
    fit_fine_gray_weighted,
    weighted_aalen_johansen,
)
from optimal_analysis.stats.weights import (
    effective_sample_size,
    ipw_weights,
    overlap_weights,
    weighted_balance,
)


def _covariates(rng: np.random.Generator, n: int) -> np.ndarray:
    age = rng.normal(85, 7, n)
    male = rng.random(n) < 0.3
    dementia = rng.random(n) < 0.7
    barthel = rng.integers(0, 21, n)
    return np.column_stack([age, male, dementia, barthel]).astype(float)


def _assign(rng: np.random.Generator, cov: np.ndarray, n_classes: int) -> np.ndarray:
    """Care model drawn from a multinomial logit in the covariates."""
    slopes = np.array([[0.06, -0.5, 0.8, -0.05], [0.03, 0.3, 0.4, 0.04]])[: n_classes - 1]
    centred = cov - cov.mean(axis=0)
    eta = np.column_stack([np.zeros(len(cov)), centred @ slopes.T])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    return (rng.random(len(cov))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)


def test_saturated_multinom_reproduces_cell_proportions():
    """One binary covariate: the MLE probabilities are the observed class shares in each cell."""
    z = np.array([0, 0, 1, 2, 2, 2, 0, 1, 1, 1, 2, 0])
    g = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    fit = fit_multinom(z, np.column_stack([np.ones(12), g]))
    ps = multinom_probabilities(np.array([[1.0, 0.0], [1.0, 1.0]]), fit.coef)
    np.testing.assert_allclose(ps, [[2 / 6, 1 / 6, 3 / 6], [2 / 6, 3 / 6, 1 / 6]], atol=1e-12)
    # log odds by hand: class 1 vs 0 in cell 0 is log(1/2), difference between cells log(3/1 * 2/2)
    np.testing.assert_allclose(fit.coef[:, 0], [np.log(0.5), np.log(3.0)], atol=1e-12)
    assert fit.converged


def test_case_weights_equal_duplicated_rows():
    rng = np.random.default_rng(3)
    cov = _covariates(rng, 300)
    z = _assign(rng, cov, 3)
    x = np.column_stack([np.ones(300), cov])
    w = rng.integers(1, 4, 300)
    a = fit_multinom(z, x, weight=w)
    b = fit_multinom(np.repeat(z, w), np.repeat(x, w, axis=0))
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-10)
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-8)


def test_two_groups_overlap_weights_balance_means_exactly():
    """K = 2: overlap weight = 1 - e (treated), e (control); the logistic score equations
    make every covariate's weighted mean equal in the two groups."""
    rng = np.random.default_rng(11)
    cov = _covariates(rng, 5000)
    z = _assign(rng, cov, 2)
    x = np.column_stack([np.ones(len(z)), cov])
    ps = multinom_probabilities(x, fit_multinom(z, x).coef)
    w = overlap_weights(ps, z)
    np.testing.assert_allclose(w, np.where(z == 1, ps[:, 0], ps[:, 1]), rtol=1e-12)
    bal = weighted_balance(cov, z, w, n_classes=2, binary=[False, True, True, False])
    diff = bal["mean_weighted"][1] - bal["mean_weighted"][0]
    assert np.max(np.abs(diff)) < 1e-10
    assert np.max(np.abs(bal["smd_weighted"][1])) < 1e-10
    assert np.max(np.abs(bal["smd_crude"][1])) > 0.2  # there was imbalance to remove


def test_three_groups_overlap_weights_balance_closely_but_not_exactly():
    rng = np.random.default_rng(12)
    cov = _covariates(rng, 5000)
    z = _assign(rng, cov, 3)
    x = np.column_stack([np.ones(len(z)), cov])
    ps = multinom_probabilities(x, fit_multinom(z, x).coef)
    bal = weighted_balance(cov, z, overlap_weights(ps, z), n_classes=3,
                           binary=[False, True, True, False])
    worst = np.max(np.abs(bal["smd_weighted"][1:]))
    assert 1e-6 < worst < 0.1  # not the exact identity of two groups, yet small
    assert np.max(np.abs(bal["smd_crude"][1:])) > 0.2


def test_ipw_stabilised_trimmed_and_ess_by_hand():
    ps = np.array([[0.5, 0.3, 0.2], [0.02, 0.49, 0.49], [0.2, 0.2, 0.6], [0.25, 0.5, 0.25]])
    z = np.array([0, 1, 2, 1])
    np.testing.assert_allclose(ipw_weights(ps, z), [2, 1 / 0.49, 1 / 0.6, 2])
    # trimming at 0.05 drops resident 2 (min ps 0.02); stabilising shares 1/3, 1/3, 1/3 of kept
    np.testing.assert_allclose(
        ipw_weights(ps, z, stabilise=True, trim=0.05), [2 / 3, 0, 1 / 1.8, 2 / 3]
    )
    np.testing.assert_allclose(ipw_weights(ps, z, stabilise=True), [0.5, 0.5 / 0.49, 0.25 / 0.6, 1])
    # overlap: (1/e_own) / sum 1/e
    h = 1 / (1 / ps).sum(axis=1)
    np.testing.assert_allclose(overlap_weights(ps, z), h / ps[np.arange(4), z])
    np.testing.assert_allclose(
        effective_sample_size([1, 1, 2, 3], [0, 0, 0, 1], 3), [16 / 6, 1, 0]
    )
    with pytest.raises(ValueError):
        ipw_weights(ps, z, trim=0.5)


def test_e_values_by_hand():
    """VanderWeele & Ding (2017): RR 3.9 (1.8 to 8.7) gives E-values 7.26 and 3.0."""
    assert e_value(3.9) == pytest.approx(3.9 + np.sqrt(3.9 * 2.9))
    assert float(e_value(3.9)) == pytest.approx(7.26, abs=0.005)
    assert float(e_value_ci(3.9, 1.8, 8.7)) == pytest.approx(3.0, abs=1e-12)
    # protective: the same as its inverse, CI limit nearer 1 is the upper
    assert float(e_value(1 / 3.9)) == pytest.approx(float(e_value(3.9)))
    assert float(e_value_ci(1 / 3.9, 1 / 8.7, 1 / 1.8)) == pytest.approx(3.0)
    assert float(e_value_ci(0.8, 0.6, 1.1)) == 1.0
    assert float(e_value(1.0)) == 1.0
    assert np.isnan(e_value(np.nan)) and np.isnan(e_value_ci(0.8, np.nan, 1.1))
    # common-outcome hazard ratio: HR 2 -> (1 - 0.5^1.41421) / (1 - 0.5^0.70711) = 0.62479/0.38746
    assert float(hr_to_rr(2.0)) == pytest.approx(0.624786 / 0.387456, rel=1e-5)
    assert float(hr_to_rr(0.5)) == pytest.approx(1 / float(hr_to_rr(2.0)))


def test_reml_with_equal_variances_is_closed_form():
    """Equal v: REML tau2 = max(0, S^2 - v), S^2 the sample variance; I2 with s2 = v."""
    y = np.array([0.1, -0.3, 0.5, 0.2, -0.1, 0.6])
    v = 0.02
    res = rma_reml(y, np.full(6, np.sqrt(v)))
    s2 = y.var(ddof=1)
    assert res.tau2 == pytest.approx(s2 - v, abs=1e-12)
    assert res.estimate == pytest.approx(y.mean(), abs=1e-12)
    assert res.std_error == pytest.approx(np.sqrt(s2 / 6), abs=1e-12)
    assert res.i2 == pytest.approx(100 * (s2 - v) / s2, abs=1e-9)
    assert res.q == pytest.approx(5 * s2 / v, abs=1e-9)
    half = 1.959963984540054 * np.sqrt(s2 / 6 + s2 - v)
    assert (res.pi_low, res.pi_high) == pytest.approx((y.mean() - half, y.mean() + half))
    # homogeneous: S^2 < v, tau2 at the boundary 0 and the PI is the CI
    homog = rma_reml(y / 10, np.full(6, np.sqrt(v)))
    assert homog.tau2 == pytest.approx(0.0, abs=1e-10)
    assert homog.pi_low == pytest.approx(homog.conf_low, abs=1e-8)
    with pytest.raises(ValueError):
        rma_reml([0.1], [0.2])


@pytest.mark.parametrize("model", ["poisson", "negbin"])
def test_weighted_count_models_unit_and_integer_weights(model):
    rng = np.random.default_rng(5)
    n = 400
    x = np.column_stack([np.ones(n), rng.random(n) < 0.5, rng.normal(0, 1, n)])
    off = np.log(rng.uniform(0.2, 1, n))
    y = rng.poisson(np.exp(0.2 + 0.3 * x[:, 1] + 0.2 * x[:, 2] + off) * rng.gamma(2, 0.5, n))
    ones = fit_weighted_count(model, y, x, off, np.ones(n), tol=1e-12)
    plain = fit_count_model(model, y, x, off, tol=1e-12)
    np.testing.assert_allclose(ones.params, plain.params, atol=1e-9)
    w = rng.integers(1, 4, n)
    a = fit_weighted_count(model, y, x, off, w, tol=1e-12)
    b = fit_count_model(model, np.repeat(y, w), np.repeat(x, w, axis=0), np.repeat(off, w),
                        tol=1e-12)
    np.testing.assert_allclose(a.params, b.params, atol=1e-9)
    if model == "negbin":
        assert a.alpha == pytest.approx(b.alpha, rel=1e-8)
    # same clusters for the copies: the cluster score sums, hence the sandwich meat, agree
    home = rng.integers(0, 20, n)
    sa, ia = weighted_count_scores_information(model, y, x, off, w, a.params, a.alpha)
    sb, ib = weighted_count_scores_information(
        model, np.repeat(y, w), np.repeat(x, w, axis=0), np.repeat(off, w), np.ones(w.sum()),
        b.params, b.alpha)
    va = cr1_covariance(sa, np.linalg.inv(ia), home) / ((n - 1) / (n - 3))
    vb = cr1_covariance(sb, np.linalg.inv(ib), np.repeat(home, w)) / ((w.sum() - 1) / (w.sum() - 3))
    np.testing.assert_allclose(va, vb, rtol=1e-7)


def test_weighted_aalen_johansen_and_fine_gray_identities():
    rng = np.random.default_rng(8)
    n = 300
    time = rng.integers(1, 60, n).astype(float)
    status = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])
    home = rng.integers(0, 15, n)
    ones = weighted_aalen_johansen(time, status, np.ones(n), cluster=home)
    plain = aalen_johansen(time, status, cluster=home)
    np.testing.assert_allclose(ones["estimate"], plain["estimate"], atol=1e-14)
    np.testing.assert_allclose(ones["std_error"], plain["std_error"], atol=1e-14)
    # integer weights = copies in the same home: estimate and clustered IJ agree
    w = rng.integers(1, 4, n)
    a = weighted_aalen_johansen(time, status, w.astype(float), cluster=home)
    b = aalen_johansen(np.repeat(time, w), np.repeat(status, w), cluster=np.repeat(home, w))
    np.testing.assert_allclose(a["estimate"], b["estimate"], atol=1e-14)
    np.testing.assert_allclose(a["std_error"], b["std_error"], atol=1e-14)
    x = (rng.random(n) < 0.5).astype(float)[:, None]
    fg1 = fit_fine_gray_weighted(time, status, x, np.ones(n), cluster=home)
    fg0 = fit_fine_gray(time, status, x, cluster=home)
    np.testing.assert_allclose(fg1.coef, fg0.coef, atol=1e-12)
    np.testing.assert_allclose(fg1.robust_cov, fg0.robust_cov, atol=1e-14)
    region = home % 3  # censoring distribution within region, as the survival stage
    fg1 = fit_fine_gray_weighted(time, status, x, np.ones(n), cluster=home, censoring_group=region)
    fg0 = fit_fine_gray(time, status, x, cluster=home, censoring_group=region)
    np.testing.assert_allclose(fg1.coef, fg0.coef, atol=1e-12)
    assert abs(fg1.coef[0] - fit_fine_gray(time, status, x).coef[0]) > 1e-6  # G matters


def test_weighted_balance_reference_row_and_constant_column():
    x = np.column_stack([[1.0, 2, 3, 4, 5, 6], [1.0, 1, 1, 1, 1, 1]])
    z = np.array([0, 0, 0, 1, 1, 1])
    bal = weighted_balance(x, z, np.ones(6), n_classes=2, binary=[False, True])
    # (5 - 2) / sqrt((1 + 1) / 2) = 3; a constant binary column has no SMD
    assert bal["smd_crude"][1, 0] == pytest.approx(3.0)
    assert bal["smd_crude"][0, 0] == 0.0
    assert np.isnan(bal["smd_crude"][1, 1])
    frame = pd.DataFrame(bal["mean_crude"])
    assert frame.shape == (2, 2)


def test_multinom_flags_separation():
    """A covariate never seen in class 0: its coefficients diverge; flagged, not an error."""
    z = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1, 2])
    g = np.array([0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1])  # g = 1 only in classes 1 and 2
    fit = fit_multinom(z, np.column_stack([np.ones(12), g]))
    assert not fit.converged
    assert fit.infinite[1].all() and not fit.infinite[0].any()
    ps = multinom_probabilities(np.array([[1.0, 1.0]]), fit.coef)
    assert ps[0, 0] < 1e-10
    w = overlap_weights(multinom_probabilities(np.column_stack([np.ones(12), g]), fit.coef), z)
    assert np.all(w[g == 1] < 1e-9) and np.all(w[g == 0] > 0.1)
