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


@pytest.mark.slow
def test_costs_notebook_uses_the_configuration_of_the_run_it_reads(
    synthetic_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A run made with the 2024 unit-cost table: the notebook's "same table" is that table."""
    import json

    import yaml

    from tests.conftest import run_workflow

    results = tmp_path / "run2024"
    run_workflow(synthetic_data, results, "unit_costs=config/unit_costs/unit_costs_2024.csv",
                 targets=(str(results / "tables" / "costs.csv"), str(results / "config.yaml")))
    recorded = yaml.safe_load((results / "config.yaml").read_text())
    assert Path(recorded["unit_costs"]) == (NOTEBOOK_DIR.parent / "config" / "unit_costs"
                                            / "unit_costs_2024.csv")
    assert recorded["disclosure"]["suppress_max"] == 7 and recorded["date_format"] == {}
    monkeypatch.setenv("OPTIMAL_RESULTS", str(results))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = nbformat.read(NOTEBOOK_DIR / "03_costs.ipynb", as_version=4)
    book.cells.append(nbformat.v4.new_code_cell(
        "import json\n"
        "run = costs[costs['item'] == 'total'].set_index('care_model')['cost_per_resident_year']\n"
        "same = total_per_resident_year(configured_table, config['price_year'])\n"
        "default = total_per_resident_year(pd.read_csv(UNIT_COSTS_DIR / 'unit_costs_2015.csv'),\n"
        "                                  config['price_year'])\n"
        "print('CHECK' + json.dumps({'unit_costs': str(UNIT_COSTS),\n"
        "    'same': ((same - run).abs() / run).max(),\n"
        "    'default': ((default - run).abs() / run).max(),\n"
        "    'columns': list(comparison.columns)}))"))
    NotebookClient(book, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    text = "".join(o.get("text", "") for o in book.cells[-1].outputs)
    check = json.loads(text.split("CHECK", 1)[1])
    assert check["unit_costs"].endswith("unit_costs_2024.csv")
    # re-costing with the run's own table at the run's price year gives the run's figure ...
    assert check["same"] < 1e-9
    # ... and the repository's default table would not (the bug this guards against)
    assert check["default"] > 0.01
    assert "unit_costs_2015" in check["columns"] and "unit_costs_2024" not in check["columns"]
