"""Start-up configuration checks (optimal_analysis.config_checks)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from optimal_analysis.config_checks import (
    coerce_to_schema,
    price_year_problems,
    region_folder_problems,
    unit_cost_coverage_problems,
)

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "workflow" / "schemas" / "config.schema.json").read_text())
SERVICES = ("gp_visit", "ambulance", "podiatry")
TABLES = ("care_homes", "residents", "contacts", "admissions")


def _base_loader(text: str):
    """What Snakemake makes of a --config value that is not a number: YAML's base loader."""
    return yaml.load(text, Loader=yaml.loader.BaseLoader)


def test_command_line_nested_values_get_the_schema_types():
    cli = {"disclosure": _base_loader("{suppress_max: 9, rounding: midpoint6}"),
           "survival": _base_loader("{at_risk_days: [0, 30, 60]}"),
           "regions": _base_loader("[001, north]")}
    assert cli["disclosure"] == {"suppress_max": "9", "rounding": "midpoint6"}  # the type error
    out = coerce_to_schema(cli, SCHEMA)
    assert out == {"disclosure": {"suppress_max": 9, "rounding": "midpoint6"},
                   "survival": {"at_risk_days": [0, 30, 60]},
                   "regions": ["001", "north"]}  # region names stay text
    assert cli["disclosure"]["suppress_max"] == "9"  # input untouched


def test_coercion_leaves_what_does_not_read_as_the_type_for_the_schema_check():
    out = coerce_to_schema({"disclosure": {"suppress_max": "nine"}, "seed": "1.5",
                            "bootstrap_replicates": "200"}, SCHEMA)
    assert out == {"disclosure": {"suppress_max": "nine"}, "seed": "1.5",
                   "bootstrap_replicates": 200}


def test_a_key_glued_to_its_value_is_split():
    cli = _base_loader("{suppress_max:9}")
    assert cli == {"suppress_max:9": ""}
    assert coerce_to_schema({"disclosure": cli}, SCHEMA) == {"disclosure": {"suppress_max": 9}}


def test_booleans_numbers_and_free_mappings():
    schema = {"type": "object", "properties": {
        "flag": {"type": "boolean"}, "share": {"type": "number"},
        "either": {"type": ["integer", "null"]}},
        "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}}}
    out = coerce_to_schema({"flag": "yes", "share": "0.05", "either": "null",
                            "north": {"GPV": "gp_visit"}}, schema)
    assert out == {"flag": True, "share": 0.05, "either": None, "north": {"GPV": "gp_visit"}}
    assert coerce_to_schema({"flag": "False"}, schema) == {"flag": False}


def test_price_year_outside_the_index_lists_the_years():
    inflation = pd.read_csv(REPO / "config" / "unit_costs" / "inflation_index.csv")
    problems = price_year_problems(2026, inflation["year"], [2014, 2015],
                                   inflation_name="config/unit_costs/inflation_index.csv")
    assert problems == [
        "price_year 2026 is not in config/unit_costs/inflation_index.csv (years 2012–2024); set "
        "price_year to one of them, e.g. --config price_year=2024, or add 2026 to the index"]
    assert price_year_problems(2024, inflation["year"], [2012, 2023]) == []


def test_unit_cost_years_outside_the_index_are_named():
    problems = price_year_problems(2015, [2012, 2013, 2015, 2016], [2010, 2011, 2015],
                                   inflation_name="idx.csv", unit_costs_name="costs.csv")
    assert problems == ["costs.csv has costs at price years 2010, 2011, which idx.csv does not "
                        "have (years 2012–2013, 2015–2016); add them to the index"]


def _table(items, scheme=None):
    df = pd.DataFrame({"item": items})
    if scheme is not None:
        df["scheme"] = scheme
    return df


def test_unit_costs_missing_a_service_are_named_with_a_table_that_has_them():
    table = _table(["gp_visit", "emergency_admission", "elective_bed_day"])
    full = _table([*SERVICES, "emergency_admission", "elective_admission"])
    problems = unit_cost_coverage_problems(table, services=SERVICES, name="my_costs.csv",
                                           others={"unit_costs_2024.csv": full,
                                                   "my_costs.csv": table})
    assert problems == [
        "my_costs.csv has no unit cost for 2 of the data contract's services: ambulance, "
        "podiatry; add a row for each (item, unit, cost, price_year, source; docs/unit_costs.md)"
        ", or use a table that has them all: unit_costs_2024.csv"]
    assert unit_cost_coverage_problems(full, services=SERVICES) == []


def test_unit_cost_coverage_per_scheme():
    # bed_day scheme lacks any emergency item; blank-scheme rows count in both
    table = _table([*SERVICES, "emergency_admission", "elective_admission", "elective_bed_day"],
                   scheme=["", "", "", "spell", "", "bed_day"])
    problems = unit_cost_coverage_problems(table, services=SERVICES, name="t.csv")
    assert problems == ["t.csv (scheme bed_day) has no unit cost for 1 of the data contract's "
                        "services: emergency_admission; add a row for each (item, unit, cost, "
                        "price_year, source; docs/unit_costs.md)"]


@pytest.mark.parametrize("name", ["unit_costs_2015.csv", "unit_costs_2024.csv"])
def test_shipped_tables_cover_the_contract(name):
    from optimal_analysis.ingest.schemas import SERVICE_CODES

    table = pd.read_csv(REPO / "config" / "unit_costs" / name)
    assert unit_cost_coverage_problems(table, services=SERVICE_CODES) == []
    partial = table[table["item"] != "podiatry"]
    assert "services: podiatry;" in unit_cost_coverage_problems(
        partial, services=SERVICE_CODES, name=name)[0]


def _region(folder: Path, tables=TABLES) -> None:
    folder.mkdir(parents=True)
    for t in tables:
        (folder / f"{t}.csv").write_text("x\n")


def test_data_dir_one_level_too_high(tmp_path):
    for r in ("north", "south"):
        _region(tmp_path / "data" / "synthetic" / r)
    problems = region_folder_problems(tmp_path / "data", ["synthetic"], TABLES)
    assert problems == [f"data_dir '{tmp_path / 'data'}': 'synthetic' was taken as a region, but "
                        "only the folders below hold tables (north, south): did you mean "
                        f"data_dir={tmp_path / 'data' / 'synthetic'}?"]


def test_data_dir_one_level_too_low(tmp_path):
    _region(tmp_path / "data" / "north")
    problems = region_folder_problems(tmp_path / "data" / "north", [], TABLES)
    assert problems == [f"data_dir '{tmp_path / 'data' / 'north'}' holds the tables of one "
                        "region (care_homes, residents, contacts, admissions); data_dir is the "
                        "folder above the regions, one sub-folder per region: did you mean "
                        f"data_dir={tmp_path / 'data'} (with regions=[north])?"]


def test_missing_table_suggests_leaving_the_region_out(tmp_path):
    _region(tmp_path / "north")
    _region(tmp_path / "south")
    _region(tmp_path / "west", tables=("care_homes", "contacts", "admissions"))
    problems = region_folder_problems(tmp_path, ["north", "south", "west"], TABLES)
    assert problems == [f"region 'west' has no residents file (residents.csv or "
                        f"residents.parquet in {tmp_path / 'west'}); add it, or leave the region "
                        'out: --config "regions=[north, south]"']
    assert region_folder_problems(tmp_path, ["north", "south"], TABLES) == []


def test_no_tables_anywhere(tmp_path):
    (tmp_path / "a").mkdir()
    problems = region_folder_problems(tmp_path, ["a"], TABLES)
    assert problems[0].startswith(f"data_dir '{tmp_path}': no region folder holds the tables")
