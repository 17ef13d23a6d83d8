"""Exact (Garwood) Poisson limits against closed forms and published table values."""

import math

import numpy as np
import pytest
from scipy import stats

from optimal_analysis.stats.poisson import exact_poisson_ci, exact_poisson_rate_ci


def test_zero_events_closed_form():
    # k = 0: lower is 0; upper solves P(X = 0 | mu) = exp(-mu) = 0.025, mu = -ln(0.025).
    low, high = exact_poisson_ci([0])
    assert low[0] == 0.0
    assert high[0] == pytest.approx(-math.log(0.025), rel=1e-12)  # 3.688879...


def test_one_event_closed_form():
    # k = 1: lower solves P(X >= 1) = 1 - exp(-mu) = 0.025, mu = -ln(0.975) = 0.025318;
    # upper solves P(X <= 1) = exp(-mu)(1 + mu) = 0.025.
    low, high = exact_poisson_ci([1])
    assert low[0] == pytest.approx(-math.log(0.975), rel=1e-12)
    assert math.exp(-high[0]) * (1 + high[0]) == pytest.approx(0.025, rel=1e-10)


def test_published_table_values():
    # Garwood limits as tabulated (e.g. Ulm 1990, Am J Epidemiol 131:373; Breslow & Day vol II
    # table): k=1: 0.0253, 5.5716; k=5: 1.6235, 11.6683; k=10: 4.7954, 18.3904.
    low, high = exact_poisson_ci([1, 5, 10])
    np.testing.assert_allclose(low, [0.0253, 1.6235, 4.7954], atol=6e-5)
    np.testing.assert_allclose(high, [5.5716, 11.6683, 18.3904], atol=6e-5)


@pytest.mark.parametrize("k", [1, 3, 20, 250])
def test_limits_are_where_tail_probabilities_equal_alpha_over_two(k):
    low, high = exact_poisson_ci([k], alpha=0.1)
    assert stats.poisson.sf(k - 1, low[0]) == pytest.approx(0.05, rel=1e-9)  # P(X >= k | L)
    assert stats.poisson.cdf(k, high[0]) == pytest.approx(0.05, rel=1e-9)  # P(X <= k | U)


def test_rate_divides_by_person_time():
    # 5 events in 2.5 person-years: rate 2.0, limits 1.6235/2.5 and 11.6683/2.5.
    rate, low, high = exact_poisson_rate_ci([5], [2.5])
    assert rate[0] == 2.0
    np.testing.assert_allclose([low[0], high[0]], [1.6235 / 2.5, 11.6683 / 2.5], atol=3e-5)


@pytest.mark.parametrize("bad", [[-1], [1.5], [np.nan]])
def test_bad_counts_raise(bad):
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        exact_poisson_ci(bad)


def test_bad_person_time_raises():
    with pytest.raises(ValueError, match="person_years must be positive"):
        exact_poisson_rate_ci([1, 2], [1.0, 0.0])
