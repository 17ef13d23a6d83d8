"""Support for the Snakefile: readable config errors, region discovery, the default targets.

Kept in the package (not in ``common.smk``) so it is tested like the rest. Nothing
here knows where the checkout is: the Snakefile passes the schema's path, so the
package works installed as a wheel.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd

from optimal_analysis import config_checks, outcomes


class ConfigError(Exception):
    """The configuration is invalid; the message lists every problem."""


def _describe(err: jsonschema.ValidationError, schema: Mapping[str, Any]) -> str:
    where = ".".join(str(p) for p in err.absolute_path) or "config"
    if err.validator == "additionalProperties":
        allowed = list((err.schema.get("properties") or {}).keys())
        extra = [k for k in err.instance if k not in allowed]
        parts = []
        for key in extra:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            parts.append(f"{where}: unknown key {key!r}{hint}")
        return "; ".join(parts)
    if err.validator == "required":
        return f"{where}: {err.message.replace(' is a required property', '')} is missing"
    if err.validator == "enum":
        choices = ", ".join(map(repr, err.validator_value))
        return f"{where}: {err.instance!r} is not one of {choices}"
    return f"{where}: {err.message}"


def check_config(config: Mapping[str, Any], schema_path: str | Path) -> None:
    """Validate ``config`` against the JSON Schema at ``schema_path`` and the cross-key rules.

    Raises :class:`ConfigError` listing every problem, with a suggestion for a
    mistyped key.
    """
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    problems = [_describe(e, schema) for e in sorted(validator.iter_errors(dict(config)),
                                                     key=lambda e: list(map(str, e.path)))]
    if not problems:
        models = list(config["care_models"])
        if config["reference_care_model"] not in models:
            problems.append(f"reference_care_model {config['reference_care_model']!r} is not in "
                            f"care_models ({', '.join(models)})")
        counts = [o.name for o in outcomes.of_kind("count") if o.source in outcomes.EVENT_SOURCES]
        unknown = [o for o in config.get("rate_outcomes", []) if o not in counts]
        if unknown:
            problems.append(f"rate_outcomes {unknown} are not count outcomes of the registry "
                            f"(optimal_analysis.outcomes): {', '.join(counts)}")
        unknown = [o for o in config.get("evaluation", {}).get("outcomes", []) if o not in counts]
        if unknown:
            problems.append(f"evaluation outcomes {unknown} are not count outcomes of the "
                            f"registry (optimal_analysis.outcomes): {', '.join(counts)}")
        data_dir = Path(config["data_dir"])
        if not data_dir.is_dir():
            problems.append(f"data_dir {str(data_dir)!r} is not a folder")
    if problems:
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(problems)
                          + "\nSee config/config.yaml for every key and its meaning.")


def coerce_config(config: dict[str, Any], schema_path: str | Path) -> None:
    """Give command-line values the schema's types, in place (``coerce_to_schema``).

    ``--config "disclosure={suppress_max: 9}"`` reaches the config as the text
    ``'9'``; after this it is the integer 9, as from a config file.
    """
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    coerced = config_checks.coerce_to_schema(config, schema)
    config.clear()
    config.update(coerced)


@contextmanager
def exit_on_config_error() -> Iterator[None]:
    """Turn a :class:`ConfigError` into a plain exit with its message (no Snakemake trailer)."""
    try:
        yield
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None


def _csv(path: Path, key: str, problems: list[str], pattern: str) -> pd.DataFrame | None:
    if not path.is_file():
        near = sorted(str(p) for p in path.parent.glob(pattern)) if path.parent.is_dir() else []
        problems.append(f"{key} {str(path)!r} is not a file"
                        + (f" (available: {', '.join(near)})" if near else ""))
        return None
    try:
        return pd.read_csv(path)
    except (ValueError, OSError) as exc:
        problems.append(f"{key} {str(path)!r} cannot be read as CSV: {exc}")
        return None


def check_study_inputs(config: Mapping[str, Any], *, regions: Sequence[str],
                       tables: Sequence[str], services: Sequence[str],
                       admission_methods: Sequence[str]) -> None:
    """Start-up checks that read files: region folders, unit costs, inflation index.

    Raises :class:`ConfigError` listing every problem (see
    :mod:`optimal_analysis.config_checks`): ``data_dir`` one level off or a
    region without some table; ``price_year`` or a unit cost's price year
    missing from the inflation index; a contract service or admission method
    with no unit cost.
    """
    problems = list(config_checks.region_folder_problems(config["data_dir"], regions, tables))
    costs_path, index_path = Path(config["unit_costs"]), Path(config["inflation"])
    costs = _csv(costs_path, "unit_costs", problems, "unit_cost*.csv")
    index = _csv(index_path, "inflation", problems, "*.csv")
    if costs is not None and index is not None and "year" in index and "price_year" in costs:
        problems += config_checks.price_year_problems(
            config["price_year"], index["year"], costs["price_year"],
            inflation_name=str(index_path), unit_costs_name=str(costs_path))
    if costs is not None and "item" in costs:
        others = {str(p): pd.read_csv(p) for p in sorted(costs_path.parent.glob("unit_cost*.csv"))
                  if p.resolve() != costs_path.resolve()}
        problems += config_checks.unit_cost_coverage_problems(
            costs, services=services, admission_methods=admission_methods,
            name=str(costs_path), others=others)
    if problems:
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(problems)
                          + "\nNothing was run.")


#: Config keys that are paths: recorded absolute, so the record works from any folder.
PATH_KEYS = ("data_dir", "results_dir", "unit_costs", "inflation")


def effective_config_yaml(config: Mapping[str, Any]) -> str:
    """The configuration a run used, as YAML (``results_dir/config.yaml``).

    Config files and ``--config`` overrides applied, schema defaults filled in,
    paths (:data:`PATH_KEYS`) made absolute. Valid as a config file:
    ``snakemake --configfile results/config.yaml`` runs the same analysis.
    """
    import yaml

    out = {k: (str(Path(v).resolve()) if k in PATH_KEYS else v) for k, v in config.items()}
    head = ("# The configuration of the run that wrote this folder: config file(s) and --config\n"
            "# overrides applied, defaults filled in, paths absolute. The notebooks read it.\n"
            "# To run the same analysis again: snakemake --cores 2 --configfile <this file>\n")
    return head + yaml.safe_dump(json.loads(json.dumps(out)), sort_keys=False,
                                 allow_unicode=True, width=100)


def discover_regions(data_dir: str | Path, regions: Sequence[str] = ()) -> list[str]:
    """Region ids: ``regions`` if given (each must be a folder), else every sub-folder.

    Folders whose names start with ``.`` or ``_`` are skipped. Sorted, so the
    order never depends on the file system.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ConfigError(f"data_dir {str(data_dir)!r} is not a folder")
    if regions:
        missing = [r for r in regions if not (data_dir / r).is_dir()]
        if missing:
            have = sorted(p.name for p in data_dir.iterdir()
                          if p.is_dir() and not p.name.startswith((".", "_")))
            raise ConfigError(f"regions {', '.join(missing)} listed in config have no folder in "
                              f"{data_dir} (its folders: {', '.join(have) or 'none'})")
        return sorted(regions)
    found = sorted(p.name for p in data_dir.iterdir()
                   if p.is_dir() and not p.name.startswith((".", "_")))
    if not found:
        raise ConfigError(f"data_dir {str(data_dir)!r} has no region sub-folders; a dataset is a "
                          "folder with one sub-folder per region (see docs/data-contract.md)")
    return found


def results_path(results_dir: str | Path):  # type: ignore[no-untyped-def]
    """``R(path)``: a function giving ``path`` under ``results_dir`` (as a string)."""
    root = Path(results_dir)
    return lambda path: str(root / path)


def region_files(data_dir: str | Path):  # type: ignore[no-untyped-def]
    """An input function: the table files of the region named by the ``region`` wildcard.

    Listing the files as inputs makes an edited input rerun its region's ingest.
    """
    root = Path(data_dir)

    def files(wildcards) -> list[str]:  # type: ignore[no-untyped-def]
        folder = root / wildcards.region
        return sorted(str(p) for p in folder.iterdir() if p.suffix in (".csv", ".parquet"))

    return files


def final_targets(rules: Iterable[Any]) -> list[str]:
    """Every output of every rule without wildcards, except rule ``all``: the default targets.

    ``rules`` are the workflow's rules (``workflow.rules`` in the Snakefile, after every
    rule file is included), so a rule added to a rule file is built by ``rule all``
    with no list kept by hand. Rules with wildcards (per region) are reached through
    the rules that need their outputs.
    """
    return [str(f) for r in rules if r.name != "all" and not r.has_wildcards() for f in r.output]
