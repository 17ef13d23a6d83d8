"""Config validation with readable errors, and region discovery."""

from __future__ import annotations

import copy

import pytest
import yaml

from optimal_analysis.workflow_support import (
    ConfigError,
    discover_regions,
)
from optimal_analysis.workflow_support import check_config as _check_config

with open("config/config.yaml", encoding="utf-8") as fh:
    CONFIG = yaml.safe_load(fh)
SCHEMA = "workflow/schemas/config.schema.json"


def check_config(config):
    """The Snakefile's call: the schema's path is passed in (the package never looks for it)."""
    _check_config(config, SCHEMA)


def _with(**changes):
    cfg = copy.deepcopy(CONFIG)
    for k, v in changes.items():
        if v is None:
            cfg.pop(k)
        else:
            cfg[k] = v
    return cfg


def test_shipped_config_is_valid():
    check_config(CONFIG)


def test_mistyped_key_gets_a_suggestion():
    cfg = _with(on_invalid=None)
    cfg["on_invalud"] = "stop"
    with pytest.raises(ConfigError) as exc:
        check_config(cfg)
    msg = str(exc.value)
    assert "unknown key 'on_invalud' (did you mean 'on_invalid'?)" in msg
    assert "'on_invalid' is missing" in msg


def test_bad_enum_and_type_are_named():
    with pytest.raises(ConfigError) as exc:
        check_config(_with(on_invalid="skip", seed="abc"))
    msg = str(exc.value)
    assert "on_invalid: 'skip' is not one of 'stop', 'exclude'" in msg
    assert "seed:" in msg


def test_reference_must_be_a_care_model():
    with pytest.raises(ConfigError, match="reference_care_model 'gp' is not in care_models"):
        check_config(_with(reference_care_model="gp"))


def test_data_dir_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="is not a folder"):
        check_config(_with(data_dir=str(tmp_path / "nope")))


def test_regions_are_sub_folders_sorted(tmp_path):
    for name in ["south", "north", "_scratch", ".hidden"]:
        (tmp_path / name).mkdir()
    (tmp_path / "truth.json").write_text("{}")
    assert discover_regions(tmp_path) == ["north", "south"]
    assert discover_regions(tmp_path, ["south"]) == ["south"]
    with pytest.raises(ConfigError, match="east"):
        discover_regions(tmp_path, ["east"])


def test_empty_data_dir_is_explained(tmp_path):
    with pytest.raises(ConfigError, match="no region sub-folders"):
        discover_regions(tmp_path)


def test_default_targets_are_every_output_of_rules_without_wildcards():
    from types import SimpleNamespace

    from optimal_analysis.workflow_support import final_targets

    def rule(name, outputs, wildcards=False):
        return SimpleNamespace(name=name, output=outputs, has_wildcards=lambda: wildcards)

    rules = [rule("ingest_region", ["interim/regions/{region}/x.parquet"], wildcards=True),
             rule("crude_rates", ["tables/crude_rates.csv"]),
             rule("plot", ["figures/a.png", "figures/a.svg"]),
             rule("all", ["tables/crude_rates.csv"])]
    assert final_targets(rules) == ["tables/crude_rates.csv", "figures/a.png", "figures/a.svg"]
