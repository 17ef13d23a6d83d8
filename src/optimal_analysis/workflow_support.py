"""Support for the Snakefile: readable config errors, region discovery, the default targets.

Kept in the package (not in ``common.smk``) so it is tested like the rest. Nothing
here knows where the checkout is: the Snakefile passes the schema's path, so the
package works installed as a wheel.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from optimal_analysis import outcomes


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
            raise ConfigError(f"regions {', '.join(missing)} listed in config have no folder in "
                              f"{data_dir}")
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
