"""Costing stage: unit-cost tables, re-basing, costed events and ``costs.csv``.

Every contact row costs ``n`` × its service's unit cost; every hospital stay
costs its admission item plus its costed bed days × its bed-day item (see
docs/unit_costs.md). Unit costs are re-based to the reporting price year with
an inflation index. Costs per resident-year get 95% intervals from a bootstrap
that resamples care homes within each care model
(:func:`optimal_analysis.stats.bootstrap.cluster_bootstrap_ratio`). The
table checks and re-basing live in :mod:`optimal_analysis.unit_costs` (re-exported
here). String IDs are factorized once; costing and summing use integer codes
(``np.bincount``), so the stage scales to national cohorts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimal_analysis.care_models import care_model_order
from optimal_analysis.stats.bootstrap import (
    cluster_bootstrap_ratio,
    percentile_interval,
    ratio_t_interval,
)
from optimal_analysis.tidy import SMALL_SAMPLE_COLUMNS
from optimal_analysis.unit_costs import (
    DERIVED_SERVICE_GROUP,
    SERVICE_GROUPS,
    InflationIndexError,
    MissingUnitCostError,
    UnitCostTableError,
    rebase_unit_costs,
    schemes_in,
    select_scheme,
    validate_inflation,
    validate_unit_costs,
)

__all__ = [
    "InflationIndexError",
    "MissingUnitCostError",
    "SERVICE_GROUPS",
    "UnitCostTableError",
    "cost_events",
    "make_costs",
    "make_resident_costs",
    "rebase_unit_costs",
    "schemes_in",
    "select_scheme",
    "validate_inflation",
    "validate_unit_costs",
]

logger = logging.getLogger(__name__)


class _Events:
    """The events as integer codes, factorized once (string IDs are never matched per row).

    ``item_code`` indexes ``items``; ``resident_pos`` is the row of the resident in
    the cohort; ``home_code`` indexes the care homes of :func:`_homes`.
    """

    def __init__(self, events: pd.DataFrame, cohort_ids: pd.Index | None = None,
                 home_ids: pd.Index | None = None) -> None:
        type_code, types = pd.factorize(events["event_type"])
        types = list(types)
        self.item_code, items = pd.factorize(events["item"], use_na_sentinel=False)
        self.items = [str(i) for i in items]
        self.n = events["n"].to_numpy()
        self.bed_days = events["bed_days"].to_numpy(float)
        code = {t: types.index(t) if t in types else -1 for t in ("contact", "admission")}
        self.c_rows = np.flatnonzero(type_code == code["contact"])  # contact rows, in order
        self.c_item = self.item_code[self.c_rows]
        self.c_units = self.n[self.c_rows].astype(float)
        self.adm_rows = np.flatnonzero(type_code == code["admission"])
        self.adm_item = self.item_code[self.adm_rows]
        self.resident_pos = _codes_in(cohort_ids, events["resident_id"], "resident_id")
        self.home_code = _codes_in(home_ids, events["care_home_id"], "care_home_id")


def _codes_in(index: pd.Index | None, keys: pd.Series, what: str) -> np.ndarray:
    """Positions of ``keys`` in ``index`` via the unique keys (one hash pass over the rows)."""
    if index is None:
        return np.empty(0, np.int64)
    codes, uniques = pd.factorize(keys)
    return _positions(index, pd.Series(uniques), what)[codes]


_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _cost_rows(ev: _Events, table: pd.DataFrame, table_name: str) -> _Arrays:
    """Costed rows as arrays: ``(event_row, item_names, item_code, units, cost_gbp)``.

    The rules of :func:`cost_events`; rows come as contacts (event order),
    admission items (stable by bed days) and bed-day items (event order).
    """
    items = pd.Series(ev.items)
    c_rates = table.loc[table["unit"] == "contact"].set_index("item")["cost_gbp"]
    a_tab = table.loc[table["unit"] == "admission", ["item", "min_days", "cost_gbp"]]
    b_tab = table.loc[table["unit"] == "bed_day"].set_index("item")[["after_days", "cost_gbp"]]
    bed_items = items.str.replace("_admission", "_bed_day", regex=False)
    c_rate = items.map(c_rates).to_numpy(float)  # per event item, nan = no unit cost
    has_adm = items.isin(a_tab["item"]).to_numpy()
    has_bed = bed_items.isin(b_tab.index).to_numpy()

    c_rows, c_item, adm_rows, adm_item = ev.c_rows, ev.c_item, ev.adm_rows, ev.adm_item
    c_price = c_rate[c_item]
    c_miss = c_rows[np.isnan(c_price)]
    a_miss = adm_rows[~(has_adm | has_bed)[adm_item]]
    if len(c_miss) or len(a_miss):
        k = len(items)
        n_events = (np.bincount(ev.item_code[c_miss], weights=ev.n[c_miss], minlength=k)
                    + np.bincount(ev.item_code[a_miss], minlength=k))
        n_rows = np.bincount(ev.item_code[np.concatenate([c_miss, a_miss])], minlength=k)
        missing = (pd.DataFrame({"item": items, "events": n_events.astype("int64"),
                                 "rows": n_rows.astype("int64")})
                   .loc[n_rows > 0].sort_values("item", ignore_index=True))
        listing = ", ".join(
            f"{r.item} ({r.events} events in {r.rows} rows)" for r in missing.itertuples()
        )
        raise MissingUnitCostError(
            f"no unit cost in {table_name} for {len(missing)} item(s): {listing}. "
            "Add a row for each (docs/unit_costs.md); nothing is costed as zero.",
            missing,
        )

    c_cost = ev.c_units * c_price

    a_rows = adm_rows[has_adm[adm_item]]
    a_rows = a_rows[np.argsort(ev.bed_days[a_rows], kind="stable")]
    a_cost = np.full(len(a_rows), np.nan)
    a_code = ev.item_code[a_rows]
    for item, tiers in a_tab.groupby("item", sort=True):  # one pass per admission item
        if item not in ev.items:
            continue
        tiers = tiers.sort_values("min_days")
        sel = a_code == ev.items.index(item)
        tier = np.searchsorted(tiers["min_days"].to_numpy(float), ev.bed_days[a_rows[sel]],
                               side="right") - 1  # largest min_days <= bed days
        a_cost[sel] = np.where(tier >= 0, tiers["cost_gbp"].to_numpy(float)[tier], np.nan)

    b_rows = adm_rows[has_bed[adm_item]]
    b_code = adm_item[has_bed[adm_item]]
    after = bed_items.map(b_tab["after_days"]).to_numpy(float)
    b_units = np.clip(ev.bed_days[b_rows] - after[b_code], 0, None)
    b_cost = b_units * bed_items.map(b_tab["cost_gbp"]).to_numpy(float)[b_code]

    names = np.concatenate([items.to_numpy(object), bed_items.to_numpy(object)])
    return (np.concatenate([c_rows, a_rows, b_rows]), names,
            np.concatenate([c_item, a_code, len(items) + b_code]),
            np.concatenate([ev.c_units, np.ones(len(a_rows)), b_units]),
            np.concatenate([c_cost, a_cost, b_cost]))


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
    row, names, code, units, cost = _cost_rows(_Events(events), unit_costs, table_name)
    out = events[["resident_id", "care_home_id", "care_model"]].iloc[row].reset_index(drop=True)
    return out.assign(item=pd.array(names[code], dtype=events["item"].dtype), units=units,
                      cost_gbp=cost)


def _resident_costs(cohort: pd.DataFrame, resident_pos: np.ndarray,
                    cost_gbp: np.ndarray) -> pd.DataFrame:
    out = cohort[["resident_id", "care_home_id", "care_model", "person_years"]].copy()
    out["cost_gbp"] = np.bincount(resident_pos, weights=cost_gbp, minlength=len(out))
    out["annual_cost_gbp"] = out["cost_gbp"] / out["person_years"]
    keys = [pd.factorize(out[c], sort=True)[0] for c in ("resident_id", "care_home_id",
                                                         "care_model")]
    return out.take(np.lexsort(keys)).reset_index(drop=True)  # sorted by model, home, resident


def make_resident_costs(costed: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """One row per resident: total cost over follow-up and annual cost.

    Columns ``resident_id, care_home_id, care_model, person_years, cost_gbp,
    annual_cost_gbp`` (= cost_gbp / person_years). Residents without events
    cost 0 and still carry their person-years.
    """
    pos = _codes_in(pd.Index(cohort["resident_id"]), costed["resident_id"], "resident_id")
    return _resident_costs(cohort, pos, costed["cost_gbp"].to_numpy(float))


#: ``small_sample_method`` of costs.csv: t(G-1) on the log ratio, linearised variance.
SMALL_SAMPLE_METHOD = "t(G-1)-log-linearised"

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


def _homes(cohort: pd.DataFrame) -> pd.DataFrame:
    """One row per care home (sorted by id): care_model, person_years, residents."""
    code, ids = pd.factorize(cohort["care_home_id"], sort=True)
    homes = (cohort[["care_model", "person_years"]].assign(_home=code)
             .groupby("_home", sort=True)
             .agg(care_model=("care_model", "first"), person_years=("person_years", "sum"),
                  residents=("person_years", "size"), n_models=("care_model", "nunique")))
    homes.index = pd.Index(ids, name="care_home_id")
    if (homes["n_models"] > 1).any():
        bad = ", ".join(homes.index[homes["n_models"] > 1].astype(str)[:10])
        raise ValueError(f"care homes with residents in more than one care model: {bad}")
    return homes


def _per_home(home_code: np.ndarray, names: np.ndarray, item_code: np.ndarray,
              units_k: np.ndarray, cost_k: np.ndarray,
              n_homes: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per-home totals of costed rows given as codes: ``(items, cost_hk, units_hk)``."""
    present = np.bincount(item_code, minlength=len(names)) > 0
    items = _item_order(sorted({str(n) for n in names[present]}))
    col = pd.Index(items).get_indexer(names.astype(str))[item_code]
    shape = (n_homes, len(items))
    flat = home_code * len(items) + col
    cost_hk = np.bincount(flat, weights=cost_k, minlength=shape[0] * shape[1]).reshape(shape)
    units_hk = np.bincount(flat, weights=units_k, minlength=shape[0] * shape[1]).reshape(shape)
    return items, cost_hk, units_hk


