"""Coverage of the cost-per-resident-year intervals with few care homes (not in CI).

Generator: G care homes of 5 + Poisson(20) residents, each followed U(0.3, 1) years;
a home's cost rate is log-normal with mean ``--mean`` GBP per resident-year and log-SD
``--sdlog`` (skewed home-level costs); its cost is rate × its person-years × a
resident-level gamma noise (CV 0.5). The target is the mean cost per resident-year
(``--mean``), which the combined ratio sum(C) / sum(PY) estimates. Intervals (95%):

- ``percentile``: percentile bootstrap resampling homes (costs.csv conf_low/conf_high);
- ``t_linear``: R ± t(G−1) se, linearised variance G/(G−1) Σ z_g² (costs.csv *_small);
- ``t_log``: the same on log R.

Run: ``PYTHONPATH=src python benchmarks/sim_costs_coverage.py [--sims 2000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from optimal_analysis.stats.bootstrap import (
    cluster_bootstrap_ratio,
    percentile_interval,
    ratio_t_interval,
)


def simulate_homes(g: int, rng: np.random.Generator, mean: float, sdlog: float):
    """Per-home (cost, person-years) of one care model with ``g`` homes."""
    residents = 5 + rng.poisson(20, g)
    py = np.array([rng.uniform(0.3, 1.0, n).sum() for n in residents])
    rate = mean * np.exp(rng.normal(-sdlog**2 / 2, sdlog, g))
    noise = rng.gamma(4.0, 0.25, g)  # mean 1
    return rate * py * noise, py


def coverage(g: int, sims: int, rng, mean: float, sdlog: float, boot: int = 999):
    hit = {"percentile": 0, "t_linear": 0, "t_log": 0}
    width = {k: 0.0 for k in hit}
    for _ in range(sims):
        c, py = simulate_homes(g, rng, mean, sdlog)
        lo_b, hi_b = percentile_interval(cluster_bootstrap_ratio(c, py, replicates=boot, rng=rng))
        _, lo_t, hi_t, _ = ratio_t_interval(c, py)
        _, lo_l, hi_l, _ = ratio_t_interval(c, py, log_scale=True)
        for k, (lo, hi) in {"percentile": (lo_b[0], hi_b[0]), "t_linear": (lo_t[0], hi_t[0]),
                            "t_log": (lo_l[0], hi_l[0])}.items():
            hit[k] += lo <= mean <= hi
            width[k] += (hi - lo) / sims
    return {k: (hit[k] / sims, width[k]) for k in hit}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", type=int, default=2000)
    ap.add_argument("--mean", type=float, default=2000.0)
    ap.add_argument("--sdlog", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=20261128)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    start = time.perf_counter()
    print(f"sims {a.sims}, mean {a.mean} GBP per resident-year, home log-SD {a.sdlog}; "
          "coverage (mean width) of 95% intervals")
    print("| homes | percentile bootstrap | t(G-1) linear | t(G-1) log |")
    print("|---|---|---|---|")
    for g in (3, 5, 8, 12, 30):
        r = coverage(g, a.sims, rng, a.mean, a.sdlog)
        print(f"| {g} | " + " | ".join(f"{r[k][0]:.3f} ({r[k][1]:.0f})"
                                       for k in ("percentile", "t_linear", "t_log")) + " |")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
