"""The attack suite on the published folders of three differently shaped synthetic datasets.

Each dataset is run through the workflow up to rule ``publish_tables`` (which
itself stops the run if the attack suite recovers anything). The test then
attacks the published folder again, checks that today's cell-by-cell disclosure
of the same tables (the negative control) does leak, and republishes the tables
with midpoint-6 rounding and a weekly grid.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optimal_analysis.report.check import check_published, check_tables
from optimal_analysis.report.costs import public_unit_costs
from optimal_analysis.report.disclosure import TABLE_SPECS, disclose
from optimal_analysis.report.publish import publish
from tests.conftest import make_synthetic, run_workflow

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
RULES = {"suppress_max": 7, "round_to": 5}

SHAPES = {
    # many small homes in five regions, care models mixed within regions, 15 months
    "wide": {"n_residents": 1500, "n_homes": 40, "regions": ["a", "b", "c", "d", "e"],
             "mixed_models": True, "months": 15, "seed": 31},
    # few large homes (one per care model per region), two regions, 9 months
    "narrow": {"n_residents": 500, "n_homes": 6, "regions": ["north", "south"], "months": 9,
               "mixed_models": True,
               "seed": 5},
}


@pytest.fixture(scope="module")
def unit_costs() -> pd.DataFrame:
    return public_unit_costs(pd.read_csv(REPO / "config/unit_costs/unit_costs_2015.csv"),
                             pd.read_csv(REPO / "config/unit_costs/inflation_index.csv"),
                             price_year=2024)


@pytest.fixture(scope="module", params=["default", *SHAPES])
def published_run(request, tmp_path_factory) -> Path:
    if request.param == "default":
        return request.getfixturevalue("synthetic_results")
    data = make_synthetic(tmp_path_factory.mktemp(request.param), **SHAPES[request.param])
    results = tmp_path_factory.mktemp(f"results_{request.param}")
    run_workflow(data, results, targets=("publish_tables",))
    return results


def _tables(results: Path) -> dict[str, pd.DataFrame]:
    names = [p.stem for p in (results / "published" / "tables").glob("*.csv")]
    return {n: pd.read_csv(results / "tables" / f"{n}.csv") for n in names}


def test_published_folder_gives_nothing_back_and_legacy_does(published_run, unit_costs):
    assert check_published(published_run, unit_costs=unit_costs, **RULES) == []
    tables = _tables(published_run)
    legacy = {n: disclose(t, TABLE_SPECS[n], name=n, **RULES) for n, t in tables.items()}
    found = check_tables(legacy, unit_costs=unit_costs, **RULES)
    attacks = {(f.table, f.attack) for f in found}
    assert {("km", "curve_step"), ("cumulative_incidence", "curve_step"),
            ("costs", "unit_cost")} <= attacks
    assert sum(1 <= f.value <= 7 for f in found) > 10


def test_midpoint6_and_weekly_grid_give_nothing_back(published_run, unit_costs):
    rules = {**RULES, "rounding": "midpoint6"}
    out = publish(_tables(published_run), curve_grid_days=7, unit_costs=unit_costs, **rules)
    assert check_tables(out, unit_costs=unit_costs, **rules) == []
    km = out["km"]
    # numbers at entry and running totals of events are midpoint-6 values (6k - 3)
    assert ((km.groupby("care_model")["n_at_risk"].first() + 3) % 6 == 0).all()
    total = km.groupby("care_model")["n_events"].cumsum()
    assert ((total[total > 0] + 3) % 6 == 0).all()
