"""Tidy conversion of estimates: hand-computed Wald limits."""

import numpy as np
import pytest

from optimal_analysis.tidy import TIDY_COLUMNS, tidy_coefficients, wald_inference


def test_exponentiated_wald_limits_hand():
    # log RR 0.5, se 0.1: limits exp(0.5 -/+ 1.959964 * 0.1) = exp(0.3040036), exp(0.6959964)
    # = 1.349859 * 1.004012 = 1.355274 and 2.013753 * 0.996004 = 2.005707; z = 5, p = 5.733e-7
    out = tidy_coefficients([0.5, 0.0], np.diag([0.01, 0.04]), ["a", "b"], exponentiate=True)
    assert list(out.columns) == TIDY_COLUMNS
    row = out.iloc[0]
    assert row["estimate"] == pytest.approx(np.exp(0.5))
    assert row["std_error"] == pytest.approx(0.1)
    assert (row["conf_low"], row["conf_high"]) == pytest.approx((1.355274, 2.005707), rel=1e-6)
    assert row["p_value"] == pytest.approx(5.733031e-07, rel=1e-6)
    assert out.iloc[1]["p_value"] == 1.0


def test_t_quantiles_widen():
    # t(7) 0.975 quantile 2.364624: limits 1 -/+ 2.364624 * 0.5
    out = tidy_coefficients([1.0], [[0.25]], ["x"], df=7)
    assert (out["conf_low"].item(), out["conf_high"].item()) == pytest.approx(
        (1 - 1.182312, 1 + 1.182312), rel=1e-6
    )


def test_wald_inference_degrees_of_freedom_per_estimate():
    # R: qt(.975, c(3, 7)) = 3.182446, 2.364624; 2 * pt(-2, c(3, 7)) = 0.13932597, 0.08561933
    low, high, p = wald_inference([1.0, 1.0], [0.5, 0.5], df=np.array([3, 7]))
    np.testing.assert_allclose(high, [1 + 0.5 * 3.182446, 1 + 0.5 * 2.364624], rtol=1e-6)
    np.testing.assert_allclose(p, [0.13932597, 0.08561933], rtol=1e-7)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="do not match"):
        tidy_coefficients([1.0, 2.0], [[1.0]], ["a", "b"])
