"""File access for the pipeline: the only module (with the workflow scripts) that touches disk.

Every write is atomic: the table is written to a temporary name in the target
folder, flushed, then renamed over the target, so an interrupted run never
leaves a partial file that a later step could read as complete.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "atomic_path",
    "file_sha256",
    "save_figure",
    "read_events",
    "read_parquet",
    "write_csv",
    "write_parquet",
    "write_text",
]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write(path: str | os.PathLike[str], writer: Callable[[Path], None]) -> None:
    with atomic_path(path) as tmp:
        writer(tmp)


def write_parquet(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``df`` to Parquet atomically (no index, deterministic bytes for equal input)."""
    _write(path, lambda tmp: df.to_parquet(tmp, index=False, engine="pyarrow"))


def write_csv(
    df: pd.DataFrame, path: str | os.PathLike[str], *, float_format: str = "%.10g"
) -> None:
    """Write ``df`` to CSV atomically with a fixed float format, so reruns are byte-identical."""
    _write(
        path,
        lambda tmp: df.to_csv(tmp, index=False, float_format=float_format, lineterminator="\n"),
    )


def write_text(text: str, path: str | os.PathLike[str]) -> None:
    """Write UTF-8 ``text`` atomically."""
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    _write(path, write)


_ARROW_STRINGS = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),
}


def read_parquet(path: str | os.PathLike[str], columns: list[str] | None = None,
                 filters: list[tuple] | None = None) -> pd.DataFrame:
    """Read an interim Parquet table, optionally only ``columns`` and rows matching ``filters``.

    Text columns come back as Arrow-backed strings (``string[pyarrow]``):
    compact, and an order of magnitude faster to read than Python objects at
    national scale. Dictionary-encoded columns come back as categoricals.
    ``filters`` as :func:`pyarrow.parquet.read_table` (e.g. ``[("region", "==", "north")]``).
    """
    table = pq.read_table(path, columns=columns, filters=filters)
    return table.to_pandas(types_mapper=_ARROW_STRINGS.get)


def read_events(paths: list[str | os.PathLike[str]] | list[Path],
                columns: list[str] | None = None) -> pd.DataFrame:
    """The events of several regions (``interim/regions/*/events.parquet``) as one table.

    For analysts and notebooks: the workflow's own steps read one region at a
    time. Dictionary-encoded columns are decoded to strings; rows are in the
    order of ``paths``, each region sorted by resident and date.
    """
    parts = [read_parquet(p, columns=columns) for p in paths]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object).astype("string[pyarrow]")
    return out


def file_sha256(path: str | os.PathLike[str], *, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks (inputs can be gigabytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_bytes), b""):
            h.update(chunk)
    return h.hexdigest()


def save_figure(
    fig: Figure, paths: dict[str, str | os.PathLike[str]] | list[str], *, dpi: int = 200
) -> None:
    """Save a matplotlib figure to each path atomically, byte-identical across runs.

    The format comes from each path's suffix (``.png``, ``.svg``, ``.pdf``).
    Creation dates and software stamps are left out of the files, and SVG
    element ids are salted with a constant, so the same figure always gives
    the same bytes.
    """
    import matplotlib

    targets = list(paths.values()) if isinstance(paths, dict) else list(paths)
    with matplotlib.rc_context({"svg.hashsalt": "optimal-analysis"}):
        for path in targets:
            fmt = Path(path).suffix.lstrip(".")
            metadata = {"Date": None} if fmt in ("svg", "pdf") else {"Software": None}
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)


def read_code_list(path: str | os.PathLike[str] | None) -> pd.DataFrame | None:
    """The outcome code list at ``path``, checked (None when no path is configured).

    Every cell is read as text; :func:`optimal_analysis.icd10.check_code_list`
    raises naming the file, line, column and value of every problem.
    """
    if not path:
        return None
    from optimal_analysis.icd10 import check_code_list

    table = pd.read_csv(path, dtype="string", keep_default_na=False)
    return check_code_list(table, source=str(path))
