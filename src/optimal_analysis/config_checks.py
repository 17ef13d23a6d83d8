"""Start-up checks of a configuration that need more than its schema.

Pure functions, called by the Snakefile before any job runs (through
:mod:`optimal_analysis.workflow_support`), so that a setting that cannot work
is named at once, with the values that would, rather than after ingest:

- :func:`coerce_to_schema`: values given on the command line
  (``--config "disclosure={suppress_max: 9}"``) reach the config as text
  (Snakemake reads a ``--config`` value that is a YAML flow mapping or list
  with YAML's base loader, which keeps every scalar as a string); they are
  converted to the type the schema asks for, as a config file would give them;
- :func:`price_year_problems`: ``price_year`` and every unit cost's own price
  year must be in the inflation index;
- :func:`unit_cost_coverage_problems`: the unit-cost table must cost every
  service code of the contract and every admission method, in every
  hospital-costing scheme;
- :func:`region_folder_problems`: ``data_dir`` holds region folders, each with
  the contract's tables (``data_dir`` set one level too high or too low is
  named, with the folder that was probably meant).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["coerce_to_schema", "price_year_problems", "region_folder_problems",
           "unit_cost_coverage_problems"]

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


def _types(schema: Mapping[str, Any]) -> set[str]:
    t = schema.get("type")
    return set(t) if isinstance(t, list) else ({t} if t else set())


def _scalar(text: str, schema: Mapping[str, Any]) -> Any:
    types = _types(schema)
    s = text.strip()
    if "integer" in types and _INT.fullmatch(s):
        return int(s)
    if "number" in types and _FLOAT.fullmatch(s):
        return float(s)
    if "boolean" in types and s.lower() in _TRUE | _FALSE:
        return s.lower() in _TRUE
    if "null" in types and s in ("", "null", "~"):
        return None
    return text


def _glued(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``{suppress_max:9}`` (no space after the colon) reads as the key ``suppress_max:9``
    with no value; split such keys into key and value."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(key, str) and ":" in key and value in (None, "") and not key.startswith(":"):
            k, v = key.split(":", 1)
            out[k.strip()] = v.strip()
        else:
            out[key] = value
    return out


def coerce_to_schema(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` with every string converted to the type ``schema`` asks for, if it reads as one.

    Walks objects (``properties``, ``additionalProperties``) and arrays
    (``items``). A string where the schema wants an ``integer`` becomes an int
    when it is one (``'9'`` -> 9), a ``number`` a float, a ``boolean`` a bool
    (``true/false/yes/no/on/off``); anything else is left as it is, for the
    schema check to name. Strings where the schema wants a string stay
    strings (a region called ``001`` keeps its name). Keys glued to their
    value (``{suppress_max:9}``) are split. The input is not modified.
    """
    if isinstance(value, str):
        return _scalar(value, schema)
    if isinstance(value, Mapping):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        out = {}
        for key, item in _glued(value).items():
            sub = props.get(key, extra if isinstance(extra, Mapping) else {})
            out[key] = coerce_to_schema(item, sub)
        return out
    if isinstance(value, list):
        items = schema.get("items")
        return [coerce_to_schema(v, items) if isinstance(items, Mapping) else v for v in value]
    return value


def _years(values: Iterable[Any]) -> list[int]:
    return sorted({int(v) for v in pd.to_numeric(pd.Series(list(values)), errors="coerce")
                   .dropna() if float(v).is_integer()})


