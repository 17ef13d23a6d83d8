"""Cluster bootstrap of ratio estimators: against a naive implementation and closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from optimal_analysis.stats.bootstrap import (
    cluster_bootstrap_ratio,
    percentile_interval,
    resample_counts,
)


def test_resample_counts_rows_sum_to_clusters_and_match_the_draws():
    counts = resample_counts(7, 50, np.random.default_rng(3))
    assert counts.shape == (50, 7)
    assert (counts.sum(axis=1) == 7).all()
    draws = np.random.default_rng(3).integers(0, 7, size=(50, 7))
    for b in (0, 17, 49):
        np.testing.assert_array_equal(counts[b], np.bincount(draws[b], minlength=7))


def test_matches_naive_fancy_indexing_with_the_same_draws():
    rng = np.random.default_rng(11)
    y = rng.gamma(2.0, 100.0, size=(9, 3))
    t = rng.uniform(0.5, 5.0, size=9)
    fast = cluster_bootstrap_ratio(y, t, replicates=300, rng=np.random.default_rng(5),
                                   chunk_size=300)
    draws = np.random.default_rng(5).integers(0, 9, size=(300, 9))
    naive = y[draws].sum(axis=1) / t[draws].sum(axis=1)[:, None]
    np.testing.assert_allclose(fast, naive, rtol=1e-12)


def test_chunking_changes_nothing_but_the_draw_order_is_by_chunk():
    y = np.arange(1.0, 13.0).reshape(6, 2)
    t = np.linspace(1.0, 2.0, 6)
    one = cluster_bootstrap_ratio(y, t, replicates=100, rng=np.random.default_rng(1),
                                  chunk_size=100)
    again = cluster_bootstrap_ratio(y, t, replicates=100, rng=np.random.default_rng(1),
                                    chunk_size=100)
    np.testing.assert_array_equal(one, again)
    seen = []
    cluster_bootstrap_ratio(y, t, replicates=250, rng=np.random.default_rng(1), chunk_size=100,
                            progress=seen.append)
    assert seen == [100, 200, 250]


def test_identical_clusters_give_a_degenerate_distribution():
    # every cluster has ratio 2: every replicate's total over total is 2 exactly
    y = np.array([2.0, 4.0, 6.0])
    t = np.array([1.0, 2.0, 3.0])
    reps = cluster_bootstrap_ratio(y, t, replicates=50, rng=np.random.default_rng(0))
    np.testing.assert_allclose(reps, 2.0, rtol=1e-14)


def test_bootstrap_variance_of_a_mean_matches_the_closed_form():
    # equal denominators: the ratio is the mean of H cluster values, whose bootstrap
    # variance is (1/H) * (1/H) * sum (y_h - ybar)^2 (the plug-in variance over H)
    rng = np.random.default_rng(2)
    y = rng.normal(10.0, 3.0, size=40)
    reps = cluster_bootstrap_ratio(y, np.ones(40), replicates=20000,
                                   rng=np.random.default_rng(9))[:, 0]
    expected = np.mean((y - y.mean()) ** 2) / 40
    assert reps.var() == pytest.approx(expected, rel=0.05)
    assert reps.mean() == pytest.approx(y.mean(), abs=4 * np.sqrt(expected / 20000))


def test_percentile_interval_is_numpy_quantile_and_ignores_nan():
    r = np.column_stack([np.arange(101.0), np.r_[np.arange(100.0), np.nan]])
    low, high = percentile_interval(r)
    np.testing.assert_allclose(low, [2.5, np.quantile(np.arange(100.0), 0.025)])
    np.testing.assert_allclose(high, [97.5, np.quantile(np.arange(100.0), 0.975)])
    low0, high0 = percentile_interval(np.empty((0, 2)))
    assert np.isnan(low0).all() and np.isnan(high0).all()


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match="clusters"):
        cluster_bootstrap_ratio(np.ones((3, 2)), np.ones(4), replicates=5,
                                rng=np.random.default_rng(0))


def test_few_clusters_the_bootstrap_variance_is_too_small_by_h_minus_1_over_h():
    # Why intervals from 4 care homes are too narrow (docs/unit_costs.md). Equal
    # person-years, y = [1, 2, 3, 6]: mean 3, squared deviations 4 + 1 + 0 + 9 = 14.
    # Exact bootstrap variance of the mean over all 4^4 = 256 equally likely draws is
    # the plug-in variance / H = (14 / 4) / 4 = 0.875, but the unbiased s^2 / H =
    # (14 / 3) / 4 = 1.1667: a ratio of (H - 1) / H = 0.75 (SE x 0.866).
    import itertools

    y = np.array([1.0, 2.0, 3.0, 6.0])
    draws = np.array(list(itertools.product(range(4), repeat=4)))
    exact = y[draws].mean(axis=1).var()
    assert exact == pytest.approx(0.875, rel=1e-14)
    assert exact / (y.var(ddof=1) / 4) == pytest.approx(0.75, rel=1e-14)
    # and the replicates of cluster_bootstrap_ratio have that variance (Monte Carlo:
    # the sd of a sample variance from B draws is about var * sqrt(2 / B) ~ 1.4% at B = 1e4)
    reps = cluster_bootstrap_ratio(y, np.ones(4), replicates=10000,
                                   rng=np.random.default_rng(4))[:, 0]
    assert reps.var() == pytest.approx(0.875, rel=0.06)
