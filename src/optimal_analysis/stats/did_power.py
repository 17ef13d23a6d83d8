"""Power of a before-and-after evaluation against comparison homes (difference in differences).

Model for planning. Home :math:`i`, period :math:`p \\in \\{1, 2\\}` (before,
after; each :math:`P` months), :math:`y` person-years per home and period:

.. math::

    E[Y_{ip}] = \\lambda\\, y\\, e^{b_i + w_{ip}}\\,\\mathrm{RR}^{D_{ip}},\\qquad
    \\operatorname{Var}(Y_{ip} \\mid b, w) = \\phi\\,E[Y_{ip} \\mid b, w],

:math:`b_i` a lasting home effect (variance :math:`\\sigma_b^2`), :math:`w_{ip}`
a home × period deviation (variance :math:`\\sigma_w^2`), :math:`\\phi` the
overdispersion of counts within a home and period. A difference in differences
with home effects removes :math:`b_i`; by the delta method the log rate ratio
has variance

.. math::

    V(\\mathrm{RR}) = \\frac{2\\sigma_w^2 + \\frac{\\phi}{\\lambda y}(1 + \\mathrm{RR}^{-1})}{m_s}
                 + \\frac{2\\sigma_w^2 + \\frac{2\\phi}{\\lambda y}}{m_c}

with :math:`m_s` switching and :math:`m_c` comparison homes (Hayes & Bennett
1999, *Int J Epidemiol* 28:319–326, for rates in cluster designs, here for the
change within homes). The minimum detectable rate ratio (a fall) at two-sided
level :math:`\\alpha` and power :math:`1-\\beta` solves
:math:`-\\log\\mathrm{RR} = (z_{1-\\alpha/2} + z_{1-\\beta})\\sqrt{V(\\mathrm{RR})}`;
the homes needed for a given RR (share :math:`s` switching) are
:math:`m = (z_{1-\\alpha/2}+z_{1-\\beta})^2 [a/s + c/(1-s)] / (\\log\\mathrm{RR})^2`
with :math:`a, c` the numerators above.

The intracluster correlation reported is the correlation of a home's log
rates in two periods, :math:`\\rho = \\sigma_b^2 / (\\sigma_b^2 + \\sigma_w^2 +
\\phi/(\\lambda y))`: the share of between-home variation that a before-after
design with comparison homes removes (:math:`V \\propto 1-\\rho` for equal
:math:`\\phi/(\\lambda y)`).

:func:`variance_components` estimates :math:`\\lambda, \\phi, \\sigma_w^2,
\\sigma_b^2` from a home × month panel by moments (see its docstring);
:func:`simulate_power` checks the formula by simulating the model and
fitting the Poisson difference in differences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from optimal_analysis.stats.fepois import fit_fepois

__all__ = ["Components", "homes_needed", "mdrr", "simulate_power", "variance_components"]


@dataclass(frozen=True)
class Components:
    """Rate per person-year, overdispersion, home x period and lasting home variances."""

    rate: float
    phi: float
    sigma_w2: float
    sigma_b2: float
    person_years: float  # per home and period (mean)
    n_homes: int

    @property
    def icc(self) -> float:
        """Correlation of a home's log rates in two periods (see the module docstring)."""
        noise = self.phi / (self.rate * self.person_years)
        return self.sigma_b2 / (self.sigma_b2 + self.sigma_w2 + noise)


