"""Regions combined without holding every region's contacts and admissions at once.

:func:`optimal_analysis.ingest.quality.combine_regions` takes all four tables of
every region in memory. At national size and beyond, the contacts and
admissions dominate, and nothing the combine step decides needs all of them
together: the cross-region id checks and the coverage failures read only care
homes and residents, and a contact or stay is set aside across regions only
through its resident (``resident_excluded``). So the workflow combines in two
parts that give the same tables:

- :func:`combine_people`: care homes and residents of every region (small):
  ids used in more than one region, the cascade from homes to residents,
  the coverage failures, and the used rows stacked;
- :func:`account_events`: one region's contacts or admissions at a time,
  only ``resident_id`` and ``_reason`` (and for admissions ``method`` and
  ``primary_diagnosis``): the cascade from that region's used residents, the
  accounting counts, and the completeness of the diagnoses.

:func:`used_events` applies the same cascade to a region's full table for the
per-region cohort job. ``data_quality.csv``, ``failures.csv`` and
``optional_data.csv`` are equal to those of ``combine_regions`` (tested).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from optimal_analysis.derived_outcomes import (
    OPTIONAL_DATA_COLUMNS,
    missing_diagnoses,
    missing_places,
)
from optimal_analysis.ingest.quality import (
    _coverage_failures,
    _cross_region_duplicates,
    accounting_from_counts,
    cascade_events,
    cascade_residents,
    reason_counts,
    sorted_failures,
    stack_used,
)

__all__ = [
    "PEOPLE_TABLES",
    "EVENT_TABLES",
    "account_events",
    "accounting_from_counts",
    "combine_people",
    "optional_data_from_parts",
    "used_events",
]

#: The small tables combine reads whole; the large ones it reads one region at a time.
PEOPLE_TABLES = ("care_homes", "residents")
EVENT_TABLES = ("contacts", "admissions")
#: The columns of a region's event tables :func:`account_events` reads.
ACCOUNT_COLUMNS = {"contacts": ["resident_id", "_reason"],
                   "admissions": ["resident_id", "_reason", "method"]}


def combine_people(
    tables: dict[str, dict[str, pd.DataFrame]],
    failures: pd.DataFrame,
    files: dict[str, dict[str, str]],
    *,
    care_models: Sequence[str] = (),
    reference_care_model: str | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, dict[str, pd.Series]]]:
    """Cross-region checks on care homes and residents, and their used rows stacked.

    Parameters
    ----------
    tables
        ``{region: {"care_homes": marked, "residents": marked}}`` (modified in
        place: cross-region and cascade exclusions are marked).
    failures, files, care_models, reference_care_model
        As for :func:`optimal_analysis.ingest.quality.combine_regions`.

    Returns
    -------
    combined, failures, counts
        ``combined["care_homes"]``, ``combined["residents"]`` as
        ``combine_regions`` makes them; the complete failures table (no
        failure comes from contacts or admissions after ingest); and
        ``counts[region][table]`` for the two tables (:func:`reason_counts`),
        to which :func:`account_events` adds the other two.
    """
    extra = [_cross_region_duplicates(tables, "care_homes", "care_home_id", files),
             _cross_region_duplicates(tables, "residents", "resident_id", files)]
    for t in tables.values():
        cascade_residents(t)
    combined = stack_used(tables, PEOPLE_TABLES)
    if not (failures["severity"] == "fatal").any():  # else the cause is already named
        extra.append(_coverage_failures(tables, combined, files, care_models,
                                        reference_care_model))
    counts = {r: {t: reason_counts(tables[r][t]["_reason"]) for t in PEOPLE_TABLES}
              for r in tables}
    return combined, sorted_failures([failures, *extra]), counts


def residents_used(residents: pd.DataFrame, region: str) -> pd.Series:
    """The used resident ids of ``region`` from the combined residents table."""
    return residents.loc[residents["region"].astype(str).eq(region).to_numpy(), "resident_id"]


def account_events(events: pd.DataFrame, table: str, region: str,
                   used_ids: pd.Series) -> tuple[pd.Series, pd.DataFrame | None]:
    """Reason counts of one region's contacts or admissions, after the cascade.

    ``events`` is the region's marked table (at least :data:`ACCOUNT_COLUMNS`;
    modified in place); ``used_ids`` its used residents. Returns the counts
    (:func:`reason_counts`) and, for admissions, the region's row of the
    diagnosis completeness (:func:`optimal_analysis.derived_outcomes.missing_diagnoses`;
    no row when the region has no used admission).
    """
    cascade_events(events, used_ids)
    counts = reason_counts(events["_reason"])
    if table != "admissions":
        return counts, None
    used = events.loc[events["_reason"].isna().to_numpy(), ["method"]]
    diagnosis = (events.loc[used.index, "primary_diagnosis"] if "primary_diagnosis" in events
                 else pd.NA)
    return counts, missing_diagnoses(used.assign(region=region, primary_diagnosis=diagnosis))


def optional_data_from_parts(diagnoses: Sequence[pd.DataFrame],
                             residents: pd.DataFrame) -> pd.DataFrame:
    """``optional_data.csv`` from the regions' diagnosis rows (in region order).

    Equal to :func:`optimal_analysis.derived_outcomes.optional_data_table` of
    the stacked admissions: each region's row depends on its own admissions only.
    """
    res = residents if "place_of_death" in residents else residents.assign(place_of_death=pd.NA)
    d = pd.concat(list(diagnoses), ignore_index=True).rename(
        columns={"emergency_admissions": "records", "diagnosis_missing": "missing"})
    p = missing_places(res).rename(columns={"deaths": "records", "place_missing": "missing"})
    out = pd.concat([d.assign(item="primary_diagnosis"), p.assign(item="place_of_death")],
                    ignore_index=True)
    return out[list(OPTIONAL_DATA_COLUMNS)]


def used_events(events: pd.DataFrame, used_ids: pd.Series) -> pd.DataFrame:
    """A region's used contacts or admissions: its rows of ``combine_regions``'s stacked table.

    ``events`` is the region's marked table (``resident_id``, ``_reason``, and
    any other columns; modified in place by the cascade). Returns the used rows
    without ``_line`` and ``_reason``, and without the ``region`` column the
    stacked table has (the cohort does not read it from events).
    """
    cascade_events(events, used_ids)
    used = events.loc[events["_reason"].isna().to_numpy()]
    return used.drop(columns=[c for c in ("_line", "_reason") if c in used])
