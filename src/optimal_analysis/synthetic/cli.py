"""The ``optimal-synth`` command: write a seeded synthetic dataset (``python -m
optimal_analysis.synthetic`` too)."""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optimal_analysis.synthetic.generate import DEFAULT_SEED, TABLES, generate
from optimal_analysis.synthetic.history import add_scheme_history
from optimal_analysis.synthetic.population import region_names
from optimal_analysis.synthetic.write import calibration_summary, write_dataset

__all__ = ["main"]

log = logging.getLogger("optimal_analysis.synthetic")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="optimal-synth",
        description="Write a seeded synthetic care home dataset in the data contract's layout.",
    )
    p.add_argument(
        "--out", required=True, type=Path, help="output folder (one sub-folder per region)"
    )
    p.add_argument("--residents", type=int, default=240, help="residents (default 240)")
    p.add_argument("--homes", type=int, default=12, help="care homes (default 12)")
    p.add_argument(
        "--regions", type=int, default=None,
        help="number of regions (default 3 for <= 12 homes, else the 7 NHS England regions)",
    )  # fmt: skip
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format")
    p.add_argument("--start", default="2014-04-01", help="study start, ISO date")
    p.add_argument("--months", type=int, default=12, help="months in the study window")
    p.add_argument(
        "--late-entry", type=float, default=None, metavar="SHARE",
        help="share of residents entering during the window (default 0.20, one year's turnover); "
             "0.70 keeps the beds about as full over 60 months as at the start",
    )  # fmt: skip
    p.add_argument(
        "--mixed-models", action="store_true", default=None,
        help="mix care models across the homes of each region (default when homes > 12)",
    )  # fmt: skip
    p.add_argument("--home-sd", type=float, default=0.2, help="SD of log care-home effect")
    p.add_argument("--overdispersion", type=float, default=0.5, help="variance of gamma frailty")
    p.add_argument(
        "--diagnoses", action="store_true",
        help="also write admissions.primary_diagnosis and residents.place_of_death",
    )  # fmt: skip
    p.add_argument("--summary", action="store_true", help="log the calibration summary")
    p.add_argument("--scheme", default=None, metavar="CARE_MODEL",
                   help="write a care_model_history: some reference-model homes switch to "
                        "CARE_MODEL (synthetic.history; truth.json key 'scheme')")
    p.add_argument("--scheme-rate-ratio", type=float, default=0.8,
                   help="causal rate ratio of emergency admission after switching (0.8)")
    p.add_argument("--scheme-transient-sd", type=float, default=0.0,
                   help="SD of a first-year transient home effect (0)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``optimal-synth``); returns the exit status."""
    args = _parser().parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    log.setLevel(logging.INFO)
    regions = None if args.regions is None else region_names(args.regions, args.homes)
    if args.late_entry is not None and not 0 <= args.late_entry <= 1:
        _parser().error(f"--late-entry must be in [0, 1], got {args.late_entry}")
    effects = (
        None
        if args.late_entry is None
        else {"population": {"p_enter_during_window": args.late_entry}}
    )
    t = time.perf_counter()
    ds = generate(
        n_residents=args.residents,
        n_homes=args.homes,
        regions=regions,
        mixed_models=args.mixed_models,
        start=args.start,
        months=args.months,
        seed=args.seed,
        home_sd=args.home_sd,
        overdispersion=args.overdispersion,
        diagnoses=args.diagnoses,
        effects=effects,
    )
    if args.scheme:
        ds = add_scheme_history(ds, np.random.default_rng([args.seed, 1]),
                                scheme_model=args.scheme, rate_ratio=args.scheme_rate_ratio,
                                transient_sd=args.scheme_transient_sd)
    n_rows = {k: sum(len(t_[k]) for t_ in ds.regions.values()) for k in TABLES}
    log.info("generated %s in %.2f s: %s", list(ds.regions), time.perf_counter() - t, n_rows)
    t = time.perf_counter()
    paths = write_dataset(ds, args.out, fmt=args.format)
    log.info("wrote %d files under %s in %.2f s", len(paths), args.out, time.perf_counter() - t)
    if args.summary:
        log.info("calibration:\n%s", calibration_summary(ds).to_string(index=False))
    return 0
