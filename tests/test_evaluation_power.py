"""Power of a before-after evaluation with comparison homes: formula, simulation, estimation."""

import math

import numpy as np
import pytest
from scipy import stats

from optimal_analysis.stats.did_power import (
    Components,
    homes_needed,
    log_rr_variance,
    mdrr,
    simulate_power,
    variance_components,
)


def test_homes_needed_by_hand():
    # Poisson counts (phi 1), no home x period variation, 1 event per person-year, 100
    # person-years per home and period: noise = 1/100. For RR 0.8:
    #   a = 0.01 (1 + 1/0.8) = 0.0225, c = 0.02, share 1/2: a/s + c/(1-s) = 0.085;
    #   z = 1.959964 + 0.841621 = 2.801585, z^2 = 7.848879; log(0.8)^2 = 0.0497929;
    #   m = 7.848879 x 0.085 / 0.0497929 = 13.399 -> 14 homes.
    c = Components(rate=1.0, phi=1.0, sigma_w2=0.0, sigma_b2=0.0, person_years=100.0, n_homes=0)
    assert homes_needed(c, 0.8) == 14
    assert log_rr_variance(c, 0.8, 7, 7) == pytest.approx(0.0225 / 7 + 0.02 / 7)


def test_mdrr_solves_its_equation_and_inverts_homes_needed():
    c = Components(rate=1.2, phi=1.5, sigma_w2=0.02, sigma_b2=0.15, person_years=30.0, n_homes=0)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    for m in (12, 40, 200):
        rr = mdrr(c, m / 2, m / 2)
        assert -math.log(rr) == pytest.approx(z * math.sqrt(log_rr_variance(c, rr, m / 2, m / 2)),
                                              rel=1e-9)
    m = homes_needed(c, 0.8)
    # m homes detect a fall to 0.8 (their MDRR is at least 0.8); two fewer do not
    assert mdrr(c, (m - 2) / 2, (m - 2) / 2) < 0.8 <= mdrr(c, m / 2, m / 2)
    # icc: sigma_b^2 / (sigma_b^2 + sigma_w^2 + phi / (rate x person-years)) = 0.15 / 0.2117
    assert c.icc == pytest.approx(0.15 / (0.15 + 0.02 + 1.5 / 36))


def test_simulated_power_matches_the_formula():
    c = Components(rate=1.2, phi=1.5, sigma_w2=0.02, sigma_b2=0.15, person_years=30.0, n_homes=0)
    m = homes_needed(c, 0.8)
    assert m == 82
    got = simulate_power(c, 0.8, m // 2, m - m // 2, np.random.default_rng(7), n_sim=1000)
    assert got == pytest.approx(0.80, abs=0.04)  # 1,000 replicates: SE 0.013
    # Half the homes: the formula's power at 41 homes is Phi(log(0.8)/sd - z_.975) ~ 0.51
    sd = math.sqrt(log_rr_variance(c, 0.8, 20, 21))
    expected = stats.norm.cdf(-math.log(0.8) / sd - stats.norm.ppf(0.975))
    got = simulate_power(c, 0.8, 20, 21, np.random.default_rng(8), n_sim=1000)
    assert got == pytest.approx(expected, abs=0.05)


def test_variance_components_recovered_from_a_monthly_panel():
    rng = np.random.default_rng(3)
    n_homes, n_months = 3000, 24
    home = np.repeat(np.arange(n_homes), n_months)
    month = np.tile(np.arange(n_months), n_homes)
    b = rng.normal(0, math.sqrt(0.15), n_homes)
    w = rng.normal(0, math.sqrt(0.02), (n_homes, 2))
    t = np.full(home.size, 30 / 12)
    mu = 1.2 * t * np.exp(b[home] + w[home, (month >= 12).astype(int)])
    y = rng.poisson(rng.gamma(mu / 0.5, 0.5))  # variance 1.5 x mean
    c = variance_components(y, t, home, month)
    assert c.phi == pytest.approx(1.5, rel=0.05)
    assert c.sigma_w2 == pytest.approx(0.02, abs=0.006)
    assert c.sigma_b2 == pytest.approx(0.15, abs=0.02)
    assert c.person_years == pytest.approx(30.0)
    assert c.n_homes == n_homes
