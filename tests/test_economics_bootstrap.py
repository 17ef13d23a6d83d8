"""Joint care-home bootstrap of costs and admissions, ICER logic, probability of saving."""

import numpy as np
import pytest

from optimal_analysis.stats.bootstrap import ratio_t_interval
from optimal_analysis.stats.economics import (
    break_even_running_cost,
    icer_quadrant,
    incremental_summary,
    joint_home_bootstrap,
    prob_below,
    prob_saving_curve,
    scheme_cost_per_home,
)


def test_scheme_cost_per_home_by_unit() -> None:
    # resident-year: 500 x 12.5 py; home-year: 20,000 x 1.5 years; bed-year: 120 x 40 beds x 1.5
    s = scheme_cost_per_home([500.0, 20000.0, 120.0],
                             ["resident_year", "home_year", "bed_year"],
                             person_years=[12.5, 30.0, 30.0], home_years=[1.5, 1.5, 1.5],
                             beds=[np.nan, np.nan, 40])
    np.testing.assert_allclose(s, [6250.0, 30000.0, 7200.0])


def test_scheme_cost_errors() -> None:
    with pytest.raises(ValueError, match="1 care home\\(s\\) costed per bed-year have no bed"):
        scheme_cost_per_home([1.0, 1.0], ["bed_year", "bed_year"], person_years=[1, 1],
                             home_years=[1, 1], beds=[np.nan, 3])
    with pytest.raises(ValueError, match="unknown scheme cost unit"):
        scheme_cost_per_home([1.0], ["per_visit"], person_years=[1], home_years=[1], beds=[1])


