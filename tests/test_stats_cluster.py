"""CR1 sandwich and the wild cluster score bootstrap: hand-computed fixtures and properties."""

import numpy as np
import pytest

from optimal_analysis.stats.cluster import (
    cluster_sums,
    cr1_covariance,
    webb_weights,
    wild_cluster_score_test,
)


def test_cluster_sums_hand():
    # clusters 0: rows 0, 2 -> (1 + 3, 10 + 30); cluster 1: rows 1, 3 -> (2 + 4, 20 + 40)
    s = np.array([[1, 10], [2, 20], [3, 30], [4, 40]], float)
    np.testing.assert_array_equal(cluster_sums(s, [0, 1, 0, 1]), [[4, 40], [6, 60]])


def test_cr1_hand_computed():
    # One parameter, N = 5, K = 1, G = 3 clusters; scores 1, -1, 2, 0.5, -2.5
    # cluster sums: g0 = 1 + -1 = 0, g1 = 2 + 0.5 = 2.5, g2 = -2.5; meat = 0 + 6.25 + 6.25 = 12.5
    # bread 0.2 -> 0.2 * 12.5 * 0.2 = 0.5; factor G/(G-1) (N-1)/(N-K) = 1.5 * 4/4 = 1.5 -> 0.75
    v = cr1_covariance(np.array([[1.0], [-1.0], [2.0], [0.5], [-2.5]]), [[0.2]], [0, 0, 1, 1, 2])
    assert v[0, 0] == pytest.approx(0.75, rel=1e-14)


def test_cr1_matches_ols_cluster_formula():
    # For OLS the scores are x_i e_i and the bread (X'X)^-1: the textbook CR1 of Cameron & Miller.
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(60), rng.normal(size=60)])
    g = np.repeat(np.arange(6), 10)
    y = x @ [1.0, 2.0] + rng.normal(size=60) + rng.normal(size=6)[g]
    bread = np.linalg.inv(x.T @ x)
    e = y - x @ (bread @ x.T @ y)
    meat = sum(np.outer(x[g == c].T @ e[g == c], x[g == c].T @ e[g == c]) for c in range(6))
    expected = 6 / 5 * 59 / 58 * bread @ meat @ bread
    np.testing.assert_allclose(cr1_covariance(x * e[:, None], bread, g), expected, rtol=1e-12)


def test_cr1_needs_two_clusters():
    with pytest.raises(ValueError, match="at least two clusters"):
        cr1_covariance(np.ones((3, 1)), [[1.0]], [0, 0, 0])


def test_webb_weights_six_points_mean_zero_variance_one():
    w = webb_weights(np.random.default_rng(1), (200_000, 1))
    assert set(np.round(np.unique(w) ** 2, 12)) == {0.5, 1.0, 1.5}
    assert abs(w.mean()) < 0.01 and abs(w.var() - 1) < 0.01


def test_score_statistic_hand_computed_and_seeded():
    # Two parameters with diagonal information: nothing to partial out, s~_g = s_g,0.
    # Cluster sums of column 0: 3, 1, -1, 2 -> t = 5 / sqrt(9 + 1 + 1 + 4) = 5 / sqrt(15).
    scores = np.array([[3.0, 1.0], [1.0, -1.0], [-1.0, 0.0], [2.0, 0.0]])
    info = np.diag([2.0, 3.0])
    t, p = wild_cluster_score_test(
        scores, info, [0, 1, 2, 3], 0, rng=np.random.default_rng(5), replicates=999
    )
    assert t == pytest.approx(5 / np.sqrt(15), rel=1e-14)
    # Exact bootstrap p-value by enumerating all 6^4 Webb weight vectors; the 999-replicate
    # estimate (1 + #exceed) / 1000 must be within 4 Monte Carlo SEs of it.
    values = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
    w = np.array(np.meshgrid(*[values] * 4, indexing="ij")).reshape(4, -1).T
    tilde = np.array([3.0, 1.0, -1.0, 2.0])
    boot = (w @ tilde) / np.sqrt((w**2) @ (tilde**2))
    exact = np.mean(np.abs(boot) >= abs(t) * (1 - 1e-12))
    assert 0.01 < exact < 0.5
    assert abs(p - exact) < 4 * np.sqrt(exact * (1 - exact) / 999) + 1 / 1000
    assert (
        p
        == wild_cluster_score_test(
            scores, info, [0, 1, 2, 3], 0, rng=np.random.default_rng(5), replicates=999
        )[1]
    )


def test_score_partials_out_nuisance():
    # Information [[2, 1], [1, 4]]: s~ = s0 - (1/4) s1. Sums: (4 - 1, 0 - 2, -2 - 0) / ... hand:
    # cluster sums (s0, s1) = (4, 4), (0, 8), (-2, 0) -> s~ = 3, -2, -2; t = -1 / sqrt(17).
    scores = np.array([[4.0, 4.0], [0.0, 8.0], [-2.0, 0.0]])
    t, _ = wild_cluster_score_test(
        scores, [[2.0, 1.0], [1.0, 4.0]], [0, 1, 2], 0, rng=np.random.default_rng(0), replicates=9
    )
    assert t == pytest.approx(-1 / np.sqrt(17), rel=1e-14)
