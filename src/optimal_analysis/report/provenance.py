"""Provenance of a report: package and software versions, git commit, config, input checksums."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from optimal_analysis import __version__
from optimal_analysis.io import file_sha256

__all__ = ["git_commit", "make_provenance", "software_versions"]


def git_commit(path: str | Path | None = None) -> str | None:
    """The git commit of the source tree (``+dirty`` if it has changes), or None outside git."""
    where = str(path or Path(__file__).parent)
    try:
        sha = subprocess.run(
            ["git", "-C", where, "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "") if sha else None


_KEY_PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "lifelines",
    "matplotlib",
    "pandera",
    "snakemake",
    "jinja2",
    "pyarrow",
)


def software_versions() -> dict[str, str]:
    """Python and key package versions of the running interpreter."""
    out = {"python": platform.python_version()}
    for pkg in _KEY_PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def make_provenance(
    config: Mapping[str, Any], input_paths: Sequence[str | Path], *, run_date: str
) -> dict[str, Any]:
    """Package version, git commit, software versions, config and SHA-256 of each input file."""
    return {
        "package_version": __version__,
        "git_commit": git_commit() or "not available",
        "run_date": run_date,
        "software": software_versions(),
        "config_yaml": yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=False),
        "checksums": {str(p): file_sha256(p) for p in input_paths},
    }
