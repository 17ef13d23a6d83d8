"""Coverage of 95% intervals for rate ratios with few care homes (not run in CI).

Seeded simulation that chose the small-sample method of rate_ratios.csv
(``conf_low_small`` etc., results contract "Small-sample intervals"). Designs:

* ``few``: 12 homes, care models ref / a / b with 5 / 4 / 3 homes (comparisons
  of 9 and 8 homes);
* ``moderate``: 60 homes, 20 / 20 / 20.

Residents per home 5 + Poisson(15); exposure U(0.2, 1) years; covariate age
(standardised, log rate ratio 0.2); baseline rate 1.5 per year; true log rate
ratios a: log 0.8, b: log 1.25; a log-normal care-home effect with SD ``sd_home``.
Outcomes: Poisson given the home effect (fitted by a Poisson GLM), and NB2 with
α = 0.5 given the home effect (fitted by the Poisson GLM and by NB2).
Methods, G = n_clusters (homes in the fitted model):
CR1 + normal, CR1 + t(G − 1), CR2 + Satterthwaite.

Run: ``PYTHONPATH=src python benchmarks/sim_rates_small_sample.py [replicates] [seed]``.
Prints coverage (both terms pooled: 2 intervals per replicate, so the printed
Monte Carlo SE, which treats them as independent, is slightly optimistic) and
mean df / CI widths (log scale).

Result (200 replicates, seed 20261128, 281 s on a shared 2-core machine), coverage
of 95% intervals, ranges over home SD 0.3 / 0.5 and the three outcome/model pairs:

=========  ============  ============  =================  ===================
design     CR1-normal    CR1-t(G-1)    CR2-Satterthwaite  mean CR2 df
=========  ============  ============  =================  ===================
few (12)   81.5–89.3%    86.0–92.3%    93.3–96.3%         5.1–5.3
moderate   91.3–93.5%    93.0–94.0%    93.8–95.3%         35.6–36.2
=========  ============  ============  =================  ===================

CR2-Satterthwaite is the only method near 95% with 12 homes; hence
``small_sample_method = "CR2-Satterthwaite"`` in rate_ratios.csv.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.rates.fit import fit_rate_model

TRUTH = {"a": np.log(0.8), "b": np.log(1.25)}
DESIGNS = {"few": (5, 4, 3), "moderate": (20, 20, 20)}


def simulate(
    rng: np.random.Generator, homes: tuple[int, int, int], sd_home: float, outcome: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One cohort: counts, design (intercept, a, b, age), log exposure, home codes."""
    arm_of_home = np.repeat([0, 1, 2], homes)
    size = 5 + rng.poisson(15, arm_of_home.size)
    home = np.repeat(np.arange(arm_of_home.size), size)
    arm = arm_of_home[home]
    age = rng.normal(size=home.size)
    x = np.column_stack([np.ones(home.size), arm == 1, arm == 2, age]).astype(float)
    log_years = np.log(rng.uniform(0.2, 1.0, home.size))
    effect = rng.normal(-(sd_home**2) / 2, sd_home, arm_of_home.size)[home]
    mu = np.exp(np.log(1.5) + x[:, 1] * TRUTH["a"] + x[:, 2] * TRUTH["b"] + 0.2 * age
                + effect + log_years)  # fmt: skip
    if outcome == "negbin":  # gamma mixing, variance mu + 0.5 mu^2
        mu = mu * rng.gamma(2.0, 0.5, mu.size)
    return rng.poisson(mu).astype(float), x, log_years, home


def intervals(fit, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """Lower/upper limits of the two care-model terms by method."""
    b = fit.params[1:3]
    se1 = np.sqrt(np.diag(fit.cov)[1:3])
    se2 = np.sqrt(np.diag(fit.cov_cr2)[1:3])
    z = stats.norm.ppf(1 - alpha / 2)
    t = stats.t.ppf(1 - alpha / 2, fit.n_clusters - 1)
    ts = stats.t.ppf(1 - alpha / 2, fit.df_cr2[1:3])
    return {
        "CR1-normal": (b - z * se1, b + z * se1),
        "CR1-t(G-1)": (b - t * se1, b + t * se1),
        "CR2-Satterthwaite": (b - ts * se2, b + ts * se2),
        "df": fit.df_cr2[1:3],
    }


def run(replicates: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = np.array([TRUTH["a"], TRUTH["b"]])
    rows = []
    for design, homes in DESIGNS.items():
        for sd_home in (0.3, 0.5):
            for outcome, model in [("poisson", "poisson"), ("negbin", "poisson"),
                                   ("negbin", "negbin")]:  # fmt: skip
                hits = {m: [] for m in ("CR1-normal", "CR1-t(G-1)", "CR2-Satterthwaite")}
                width = {m: [] for m in hits}
                dfs = []
                for _ in range(replicates):
                    y, x, off, home = simulate(rng, homes, sd_home, outcome)
                    fit = fit_rate_model(model, y, x, off, home, ["(Intercept)", "a", "b", "age"])
                    if not fit.converged:
                        continue
                    iv = intervals(fit)
                    dfs.append(iv.pop("df"))
                    for m, (lo, hi) in iv.items():
                        hits[m].append((lo <= truth) & (truth <= hi))
                        width[m].append(hi - lo)
                for m in hits:
                    h = np.concatenate(hits[m])
                    rows.append({
                        "design": design, "sd_home": sd_home, "outcome": outcome, "model": model,
                        "method": m, "coverage": h.mean(),
                        "mc_se": np.sqrt(h.mean() * (1 - h.mean()) / h.size),
                        "mean_width": np.mean(np.concatenate(width[m])),
                        "mean_df_cr2": np.mean(np.concatenate(dfs)), "n_intervals": h.size,
                    })  # fmt: skip
    return pd.DataFrame(rows)


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20261128
    start = time.perf_counter()
    table = run(reps, seed)
    pd.set_option("display.width", 160)
    print(table.round(4).to_string(index=False))
    print(f"{reps} replicates, seed {seed}, {time.perf_counter() - start:.0f} s")
