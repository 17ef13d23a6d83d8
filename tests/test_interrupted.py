"""Interrupted runs: a killed run, restarted, gives the results of an uninterrupted one.

Every output is written to a temporary name and renamed into place
(``optimal_analysis.io``), so a run killed at any moment leaves either the
complete previous file or none, never a partial file that a later step would
read as complete; Snakemake's own record of jobs that were running when the run
died makes ``--rerun-incomplete`` redo them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import FAST_CONFIG, REPO, make_synthetic, run_workflow
from tests.helpers import workflow_targets

SCRIPTS = REPO / "workflow" / "scripts"


# ---------------------------------------------------------------------------
# static guard: every workflow script writes through optimal_analysis.io


@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.py")), ids=lambda p: p.name)
def test_every_workflow_script_writes_atomically(script):
    """No direct writes: to_csv/to_parquet/open-for-writing/savefig only via io.atomic_path."""
    text = script.read_text(encoding="utf-8")
    direct = re.findall(r"\.to_(?:csv|parquet|excel|json|feather)\(|open\([^)]*[\"'][wa]b?[\"']"
                        r"|(?<!io)\.write_(?:text|bytes)\(", text)
    assert not direct, f"{script.name} writes directly: {direct}; use optimal_analysis.io"
    if "savefig(" in text:
        assert "atomic_path" in text, f"{script.name}: savefig must write to io.atomic_path(...)"
        for call in re.findall(r"savefig\(([^,)]+)", text):
            assert "output" not in call, f"{script.name}: savefig({call}) writes the target"


# ---------------------------------------------------------------------------
# a write killed half-way leaves the old file (or none), never a partial one


_WRITER = """
import sys
import numpy as np, pandas as pd
from optimal_analysis import io
n = 3_000_000
df = pd.DataFrame({"a": np.arange(n), "b": np.random.default_rng(1).random(n)})
io.write_csv(df, sys.argv[1])
"""


def test_write_killed_half_way_leaves_the_previous_file(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("a,b\n1,2\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)])
    deadline = time.monotonic() + 120
    tmp_files: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        tmp_files = [p for p in tmp_path.glob(".table.csv.*.tmp") if p.stat().st_size > 0]
        if tmp_files:
            break
        time.sleep(0.02)
    assert tmp_files, "the writer never started writing its temporary file"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.read_text(encoding="utf-8") == "a,b\n1,2\n"  # untouched, not half-written
    assert all(p.name.startswith(".") and p.suffix == ".tmp" for p in tmp_path.iterdir()
               if p != target)


# ---------------------------------------------------------------------------
# the workflow killed mid-way and restarted


def _snakemake(data: Path, results: Path, *args: str, targets: list[str]) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", "1", "--quiet", "rules", "--nolock",
            *args, "--config", f"data_dir={data}", f"results_dir={results}", *FAST_CONFIG,
            "--", *targets]


def _kill_when(cmd: list[str], marker: Path, timeout_s: float = 600) -> bool:
    """Start the workflow in its own process group; SIGKILL the group once ``marker`` exists.

    Returns whether the run was killed (False: it ended before ``marker`` appeared).
    """
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None and not marker.exists():
        time.sleep(0.05)
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)  # a power cut: no clean-up of any kind
    proc.wait()
    return True


def _outputs(results: Path) -> dict[str, Path]:
    files = {}
    for sub in ("tables", "data_quality"):
        files.update({f"{sub}/{p.name}": p for p in (results / sub).glob("*.csv")})
    files.update({f"interim/{p.name}": p for p in (results / "interim").glob("*.parquet")})
    return files


def _readable(path: Path) -> None:
    if path.suffix == ".parquet":
        pd.read_parquet(path)
    else:
        pd.read_csv(path)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    data = make_synthetic(tmp_path_factory.mktemp("data"), n_residents=200, n_homes=6, seed=5)
    reference = tmp_path_factory.mktemp("uninterrupted")
    targets = workflow_targets(data, reference)
    run_workflow(data, reference, targets=tuple(str(reference / t) for t in targets))
    return data, reference, targets


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", ["data_quality/data_quality.csv", "interim/cohort.parquet"])
def test_killed_run_restarts_to_the_same_results(dataset, tmp_path, kill_after):
    data, reference, targets = dataset
    results = tmp_path / "results"
    targets_here = [str(results / t) for t in targets]
    killed = _kill_when(_snakemake(data, results, targets=targets_here), results / kill_after)
    assert killed, f"the run ended before {kill_after} appeared"
    # whatever the kill left is either complete or absent; stray temporaries are never inputs
    for path in _outputs(results).values():
        _readable(path)
    strays = [p for p in results.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert all(p.name.startswith(".") for p in strays), strays

    proc = subprocess.run(_snakemake(data, results, "--rerun-incomplete", targets=targets_here),
                          cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"})
    assert proc.returncode == 0, proc.stderr[-4000:]

    want, got = _outputs(reference), _outputs(results)
    assert sorted(got) == sorted(want)
    for name, path in want.items():
        if path.suffix == ".parquet":
            pd.testing.assert_frame_equal(pd.read_parquet(got[name]), pd.read_parquet(path),
                                          obj=name)
        elif name != "data_quality/failures.csv" or path.read_bytes():
            assert got[name].read_bytes() == path.read_bytes(), name
