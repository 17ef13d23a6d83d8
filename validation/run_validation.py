"""Seeded simulation study of the pipeline's estimators; writes docs/validation.md.

``make validate`` runs it at full size (1,000 replicates x 2 designs, 2 workers). Each
replicate runs the package's functions on a fresh synthetic dataset (see
``validation/replicate.py``); the truth of each estimand comes from the generator
where it is the estimand, else from one very large dataset of the same design,
computed once per run. Same arguments give the same report (per-replicate seeds
come from ``SeedSequence(seed, spawn_key=(design, replicate))``; results are put in
replicate order whatever worker finished first).

Usage::

    python validation/run_validation.py [--replicates 1000] [--designs moderate few_homes]
        [--seed 20240601] [--workers 2] [--out docs/validation.md] [--raw results.csv]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import replicate as rep  # noqa: E402
from report import write_report  # noqa: E402

TRUTH_HOMES = 15_000  # 300,000 residents at 20 per home


def _quiet() -> None:
    """Replicates are many and small: the stages' warnings (few homes, ...) are expected."""
    logging.getLogger("optimal_analysis").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")


def _task(args: tuple) -> pd.DataFrame:  # type: ignore[type-arg]
    design, seed, d_index, r, wild, cost = args
    _quiet()
    t0 = time.perf_counter()
    try:
        out = rep.run_replicate(design, seed=seed, design_index=d_index, replicate=r,
                                wild_replicates=wild, cost_replicates=cost)
        error = ""
    except Exception as exc:  # noqa: BLE001 - a failed replicate is counted, not fatal
        out, error = pd.DataFrame({"design": [design.name], "replicate": [r]}), repr(exc)
    return out.assign(error=error, seconds=time.perf_counter() - t0)


def wilson(k: np.ndarray, n: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion ``k / n``.

    ``(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``, ``z`` the normal quantile.
    """
    from scipy import stats

    k, n = np.asarray(k, float), np.asarray(n, float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def summarise(raw: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Bias, SE ratio and coverage per design x estimand x term.

    On the estimand's scale (log for ratios): ``bias`` = mean(estimate) - truth,
    ``emp_sd`` = SD over replicates, ``se_ratio`` = mean(reported SE) / emp_sd;
    ``cover_<kind>`` = share of replicates whose interval holds the truth, with its
    95% Wilson interval, over the replicates that report that interval (``n_<kind>``).
    """
    d = raw.merge(truth, on=["design", "estimand", "term"], how="left")
    log = d["estimand"].map({k: v[1] == "log" for k, v in rep.ESTIMANDS.items()}).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        d["est_s"] = np.where(log, np.log(d["estimate"]), d["estimate"])
        d["truth_s"] = np.where(log, np.log(d["truth"]), d["truth"])
    kinds = list(rep.INTERVALS)
    for k in kinds:
        lo, hi = d[f"low_{k}"], d[f"high_{k}"]
        ok = lo.notna() & hi.notna()
        d[f"has_{k}"] = ok
        d[f"hit_{k}"] = ok & (lo <= d["truth"]) & (d["truth"] <= hi)
    d["valid"] = np.isfinite(d["est_s"])
    g = d[d["valid"]].groupby(["design", "estimand", "term"], sort=False)
    out = g.agg(n=("est_s", "size"), truth=("truth", "first"), truth_se=("truth_se", "first"),
                check=("check", "first"), mean_estimate=("estimate", "mean"),
                mean_s=("est_s", "mean"), truth_s=("truth_s", "first"),
                emp_sd=("est_s", "std"), mean_se=("std_error", "mean"),
                **{f"n_{k}": (f"has_{k}", "sum") for k in kinds},
                **{f"hits_{k}": (f"hit_{k}", "sum") for k in kinds}).reset_index()
    out["bias"] = out["mean_s"] - out["truth_s"]
    out["mc_se_bias"] = out["emp_sd"] / np.sqrt(out["n"])
    out["se_ratio"] = out["mean_se"] / out["emp_sd"]
    for k in kinds:
        n = out[f"n_{k}"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"cover_{k}"] = np.where(n > 0, out[f"hits_{k}"] / n, np.nan)
        low, high = wilson(out[f"hits_{k}"].to_numpy(), n)
        out[f"cover_{k}_low"], out[f"cover_{k}_high"] = low, high
    order = {e: i for i, e in enumerate(rep.ESTIMANDS)}
    return out.sort_values(["design", "estimand"], key=lambda s: s.map(order)
                           if s.name == "estimand" else s, kind="stable", ignore_index=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replicates", type=int, default=1000)
    p.add_argument("--designs", nargs="+", default=list(rep.DESIGNS),
                   choices=[*rep.DESIGNS, "smoke"])
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=rep.REPO / "docs" / "validation.md")
    p.add_argument("--raw", type=Path, default=None, help="also write replicate-level rows (CSV)")
    p.add_argument("--truth-homes", type=int, default=TRUTH_HOMES,
                   help="homes of the large truth dataset (residents per home as the design)")
    p.add_argument("--wild-replicates", type=int, default=199,
                   help="wild cluster bootstrap replicates (few-home comparisons)")
    p.add_argument("--cost-replicates", type=int, default=200,
                   help="care-home bootstrap replicates of the cost intervals")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # workers are the parallelism
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _quiet()
    designs = [rep.SMALL_DESIGN if n == "smoke" else rep.DESIGNS[n] for n in args.designs]
    index = {n: i for i, n in enumerate([*rep.DESIGNS, "smoke"])}
    t_start = time.perf_counter()
    truths = []
    for d in designs:  # sequential: one large dataset at a time (memory)
        t0 = time.perf_counter()
        ss = np.random.SeedSequence(args.seed, spawn_key=(index[d.name], 10**6))
        truths.append(rep.large_sample_truth(d, seed=int(ss.generate_state(1)[0]),
                                             n_homes=args.truth_homes))
        print(f"truth of {d.name}: {args.truth_homes} homes in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr, flush=True)
    truth = pd.concat(truths, ignore_index=True)
    tasks = [(d, args.seed, index[d.name], r, args.wild_replicates, args.cost_replicates)
             for d in designs for r in range(args.replicates)]
    t_rep = time.perf_counter()
    results = []
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), desc="replicates", disable=args.no_progress, file=sys.stderr)
    if args.workers > 1:
        with mp.get_context("spawn").Pool(args.workers) as pool:
            for res in pool.imap_unordered(_task, tasks, chunksize=2):
                results.append(res)
                bar.update()
    else:
        for t in tasks:
            results.append(_task(t))
            bar.update()
    bar.close()
    wall_rep = time.perf_counter() - t_rep
    raw = pd.concat(results, ignore_index=True).sort_values(["design", "replicate"], kind="stable")
    if args.raw:
        raw.to_csv(args.raw, index=False)
    ok = raw[raw["error"] == ""]
    summary = summarise(ok.drop(columns=["error", "seconds"]), truth)
    per_rep = raw.groupby(["design", "replicate"])["seconds"].first()
    timing = {
        "total_seconds": time.perf_counter() - t_start,
        "replicate_wall_seconds": wall_rep,
        "cpu_seconds_per_replicate": per_rep.groupby("design").mean().to_dict(),
        "workers": args.workers,
        "failed": raw.loc[raw["error"] != "", ["design", "replicate", "error"]]
        .drop_duplicates().to_dict("records"),
    }
    write_report(args.out, summary, designs=designs, args=args, timing=timing)
    print(f"wrote {args.out} in {timing['total_seconds']:.0f} s", file=sys.stderr)
    return summary


if __name__ == "__main__":
    main()