def _z(alpha: float, power: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def _numerators(c: Components, rr: float) -> tuple[float, float]:
    noise = c.phi / (c.rate * c.person_years)
    return 2 * c.sigma_w2 + noise * (1 + 1 / rr), 2 * c.sigma_w2 + 2 * noise


def log_rr_variance(c: Components, rr: float, n_switch: float, n_comparison: float) -> float:
    """V(RR) of the module docstring."""
    a, b = _numerators(c, rr)
    return a / n_switch + b / n_comparison


def mdrr(c: Components, n_switch: float, n_comparison: float, *, alpha: float = 0.05,
         power: float = 0.8) -> float:
    """Smallest detectable fall as a rate ratio (< 1), by fixed-point iteration on V(RR).

    NaN when the homes are too few to detect any fall short of (nearly) all events.
    """
    z = _z(alpha, power)
    rr = math.exp(-z * math.sqrt(log_rr_variance(c, 1.0, n_switch, n_comparison)))
    for _ in range(100):
        if not rr > 1e-6:  # no fall short of (nearly) every event is detectable
            return float("nan")
        new = math.exp(-z * math.sqrt(log_rr_variance(c, rr, n_switch, n_comparison)))
        if abs(new - rr) < 1e-12:
            break
        rr = new
    return rr


def homes_needed(c: Components, rr: float, *, share_switching: float = 0.5,
                 alpha: float = 0.05, power: float = 0.8) -> int:
    """Total homes (switching + comparison) to detect ``rr`` (rounded up)."""
    a, b = _numerators(c, rr)
    s = share_switching
    m = _z(alpha, power) ** 2 * (a / s + b / (1 - s)) / math.log(rr) ** 2
    return int(math.ceil(m - 1e-9))


def variance_components(y: npt.ArrayLike, person_years: npt.ArrayLike, home: npt.ArrayLike,
                        month: npt.ArrayLike) -> Components:
    """Moment estimates of the planning model from a home × month panel without switching.

    The months are split into two halves (periods 1, 2).

    * :math:`\\phi`: Pearson dispersion of the monthly counts around a Poisson
      fit with home × period and month effects (variation within a home and
      period beyond Poisson).
    * :math:`E_{ip} = \\hat\\lambda_p T_{ip}` with period rates
      :math:`\\hat\\lambda_p`; :math:`D_i = \\log\\frac{Y_{i2}+\\frac12}{E_{i2}} -
      \\log\\frac{Y_{i1}+\\frac12}{E_{i1}}`; :math:`\\hat\\sigma_w^2 = \\max\\{0,
      [\\widehat{\\operatorname{Var}}(D)
      - \\phi\\,\\overline{(1/\\tilde E_{i1} + 1/\\tilde E_{i2})}]/2\\}`,
      :math:`\\tilde E_{ip} = E_{ip} (Y_{i1}+Y_{i2}+\\frac12)/(E_{i1}+E_{i2})` (the home's
      own expected count: the sampling variance of :math:`\\log Y_{ip}` is
      :math:`\\phi/\\tilde E_{ip}`).
    * :math:`\\hat\\sigma_b^2 = \\max\\{0, \\overline{\\widehat{\\operatorname{Var}}_i
      \\log\\frac{Y_{ip}+\\frac12}{E_{ip}}} - \\phi\\,\\overline{1/E_{ip}} -
      \\hat\\sigma_w^2\\}` (with :math:`\\tilde E` in place of :math:`E` in the noise term).

    Homes with person-time in both halves only.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(person_years, dtype=float)
    home = np.unique(np.asarray(home), return_inverse=True)[1].ravel()
    month = np.unique(np.asarray(month), return_inverse=True)[1].ravel()
    half = (month >= (month.max() + 1) / 2).astype(np.int64)
    n_h = int(home.max()) + 1
    yp = np.zeros((n_h, 2))
    tp = np.zeros((n_h, 2))
    np.add.at(yp, (home, half), y)
    np.add.at(tp, (home, half), t)
    both = (tp > 0).all(axis=1)
    yp, tp = yp[both], tp[both]
    rate_p = yp.sum(axis=0) / tp.sum(axis=0)
    if not np.all(rate_p > 0):
        raise ValueError("no events in one half of the months: nothing to estimate")
    keep = np.asarray(both)[home]
    # Month dummies except the first month of each half (the halves are in the absorbed groups).
    first2 = int(month[half == 1].min())
    cols = [k for k in range(1, int(month.max()) + 1) if k != first2]
    md = (month[keep][:, None] == np.array(cols)[None, :]).astype(float)
    fit = fit_fepois(y[keep], np.log(t[keep]), md, [f"month[{k}]" for k in cols],
                     absorb=home[keep] * 2 + half[keep], cluster=home[keep])
    phi = max(fit.pearson_dispersion, 1.0)
    e = tp * rate_p
    lr = np.log((yp + 0.5) / e)
    d = lr[:, 1] - lr[:, 0]
    # Sampling variance of log Y_ip is phi / (home's own expected count).
    own = e * ((yp.sum(axis=1) + 0.5) / e.sum(axis=1))[:, None]
    sigma_w2 = max(0.0, (np.var(d, ddof=1) - phi * np.mean(1 / own[:, 0] + 1 / own[:, 1])) / 2)
    sigma_b2 = max(0.0, float(np.mean(np.var(lr, axis=0, ddof=1)) - phi * np.mean(1 / own)
                              - sigma_w2))
    return Components(rate=float(yp.sum() / tp.sum()), phi=float(phi), sigma_w2=float(sigma_w2),
                      sigma_b2=float(sigma_b2), person_years=float(tp.mean()),
                      n_homes=int(both.sum()))


def simulate_power(c: Components, rr: float, n_switch: int, n_comparison: int,
                   rng: np.random.Generator, *, n_sim: int = 1000, alpha: float = 0.05
                   ) -> float:
    """Share of simulated evaluations whose Poisson DiD rejects RR = 1 (two-sided z test).

    Each replicate draws :math:`b_i \\sim N(0, \\sigma_b^2)`, :math:`w_{ip} \\sim
    N(0, \\sigma_w^2)`, counts with variance :math:`\\phi` × mean (Poisson–gamma:
    gamma mean :math:`\\mu`, scale :math:`\\phi - 1`; Poisson when
    :math:`\\phi = 1`), and fits home and period effects plus the switch
    indicator by :func:`~optimal_analysis.stats.fepois.fit_fepois`
    (cluster-robust by home).
    """
    m = n_switch + n_comparison
    home = np.repeat(np.arange(m), 2)
    period = np.tile([0, 1], m)
    treated = ((home < n_switch) & (period == 1)).astype(float)
    t = np.full(2 * m, c.person_years)
    z = stats.norm.ppf(1 - alpha / 2)
    hits = 0
    for _ in range(n_sim):  # replicates, not rows: each is one vectorised fit
        b = rng.normal(0, math.sqrt(c.sigma_b2), m)
        w = rng.normal(0, math.sqrt(c.sigma_w2), 2 * m)
        mu = c.rate * t * np.exp(b[home] + w - (c.sigma_b2 + c.sigma_w2) / 2) * rr ** treated
        lam = mu if c.phi <= 1 else rng.gamma(mu / (c.phi - 1), c.phi - 1)
        y = rng.poisson(lam)
        if (y.reshape(m, 2).sum(axis=1) == 0).sum() > m - 2:
            continue
        fit = fit_fepois(y, np.log(t), treated[:, None], ["switch"], absorb=home, month=period,
                         cluster=home)
        hits += abs(fit.coef[0] / fit.std_error()[0]) > z
    return hits / n_sim
