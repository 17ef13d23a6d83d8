"""Disclosure control of the weighting and regions tables (balance, overlap, summary, regions)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.report.disclosure import disclose_named
from optimal_analysis.stats.smd import smd_binary
from optimal_analysis.tidy import MARKER

RULES = {"suppress_max": 7, "round_to": 5}


def _balance() -> pd.DataFrame:
    rows = [
        # covariate, level, care_model, smd_crude, smd_weighted, mean_crude, mean_weighted,
        # is_reference, n_residents, n_level
        ("age", "mean", "a", 0.3, 0.01, 86.2, 85.1, False, 103, 103),
        ("age", "mean", "ref", np.nan, np.nan, 84.0, 85.0, True, 121, 121),
        ("sex", "M", "a", 0.0, 0.0, 31 / 103, 0.33, False, 103, 31),
        ("sex", "M", "ref", np.nan, np.nan, 44 / 121, 0.34, True, 121, 44),
        ("dementia", "yes", "a", 0.0, 0.0, 6 / 103, 0.05, False, 103, 6),
        ("dementia", "yes", "ref", np.nan, np.nan, 24 / 121, 0.06, True, 121, 24),
    ]
    cols = ["covariate", "level", "care_model", "smd_crude", "smd_weighted", "mean_crude",
            "mean_weighted", "is_reference", "n_residents", "n_level"]
    return pd.DataFrame(rows, columns=cols)


def test_balance_proportions_come_from_rounded_counts():
    out = disclose_named(_balance(), "balance", **RULES)
    male = out[(out["covariate"] == "sex") & (out["care_model"] == "a")].iloc[0]
    ref = out[(out["covariate"] == "sex") & (out["care_model"] == "ref")].iloc[0]
    # 31 -> 30 of 103 -> 105; 44 -> 45 of 121 -> 120
    assert (male["n_level"], male["n_residents"]) == (30, 105)
    assert male["mean_crude"] == pytest.approx(30 / 105)
    assert ref["mean_crude"] == pytest.approx(45 / 120)
    assert male["smd_crude"] == pytest.approx(float(smd_binary(30 / 105, 45 / 120)))
    den = np.sqrt((30 / 105 * 75 / 105 + 45 / 120 * 75 / 120) / 2)
    assert male["smd_weighted"] == pytest.approx((0.33 - 0.34) / den)
    # a mean keeps its exact value
    age = out[(out["covariate"] == "age") & (out["care_model"] == "a")].iloc[0]
    assert age["mean_crude"] == pytest.approx(86.2)


def test_balance_small_level_is_suppressed_with_its_statistics():
    out = disclose_named(_balance(), "balance", **RULES)
    dem = out[(out["covariate"] == "dementia") & (out["care_model"] == "a")].iloc[0]
    assert dem["n_level"] == MARKER and dem["mean_crude"] == MARKER
    assert dem["smd_crude"] == MARKER and dem["smd_weighted"] == MARKER


def test_overlap_bins_get_secondary_suppression():
    t = pd.DataFrame({"score_of": "a", "care_model": "a", "bin_low": [0.0, 0.05, 0.1],
                      "bin_high": [0.05, 0.1, 0.15], "residents": [3, 40, 60]})
    out = disclose_named(t, "ps_overlap", **RULES)
    assert (out["residents"] == MARKER).sum() == 2  # the small bin and one more


def test_region_effects_counts_rounded():
    t = pd.DataFrame({"outcome": "x", "term": "a", "region": ["r1", "pooled"],
                      "estimate": [0.8, 0.85], "std_error": 0.1, "conf_low": 0.6,
                      "conf_high": 1.1, "n_residents": [123, 5], "n_clusters": [6, 6]})
    out = disclose_named(t, "region_effects", **RULES)
    assert out["n_residents"].tolist() == [125, MARKER]
