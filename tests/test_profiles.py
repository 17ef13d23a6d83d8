"""The Snakemake profiles: the SLURM and local profiles resolve the workflow in a dry run.

A dry run checks every profile key against Snakemake's options (an unknown or
misspelt key is an error), loads the executor plugin, evaluates every resource
and builds the whole job graph, without submitting anything; it needs neither
``sbatch`` nor a cluster.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, make_synthetic

PROFILES = REPO / "workflow" / "profiles"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--nolock"]  # see conftest.run_workflow


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    """Two regions, four homes, 40 residents: enough for every rule to have a job."""
    return make_synthetic(tmp_path_factory.mktemp("tiny"), n_residents=40, n_homes=4,
                          regions=("north", "south"), seed=3)


def _path_without_sbatch() -> str:
    """PATH with only the interpreter's folder and the system defaults (no SLURM client)."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.defpath])


def _dry_run(profile: str, data: Path, results: Path) -> subprocess.CompletedProcess[str]:
    cmd = [*SNAKEMAKE, "--profile", str(PROFILES / profile), "-n", "--config",
           f"data_dir={data}", f"results_dir={results}"]
    env = {**os.environ, "PATH": _path_without_sbatch(), "MPLBACKEND": "Agg"}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"dry run with profile {profile} failed:\n{proc.stderr[-4000:]}"
    return proc


def _job_counts(output: str) -> dict[str, int]:
    """The 'job count' table of a dry run: {rule: jobs}."""
    table = output.split("Job stats:", 1)[1].split("Reasons:", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def _resources(output: str, rule: str) -> str:
    """The resources line of the first job of ``rule`` in a dry run's output."""
    block = re.search(rf"^rule {rule}:\n(?:    .*\n)*?    resources: (.*)$", output, re.M)
    assert block, f"no job of rule {rule} in the dry run"
    return block.group(1)


def test_slurm_profile_resolves_the_workflow_without_sbatch(tiny_data, tmp_path):
    if shutil.which("sbatch", path=_path_without_sbatch()):
        pytest.skip("sbatch is on the system PATH; this test checks a machine without it")
    out = _dry_run("slurm", tiny_data, tmp_path / "results").stdout
    jobs = _job_counts(out)
    # one ingest job per region (the parallel part), then the whole analysis to the report
    assert jobs["ingest_region"] == 2
    assert {"combine_regions", "make_cohort", "costs", "rate_models", "report", "all"} <= set(jobs)
    # the profile's resources reach the jobs: per-rule memory for the heavy rules,
    # the defaults elsewhere, runtime in minutes, one CPU per task
    assert "mem_mb=5000" in _resources(out, "cohort_region")
    assert "mem_mb=2000" in _resources(out, "make_cohort")
    assert "mem_mb=2000" in _resources(out, "ingest_region")
    assert re.search(r"runtime=60\b", _resources(out, "ingest_region"))
    default = _resources(out, "check_input")
    assert "mem_mb=2000" in default and re.search(r"runtime=30\b", default)
    assert "cpus_per_task=1" in default


def test_local_profile_resolves_the_workflow(tiny_data, tmp_path):
    out = _dry_run("local", tiny_data, tmp_path / "results").stdout
    jobs = _job_counts(out)
    assert jobs["ingest_region"] == 2
    assert "report" in jobs


def _rule_names() -> set[str]:
    text = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    return set(re.findall(r"^rule (\w+):", text, re.M))


def test_slurm_profile_names_only_existing_rules_and_snakemake_v8_keys():
    profile = yaml.safe_load((PROFILES / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    unknown = set(profile["set-resources"]) - _rule_names()
    assert not unknown, f"set-resources names rules the workflow does not have: {sorted(unknown)}"
    # Snakemake 8+ profile layout: resources as mappings, not the v7 'name=value' lists
    assert isinstance(profile["default-resources"], dict)
    assert all(isinstance(v, dict) for v in profile["set-resources"].values())
    assert not {"cluster", "cluster-config", "slurm"} & set(profile), "Snakemake 7 keys"