def _costs(per_home: dict[str, tuple[list[str], np.ndarray, np.ndarray]], homes: pd.DataFrame,
           *, price_year: int, replicates: int, rng: np.random.Generator, level: float,
           care_models: Sequence[str] | None, few_clusters_threshold: int,
           derived: dict[str, tuple[list[str], np.ndarray, np.ndarray]] | None = None,
           ) -> dict[str, pd.DataFrame]:
    """``costs.csv`` of each scheme from per-home totals (see :func:`make_costs`).

    One bootstrap per care model serves every scheme: the columns of all
    schemes are resampled with the same draws of homes. ``derived`` (per
    scheme, :func:`~optimal_analysis.costing.derived_costs.derived_per_home`)
    adds rows after ``total`` that are not summed into it.
    """
    derived = derived or {}
    rows: dict[str, list[dict]] = {s: [] for s in per_home}
    models = homes["care_model"].astype(str).to_numpy()
    for model in care_model_order(sorted(set(models)), care_models):
        in_model = models == model
        h = homes[in_model]
        t = h["person_years"].to_numpy(float)
        ys = {s: np.column_stack([c[in_model], c[in_model].sum(axis=1)]
                                 + ([derived[s][1][in_model]] if s in derived else []))
              for s, (_, c, _) in per_home.items()}
        y_all = np.column_stack(list(ys.values()))
        if len(h) >= 2:
            reps = cluster_bootstrap_ratio(y_all, t, replicates=replicates, rng=rng,
                                           chunk_size=_CHUNK,
                                           progress=_progress_logger(model, replicates, len(h)))
            low_all, high_all = percentile_interval(reps, level=level)
            note = ""
        else:  # resampling one home gives a zero-width interval: no between-home variation
            low_all = high_all = np.full(y_all.shape[1], np.nan)
            note = (f"{len(h)} care home: no interval (between-home variation cannot be "
                    "estimated from one home)")
            logger.warning("care model %s has %d care home: no bootstrap interval", model, len(h))
        _, low_s_all, high_s_all, df = ratio_t_interval(y_all, t, level=level, log_scale=True)
        total_py = t.sum()
        offset = 0
        for s, (items, _, units_hk) in per_home.items():
            y = ys[s]
            part = slice(offset, offset + y.shape[1])
            low, high, low_s, high_s = (low_all[part], high_all[part], low_s_all[part],
                                        high_s_all[part])
            offset += y.shape[1]
            d_items, _, d_units = derived.get(s, ([], None, np.zeros((len(in_model), 0))))
            units = np.concatenate([units_hk[in_model].sum(axis=0), [np.nan],
                                    d_units[in_model].sum(axis=0)])
            for k, item in enumerate([*items, "total", *d_items]):
                cost = y[:, k].sum()
                rows[s].append({
                    "care_model": model, "item": item,
                    "service_group": DERIVED_SERVICE_GROUP if k > len(items) else
                    SERVICE_GROUPS.get(item, "total" if item == "total" else "other"),
                    "units": units[k], "cost": cost, "cost_per_resident_year": cost / total_py,
                    "conf_low": low[k], "conf_high": high[k], "price_year": int(price_year),
                    "residents": int(h["residents"].sum()), "care_homes": len(h),
                    "person_years": total_py, "ci_note": note,
                    **dict(zip(SMALL_SAMPLE_COLUMNS,
                               (low_s[k], high_s[k], np.nan, df, SMALL_SAMPLE_METHOD),
                               strict=True)),
                    "few_clusters": len(h) < few_clusters_threshold,
                })
    return {s: pd.DataFrame(r) for s, r in rows.items()}


