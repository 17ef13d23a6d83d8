"""The regions stage: rate ratios within regions and their REML meta-analysis (R: metafor)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.regions import REGION_COLUMNS, make_region_effects, regions_with_comparison

REF = Path(__file__).parent / "reference" / "weighting"
COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]


@pytest.fixture(scope="module")
def cohort():
    d = pd.read_csv(REF / "data.csv")
    return d.assign(barthel=d["barthel"].astype("Int64"))


def test_region_effects_match_r(cohort):
    table = make_region_effects(cohort, outcomes=["emergency_admission"], covariates=COVARIATES,
                                reference="usual_care")
    assert list(table.columns) == REGION_COLUMNS
    regions = table[table["region"] != "pooled"]
    ref = pd.read_csv(REF / "regions.csv")
    m = ref.merge(regions, on=["region", "term"], suffixes=("_r", ""))
    assert len(m) == len(ref) == len(regions) == 5  # r5 has usual care only: no row
    np.testing.assert_allclose(np.log(m["estimate"]), m["estimate_r"], atol=1e-8)
    np.testing.assert_allclose(m["std_error"], m["std_error_r"], atol=1e-8)
    meta = pd.read_csv(REF / "meta.csv").set_index("term")
    pooled = table[table["region"] == "pooled"].set_index("term")
    assert set(pooled.index) == set(meta.index) == {"dedicated_team", "paid_gp"}
    for term, r in meta.iterrows():
        p = pooled.loc[term]
        assert np.log(p["estimate"]) == pytest.approx(r["estimate"], abs=1e-6)
        assert p["tau2"] == pytest.approx(r["tau2"], abs=1e-6)
        assert p["i2"] == pytest.approx(r["i2"], abs=1e-4)
        assert np.log(p["pi_low"]) == pytest.approx(r["pi_low"], abs=1e-6)
        assert np.log(p["pi_high"]) == pytest.approx(r["pi_high"], abs=1e-6)
        assert p["k_regions"] == r["k"]
    n_r4 = int((cohort.dropna(subset=["barthel"])["region"] == "r4").sum())
    assert regions.loc[regions["region"] == "r4", "n_residents"].eq(n_r4).all()


def test_one_care_model_per_region_gives_no_rows(cohort):
    """The OPTIMAL design: region and care model cannot be separated; nothing is shown."""
    optimal = cohort.assign(region=cohort["care_model"])
    assert regions_with_comparison(optimal, "usual_care") == {}
    table = make_region_effects(optimal, outcomes=["emergency_admission"],
                                covariates=COVARIATES, reference="usual_care")
    assert table.empty and list(table.columns) == REGION_COLUMNS
