"""Ratio intervals over clusters: bootstrap against a naive implementation and closed forms;
the small-sample t interval by hand and by simulated coverage."""

from __future__ import annotations

import numpy as np
import pytest

from optimal_analysis.stats.bootstrap import (
    cluster_bootstrap_ratio,
    percentile_interval,
    ratio_t_interval,
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


T3 = 3.1824463052837078  # t quantile, 0.975, 3 df (scipy.stats.t.ppf(0.975, 3))


def test_ratio_t_interval_by_hand():
    # 4 homes, cost C = 1000, 3000, 2000, 6000 over person-years PY = 1, 2, 2, 3:
    #   R = 12000 / 8 = 1500
    #   z_g = (C_g - 1500 PY_g) / 8 = -500/8, 0, -1000/8, 1500/8 = -62.5, 0, -125, 187.5
    #   sum z^2 = 3906.25 + 0 + 15625 + 35156.25 = 54687.5
    #   Var = 4/3 * 54687.5 = 218750/3, se = sqrt(218750/3) = 270.0308624...
    #   linear: 1500 -+ t(3) se;  log: 1500 exp(-+t(3) se / 1500)
    # second column (costs 0 everywhere): R = 0, se = 0, log interval [0, 0]
    c = np.array([[1000.0, 0.0], [3000.0, 0.0], [2000.0, 0.0], [6000.0, 0.0]])
    py = np.array([1.0, 2.0, 2.0, 3.0])
    se_hand = np.sqrt(218750 / 3)
    se, lo, hi, df = ratio_t_interval(c, py)
    assert df == 3
    np.testing.assert_allclose(se, [se_hand, 0.0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(lo, [1500 - T3 * se_hand, 0.0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(hi, [1500 + T3 * se_hand, 0.0], rtol=1e-12, atol=0)
    _, lo, hi, _ = ratio_t_interval(c, py, log_scale=True)
    np.testing.assert_allclose(lo, [1500 * np.exp(-T3 * se_hand / 1500), 0.0], rtol=1e-12)
    np.testing.assert_allclose(hi, [1500 * np.exp(T3 * se_hand / 1500), 0.0], rtol=1e-12)
    # one cluster: nothing to estimate between clusters
    se, lo, hi, df = ratio_t_interval(c[:1], py[:1])
    assert np.isnan(se).all() and np.isnan(lo).all() and np.isnan(hi).all() and np.isnan(df)


def _skewed_homes(g: int, rng: np.random.Generator, sims: int, mean: float = 2000.0):
    """``sims`` care models of ``g`` homes: per-home person-years and costs whose rate is
    log-normal (log-SD 0.8, mean ``mean`` GBP per resident-year) times gamma noise (mean 1)."""
    py = rng.uniform(0.3, 1.0, size=(sims, g, 25)).sum(axis=2) * rng.uniform(0.4, 1.6, (sims, g))
    rate = mean * np.exp(rng.normal(-0.32, 0.8, size=(sims, g)))
    return rate * py * rng.gamma(4.0, 0.25, size=(sims, g)), py


@pytest.mark.parametrize(("homes", "min_gain"), [(5, 0.10), (12, 0.04)])
def test_small_sample_interval_covers_better_than_percentile_bootstrap(homes, min_gain):
    """Seeded simulation, skewed home-level costs with a known mean cost per resident-year.

    Measured (1200 care models each): 5 homes, percentile 0.73, t(G-1) log 0.89;
    12 homes, percentile 0.82, t(G-1) log 0.89 (MC SE ~0.012; paired, so the gain is
    far more precise). Also the log scale covers better than the linear t interval.
    """
    rng = np.random.default_rng(20261128 + homes)
    sims, mean = 1200, 2000.0
    cost, py = _skewed_homes(homes, rng, sims, mean)
    boot = t_lin = t_log = 0
    for c, t in zip(cost, py, strict=True):
        lo, hi = percentile_interval(cluster_bootstrap_ratio(c, t, replicates=499, rng=rng))
        boot += lo[0] <= mean <= hi[0]
        _, lo, hi, _ = ratio_t_interval(c, t)
        t_lin += lo[0] <= mean <= hi[0]
        _, lo, hi, _ = ratio_t_interval(c, t, log_scale=True)
        t_log += lo[0] <= mean <= hi[0]
    cover = {"percentile": boot / sims, "t_linear": t_lin / sims, "t_log": t_log / sims}
    print(homes, cover)
    assert cover["t_log"] >= cover["percentile"] + min_gain
    assert cover["t_log"] > cover["t_linear"]
    assert cover["t_log"] < 0.97  # better, not by intervals so wide they always cover
