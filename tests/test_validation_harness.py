"""Smoke test of the validation study's harness (validation/, ``make validate``)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "validation"))
import replicate as rep  # noqa: E402
import run_validation  # noqa: E402


def test_wilson_interval_matches_closed_forms():
    z2 = 1.959963984540054**2
    low, high = run_validation.wilson(np.array([0, 10, 95]), np.array([10, 10, 100]))
    # k = 0: (0, z²/(n + z²)); k = n: the mirror image.
    assert low[0] == pytest.approx(0.0, abs=1e-12) and high[0] == pytest.approx(z2 / (10 + z2))
    assert low[1] == pytest.approx(10 / (10 + z2)) and high[1] == pytest.approx(1.0)
    # 95/100: centre (0.95 + z²/200)/(1 + z²/100) = 0.933353, half-width
    # z sqrt(0.95*0.05/100 + z²/40000)/(1 + z²/100) = 0.045103 (statsmodels'
    # proportion_confint(95, 100, method="wilson") gives the same limits).
    assert (low[2], high[2]) == pytest.approx((0.888250, 0.978456), abs=1e-6)


def test_summarise_by_hand():
    # Two replicates of a log-scale estimand around a truth of 1: log estimates -0.5 and 0.7.
    raw = pd.DataFrame({
        "design": "d", "estimand": "hr_cox", "term": "x", "replicate": [0, 1],
        "estimate": np.exp([-0.5, 0.7]), "std_error": [0.4, 0.6],
        "low_contract": [0.5, 1.5], "high_contract": [1.2, 3.0],
        "low_small": [np.nan, 0.9], "high_small": [np.nan, 4.0],
    })  # fmt: skip
    truth = pd.DataFrame({"design": ["d"], "estimand": ["hr_cox"], "term": ["x"], "truth": [1.0],
                          "truth_se": [0.01], "check": [np.nan], "source": ["s"]})
    s = run_validation.summarise(raw, truth).iloc[0]
    assert s["bias"] == pytest.approx(0.1)
    assert s["emp_sd"] == pytest.approx(np.std([-0.5, 0.7], ddof=1))
    assert s["se_ratio"] == pytest.approx(0.5 / np.std([-0.5, 0.7], ddof=1))
    assert (s["n_contract"], s["cover_contract"]) == (2, 0.5)  # 1 in [0.5, 1.2], not in [1.5, 3]
    assert (s["n_small"], s["cover_small"]) == (1, 1.0)  # only the second reports it


def test_replicate_is_deterministic_and_complete():
    kw = {"seed": 7, "design_index": 2, "replicate": 1, "wild_replicates": 9,
          "cost_replicates": 20}
    a = rep.run_replicate(rep.SMALL_DESIGN, **kw)
    b = rep.run_replicate(rep.SMALL_DESIGN, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["estimand"]) == set(rep.ESTIMANDS)
    # 2 ratio terms per ratio estimand, 3 care models for incidence and cost.
    assert a.groupby("estimand").size().to_dict() == {
        e: 3 if e in ("cif_365", "cost_pry") else 2 for e in rep.ESTIMANDS
    }
    c = rep.run_replicate(rep.SMALL_DESIGN, **{**kw, "replicate": 2})
    assert not np.allclose(a["estimate"], c["estimate"])


def test_harness_end_to_end_writes_the_report(tmp_path):
    out = tmp_path / "validation.md"
    summary = run_validation.main([
        "--designs", "smoke", "--replicates", "2", "--truth-homes", "60", "--workers", "1",
        "--wild-replicates", "9", "--cost-replicates", "20", "--out", str(out), "--no-progress",
    ])  # fmt: skip
    assert len(summary) == 2 * 6 + 3 * 2 and (summary["n"] == 2).all()
    # The day-at-risk rate ratios are judged against the generator's intensity ratios.
    dar = summary[summary["estimand"] == "rr_poisson_dar"].set_index("term")["truth"]
    assert dar.to_dict() == {"dedicated_team": 0.75, "paid_gp": 0.90}
    text = out.read_text()
    assert "REDUCED RUN (2 replicates" in text and "### smoke" in text
    # Columns that the tables lack today are reported as n/a, not an error.
    has_small = summary["n_small"].gt(0)
    assert text.count("| n/a |") >= int((~has_small).sum())