def make_costs(
    costed: pd.DataFrame,
    cohort: pd.DataFrame,
    *,
    price_year: int,
    replicates: int,
    rng: np.random.Generator,
    level: float = 0.95,
    care_models: Sequence[str] | None = None,
    few_clusters_threshold: int = 30,
) -> pd.DataFrame:
    """``costs.csv``: one row per care model × item, plus ``total``.

    ``cost`` = total GBP over follow-up at ``price_year`` prices;
    ``cost_per_resident_year`` = cost / person-years of the care model's
    cohort (every resident, with or without events); ``units`` = contacts,
    admissions or costed bed days. ``conf_low``/``conf_high``: percentile
    bootstrap interval of cost_per_resident_year, resampling care homes with
    replacement within each care model (per-home totals computed once; see
    :func:`~optimal_analysis.stats.bootstrap.cluster_bootstrap_ratio`). A care
    model with fewer than 2 care homes gets no interval (NaN): resampling one
    home cannot estimate between-home variation; ``ci_note`` says so (empty
    otherwise). Rows are ordered by ``care_models`` (configured first, then
    any others sorted), then by item. Extra columns: ``service_group``,
    ``residents``, ``care_homes``, ``person_years``, ``ci_note``,
    ``few_clusters`` (care homes of the care model < ``few_clusters_threshold``)
    and the small-sample interval :data:`~optimal_analysis.tidy.SMALL_SAMPLE_COLUMNS`:
    with G the care model's homes, R = cost_per_resident_year,
    z_g = (C_g - R PY_g) / sum PY and se = sqrt(G/(G-1) sum z_g^2), the limits are
    R exp(-+t_{G-1} se / R) (t on log R; [0, 0] where R = 0), ``df_small`` = G - 1,
    ``p_value_small`` NaN (a cost level has no null value to test),
    ``small_sample_method`` :data:`SMALL_SAMPLE_METHOD`; NaN limits with < 2 homes.
    See :func:`~optimal_analysis.stats.bootstrap.ratio_t_interval`.
    """
    homes = _homes(cohort)
    home_code = _codes_in(homes.index, costed["care_home_id"], "care_home_id")
    code, names = pd.factorize(costed["item"])
    per_home = _per_home(home_code, np.asarray(names, dtype=object), code,
                         costed["units"].to_numpy(float), costed["cost_gbp"].to_numpy(float),
                         len(homes))
    return _costs({"": per_home}, homes, price_year=price_year, replicates=replicates, rng=rng,
                  level=level, care_models=care_models,
                  few_clusters_threshold=few_clusters_threshold)[""]


