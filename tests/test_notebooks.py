"""The analyst notebooks run, top to bottom, against the results of a synthetic run."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_notebooks_are_numbered_and_stripped():
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01_cohort_and_data_quality",
        "02_admission_rates",
        "03_costs",
        "04_time_to_admission",
    ]
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (
                    f"{path.name}: outputs not stripped"
                )
        source = "\n".join(c.source for c in book.cells)
        assert "OPTIMAL_RESULTS" in source and "RESULTS_DIR" in source, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_synthetic_results(
    path: Path, synthetic_results: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPTIMAL_RESULTS", str(synthetic_results))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    assert os.environ["OPTIMAL_RESULTS"] == str(synthetic_results)
    errors = [
        o
        for c in book.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("output_type") == "error"
    ]
    assert not errors
