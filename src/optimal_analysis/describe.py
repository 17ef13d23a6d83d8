"""Describe stage: who the residents are, what NHS services they used, and the flow of records.

Tables (unsuppressed; :mod:`optimal_analysis.report.disclosure` makes the published copies):

* ``baseline.csv`` (:func:`make_baseline`): one row per variable × level × care model;
* ``service_use.csv`` (:func:`make_service_use`): one row per service × care model;
* ``cohort_summary.csv`` (:func:`make_cohort_summary`): one row per care model and ``all``;
* ``data_flow.csv`` (:func:`make_data_flow`): one row per region × table × step.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimal_analysis.care_models import care_model_order
from optimal_analysis.stats.smd import smd_binary, smd_continuous

__all__ = [
    "BASELINE_CATEGORICAL",
    "BASELINE_CONTINUOUS",
    "make_baseline",
    "make_cohort_summary",
    "make_data_flow",
    "make_service_use",
    "service_use_counts",
    "service_use_table",
]

logger = logging.getLogger(__name__)

#: Categorical baseline variables and their levels, in display order.
BASELINE_CATEGORICAL: dict[str, tuple[str, ...]] = {
    "sex": ("F", "M"),
    "dementia": ("yes", "no"),
    "nursing": ("yes", "no"),
    "exit_reason": ("died", "moved_out", "study_end"),
}
#: Continuous baseline variables (mean and SD of the non-missing, plus a ``missing`` row).
BASELINE_CONTINUOUS: tuple[str, ...] = ("age", "barthel")

BASELINE_COLUMNS = [
    "variable",
    "level",
    "care_model",
    "is_reference",
    "n",
    "percent",
    "mean",
    "sd",
    "smd",
]


def _require(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s): {missing}")


def _as_level(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.map({True: "yes", False: "no"}).astype(object)
    return values.astype(object)


def make_baseline(
    cohort: pd.DataFrame, reference: str, care_models: Sequence[str] | None = None
) -> pd.DataFrame:
    """Baseline characteristics by care model, with SMDs against ``reference``.

    Parameters
    ----------
    cohort
        ``interim/cohort.parquet``: one row per resident with ``care_model``,
        ``sex``, ``dementia``, ``nursing``, ``exit_reason``, ``age``, ``barthel``.
    reference
        The comparator care model; its rows have no SMD.
    care_models
        Display order (config ``care_models``; others follow, sorted).

    Returns
    -------
    DataFrame
        ``variable, level, care_model, is_reference, n, percent, mean, sd, smd``, one row per
        variable × level × care model (and ``variable == "residents"``, level
        ``total``: the number of residents, percent 100):

        * categorical variables (levels in :data:`BASELINE_CATEGORICAL`,
          booleans as ``yes``/``no``): ``n`` residents with the level and
          ``percent = 100 n / N`` of the care model's ``N`` residents;
        * continuous variables (:data:`BASELINE_CONTINUOUS`): level ``mean_sd`` holds
          ``n`` non-missing, ``mean`` and ``sd`` (denominator n - 1); level
          ``missing`` holds the number missing and its percent of ``N``.

        SMD of model 1 vs the reference 0 (Austin 2009): continuous
        ``(m1 - m0) / sqrt((s1² + s0²) / 2)``; each categorical level as a
        binary indicator ``(p1 - p0) / sqrt((p1 (1 - p1) + p0 (1 - p0)) / 2)``.
    """
    _require(cohort, ["care_model", *BASELINE_CATEGORICAL, *BASELINE_CONTINUOUS], "cohort")
    present = set(cohort["care_model"])
    if reference not in present:
        raise ValueError(
            f"reference care model {reference!r} has no residents; present: {sorted(present)}"
        )
    models = care_model_order(cohort["care_model"].unique(), care_models)
    group = cohort["care_model"]
    n_total = group.value_counts().reindex(models)
    parts = [
        pd.DataFrame(
            {
                "variable": "residents",
                "level": "total",
                "care_model": models,
                "n": n_total.to_numpy(),
                "percent": 100.0,
            }
        )
    ]
    for var, levels in BASELINE_CATEGORICAL.items():
        counts = pd.crosstab(group, _as_level(cohort[var])).reindex(
            index=models, columns=list(levels), fill_value=0
        )
        long = counts.stack().rename("n").reset_index().rename(columns={var: "level"})
        long.columns = ["care_model", "level", "n"]
        long["variable"] = var
        long["percent"] = 100.0 * long["n"] / long["care_model"].map(n_total)
        p = long["percent"] / 100
        p_ref = long["level"].map(
            long.loc[long["care_model"] == reference].set_index("level")["percent"] / 100
        )
        long["smd"] = smd_binary(p.to_numpy(), p_ref.to_numpy())
        parts.append(long)
    for var in BASELINE_CONTINUOUS:
        x = pd.to_numeric(cohort[var], errors="coerce").astype(float)
        stats = x.groupby(group).agg(["count", "mean", "std"]).reindex(models)
        ref = stats.loc[reference]
        summary = pd.DataFrame(
            {
                "variable": var,
                "level": "mean_sd",
                "care_model": models,
                "n": stats["count"].to_numpy(),
                "mean": stats["mean"].to_numpy(),
                "sd": stats["std"].to_numpy(),
                "smd": smd_continuous(stats["mean"], stats["std"], ref["mean"], ref["std"]),
            }
        )
        n_missing = x.isna().groupby(group).sum().reindex(models).to_numpy()
        missing = pd.DataFrame(
            {
                "variable": var,
                "level": "missing",
                "care_model": models,
                "n": n_missing,
                "percent": 100.0 * n_missing / n_total.to_numpy(),
            }
        )
        parts += [summary, missing]
    out = pd.concat(parts, ignore_index=True).reindex(columns=BASELINE_COLUMNS)
    out["is_reference"] = out["care_model"] == reference
    out.loc[out["is_reference"], "smd"] = np.nan
    out["n"] = out["n"].astype("int64")
    return out


def make_service_use(events: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """NHS contacts by service and care model, per resident-year.

    Parameters
    ----------
    events
        The events of every region stacked (``io.read_events`` of
        ``interim/regions/*/events.parquet``); rows with ``event_type ==
        "contact"`` count ``n`` contacts of service ``item`` (admissions are
        reported with the rates).
    cohort
        ``interim/cohort.parquet``; gives each care model's residents and person-years.

    Returns
    -------
    DataFrame
        ``service, care_model, residents, residents_with_any, percent_with_any,
        contacts, person_years, contacts_per_resident_year``: every service seen
        in ``events`` × every care model in ``cohort`` (zeros where none), plus
        ``service == "all_contacts"`` (any service). ``residents`` and
        ``person_years`` are the care model's totals (person-years =
        follow-up days / 365.25); ``contacts_per_resident_year = contacts /
        person_years``; ``percent_with_any = 100 residents_with_any / residents``.
    """
    return service_use_table([service_use_counts(events, cohort)], cohort)


def service_use_counts(events: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """Residents with any contact and contacts, per service × care model, of some events.

    The additive part of :func:`make_service_use`: for events of disjoint sets
    of residents (e.g. regions), :func:`service_use_table` of the parts equals
    ``make_service_use`` of all of them (integer sums). Index ``(service,
    care_model)`` including ``all_contacts``; columns ``residents_with_any,
    contacts``.
    """
    _require(events, ["resident_id", "event_type", "item", "n"], "events")
    _require(cohort, ["resident_id", "care_model", "person_years"], "cohort")
    is_contact = (events["event_type"] == "contact").to_numpy(dtype=bool)
    contacts = events.loc[is_contact, ["resident_id", "item", "n"]]
    # Integer codes throughout: iterating millions of Arrow strings in Python
    # (set(), or a stacked copy for ``all_contacts``) dominated this stage at
    # national size (benchmarks/results.md).
    # via the distinct ids: one hash pass, and a dictionary-encoded column stays encoded
    id_codes, ids = pd.factorize(contacts["resident_id"])
    position = pd.Index(cohort["resident_id"]).get_indexer(pd.Index(ids))[id_codes]
    if (position < 0).any():
        unknown = sorted(set(contacts["resident_id"].to_numpy()[position < 0]))
        raise ValueError(
            f"events name {len(unknown)} resident(s) not in the cohort, e.g. {unknown[:5]}"
        )
    model_codes, model_names = pd.factorize(cohort["care_model"])
    if (model_codes < 0).any():
        raise ValueError("cohort has residents with no care_model")
    service_codes, service_names = pd.factorize(contacts["item"])
    coded = pd.DataFrame(
        {
            "service": service_codes,
            "care_model": model_codes[position],
            "resident": position,
            "n": contacts["n"].to_numpy(),
        }
    )
    by_service = coded.groupby(["service", "care_model"]).agg(
        residents_with_any=("resident", "nunique"), contacts=("n", "sum")
    )
    by_model = coded.groupby("care_model").agg(
        residents_with_any=("resident", "nunique"), contacts=("n", "sum")
    )
    by_service.index = by_service.index.set_levels(
        [
            pd.Index(service_names, dtype=object)[by_service.index.levels[0]],
            pd.Index(model_names, dtype=object)[by_service.index.levels[1]],
        ]
    )
    by_model.index = pd.MultiIndex.from_arrays(
        [
            ["all_contacts"] * len(by_model),
            pd.Index(model_names, dtype=object)[by_model.index],
        ],
        names=["service", "care_model"],
    )
    return pd.concat([by_service, by_model])


def service_use_table(counts: Sequence[pd.DataFrame], cohort: pd.DataFrame) -> pd.DataFrame:
    """``service_use.csv`` from :func:`service_use_counts` of disjoint sets of residents."""
    parts = [c for c in counts if len(c)] or list(counts[:1])
    agg = parts[0] if len(parts) == 1 else pd.concat(parts).groupby(level=[0, 1]).sum()
    models = list(dict.fromkeys(cohort["care_model"]))
    service_names = [x for x in agg.index.get_level_values(0).unique() if x != "all_contacts"]
    services = [*sorted(str(x) for x in service_names), "all_contacts"]
    grid = pd.MultiIndex.from_product([services, models], names=["service", "care_model"])
    out = agg.reindex(grid, fill_value=0).reset_index()
    totals = cohort.groupby("care_model").agg(
        residents=("resident_id", "size"), person_years=("person_years", "sum")
    )
    out = out.join(totals, on="care_model")
    out["percent_with_any"] = 100.0 * out["residents_with_any"] / out["residents"]
    out["contacts_per_resident_year"] = out["contacts"] / out["person_years"]
    cols = [
        "service",
        "care_model",
        "residents",
        "residents_with_any",
        "percent_with_any",
        "contacts",
        "person_years",
        "contacts_per_resident_year",
    ]
    return out[cols].astype(
        {"residents_with_any": "int64", "contacts": "int64", "residents": "int64"}
    )


def make_cohort_summary(
    cohort: pd.DataFrame, care_models: Sequence[str] | None = None
) -> pd.DataFrame:
    """Regions, care homes, residents and follow-up by care model, and for ``all``.

    Returns ``care_model, regions, n_regions, care_homes, residents, deaths,
    person_years, median_follow_up_days`` (regions as a ``;``-joined list).
    """
    _require(
        cohort,
        [
            "care_model",
            "region",
            "care_home_id",
            "resident_id",
            "person_years",
            "follow_up_days",
            "died",
        ],
        "cohort",
    )
    models = (
        list(care_models) if care_models is not None else list(dict.fromkeys(cohort["care_model"]))
    )
    both = pd.concat([cohort, cohort.assign(care_model="all")])
    out = both.groupby("care_model").agg(
        regions=("region", lambda r: ";".join(sorted(set(r)))),
        n_regions=("region", "nunique"),
        care_homes=("care_home_id", "nunique"),
        residents=("resident_id", "size"),
        deaths=("died", "sum"),
        person_years=("person_years", "sum"),
        median_follow_up_days=("follow_up_days", "median"),
    )
    order = (
        [m for m in models if m in out.index]
        + sorted(set(out.index) - set(models) - {"all"})
        + ["all"]
    )
    return out.reindex(order).reset_index().astype({"deaths": "int64"})


def make_data_flow(data_quality: pd.DataFrame) -> pd.DataFrame:
    """The flow of records per region and table: read, excluded by reason, analysed.

    Parameters
    ----------
    data_quality
        ``data_quality/data_quality.csv``: ``region, table, rows_read, rows_used,
        rows_excluded, reason``, one row per region × table × reason (rows with
        no exclusion may have ``rows_excluded == 0``).

    Returns
    -------
    DataFrame
        ``region, table, step, rows`` with steps ``read``, ``excluded: <reason>``
        (reasons with rows excluded) and ``analysed``.

    Raises
    ------
    ValueError
        If a region × table does not account for every row read
        (``rows_read != rows_used + sum(rows_excluded)``), listing each one.
    """
    _require(
        data_quality,
        ["region", "table", "rows_read", "rows_used", "rows_excluded", "reason"],
        "data_quality",
    )
    dq = data_quality.copy()
    keys = ["region", "table"]
    per = dq.groupby(keys, sort=False).agg(
        rows_read=("rows_read", "first"),
        rows_used=("rows_used", "first"),
        excluded=("rows_excluded", "sum"),
    )
    bad = per[per["rows_read"] != per["rows_used"] + per["excluded"]]
    if len(bad):
        raise ValueError(
            "data_quality does not account for every row read (rows_read != rows_used + excluded): "
            + "; ".join(
                f"{r}/{t}: {row.rows_read} != {row.rows_used} + {row.excluded}"
                for (r, t), row in bad.iterrows()
            )
        )
    read = per["rows_read"].rename("rows").reset_index().assign(step="read", order=0)
    exc = dq.loc[dq["rows_excluded"] > 0, [*keys, "reason", "rows_excluded"]]
    exc = (
        exc.groupby([*keys, "reason"], sort=False)["rows_excluded"]
        .sum()
        .rename("rows")
        .reset_index()
    )
    exc = exc.assign(step="excluded: " + exc.pop("reason").astype(str), order=1)
    used = per["rows_used"].rename("rows").reset_index().assign(step="analysed", order=2)
    out = pd.concat([read, exc, used], ignore_index=True)
    out = out.sort_values([*keys, "order"], kind="stable").drop(columns="order")
    return out[[*keys, "step", "rows"]].reset_index(drop=True).astype({"rows": "int64"})


def make_describe_tables(
    cohort: pd.DataFrame,
    events: pd.DataFrame,
    data_quality: pd.DataFrame,
    *,
    reference: str,
    care_models: Sequence[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of the describe stage, by its file name.

    Keys: ``baseline``, ``service_use``, ``cohort_summary``, ``data_flow``.
    """
    return {
        "baseline": make_baseline(cohort, reference=reference, care_models=care_models),
        "service_use": make_service_use(events, cohort),
        "cohort_summary": make_cohort_summary(cohort, care_models=care_models),
        "data_flow": make_data_flow(data_quality),
    }