def _scheme_tables(unit_costs: pd.DataFrame, inflation: pd.DataFrame, *, price_year: int,
                   scheme: str, unit_costs_name: str,
                   inflation_name: str) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Validated, re-based unit costs of each scheme to cost under: ``({scheme: table}, named)``.

    The main ``scheme`` first, then every other scheme the table names
    (``named``: all of them, in the table's order).
    """
    table = validate_unit_costs(unit_costs, name=unit_costs_name)
    index = validate_inflation(inflation, name=inflation_name)
    table = rebase_unit_costs(table, index, price_year=price_year)
    named = schemes_in(table)
    return {s: select_scheme(table, s) for s in [scheme] + [n for n in named if n != scheme]}, named


def _stage_tables(per_home: dict[str, tuple[list[str], np.ndarray, np.ndarray]],
                  derived: dict[str, tuple[list[str], np.ndarray, np.ndarray]],
                  homes: pd.DataFrame, resident_costs: pd.DataFrame, *, scheme: str,
                  named: list[str], price_year: int, replicates: int,
                  rng: np.random.Generator, care_models: Sequence[str] | None,
                  few_clusters_threshold: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(costs, costs_sensitivity, resident_costs)`` from every scheme's per-home totals."""
    tables = _costs(per_home, homes, price_year=price_year, replicates=replicates, rng=rng,
                    level=0.95, care_models=care_models,
                    few_clusters_threshold=few_clusters_threshold, derived=derived)
    results = {s: t.assign(scheme=s) for s, t in tables.items()}
    if not named:
        logger.warning("unit-cost table names no hospital-costing schemes: no sensitivity table")
    others = [results[s] for s in results if s != scheme]
    sensitivity = pd.concat(others, ignore_index=True) if others else results[scheme].iloc[:0]
    return results[scheme], sensitivity, resident_costs
