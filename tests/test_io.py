"""Atomic writes: nothing partial is left behind, and outputs are ordinary files."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from optimal_analysis import io


def test_written_files_have_ordinary_permissions(tmp_path):
    path = tmp_path / "t.csv"
    io.write_csv(pd.DataFrame({"a": [1]}), path)
    umask = os.umask(0)
    os.umask(umask)
    # as open() would make it (0666 less the umask), not mkstemp's private 0600
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask


def test_a_failed_write_leaves_neither_target_nor_temporary(tmp_path):
    path = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with io.atomic_path(path) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "out.csv"
    io.write_csv(pd.DataFrame({"a": [1]}), path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with io.atomic_path(path) as tmp:
            tmp.write_text("partial")
            raise RuntimeError
    assert path.read_bytes() == before


def test_parquet_round_trip_gives_arrow_strings(tmp_path):
    df = pd.DataFrame({"s": ["a", None], "x": [1.5, 2.0]})
    io.write_parquet(df, tmp_path / "t.parquet")
    back = io.read_parquet(tmp_path / "t.parquet")
    assert str(back["s"].dtype) == "string"
    assert back["s"].isna().tolist() == [False, True]
    assert io.read_parquet(tmp_path / "t.parquet", columns=["x"]).columns.tolist() == ["x"]