def _ranges(years: Sequence[int]) -> str:
    """``2012–2020, 2022``: consecutive years joined."""
    if not years:
        return "none"
    parts, start, prev = [], years[0], years[0]
    for y in list(years[1:]) + [None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        parts.append(f"{start}" if start == prev else f"{start}–{prev}")
        if y is not None:
            start = prev = y
    return ", ".join(parts)


def price_year_problems(price_year: int, inflation_years: Iterable[Any],
                        unit_cost_years: Iterable[Any] = (), *,
                        inflation_name: str = "the inflation index",
                        unit_costs_name: str = "the unit-cost table") -> list[str]:
    """Problems re-basing costs to ``price_year`` would meet, each naming the years available.

    Re-basing multiplies a cost of year ``y`` by ``index[price_year] / index[y]``
    (:func:`optimal_analysis.unit_costs.rebase_unit_costs`), so the index needs
    ``price_year`` and every unit cost's ``y``.
    """
    have = _years(inflation_years)
    out = []
    if int(price_year) not in have:
        out.append(f"price_year {price_year} is not in {inflation_name} (years "
                   f"{_ranges(have)}); set price_year to one of them, e.g. "
                   f"--config price_year={have[-1] if have else 2024}, or add {price_year} "
                   "to the index")
    need = [y for y in _years(unit_cost_years) if y not in have]
    if need:
        years = "price years" if len(need) > 1 else "price year"
        out.append(f"{unit_costs_name} has costs at {years} "
                   f"{', '.join(map(str, need))}, which {inflation_name} does not have (years "
                   f"{_ranges(have)}); add {'them' if len(need) > 1 else 'it'} to the index")
    return out


def unit_cost_coverage_problems(
    unit_costs: pd.DataFrame,
    *,
    services: Sequence[str],
    admission_methods: Sequence[str] = ("emergency", "elective"),
    name: str = "the unit-cost table",
    others: Mapping[str, pd.DataFrame] | None = None,
) -> list[str]:
    """Services and admission methods ``unit_costs`` cannot cost, per hospital-costing scheme.

    A contact of service ``s`` is costed by the row with ``item == s`` (unit
    ``contact``); an admission of method ``m`` by ``m_admission`` or
    ``m_bed_day`` (either suffices). A table with named schemes (column
    ``scheme``) is checked per scheme, its blank-scheme rows counting in
    every scheme. ``others`` (name -> table) are suggested when they cover
    everything.
    """
    def gaps(table: pd.DataFrame) -> dict[str, list[str]]:
        items = table["item"].astype("string").str.strip()
        scheme = (table["scheme"].astype("string").fillna("").str.strip()
                  if "scheme" in table else pd.Series("", index=table.index))
        named = sorted(set(scheme[scheme != ""]))
        out = {}
        for s in named or [""]:
            have = set(items[(scheme == "") | (scheme == s)].dropna())
            miss = [c for c in services if c not in have]
            miss += [f"{m}_admission" for m in admission_methods
                     if f"{m}_admission" not in have and f"{m}_bed_day" not in have]
            if miss:
                out[s] = miss
        return out

    problems = []
    found = gaps(unit_costs)
    if len(found) > 1 and len({tuple(m) for m in found.values()}) == 1:
        found = {"": next(iter(found.values()))}  # the same gaps in every scheme: said once
    for scheme, miss in found.items():
        where = f" (scheme {scheme})" if scheme else ""
        problems.append(f"{name}{where} has no unit cost for {len(miss)} of the data contract's "
                        f"services: {', '.join(miss)}; add a row for each (item, unit, cost, "
                        "price_year, source; docs/unit_costs.md)")
    if problems and others:
        full = [k for k, t in others.items() if not gaps(t)]
        if full:
            problems[-1] += f", or use a table that has them all: {', '.join(full)}"
    return problems


def _has_tables(folder: Path, tables: Sequence[str]) -> list[str]:
    return [t for t in tables if any((folder / f"{t}{ext}").is_file()
                                     for ext in (".csv", ".parquet"))]


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def region_folder_problems(data_dir: str | Path, regions: Sequence[str],
                           tables: Sequence[str]) -> list[str]:
    """``data_dir`` pointing one level too high or too low, and regions with missing tables.

    - ``data_dir`` itself holds table files: it is one region's folder; its
      parent was probably meant.
    - No region folder holds a table, but their sub-folders do: each was
      taken as a region; the folder holding the regions was probably meant.
    - A region lacks some tables: named, with ``regions=[...]`` to leave it out.
    """
    root = Path(data_dir)
    here = _has_tables(root, tables)
    if here:
        return [f"data_dir {str(root)!r} holds the tables of one region ({', '.join(here)}); "
                "data_dir is the folder above the regions, one sub-folder per region: did you "
                f"mean data_dir={root.parent} (with regions=[{root.name}])?"]
    folders = [root / r for r in regions]
    found = {f.name: _has_tables(f, tables) for f in folders}
    if not any(found.values()):
        below = [(f, s) for f in folders for s in _subfolders(f) if _has_tables(s, tables)]
        if below:
            taken = ", ".join(repr(f.name) for f in folders)
            meant = sorted({str(f) for f, _ in below})
            names = ", ".join(sorted({s.name for _, s in below}))
            verb = "was taken as a region" if len(folders) == 1 else "were taken as regions"
            return [f"data_dir {str(root)!r}: {taken} {verb}, but only the folders below hold "
                    f"tables ({names}): did you mean data_dir={meant[0]}?"]
        return [f"data_dir {str(root)!r}: no region folder holds the tables "
                f"({', '.join(t + '.csv' for t in tables)}); see docs/data-contract.md"]
    out = []
    complete = [r for r in regions if len(found[r]) == len(tables)]
    for r in regions:
        missing = [t for t in tables if t not in found[r]]
        if missing:
            keep = ", ".join(complete)
            out.append(f"region {r!r} has no {', '.join(missing)} file "
                       f"({' or '.join(f'{missing[0]}{e}' for e in ('.csv', '.parquet'))} in "
                       f"{root / r}); add it, or leave the region out: "
                       f'--config "regions=[{keep}]"')
    return out
