"""Costing stage: unit-cost tables, re-basing, costed events and ``costs.csv``.

Every contact row costs ``n`` × its service's unit cost; every hospital stay
costs its admission item plus its costed bed days × its bed-day item (see
docs/unit_costs.md). Unit costs are re-based to the reporting price year with
an inflation index. Costs per resident-year get 95% intervals from a bootstrap
that resamples care homes within each care model
(:func:`optimal_analysis.stats.bootstrap.cluster_bootstrap_ratio`).
"""

from __future__ import annotations

import copy
import logging
import time

import numpy as np
import pandas as pd

from optimal_analysis.stats.bootstrap import cluster_bootstrap_ratio, percentile_interval

__all__ = [
    "InflationIndexError",
    "MissingUnitCostError",
    "SERVICE_GROUPS",
    "UnitCostTableError",
    "cost_events",
    "make_cost_tables",
    "make_costs",
    "make_resident_costs",
    "rebase_unit_costs",
    "schemes_in",
    "select_scheme",
    "validate_inflation",
    "validate_unit_costs",
]

logger = logging.getLogger(__name__)

_GROUPED_ITEMS: dict[str, tuple[str, ...]] = {
    "primary care": ("gp_surgery", "gp_visit", "gp_phone", "practice_nurse", "pharmacist"),
    "community": ("district_nurse", "community_matron", "care_home_team", "physiotherapy",
                  "occupational_therapy", "speech_therapy", "dietitian", "podiatry"),
    "specialist": ("geriatrician", "mental_health", "outpatient"),
    "urgent and emergency": ("out_of_hours", "ambulance", "ae"),
    "hospital inpatient": ("emergency_admission", "emergency_bed_day", "elective_admission",
                           "elective_bed_day"),
}
#: Service group of each costed item, in display order (groups, then items).
SERVICE_GROUPS: dict[str, str] = {i: g for g, items in _GROUPED_ITEMS.items() for i in items}
ADMISSION_ITEMS = ("emergency_admission", "elective_admission")
BED_DAY_ITEMS = ("emergency_bed_day", "elective_bed_day")
UNITS = ("contact", "admission", "bed_day")
REQUIRED_COLUMNS = ("item", "unit", "cost", "price_year", "source")


class UnitCostTableError(ValueError):
    """A unit-cost table breaks its format; the message lists every problem."""


class MissingUnitCostError(ValueError):
    """Events whose item has no unit cost; ``.missing`` holds item, events and rows."""

    def __init__(self, message: str, missing: pd.DataFrame) -> None:
        super().__init__(message)
        self.missing = missing


class InflationIndexError(ValueError):
    """The inflation index is malformed or lacks a year that re-basing needs."""


def _expected_unit(item: str) -> str:
    if item in ADMISSION_ITEMS:
        return "admission"
    if item in BED_DAY_ITEMS:
        return "bed_day"
    return "contact"


