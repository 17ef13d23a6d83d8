"""Scheme evaluation estimators against R (glm + factor dummies + sandwich::vcovCL).

Reference: tests/reference/evaluation/ (make_panel.py, reference.R, versions.txt): a 30-home
x 10-month panel, two schemes, staggered switching, one switched cell without events
(pooled within its cohort). Agreement to 1e-6 (relative for SEs and p-values).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimal_analysis.stats.staggered import (
    fit_before_after,
    fit_etwfe,
    fit_event_study,
    fit_pre_period_ratio,
    wald_summary,
)

REF = Path(__file__).parent / "reference" / "evaluation"
N_MONTHS = 10


@pytest.fixture(scope="module")
def panel():
    return pd.read_csv(REF / "panel.csv")


@pytest.fixture(scope="module")
def ref():
    r = pd.read_csv(REF / "reference_estimates.csv")
    return {(q, None if pd.isna(g) else int(g), None if pd.isna(e) else int(e)): v
            for q, g, e, v in r.itertuples(index=False)}


def _args(d):
    return (d["y"], d["person_years"], d["home"], d["month"], d["cohort"], d["group"])


def _cell_label(code: int) -> str:
    base, month = divmod(code, N_MONTHS + 1)
    group, cohort = divmod(base, N_MONTHS + 1)
    return f"{group} {cohort} {'pool' if month == N_MONTHS else month}"


def _baseline_term(d):
    base = d[d["month"] <= 3].groupby("home")[["y", "person_years"]].sum()
    z = np.log((base["y"] + 0.5) / base["person_years"])
    return ((z - z.mean()).reindex(d["home"]).to_numpy() * (d["month"] >= 4)).to_numpy()[:, None]


@pytest.mark.parametrize("variant", ["etwfe", "etwfe_adjusted"])
def test_etwfe_matches_r(panel, ref, variant):
    kw = {"x": _baseline_term(panel), "terms": ["z_after"]} if variant == "etwfe_adjusted" else {}
    agg = fit_etwfe(*_args(panel), **kw)
    cells = pd.read_csv(REF / "reference_cells.csv").set_index("cell")["cell_id"]
    fit = agg.fit
    se = fit.std_error()
    n_cells = 0
    for j, term in enumerate(fit.terms):
        if term.startswith("cell["):
            rid = int(cells[_cell_label(int(term[5:-1]))])
            assert fit.coef[j] == pytest.approx(ref[(f"{variant}_coef", None, rid)], abs=1e-6)
            assert se[j] == pytest.approx(ref[(f"{variant}_cell_se", None, rid)], rel=1e-6)
            n_cells += 1
    # 28 switched cells; "1 5 5" has no events and is pooled alone: "1 5 pool", ML ratio 0
    # (R: coefficient -28.7); it leaves the fit and enters the aggregate with weight only.
    assert n_cells == len(cells) - 1 == 26
    assert agg.cells_dropped == 1
    if variant == "etwfe_adjusted":
        j = fit.index("z_after")
        assert fit.coef[j] == pytest.approx(ref[("etwfe_adjusted_z_coef", None, None)], abs=1e-6)
        assert se[j] == pytest.approx(ref[("etwfe_adjusted_z_se", None, None)], rel=1e-6)
    summary = wald_summary(agg.table["log_estimate"], agg.table["std_error"], agg.table["df"])
    for i, g in enumerate(agg.table["group"]):
        assert agg.table["log_estimate"][i] == pytest.approx(ref[(f"{variant}_log_rr", g, None)],
                                                              abs=1e-6)
        assert agg.table["std_error"][i] == pytest.approx(ref[(f"{variant}_se", g, None)], rel=1e-6)
        assert summary["conf_low"][i] == pytest.approx(ref[(f"{variant}_conf_low", g, None)],
                                                       rel=1e-6)
        assert summary["p_value"][i] == pytest.approx(ref[(f"{variant}_p_value", g, None)],
                                                      rel=1e-6)
    assert agg.table["n_homes_switched"].tolist() == [8, 7]
    assert agg.table["n_homes_comparison"].tolist() == [15, 15]


def test_event_study_and_pre_trend_match_r(panel, ref):
    table, pre, _ = fit_event_study(*_args(panel), window=3)
    assert len(table) == 12  # 2 schemes x e in {-3, -2, 0, 1, 2, 3}
    for g, e, b, se in table[["group", "e", "log_estimate", "std_error"]].itertuples(index=False):
        assert b == pytest.approx(ref[("event_log_rr", g, e)], abs=1e-6)
        assert se == pytest.approx(ref[("event_se", g, e)], rel=1e-6)
    for g, f, p in pre[["group", "f_statistic", "pre_trend_p_value"]].itertuples(index=False):
        assert f == pytest.approx(ref[("pre_trend_f", g, None)], rel=1e-6)
        assert p == pytest.approx(ref[("pre_trend_p", g, None)], rel=1e-6)


def test_before_after_and_pre_period_match_r(panel, ref):
    for g in (0, 1):
        d = panel[panel["group"] == g]
        b, se, _ = fit_before_after(d["y"], d["person_years"], d["home"], d["month"], d["cohort"])
        assert b == pytest.approx(ref[("before_after_log_rr", g, None)], abs=1e-6)
        assert se == pytest.approx(ref[("before_after_se", g, None)], rel=1e-6)
    b, se, _ = fit_pre_period_ratio(*_args(panel)[:5], months_before=3)
    assert b == pytest.approx(ref[("pre_period_log_rr", None, None)], abs=1e-6)
    assert se == pytest.approx(ref[("pre_period_se", None, None)], rel=1e-6)


def test_wald_summary_by_hand():
    # log RR -0.2, SE 0.1, 9 df: t = -2, p = 2 P(T_9 > 2) = 0.0765; CI exp(-0.2 -+ 2.2622 x 0.1)
    s = wald_summary([-0.2], [0.1], 9)
    assert s["p_value"][0] == pytest.approx(2 * stats.t.sf(2.0, 9), rel=1e-12)
    assert s["p_value"][0] == pytest.approx(0.0765, abs=1e-4)
    assert s["conf_low"][0] == pytest.approx(np.exp(-0.2 - 2.262157 * 0.1), rel=1e-6)
    assert s["estimate"][0] == pytest.approx(np.exp(-0.2))
