"""Shared fixtures: a small synthetic dataset and one full workflow run on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Settings that keep the end-to-end run quick without changing what runs.
FAST_CONFIG = ["bootstrap_replicates=200", "wild_bootstrap_replicates=199"]


def run_workflow(data_dir: Path, results_dir: Path, *extra_config: str,
                 targets: tuple[str, ...] = (),
                 cores: int = 1, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the Snakemake workflow from the repository root; return the finished process."""
    # --nolock: tests run Snakemake side by side from the repository root, each into its own
    # results folder. Snakemake deletes the whole .snakemake/locks folder when any run ends
    # (persistence/file.py, _delete_locks), so a run taking its lock at that moment fails
    # with FileNotFoundError; separate results folders need no lock.
    cmd = [sys.executable, "-m", "snakemake", "--nolock", "--cores", str(cores), "--quiet", "rules",
           "--config", f"data_dir={data_dir}", f"results_dir={results_dir}", *FAST_CONFIG,
           *extra_config]
    if targets:
        cmd += ["--", *targets]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=1200)
    if check and proc.returncode != 0:
        raise AssertionError(f"workflow failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
                             f"{proc.stderr[-6000:]}")
    return proc


def make_synthetic(out: Path, **kwargs) -> Path:
    """Write a synthetic dataset (CSV) to ``out`` and return it."""
    from optimal_analysis.synthetic import generate
    from optimal_analysis.synthetic.write import write_dataset

    write_dataset(generate(**kwargs), out)
    return out


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory) -> Path:
    """A small OPTIMAL-shaped synthetic dataset (3 regions, 12 homes, 300 residents)."""
    return make_synthetic(tmp_path_factory.mktemp("synthetic"), n_residents=300, n_homes=12,
                          seed=7)


@pytest.fixture(scope="session")
def synthetic_results(synthetic_data, tmp_path_factory) -> Path:
    """The results folder of one complete workflow run on ``synthetic_data``."""
    results = tmp_path_factory.mktemp("results")
    run_workflow(synthetic_data, results, cores=2)
    return results


@pytest.fixture(autouse=True)
def _outcome_registry_restored():
    """Each test sees the shipped outcome registry: a test whose cohort registers the derived
    outcomes of a code list (``outcomes.register_derived``) must not change the next test's."""
    from optimal_analysis import outcomes

    before = dict(outcomes.OUTCOMES)
    yield
    outcomes.OUTCOMES.clear()
    outcomes.OUTCOMES.update(before)