def validate_unit_costs(table: pd.DataFrame, *, name: str = "unit-cost table") -> pd.DataFrame:
    """Check a unit-cost table and return it normalised.

    Checks (all problems are collected, then raised together as
    :class:`UnitCostTableError` naming ``name`` and the CSV line of each row,
    line = row index + 2): required columns ``item, unit, cost, price_year,
    source``; ``unit`` is ``contact``/``admission``/``bed_day`` and matches the
    item (``*_admission`` → admission, ``*_bed_day`` → bed_day, else contact);
    ``cost`` finite and > 0 (GBP); ``price_year`` an integer year; ``source``
    non-empty; optional ``after_days`` (bed-day rows) and ``min_days``
    (admission rows) integers ≥ 0; optional ``scheme`` (blank = every scheme);
    no duplicate ``(scheme, item, min_days)`` within any scheme; every
    admission item with tiers has a ``min_days = 0`` tier.

    Returns a copy with ``after_days``, ``min_days`` (int) and ``scheme`` (str,
    "" for all schemes) filled in.
    """
    problems: list[str] = []
    missing_cols = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing_cols:
        raise UnitCostTableError(f"{name}: missing column(s) {', '.join(missing_cols)}")
    df = table.copy().reset_index(drop=True)
    line = df.index + 2
    df["item"] = df["item"].astype("string").str.strip()
    df["unit"] = df["unit"].astype("string").str.strip()
    df["source"] = df["source"].astype("string").str.strip()
    df["scheme"] = df["scheme"].astype("string").str.strip().fillna("") if "scheme" in df else ""
    cost = pd.to_numeric(df["cost"], errors="coerce")
    year = pd.to_numeric(df["price_year"], errors="coerce")

    def flag(mask: pd.Series, what: str) -> None:
        mask = mask.fillna(False).astype(bool)
        for ln, item in zip(line[mask.to_numpy()], df.loc[mask, "item"], strict=True):
            problems.append(f"line {ln} ({item}): {what}")

    flag(df["item"].isna() | (df["item"] == ""), "item is empty")
    flag(~df["unit"].isin(UNITS).fillna(False), f"unit must be one of {', '.join(UNITS)}")
    expected = df["item"].fillna("").map(_expected_unit)
    flag(df["unit"].isin(UNITS).fillna(False) & (df["unit"] != expected),
         "unit does not match the item (admission items: admission; *_bed_day: bed_day)")
    flag(~(np.isfinite(cost) & (cost > 0)).fillna(False), "cost must be a number > 0")
    flag(year.isna() | (year % 1 != 0), "price_year must be an integer year")
    flag(df["source"].isna() | (df["source"] == ""),
         "source is empty (cite it or write 'assumption: ...')")
    for col, unit in (("after_days", "bed_day"), ("min_days", "admission")):
        raw = df[col] if col in df else pd.Series(np.nan, index=df.index)
        days = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & (days.isna() | (days < 0) | (days % 1 != 0))
        flag(bad, f"{col} must be an integer >= 0")
        flag(raw.notna() & (days != 0) & (df["unit"] != unit), f"{col} applies to {unit} rows only")
        df[col] = days.fillna(0).astype("int64")
    for scheme in schemes_in(df) or [""]:
        sel = df[(df["scheme"] == "") | (df["scheme"] == scheme)]
        dup = sel.duplicated(["item", "min_days"], keep=False)
        flag(dup.reindex(df.index, fill_value=False),
             f"duplicate item{' in scheme ' + scheme if scheme else ''}")
        adm = sel[sel["unit"] == "admission"]
        no_zero = adm.groupby("item")["min_days"].transform("min") > 0
        flag(no_zero.reindex(df.index, fill_value=False),
             "admission item has no min_days = 0 tier")
    if problems:
        problems = list(dict.fromkeys(problems))  # a blank-scheme row is checked per scheme
        raise UnitCostTableError(f"{name}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    unknown = sorted(set(df["item"].dropna()) - set(SERVICE_GROUPS))
    if unknown:
        logger.warning("%s: items that are not contract codes: %s", name, ", ".join(unknown))
    df["cost"] = cost.astype(float)
    df["price_year"] = year.astype("int64")
    return df


def validate_inflation(index_table: pd.DataFrame, *, name: str = "inflation index") -> pd.Series:
    """Check an inflation table (columns ``year``, ``index``) and return index by year.

    Years must be unique integers and indices finite and > 0; problems raise
    :class:`InflationIndexError` naming ``name``.
    """
    missing = [c for c in ("year", "index") if c not in index_table.columns]
    if missing:
        raise InflationIndexError(f"{name}: missing column(s) {', '.join(missing)}")
    year = pd.to_numeric(index_table["year"], errors="coerce")
    idx = pd.to_numeric(index_table["index"], errors="coerce")
    problems = []
    bad_year = year.isna() | (year % 1 != 0)
    bad_idx = ~(np.isfinite(idx) & (idx > 0)).fillna(False)
    problems += [f"line {i + 2}: year must be an integer" for i in np.flatnonzero(bad_year)]
    problems += [f"line {i + 2}: index must be a number > 0" for i in np.flatnonzero(bad_idx)]
    dups = year[year.duplicated()].dropna().astype(int).unique()
    problems += [f"year {y} appears more than once" for y in dups]
    if problems:
        raise InflationIndexError(f"{name}: " + "; ".join(problems))
    return pd.Series(idx.to_numpy(float), index=year.astype("int64").to_numpy(), name="index")


def rebase_unit_costs(
    unit_costs: pd.DataFrame, inflation: pd.Series, *, price_year: int
) -> pd.DataFrame:
    """Add ``cost_gbp``: each row's cost at ``price_year`` prices.

    ``cost_gbp = cost × index[price_year] / index[row price_year]``, with the
    index from :func:`validate_inflation`. Every year needed but absent from
    the index is named in one :class:`InflationIndexError`.
    """
    needed = sorted(set(unit_costs["price_year"].astype(int)) | {int(price_year)})
    absent = [y for y in needed if y not in inflation.index]
    if absent:
        raise InflationIndexError(
            f"inflation index has no value for year(s) {', '.join(map(str, absent))} "
            f"(needed to re-base unit costs to {price_year})"
        )
    out = unit_costs.copy()
    row_index = inflation.loc[out["price_year"].astype(int)].to_numpy(float)
    factor = inflation.loc[int(price_year)] / row_index
    out["cost_gbp"] = out["cost"].to_numpy(float) * factor
    return out


def schemes_in(unit_costs: pd.DataFrame) -> list[str]:
    """Named hospital-costing schemes of a table (empty if it has no ``scheme`` values)."""
    if "scheme" not in unit_costs:
        return []
    s = unit_costs["scheme"].astype("string").fillna("").str.strip()
    return sorted(set(s[s != ""]))


def select_scheme(unit_costs: pd.DataFrame, scheme: str) -> pd.DataFrame:
    """Rows that apply under ``scheme``: its own rows and the rows with a blank scheme.

    A table with no named schemes is one scheme and is returned whole; a table
    with named schemes must name ``scheme`` (else :class:`UnitCostTableError`).
    """
    named = schemes_in(unit_costs)
    if not named:
        return unit_costs.copy()
    if scheme not in named:
        raise UnitCostTableError(f"hospital costing scheme {scheme!r} is not in the unit-cost "
                                 f"table (schemes: {', '.join(named)})")
    keep = unit_costs["scheme"].isin(["", scheme])
    return unit_costs[keep].copy()


def cost_events(
    events: pd.DataFrame, unit_costs: pd.DataFrame, *, table_name: str = "the unit-cost table"
) -> pd.DataFrame:
    """Cost every event: one row per costed item of an event.

    ``unit_costs`` is one scheme's re-based table (:func:`select_scheme`,
    :func:`rebase_unit_costs`). A contact row gives ``units = n`` and
    ``cost_gbp = n × unit cost``. An admission of item ``a`` with ``bed_days``
    ``d`` gives an ``a`` row (units 1) costed at the tier with the largest
    ``min_days ≤ d``, if the table has ``a``; and an ``a``'s bed-day item row
    (``emergency_bed_day``/``elective_bed_day``) with ``units = max(d −
    after_days, 0)`` costed bed days, if the table has that item. An event
    with neither raises :class:`MissingUnitCostError` listing every uncosted
    item with its count of events and rows.
    """
    keys = ["resident_id", "care_home_id", "care_model"]
    table = unit_costs
    contacts = events.loc[events["event_type"] == "contact", [*keys, "item", "n"]]
    adms = events.loc[events["event_type"] == "admission", [*keys, "item", "bed_days"]].copy()
    c_rates = table.loc[table["unit"] == "contact"].set_index("item")["cost_gbp"]
    a_tab = table.loc[table["unit"] == "admission", ["item", "min_days", "cost_gbp"]]
    b_tab = table.loc[table["unit"] == "bed_day"].set_index("item")[["after_days", "cost_gbp"]]
    adms["bed_item"] = adms["item"].str.replace("_admission", "_bed_day", regex=False)
    has_adm = adms["item"].isin(a_tab["item"])
    has_bed = adms["bed_item"].isin(b_tab.index)

    c_missing = contacts[~contacts["item"].isin(c_rates.index)]
    a_missing = adms[~(has_adm | has_bed)].assign(n=1)
    missing = (
        pd.concat([c_missing[["item", "n"]], a_missing[["item", "n"]]])
        .groupby("item")["n"].agg(events="sum", rows="size").reset_index()
    )
    if len(missing):
        listing = ", ".join(
            f"{r.item} ({r.events} events in {r.rows} rows)" for r in missing.itertuples()
        )
        raise MissingUnitCostError(
            f"no unit cost in {table_name} for {len(missing)} item(s): {listing}. "
            "Add a row for each (docs/unit_costs.md); nothing is costed as zero.",
            missing,
        )

    c = contacts.assign(units=contacts["n"].astype(float))
    c["cost_gbp"] = c["units"] * c["item"].map(c_rates).to_numpy(float)

    a = adms[has_adm].sort_values("bed_days", kind="stable")
    a = pd.merge_asof(
        a.assign(bed_days=a["bed_days"].astype("int64")),
        a_tab.sort_values("min_days").astype({"min_days": "int64", "item": a["item"].dtype}),
        left_on="bed_days", right_on="min_days", by="item", direction="backward",
    ).assign(units=1.0)

    b = adms[has_bed].copy()
    after = b["bed_item"].map(b_tab["after_days"]).to_numpy(float)
    b["units"] = np.clip(b["bed_days"].to_numpy(float) - after, 0, None)
    b["cost_gbp"] = b["units"] * b["bed_item"].map(b_tab["cost_gbp"]).to_numpy(float)
    b["item"] = b["bed_item"]

    cols = [*keys, "item", "units", "cost_gbp"]
    return pd.concat([c[cols], a[cols], b[cols]], ignore_index=True)


def make_resident_costs(costed: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """One row per resident: total cost over follow-up and annual cost.

    Columns ``resident_id, care_home_id, care_model, person_years, cost_gbp,
    annual_cost_gbp`` (= cost_gbp / person_years). Residents without events
    cost 0 and still carry their person-years.
    """
    out = cohort[["resident_id", "care_home_id", "care_model", "person_years"]].copy()
    pos = _positions(pd.Index(out["resident_id"]), costed["resident_id"], "resident_id")
    out["cost_gbp"] = np.bincount(pos, weights=costed["cost_gbp"].to_numpy(float),
                                  minlength=len(out))
    out["annual_cost_gbp"] = out["cost_gbp"] / out["person_years"]
    return out.sort_values(["care_model", "care_home_id", "resident_id"], ignore_index=True)


_CHUNK = 200  # bootstrap replicates per chunk (memory: _CHUNK x care homes integers)


def _progress_logger(model: str, replicates: int, n_homes: int):  # type: ignore[no-untyped-def]
    """Log bootstrap progress at most every 5 s, and a summary line at the end."""
    start = last = time.monotonic()

    def progress(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done == replicates:
            logger.info("bootstrap %s: %d replicates over %d care homes in %.2f s",
                        model, replicates, n_homes, now - start)
        elif now - last > 5.0:
            logger.info("bootstrap %s: %d/%d replicates", model, done, replicates)
            last = now

    return progress


def _positions(index: pd.Index, keys: pd.Series, what: str) -> np.ndarray:
    """Positions of ``keys`` in ``index``; a key absent from the cohort is an error."""
    pos = index.get_indexer(keys)
    if (pos < 0).any():
        absent = sorted(set(keys[pos < 0].astype(str)))
        raise ValueError(f"{len(absent)} {what} value(s) of the events are not in the cohort: "
                         + ", ".join(absent[:10]) + (" ..." if len(absent) > 10 else ""))
    return pos


def _item_order(items: list[str]) -> list[str]:
    known = [i for i in SERVICE_GROUPS if i in items]
    return known + sorted(set(items) - set(known))


def make_costs(
    costed: pd.DataFrame,
    cohort: pd.DataFrame,
    *,
    price_year: int,
    replicates: int,
    rng: np.random.Generator,
    level: float = 0.95,
) -> pd.DataFrame:
    """``costs.csv``: one row per care model × item, plus ``total``.

    ``cost`` = total GBP over follow-up at ``price_year`` prices;
    ``cost_per_resident_year`` = cost / person-years of the care model's
    cohort (every resident, with or without events); ``units`` = contacts,
    admissions or costed bed days. ``conf_low``/``conf_high``: percentile
    bootstrap interval of cost_per_resident_year, resampling care homes with
    replacement within each care model (per-home totals computed once; see
    :func:`~optimal_analysis.stats.bootstrap.cluster_bootstrap_ratio`). Extra
    columns: ``service_group``, ``residents``, ``care_homes``, ``person_years``.
    """
    homes = (cohort.groupby("care_home_id", sort=True, observed=True)
             .agg(care_model=("care_model", "first"), person_years=("person_years", "sum"),
                  residents=("resident_id", "size"), n_models=("care_model", "nunique")))
    if (homes["n_models"] > 1).any():
        bad = ", ".join(homes.index[homes["n_models"] > 1].astype(str)[:10])
        raise ValueError(f"care homes with residents in more than one care model: {bad}")
    codes, uniques = pd.factorize(costed["item"])
    items = _item_order([str(u) for u in uniques])
    col = pd.Index(items).get_indexer(uniques)[codes]
    flat = _positions(homes.index, costed["care_home_id"], "care_home_id") * len(items) + col
    shape = (len(homes), len(items))
    cost_hk = np.bincount(flat, weights=costed["cost_gbp"].to_numpy(float),
                          minlength=shape[0] * shape[1]).reshape(shape).astype(float)
    units_hk = np.bincount(flat, weights=costed["units"].to_numpy(float),
                           minlength=shape[0] * shape[1]).reshape(shape).astype(float)
    rows = []
    for model in sorted(homes["care_model"].unique()):
        in_model = (homes["care_model"] == model).to_numpy()
        h = homes[in_model]
        y = np.column_stack([cost_hk[in_model], cost_hk[in_model].sum(axis=1)])
        units = np.r_[units_hk[in_model].sum(axis=0), np.nan]
        t = h["person_years"].to_numpy(float)
        reps = cluster_bootstrap_ratio(y, t, replicates=replicates, rng=rng, chunk_size=_CHUNK,
                                       progress=_progress_logger(model, replicates, len(h)))
        low, high = percentile_interval(reps, level=level)
        total_py = t.sum()
        for k, item in enumerate([*items, "total"]):
            cost = y[:, k].sum()
            rows.append({
                "care_model": model, "item": item,
                "service_group": SERVICE_GROUPS.get(item, "total" if item == "total" else "other"),
                "units": units[k], "cost": cost, "cost_per_resident_year": cost / total_py,
                "conf_low": low[k], "conf_high": high[k], "price_year": int(price_year),
                "residents": int(h["residents"].sum()), "care_homes": len(h),
                "person_years": total_py,
            })
    return pd.DataFrame(rows)


def make_cost_tables(
    events: pd.DataFrame,
    cohort: pd.DataFrame,
    unit_costs: pd.DataFrame,
    inflation: pd.DataFrame,
    *,
    price_year: int,
    scheme: str,
    replicates: int,
    rng: np.random.Generator,
    unit_costs_name: str = "unit-cost table",
    inflation_name: str = "inflation index",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The costing stage: ``(costs, costs_sensitivity, resident_costs)``.

    Validates and re-bases the tables, costs every event under the main
    hospital-costing ``scheme`` (→ ``costs`` and ``resident_costs``) and under
    every other scheme the table names (→ ``costs_sensitivity``, same columns,
    empty if the table names no other scheme). Each table has a ``scheme``
    column. Every scheme's bootstrap starts from the same state of ``rng``, so
    schemes are compared on the same resampled care homes.
    """
    table = validate_unit_costs(unit_costs, name=unit_costs_name)
    index = validate_inflation(inflation, name=inflation_name)
    table = rebase_unit_costs(table, index, price_year=price_year)
    named = schemes_in(table)
    start = copy.deepcopy(rng)
    results: dict[str, pd.DataFrame] = {}
    resident_costs = pd.DataFrame()
    for s in [scheme] + [n for n in named if n != scheme]:
        costed = cost_events(events, select_scheme(table, s), table_name=unit_costs_name)
        costs = make_costs(costed, cohort, price_year=price_year, replicates=replicates,
                           rng=rng if s == scheme else copy.deepcopy(start))
        results[s] = costs.assign(scheme=s)
        if s == scheme:
            resident_costs = make_resident_costs(costed, cohort).assign(scheme=s)
    if not named:
        logger.warning("unit-cost table names no hospital-costing schemes: no sensitivity table")
    others = [results[s] for s in results if s != scheme]
    sensitivity = pd.concat(others, ignore_index=True) if others else results[scheme].iloc[:0]
    return results[scheme], sensitivity, resident_costs
