"""Exact binomial (Clopper–Pearson) interval: R reference, closed forms, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.stats.binomial import clopper_pearson

REF = Path(__file__).resolve().parent / "reference" / "binomial" / "binom_test.csv"


def test_matches_r_binom_test():
    ref = pd.read_csv(REF)
    for level, rows in ref.groupby("level"):
        share, lo, hi = clopper_pearson(
            rows["x"].to_numpy(), rows["n"].to_numpy(), level=float(level)
        )
        np.testing.assert_allclose(share, rows["x"] / rows["n"], rtol=0, atol=0)
        np.testing.assert_allclose(lo, rows["conf_low"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(hi, rows["conf_high"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n", [1, 4, 10, 57])
def test_closed_forms_at_the_edges(n):
    # x = 0: upper = 1 - (alpha/2)^(1/n); x = n: lower = (alpha/2)^(1/n)
    _, lo0, hi0 = clopper_pearson(0, n)
    _, lon, hin = clopper_pearson(n, n)
    assert lo0 == 0.0 and hin == 1.0
    assert hi0 == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-12)
    assert lon == pytest.approx(0.025 ** (1 / n), rel=1e-12)


def test_one_of_two_by_hand():
    # x=1, n=2: lower solves P(X>=1) = 1-(1-p)^2 = 0.025 -> p = 1 - sqrt(0.975);
    # upper solves P(X<=1) = 1-p^2 = 0.025 -> p = sqrt(0.975)
    share, lo, hi = clopper_pearson(1, 2)
    assert share == 0.5
    assert lo == pytest.approx(1 - np.sqrt(0.975), rel=1e-12)
    assert hi == pytest.approx(np.sqrt(0.975), rel=1e-12)


def test_zero_trials_is_nan_and_shapes_broadcast():
    share, lo, hi = clopper_pearson(np.array([0, 3]), np.array([0, 9]))
    assert np.isnan(share[0]) and np.isnan(lo[0]) and np.isnan(hi[0])
    assert share[1] == pytest.approx(1 / 3)


@pytest.mark.parametrize(("x", "n"), [(-1, 3), (4, 3), (1.5, 3), (1, -2)])
def test_bad_counts_raise(x, n):
    with pytest.raises(ValueError):
        clopper_pearson(x, n)


def test_bad_level_raises():
    with pytest.raises(ValueError, match="level"):
        clopper_pearson(1, 3, level=1.0)
