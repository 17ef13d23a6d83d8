"""Propensity-score weighting against R on a fixed synthetic dataset.

Data: tests/reference/weighting/data.csv (make_data.py, seeded; 600 residents, 30
homes, 3 care models, 5 regions, about 5% missing Barthel: complete cases).
Reference values: the CSVs beside it, written by reference.R (versions.txt):
``nnet::multinom`` (and its Newton-polished MLE), propensity scores and weights,
weighted SMDs, weighted Poisson / NB (``glm`` / ``glm.nb`` + ``sandwich::vcovCL``
HC1), weighted cause-specific Cox and Fine–Gray (``coxph(weights =, cluster =)``,
``finegray(weights =)``), weighted Aalen–Johansen (``survfit(weights =)``
influence), regional rate ratios and ``metafor::rma(method = "REML")``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.stats.cluster import cr1_covariance
from optimal_analysis.stats.cox import fit_cox
from optimal_analysis.stats.glm import count_scores_information, fit_count_model
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
from optimal_analysis.stats.weights import ipw_weights, overlap_weights, weighted_balance

REF = Path(__file__).parent / "reference" / "weighting"
LEVELS = ["usual_care", "dedicated_team", "paid_gp"]  # R's relevel: reference first
COVARIATES = ["age", "sex_M", "dementia", "nursing", "barthel"]
BINARY = [False, True, True, True, False]


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(REF / "data.csv").dropna(subset=["barthel"]).reset_index(drop=True)
    d["sex_M"] = (d["sex"] == "M").astype(float)
    d["z"] = d["care_model"].map({m: i for i, m in enumerate(LEVELS)})
    return d


@pytest.fixture(scope="module")
def fitted(data):
    x = np.column_stack([np.ones(len(data)), data[COVARIATES].to_numpy(float)])
    fit = fit_multinom(data["z"], x)
    ps = multinom_probabilities(x, fit.coef)
    return fit, ps


def _care_model_design(z: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(z.size), z == 1, z == 2]).astype(float)


def test_multinom_matches_r(fitted):
    fit, _ = fitted
    ref = pd.read_csv(REF / "multinom.csv")
    assert fit.converged
    coef = fit.coef.ravel(order="F")  # class by class, as R's coef() rows
    np.testing.assert_allclose(coef, ref["estimate"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(fit.std_error.ravel(order="F"), ref["std_error"], rtol=0, atol=1e-9)
    # nnet::multinom itself (BFGS at reltol 1e-16) is within 1e-6 of the MLE
    np.testing.assert_allclose(coef, ref["nnet_estimate"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        fit.std_error.ravel(order="F"), ref["nnet_std_error"], rtol=0, atol=1e-6
    )


def test_weights_match_r(data, fitted):
    _, ps = fitted
    ref = pd.read_csv(REF / "weights.csv")
    assert (ref["resident_id"] == data["resident_id"]).all()
    np.testing.assert_allclose(
        ps, ref[[f"ps_{m}" for m in LEVELS]].to_numpy(), rtol=0, atol=1e-10
    )
    z = data["z"].to_numpy()
    np.testing.assert_allclose(overlap_weights(ps, z), ref["w_overlap"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(ipw_weights(ps, z), ref["w_ipw"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(
        ipw_weights(ps, z, stabilise=True), ref["w_ipw_stabilised"], rtol=1e-9, atol=0
    )


def test_weighted_smd_match_r(data, fitted):
    _, ps = fitted
    z = data["z"].to_numpy()
    bal = weighted_balance(
        data[COVARIATES].to_numpy(float), z, overlap_weights(ps, z), n_classes=3, binary=BINARY
    )
    ref = pd.read_csv(REF / "smd.csv")
    k = ref["care_model"].map(LEVELS.index).to_numpy()
    j = ref["covariate"].map(COVARIATES.index).to_numpy()
    for col in ["mean_crude", "mean_weighted", "smd_crude", "smd_weighted"]:
        np.testing.assert_allclose(bal[col][k, j], ref[col], rtol=0, atol=1e-10, err_msg=col)
    np.testing.assert_allclose(bal["mean_weighted"][0, j], ref["mean_weighted_ref"], atol=1e-10)


@pytest.mark.parametrize("weights", ["overlap", "ipw"])
@pytest.mark.parametrize("model", ["poisson", "negbin"])
def test_weighted_count_models_match_r(data, fitted, weights, model):
    _, ps = fitted
    z = data["z"].to_numpy()
    w = overlap_weights(ps, z) if weights == "overlap" else ipw_weights(ps, z)
    x = _care_model_design(z)
    y = data["emergency_admission"].to_numpy()
    off = np.log(data["person_years"].to_numpy())
    fit = fit_weighted_count(model, y, x, off, w, tol=1e-12)
    scores, info = weighted_count_scores_information(model, y, x, off, w, fit.params, fit.alpha)
    cov = cr1_covariance(scores, np.linalg.inv(info), pd.factorize(data["care_home_id"])[0])
    ref = pd.read_csv(REF / "weighted.csv").query("model == @model and weights == @weights")
    assert fit.converged
    np.testing.assert_allclose(fit.params, ref["estimate"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), ref["std_error"], rtol=0, atol=1e-8)
    if model == "negbin":
        assert fit.alpha == pytest.approx(1 / ref["theta"].iloc[0], rel=1e-8)


@pytest.mark.parametrize("weights", ["overlap", "ipw"])
def test_weighted_cox_and_fine_gray_match_r(data, fitted, weights):
    _, ps = fitted
    z = data["z"].to_numpy()
    w = overlap_weights(ps, z) if weights == "overlap" else ipw_weights(ps, z)
    x = _care_model_design(z)[:, 1:]
    ref = pd.read_csv(REF / "weighted.csv").query("weights == @weights")
    cox = fit_cox(data["time"], data["status"] == 1, x, weight=w, cluster=data["care_home_id"])
    fg = fit_fine_gray_weighted(data["time"], data["status"], x, w, cluster=data["care_home_id"])
    for fit, name in [(cox, "cox"), (fg, "finegray")]:
        r = ref[ref["model"] == name]
        np.testing.assert_allclose(fit.coef, r["estimate"], rtol=0, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(
            np.sqrt(np.diag(fit.robust_cov)), r["std_error"], rtol=0, atol=1e-8, err_msg=name
        )


@pytest.mark.parametrize("care_model", LEVELS)
def test_weighted_aalen_johansen_matches_r(data, fitted, care_model):
    _, ps = fitted
    z = data["z"].to_numpy()
    w = overlap_weights(ps, z)
    s = (data["care_model"] == care_model).to_numpy()
    ref = pd.read_csv(REF / "aj.csv").query("care_model == @care_model")
    got = weighted_aalen_johansen(
        data["time"][s], data["status"][s], w[s], cluster=data["care_home_id"][s]
    )
    iid = weighted_aalen_johansen(data["time"][s], data["status"][s], w[s])
    m = ref.merge(got, on=["cause", "time"], how="left", suffixes=("_r", ""))
    assert len(m) == len(ref) and m["estimate"].notna().all()
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m["std_error"], m["std_error_r"], rtol=0, atol=1e-12)
    m2 = ref.merge(iid, on=["cause", "time"], suffixes=("_r", ""))
    np.testing.assert_allclose(m2["std_error"], m2["std_error_iid"], rtol=0, atol=1e-12)


def test_region_rate_ratios_and_meta_analysis_match_r(data):
    """Adjusted Poisson within each region with both models, then REML across regions."""
    ref = pd.read_csv(REF / "regions.csv")
    rows = []
    for region, s in data.groupby("region"):
        present = [m for m in LEVELS if (s["care_model"] == m).any()]
        if len(present) < 2 or present[0] != "usual_care":
            continue
        terms = present[1:]
        x = np.column_stack(
            [np.ones(len(s))] + [s["care_model"] == m for m in terms]
            + [s[c] for c in COVARIATES]
        ).astype(float)
        y = s["emergency_admission"].to_numpy()
        off = np.log(s["person_years"].to_numpy())
        fit = fit_count_model("poisson", y, x, off, tol=1e-12)
        sc, info = count_scores_information("poisson", y, x, off, fit.params)
        cov = cr1_covariance(sc, np.linalg.inv(info), pd.factorize(s["care_home_id"])[0])
        for j, m in enumerate(terms, start=1):
            rows.append((region, m, fit.params[j], np.sqrt(cov[j, j])))
    got = pd.DataFrame(rows, columns=["region", "term", "estimate", "std_error"])
    m = ref.merge(got, on=["region", "term"], suffixes=("_r", ""))
    assert len(m) == len(ref) == len(got) == 5
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(m["std_error"], m["std_error_r"], rtol=0, atol=1e-8)
    meta = pd.read_csv(REF / "meta.csv")
    for _, r in meta.iterrows():  # the meta-analysis of R's own regional estimates
        g = ref[ref["term"] == r["term"]]
        res = rma_reml(g["estimate"], g["std_error"])
        assert res.k == r["k"] and res.converged
        for col in ["tau2", "estimate", "std_error", "conf_low", "conf_high", "pi_low", "pi_high"]:
            assert getattr(res, col) == pytest.approx(r[col], abs=1e-8), col
        assert res.i2 == pytest.approx(r["i2"], abs=1e-6)
        assert res.q == pytest.approx(r["q"], abs=1e-8)
        # and of ours: the region fits agree to ~1e-9, so the pooled values to ~1e-7
        mine = rma_reml(*(got.loc[got["term"] == r["term"], c] for c in ["estimate", "std_error"]))
        assert mine.tau2 == pytest.approx(r["tau2"], abs=1e-6)
        assert mine.pi_low == pytest.approx(r["pi_low"], abs=1e-6)


def test_meta_analysis_example_matches_metafor():
    """13 studies with clear heterogeneity; metafor at a tight threshold, and at its default."""
    yi = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34, 0.45, -0.02]
    vi = np.array([0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004, 0.06, 0.07, 0.01, 0.53, 0.07])
    res = rma_reml(yi, np.sqrt(vi))
    ref = pd.read_csv(REF / "meta_example.csv").set_index("setting")
    for setting, tol in [("tight", 1e-10), ("default", 1e-6)]:
        r = ref.loc[setting]
        for col in ["tau2", "estimate", "std_error", "pi_low", "pi_high", "q"]:
            assert getattr(res, col) == pytest.approx(r[col], abs=tol), (setting, col)
        assert res.i2 == pytest.approx(r["i2"], abs=100 * tol)