def _homes_exact() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Homes whose cost and admissions are exactly proportional to person-years.

    Reference (group 0): NHS 3,000 and 1.2 admissions per resident-year, no scheme;
    scheme (group 1): NHS 2,400, scheme 400, 0.9 admissions per resident-year.
    """
    t = np.array([10.0, 25.0, 40.0, 5.0, 15.0, 30.0, 12.0])
    g = np.array([0, 0, 0, 1, 1, 1, 1])
    rate = np.array([[3000.0, 0.0, 1.2], [2400.0, 400.0, 0.9]])[g]
    return rate * t[:, None], t, g


def test_known_costs_and_effects_without_between_home_variation() -> None:
    """Every replicate is the truth: ΔC = 2800 - 3000 = -200, avoided 0.3, dominant."""
    y, t, g = _homes_exact()
    boot = joint_home_bootstrap(y, t, g, n_groups=2, replicates=50,
                                rng=np.random.default_rng(1))
    np.testing.assert_allclose(boot.estimate, [[3000, 0, 1.2], [2400, 400, 0.9]])
    np.testing.assert_allclose(boot.replicates, np.broadcast_to(boot.estimate, (50, 2, 3)))
    out = incremental_summary(boot, reference=0)
    np.testing.assert_allclose(
        [out["incremental_cost"][1], out["incremental_cost_low"][1],
         out["incremental_cost_high"][1], out["admissions_avoided"][1],
         out["admissions_avoided_low"][1], out["prob_cost_saving"][1]],
        [-200, -200, -200, 0.3, 0.3, 1.0])
    assert out["quadrant"][1] == "dominant"
    assert out["quadrant"][0] == "reference" and np.isnan(out["incremental_cost"][0])


def test_costs_and_admissions_move_together() -> None:
    """Cost = 2,500 per admission in every home: each replicate has ΔC* = -2,500 ΔE*
    exactly (an independent bootstrap of costs and admissions would not)."""
    rng = np.random.default_rng(7)
    t = rng.uniform(5, 30, 40)
    adm = rng.poisson(t * rng.gamma(2.0, 0.5, 40))
    g = np.repeat([0, 1], 20)
    y = np.column_stack([2500.0 * adm, np.zeros(40), adm])
    out = incremental_summary(joint_home_bootstrap(y, t, g, n_groups=2, replicates=300,
                                                   rng=np.random.default_rng(3)), reference=0)
    np.testing.assert_allclose(out["delta_cost_replicates"][:, 1],
                               -2500.0 * out["avoided_replicates"][:, 1], rtol=1e-9, atol=1e-6)
    assert np.corrcoef(out["delta_cost_replicates"][:, 1], out["avoided_replicates"][:, 1])[0, 1] \
        == pytest.approx(-1.0)
    np.testing.assert_allclose(out["prob_cost_saving"][1],
                               np.mean(out["avoided_replicates"][:, 1] > 0))


def test_same_seed_same_replicates_and_one_home_gives_no_interval() -> None:
    y, t, g = _homes_exact()
    g = np.array([0, 0, 0, 0, 0, 0, 1])  # the scheme has one home
    a = joint_home_bootstrap(y, t, g, n_groups=2, replicates=20, rng=np.random.default_rng(5))
    b = joint_home_bootstrap(y, t, g, n_groups=2, replicates=20, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.replicates, b.replicates)
    assert np.isnan(a.replicates[:, 1]).all() and np.isfinite(a.replicates[:, 0]).all()
    out = incremental_summary(a, reference=0)
    assert np.isnan(out["incremental_cost_low"][1]) and np.isnan(out["prob_cost_saving"][1])
    assert np.isfinite(out["incremental_cost"][1])


def test_coverage_and_spread_on_data_with_known_effects() -> None:
    """400 simulated studies, 30 homes per care model, known rates:
    reference NHS cost 3,000 and 1.2 admissions per resident-year, scheme 2,600 and
    0.9 (ΔC = -400 + scheme 0, avoided 0.30). Percentile intervals must cover both
    truths in 90-98.5% of studies (95% nominal; Monte-Carlo SE 1.1%), and the
    bootstrap SD of each model's cost rate must match the linearised SE
    (ratio_t_interval) within 10% on average."""
    rng = np.random.default_rng(20260512)
    n_sim, homes, b = 400, 30, 400
    truth_rate = np.array([[3000.0, 1.2], [2600.0, 0.9]])
    cover_c = cover_e = 0
    sd_ratio = []
    for _ in range(n_sim):  # simulated studies; each bootstrap is vectorised
        t = rng.uniform(5, 30, 2 * homes)
        g = np.repeat([0, 1], homes)
        frailty = rng.gamma(4.0, 0.25, 2 * homes)  # mean 1, shared by cost and admissions
        adm = rng.poisson(truth_rate[g, 1] * t * frailty)
        other = rng.gamma(2.0, truth_rate[g, 0] * t * frailty / 2.0 / 2.0)  # half the cost
        cost = other + adm * truth_rate[g, 0] / 2.0 / truth_rate[g, 1]  # other half per stay
        y = np.column_stack([cost, np.zeros_like(cost), adm])
        boot = joint_home_bootstrap(y, t, g, n_groups=2, replicates=b, rng=rng)
        out = incremental_summary(boot, reference=0)
        cover_c += out["incremental_cost_low"][1] <= -400 <= out["incremental_cost_high"][1]
        cover_e += out["admissions_avoided_low"][1] <= 0.3 <= out["admissions_avoided_high"][1]
        se, *_ = ratio_t_interval(cost[g == 1], t[g == 1])
        sd_ratio.append(np.nanstd(boot.replicates[:, 1, 0], ddof=1) / se[0])
    assert 0.90 <= cover_c / n_sim <= 0.985
    assert 0.90 <= cover_e / n_sim <= 0.985
    assert 0.90 <= np.mean(sd_ratio) <= 1.10


def test_icer_quadrants_by_hand() -> None:
    icer, quadrant = icer_quadrant([500.0, -200.0, 300.0, -600.0, 100.0, np.nan],
                                   [0.25, 0.1, -0.2, -0.3, 0.0, 0.1])
    np.testing.assert_allclose(icer, [2000.0, np.nan, np.nan, 2000.0, np.nan, np.nan])
    assert list(quadrant) == ["costs more, avoids admissions", "dominant", "dominated",
                              "saves money, more admissions", "no difference in admissions",
                              "not estimable"]


def test_probability_of_saving_by_hand() -> None:
    d = np.array([-300.0, -100.0, 50.0, 200.0, np.nan])
    np.testing.assert_allclose(prob_below(d), [0.5])
    # P(d + s < 0) at s = -100, 0, 150, 400: 3/4, 2/4, 1/4, 0
    np.testing.assert_allclose(prob_saving_curve(d, 0.0, [-100, 0, 150, 400]),
                               [0.75, 0.5, 0.25, 0.0])
    # the reference model's own running cost of 100 per resident-year shifts the curve
    np.testing.assert_allclose(prob_saving_curve(d, 100.0, [0, 150]), [0.75, 0.5])
    assert np.isnan(prob_below(np.array([np.nan, np.nan]))[0])


def test_break_even_running_cost() -> None:
    reps = np.linspace(-500.0, 100.0, 601)  # NHS cost difference replicates
    est, low, high = break_even_running_cost(-200.0, reps, reference_scheme=50.0)
    # s_BE = 50 - (-200) = 250; percentiles of 50 - reps (range -50..550) at 2.5/97.5%
    assert est == 250.0
    np.testing.assert_allclose([low, high], [-50 + 0.025 * 600, 550 - 0.025 * 600])
