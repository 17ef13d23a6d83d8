"""The fast Cox and Fine–Gray engines: hand-computed values, identities, and the slow path."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from optimal_analysis.stats.cox import (
    cox_score_information,
    fine_gray_score_information,
    fit_cox,
    fit_fine_gray,
)
from optimal_analysis.stats.finegray import censoring_survival_before


def _data(n: int, n_homes: int, *, tied: bool, seed: int = 1):
    rng = np.random.default_rng(seed)
    home = rng.integers(0, n_homes, n)
    x = np.column_stack(
        [rng.normal(size=n), rng.random(n) < 0.4, rng.normal(0, 0.3, n_homes)[home]]
    )
    t = rng.exponential(200 * np.exp(-0.3 * x[:, 0] - 0.5 * x[:, 1]))
    c = rng.uniform(0, 400, n)
    if tied:  # weekly data: heavy ties
        t, c = np.ceil(t / 7), np.ceil(c / 7)
    return np.minimum(t, c), t <= c, x, home


def test_efron_null_loglik_by_hand():
    # times 1, 1, 2, 2; events at 1, 1 and the x=0 row at 2; x = 0, 1, 0, 1.
    # At beta = 0 every risk weight is 1.
    # day 1: 4 at risk, 2 tied deaths -> Efron denominators 4 and 4 - 2/2 = 3
    # day 2: 2 at risk, 1 death      -> denominator 2
    # log L(0) = -(log 4 + log 3 + log 2) = -log 24   (Breslow would give -log 32)
    fit = fit_cox([1, 1, 2, 2], [True, True, True, False], [0.0, 1.0, 0.0, 1.0])
    assert fit.loglik_null == pytest.approx(-math.log(24), abs=1e-14)


def test_single_binary_covariate_without_ties_by_hand():
    # x = 1, 0 at times 1, 2, both events. log L(b) = b - log(e^b + 1) + log 1 - log 1:
    # it increases in b without bound, so use three rows: times 1, 2, 3; x = 1, 0, 1; all events.
    # log L = [b - log(2e^b + 1)] + [0 - log(e^b + 1)] + [b - b]; dL/db = 0 at
    # 1 - 2e^b/(2e^b+1) - e^b/(e^b+1) = 0  ->  with u = e^b: (2u+1)(u+1) = 2u(u+1) + u(2u+1)
    # -> 2u^2 + 3u + 1 = 4u^2 + 3u  ->  u^2 = 1/2  ->  b = -log(2)/2.
    fit = fit_cox([1, 2, 3], [True, True, True], [1.0, 0.0, 1.0])
    assert fit.coef[0] == pytest.approx(-math.log(2) / 2, abs=1e-12)


def test_row_order_and_cluster_labels_do_not_matter():
    t, e, x, home = _data(600, 30, tied=True)
    a = fit_cox(t, e, x, cluster=home)
    perm = np.random.default_rng(5).permutation(t.size)
    b = fit_cox(t[perm], e[perm], x[perm], cluster=np.char.add("home-", home[perm].astype(str)))
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-12)
    np.testing.assert_allclose(a.robust_cov, b.robust_cov, atol=1e-12)
    np.testing.assert_allclose(a.score_residuals[perm], b.score_residuals, atol=1e-12)


def test_score_residuals_sum_to_zero_at_the_estimate():
    t, e, x, home = _data(500, 20, tied=True)
    fit = fit_cox(t, e, x)
    np.testing.assert_allclose(fit.score_residuals.sum(axis=0), 0, atol=1e-9)


def test_constant_weight_scales_information_only():
    # With every case weight c, each Efron step weight W_j/d_j and every risk-set
    # sum scale by c: the score is c times the unweighted one (same root) and the
    # information c times (covariance / c).
    t, e, x, _ = _data(300, 10, tied=True)
    plain = fit_cox(t, e, x)
    doubled = fit_cox(t, e, x, weight=np.full(t.size, 2.0))
    np.testing.assert_allclose(doubled.coef, plain.coef, atol=1e-12)
    np.testing.assert_allclose(doubled.cov, plain.cov / 2, rtol=1e-10)


@pytest.mark.parametrize("tied", [True, False])
def test_matches_statsmodels_phreg(tied):
    from statsmodels.duration.hazard_regression import PHReg

    t, e, x, home = _data(1000, 100, tied=tied)
    fit = fit_cox(t, e, x, cluster=home)
    ref = PHReg(t, x, status=e.astype(int), ties="efron").fit()
    np.testing.assert_allclose(fit.coef, ref.params, atol=1e-10)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref.bse, atol=1e-10)
    np.testing.assert_allclose(fit.loglik, ref.llf, rtol=1e-12)
    if not tied:
        # statsmodels' robust covariance ignores the Efron weighting of tied deaths
        # in the score residuals; without ties it is the same sandwich as R's.
        robust = PHReg(t, x, status=e.astype(int), ties="efron").fit(groups=home)
        np.testing.assert_allclose(np.sqrt(np.diag(fit.robust_cov)), robust.bse, atol=1e-10)


def test_matches_lifelines_without_ties():
    import pandas as pd
    from lifelines import CoxPHFitter

    t, e, x, home = _data(1500, 100, tied=False)
    df = pd.DataFrame(x, columns=["a", "b", "c"]).assign(T=t, E=e.astype(int), g=home)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(df, "T", "E", cluster_col="g")
    fit = fit_cox(t, e, x, cluster=home)
    np.testing.assert_allclose(fit.coef, cph.params_.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(
        np.sqrt(np.diag(fit.robust_cov)), cph.standard_errors_.to_numpy(), atol=1e-6
    )


def test_fine_gray_without_competing_events_is_cox():
    t, e, x, home = _data(400, 20, tied=True)
    status = e.astype(int)
    fg = fit_fine_gray(t, status, x, cluster=home)
    cox = fit_cox(t, e, x, cluster=home)
    np.testing.assert_allclose(fg.coef, cox.coef, atol=1e-12)
    np.testing.assert_allclose(fg.robust_cov, cox.robust_cov, atol=1e-12)


def test_censoring_survival_puts_events_before_censorings_by_hand():
    # times 1 (censored), 2 (event), 2 (censored), 3 (event), 4 (censored)
    # day 1: 5 at risk of censoring, 1 censored -> G(1) = 4/5
    # day 2: the event at 2 leaves first, so 2 remain (the censored 2 and later) + ... :
    #        n = #{T > 2} + censored at 2 = 2 + 1 = 3, 1 censored -> G(2) = 4/5 * 2/3 = 8/15
    # day 4: n = 1, 1 censored -> G(4) = 0
    g = censoring_survival_before([1, 2, 2, 3, 4], [0, 1, 0, 2, 0])
    np.testing.assert_allclose(g([1, 2, 3, 4, 5]), [1, 4 / 5, 8 / 15, 8 / 15, 0])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="no events"):
        fit_cox([1, 2], [False, False], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"\['time', 'event'\]"):
        fit_cox([1, 2], [True], [[0.0], [1.0], [2.0]])
    with pytest.raises(ValueError, match="finite"):
        fit_cox([1, np.nan], [True, True], [0.0, 1.0])


def test_monotone_likelihood_is_flagged_not_converged():
    # x = 1 rows (times 4, 5, 6) are all censored; events at 1, 2, 3 among x = 0:
    # log L(b) = -log(3 + 3e^b) - log(2 + 3e^b) - log(1 + 3e^b) rises without bound as
    # b -> -inf, so the maximum is at -inf: R's coxph warns "coefficient may be infinite".
    # The old test accepted a flat likelihood at b ~ -37 as converged.
    t = [1, 2, 3, 4, 5, 6]
    x = np.array([0.0, 0, 0, 1, 1, 1])
    fit = fit_cox(t, [True, True, True, False, False, False], x, cluster=[0, 1, 2, 0, 1, 2])
    assert fit.infinite.tolist() == [True] and not fit.converged
    fg = fit_fine_gray(t, [1, 1, 1, 2, 0, 0], x)  # cause 1 never happens when x = 1
    assert fg.infinite.tolist() == [True] and not fg.converged
    # a finite maximum is not flagged (b = -log(2)/2, test above)
    ok = fit_cox([1, 2, 3], [True, True, True], [1.0, 0.0, 1.0])
    assert ok.infinite.tolist() == [False] and ok.converged


def test_singular_information_is_named():
    # a constant column has zero information at every event time
    with pytest.raises(ValueError, match="information matrix is singular"):
        fit_cox([1, 2, 3], [True, True, True], [[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])


def test_score_information_at_the_estimate_are_the_fits():
    # cox_score_information / fine_gray_score_information evaluate, without fitting, what
    # the fit returns at its estimate: the same residuals and the inverse covariance
    t, e, x, home = _data(400, 20, tied=True)
    fit = fit_cox(t, e, x, cluster=home)
    resid, info = cox_score_information(t, e, x, fit.coef)
    np.testing.assert_allclose(resid, fit.score_residuals, atol=1e-12)
    np.testing.assert_allclose(np.linalg.inv(info), fit.cov, rtol=1e-10)
    status = np.where(e, 1, np.where(np.arange(t.size) % 3 == 0, 2, 0))
    region = np.where(home < 8, "a", "b")
    fg = fit_fine_gray(t, status, x, cluster=home, censoring_group=region)
    resid, info = fine_gray_score_information(t, status, x, fg.coef, censoring_group=region)
    np.testing.assert_allclose(resid, fg.score_residuals, atol=1e-12)
    np.testing.assert_allclose(np.linalg.inv(info), fg.cov, rtol=1e-10)
    # at the estimate the residuals (with the tail contributions) sum to zero
    np.testing.assert_allclose(resid.sum(axis=0), 0, atol=1e-9)
    # one censoring group is the pooled estimator
    one = fit_fine_gray(t, status, x, censoring_group=np.full(t.size, "all"))
    np.testing.assert_allclose(one.coef, fit_fine_gray(t, status, x).coef, atol=1e-12)
