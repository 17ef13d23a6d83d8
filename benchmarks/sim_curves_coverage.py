"""Coverage of the cumulative-incidence intervals when care homes share a frailty (not in CI).

Generator: care homes with a log-normal frailty (SD ``--home-sd``, default 0.4) on the
emergency-admission hazard (0.9 per year); death before admission 0.45 per year;
censoring uniform on 1..730 days; times rounded up to whole days (ties). Truth: the
Aalen–Johansen CIF of admission (and of death) at day 365 from one 300,000-resident
sample of the same generator (10,000 homes × 30). Each replicate draws ``G`` homes of
~25 residents and computes three 95% log-scale intervals at day 365:

- ``unclustered``: residents independent (IJ, as R's survfit without id);
- ``clustered``: IJ influence summed by care home (cumulative_incidence.csv);
- ``clustered_small``: clustered variance × G/(G−1), t(G−1) quantile on the log scale.

Run: ``PYTHONPATH=src python benchmarks/sim_curves_coverage.py [--replicates 200]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.stats.aalen_johansen import aalen_johansen

DAY = 365


def simulate(n_homes: int, per_home: int, rng: np.random.Generator, home_sd: float):
    """One cohort: (time, status, home) arrays; status 0 censored, 1 admission, 2 death."""
    sizes = rng.poisson(per_home - 5, n_homes) + 5
    home = np.repeat(np.arange(n_homes), sizes)
    frailty = np.exp(rng.normal(0.0, home_sd, n_homes))[home]
    n = home.size
    t_adm = np.ceil(rng.exponential(365 / (0.9 * frailty)))
    t_death = np.ceil(rng.exponential(365 / 0.45, n))
    t_cens = rng.integers(1, 731, n).astype(float)
    t = np.minimum(np.minimum(t_adm, t_death), t_cens)
    status = np.where(t_adm == t, 1, np.where(t_death == t, 2, 0))  # ties: event before censoring
    return t, status, home


def at_day(aj: pd.DataFrame, cause: int, day: int) -> pd.Series:
    rows = aj[(aj["cause"] == cause) & (aj["time"] <= day)]
    return rows.iloc[-1]


def coverage(n_homes: int, replicates: int, truth: dict[int, float], rng, home_sd: float):
    hits = {(c, m): 0 for c in (1, 2) for m in ("unclustered", "clustered", "clustered_small")}
    widths = {k: [] for k in hits}
    for _ in range(replicates):
        t, status, home = simulate(n_homes, 25, rng, home_sd)
        plain = aalen_johansen(t, status)
        clus = aalen_johansen(t, status, cluster=home)
        g = np.unique(home).size
        q = stats.t.ppf(0.975, g - 1)
        for c in (1, 2):
            p, r = at_day(plain, c, DAY), at_day(clus, c, DAY)
            se_small = r["std_error"] * np.sqrt(g / (g - 1))
            lo_s = r["estimate"] * np.exp(-q * se_small / r["estimate"])
            hi_s = min(1.0, r["estimate"] * np.exp(q * se_small / r["estimate"]))
            for m, (lo, hi) in {"unclustered": (p["conf_low"], p["conf_high"]),
                                "clustered": (r["conf_low"], r["conf_high"]),
                                "clustered_small": (lo_s, hi_s)}.items():
                hits[(c, m)] += lo <= truth[c] <= hi
                widths[(c, m)].append(hi - lo)
    return {k: (v / replicates, float(np.mean(widths[k]))) for k, v in hits.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--home-sd", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=20261128)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    start = time.perf_counter()
    t, status, _ = simulate(10_000, 30, rng, a.home_sd)
    big = aalen_johansen(t, status)
    truth = {c: float(at_day(big, c, DAY)["estimate"]) for c in (1, 2)}
    print(f"truth at day {DAY} ({t.size} residents): admission {truth[1]:.4f}, "
          f"death {truth[2]:.4f}")
    print(f"replicates {a.replicates}, home SD {a.home_sd}, ~25 residents per home; "
          "coverage (mean width) of 95% intervals; MC SE of a coverage near 0.95 "
          f"is {np.sqrt(0.95 * 0.05 / a.replicates):.3f}")
    print("| homes | event | unclustered | clustered | clustered + G/(G-1), t(G-1) |")
    print("|---|---|---|---|---|")
    for g in (60, 12):
        res = coverage(g, a.replicates, truth, rng, a.home_sd)
        for c, name in ((1, "emergency_admission"), (2, "death")):
            cells = " | ".join(f"{res[(c, m)][0]:.3f} ({res[(c, m)][1]:.3f})"
                               for m in ("unclustered", "clustered", "clustered_small"))
            print(f"| {g} | {name} | {cells} |")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
