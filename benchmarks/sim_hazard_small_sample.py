"""Coverage of small-sample intervals for clustered Cox and Fine–Gray hazard ratios.

Not run in CI. Run from the repository root:

    PYTHONPATH=src .venv/bin/python benchmarks/sim_hazard_small_sample.py [replicates]

Generator (seeded): G care homes (12 or 60) of 30 residents, half the homes
(alternating) in the treated care model; a log-normal frailty shared by a home
(log frailty ~ N(0, 0.4^2)) multiplies the admission hazard (1/300 per day,
times exp(beta) when treated; beta = 0 "null" or log 0.7 "effect"); death
competes at 1/500 per day; administrative censoring uniform on 180–730 days;
times in whole days (ties). The truth of each model is its estimate on one very
large sample of the same generator (4,000 homes, 120,000 residents): the
population-averaged coefficient the clustered fit targets (0 under the null).

Per replicate, for the treated coefficient of the Cox (cause-specific) and the
Fine–Gray model (cluster = home), 95% intervals:

- ``normal``: robust sandwich SE, normal quantile (the contract's columns);
- ``t_cr1``: robust SE * sqrt(G/(G-1)), t(G-1) quantile;
- ``jackknife``: delete-one-home jackknife variance (G-1)/G sum (b_(g) - b_bar)^2
  from exact refits, t(G-1) quantile;
- ``jackknife_1step``: the same with b_(g) from one Newton step from the full fit;

and, under the null, the rejection rate at 5% of the t(G-1) test and of the wild
cluster score bootstrap (Webb weights, 399 replicates). Prints a table and
writes ``benchmarks/sim_hazard_small_sample.csv``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.stats.cox import (
    cox_score_information,
    fine_gray_score_information,
    fit_cox,
    fit_fine_gray,
)
from optimal_analysis.survival.inference import jackknife_cov, one_step_jackknife_cov, wild_p

SEED = 20261128
PER_HOME = 30


def simulate(rng: np.random.Generator, n_homes: int, beta: float):
    home = np.repeat(np.arange(n_homes), PER_HOME)
    treated = (home % 2 == 1).astype(float)
    frailty = np.exp(rng.normal(0, 0.4, n_homes))[home]
    n = home.size
    t_adm = rng.exponential(300 / (frailty * np.exp(beta * treated)))
    t_death = rng.exponential(500, n)
    cens = rng.uniform(180, 730, n)
    t = np.ceil(np.minimum.reduce([t_adm, t_death, cens]))
    status = np.select([t_adm <= np.minimum(t_death, cens), t_death <= cens], [1, 2], 0)
    return t, status, treated[:, None], home


def fit(model: str, t, status, x, cluster=None):
    if model == "cox":
        return fit_cox(t, status == 1, x, cluster=cluster)
    return fit_fine_gray(t, status, x, cluster=cluster)


def score_info(model, t, status, x, beta):
    if model == "cox":
        return cox_score_information(t, status == 1, x, beta)
    return fine_gray_score_information(t, status, x, beta)


def one(rng, model, n_homes, beta, truth, replicates_wild):
    t, status, x, home = simulate(rng, n_homes, beta)
    f = fit(model, t, status, x, home)
    b, se = f.coef[0], np.sqrt(f.robust_cov[0, 0])
    g = n_homes
    q_t = stats.t.ppf(0.975, g - 1)
    q_n = stats.norm.ppf(0.975)
    jk = jackknife_cov(lambda keep: fit(model, t[keep], status[keep], x[keep]).coef, home)
    jk1 = one_step_jackknife_cov(
        lambda keep: score_info(model, t[keep], status[keep], x[keep], f.coef), home
    )
    out = {
        "normal": abs(b - truth) <= q_n * se,
        "t_cr1": abs(b - truth) <= q_t * se * np.sqrt(g / (g - 1)),
        "jackknife": abs(b - truth) <= q_t * np.sqrt(jk[0, 0]),
        "jackknife_1step": abs(b - truth) <= q_t * np.sqrt(jk1[0, 0]),
    }
    if beta == 0:
        out["reject_t_cr1"] = 2 * stats.t.sf(abs(b) / (se * np.sqrt(g / (g - 1))), g - 1) < 0.05
        out["reject_jackknife"] = 2 * stats.t.sf(abs(b) / np.sqrt(jk[0, 0]), g - 1) < 0.05
        p = wild_p(model, t, status, x, home, 0, rng=rng, replicates=replicates_wild)
        out["reject_wild"] = p < 0.05
    return out


def main(replicates: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    rows = []
    for beta_name, beta in [("null", 0.0), ("effect", np.log(0.7))]:
        big = simulate(rng, 4000, beta)
        for model in ("cox", "fine_gray"):
            truth = 0.0 if beta == 0 else float(fit(model, *big[:3]).coef[0])
            for n_homes in (12, 60):
                start = time.perf_counter()
                res = pd.DataFrame(
                    [one(rng, model, n_homes, beta, truth, 399) for _ in range(replicates)]
                )
                row = {"scenario": beta_name, "model": model, "homes": n_homes, "truth": truth}
                row.update(res.mean().to_dict())
                row["seconds"] = round(time.perf_counter() - start, 1)
                rows.append(row)
                print(pd.DataFrame([row]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(Path(__file__).with_suffix(".csv"), index=False)
    return table


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200).to_string(index=False))
