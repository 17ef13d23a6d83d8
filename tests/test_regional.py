"""The per-region path (issue 20) gives exactly the all-at-once result.

Each dataset is ingested region by region (the package functions the workflow
runs), then taken through both paths:

- all at once: ``combine_regions`` → ``make_cohort`` of the stacked tables →
  ``make_cost_tables``, ``make_service_use``, ``make_panel`` of every event;
- per region: ``combine_people`` + ``account_events`` (one region at a time)
  → ``make_cohort`` of each region → ``combine_cohort_parts``; the regions'
  events dictionary-encoded, written to Parquet and read back, one region at a
  time into ``make_cost_tables_by_region``, ``service_use_counts`` and
  ``event_counts``.

Tables are compared with ``check_exact=True`` and every float column bit for bit.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from optimal_analysis import io
from optimal_analysis.cohort import combine_cohort_parts, encode_events, make_cohort
from optimal_analysis.costing import make_cost_tables
from optimal_analysis.costing.regional import (
    COHORT_COLUMNS,
    derived_order,
    event_columns,
    make_cost_tables_by_region,
)
from optimal_analysis.derived_outcomes import optional_data_table
from optimal_analysis.describe import make_service_use, service_use_counts, service_use_table
from optimal_analysis.evaluation.panel import event_counts, make_panel
from optimal_analysis.ingest import ingest_region
from optimal_analysis.ingest.combine import (
    EVENT_TABLES,
    PEOPLE_TABLES,
    account_events,
    accounting_from_counts,
    combine_people,
    optional_data_from_parts,
    residents_used,
    used_events,
)
from optimal_analysis.ingest.failures import empty_failures
from optimal_analysis.ingest.quality import combine_regions
from optimal_analysis.ingest.read import file_labels
from optimal_analysis.synthetic import generate
from optimal_analysis.synthetic.write import write_dataset
from tests.helpers import CARE_MODELS, TINY, rename_ids, write_region

REPO = Path(__file__).resolve().parents[1]
CODE_LIST = io.read_code_list(REPO / "config" / "outcome_codes.csv")
UNIT_COSTS = pd.read_csv(REPO / "config" / "unit_costs" / "unit_costs_2015.csv")
INFLATION = pd.read_csv(REPO / "config" / "unit_costs" / "inflation_index.csv")
PANEL_OUTCOMES = {"emergency_admission": ["emergency_admission"], "ae": ["ae"],
                  "contacts": ["gp_visit", "ae", "ambulance"]}


def assert_identical(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal frames, dtypes included, and every float column equal bit for bit."""
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for col in a.columns:
        if a[col].dtype.kind == "f":
            assert (a[col].to_numpy().view(np.int64) == b[col].to_numpy().view(np.int64)).all(), col


def _ingest(root: Path) -> tuple[dict, pd.DataFrame, dict]:
    regions = sorted(p.name for p in root.iterdir() if p.is_dir())
    results = {r: ingest_region(root / r, care_models=CARE_MODELS) for r in regions}
    found = [res.failures for res in results.values() if len(res.failures)]
    failures = pd.concat(found, ignore_index=True) if found else empty_failures()
    files = {r: file_labels(root / r, r) for r in regions}
    return {r: res.tables for r, res in results.items()}, failures, files


def _both_paths(root: Path, tmp: Path, reference: str = "usual_care"):
    tables, failures, files = _ingest(root)
    models = dict(care_models=CARE_MODELS, reference_care_model=reference)
    # all at once
    combined, fails, accounting = combine_regions(copy.deepcopy(tables), failures, files, **models)
    optional = optional_data_table(combined["admissions"], combined["residents"])
    whole = {"failures": fails, "accounting": accounting, "optional": optional}
    cohort, events = make_cohort(*(combined[t] for t in
                                   ("care_homes", "residents", "contacts", "admissions")),
                                 code_list=CODE_LIST)
    whole |= {"cohort": cohort, "events": events}
    # per region, as the workflow's combine_regions, cohort_region and make_cohort run
    marked = copy.deepcopy(tables)
    people = {r: {t: marked[r][t] for t in PEOPLE_TABLES} for r in marked}
    combined2, fails2, counts = combine_people(people, failures, files, **models)
    diagnoses, parts, paths = [], [], []
    for region in sorted(marked):
        ids = residents_used(combined2["residents"], region)
        for t in EVENT_TABLES:
            columns = ["resident_id", "_reason"] + (
                [c for c in ("method", "primary_diagnosis") if c in marked[region][t]]
                if t == "admissions" else [])
            counts[region][t], diagnosis = account_events(marked[region][t][columns].copy(), t,
                                                          region, ids)
            if diagnosis is not None:
                diagnoses.append(diagnosis)
        res = combined2["residents"][combined2["residents"]["region"] == region]
        homes = combined2["care_homes"][combined2["care_homes"]["region"] == region]
        used = {t: used_events(marked[region][t].copy(), ids) for t in EVENT_TABLES}
        for t in EVENT_TABLES:  # the region's rows of the stacked table, region column aside
            stacked = combined[t][combined[t]["region"] == region].drop(columns="region")
            assert_identical(stacked.reset_index(drop=True), used[t].reset_index(drop=True))
        part, ev = make_cohort(homes, res, **used, code_list=CODE_LIST)
        parts.append(part)
        paths.append(tmp / f"{region}.parquet")
        io.write_parquet(encode_events(ev), paths[-1])
    regional = {"failures": fails2, "accounting": accounting_from_counts(counts),
                "optional": optional_data_from_parts(diagnoses, combined2["residents"]),
                "cohort": combine_cohort_parts(parts, CODE_LIST), "paths": paths,
                "combined": combined2}
    for t in PEOPLE_TABLES:
        assert_identical(combined[t], combined2[t])
    return whole, regional


def _compare(whole, regional) -> None:
    for name in ("failures", "accounting", "optional", "cohort"):
        assert_identical(whole[name], regional[name])
    cohort, events, paths = whole["cohort"], whole["events"], regional["paths"]
    # the regions' events, read back (dictionary-encoded), are the stacked events
    back = io.read_events(paths)
    order = np.argsort(back["resident_id"].to_numpy(dtype=object), kind="stable")
    pd.testing.assert_frame_equal(back.iloc[order].reset_index(drop=True),
                                  events.astype({c: back[c].dtype for c in back}),
                                  check_exact=True)
    assert isinstance(io.read_parquet(paths[0])["item"].dtype, pd.CategoricalDtype)
    # costing
    kw = dict(price_year=2024, scheme="spell", replicates=50, care_models=CARE_MODELS)
    a = make_cost_tables(events, cohort, UNIT_COSTS, INFLATION, rng=np.random.default_rng(5), **kw)
    b = make_cost_tables_by_region(
        (io.read_parquet(p, columns=event_columns(pq.read_schema(p).names)) for p in paths),
        cohort[COHORT_COLUMNS], UNIT_COSTS, INFLATION, rng=np.random.default_rng(5),
        derived_order=derived_order(list(cohort.columns)), **kw)
    for x, y in zip(a, b, strict=True):
        assert_identical(x, y)
    # describe: service use
    counts = [service_use_counts(io.read_parquet(p), cohort) for p in paths]
    assert_identical(make_service_use(events, cohort), service_use_table(counts, cohort))
    # evaluation: the home x month panel
    items = sorted({i for v in PANEL_OUTCOMES.values() for i in v})
    homes = regional["combined"]["care_homes"][["care_home_id", "care_model"]]
    reduced = pd.concat([event_counts(io.read_parquet(p), items) for p in paths],
                        ignore_index=True)
    assert len(reduced) < len(events)
    assert_identical(make_panel(cohort, events, homes, None, PANEL_OUTCOMES),
                     make_panel(cohort, reduced, homes, None, PANEL_OUTCOMES))


def test_per_region_path_equals_all_at_once_on_the_bundled_synthetic_data(tmp_path):
    whole, regional = _both_paths(REPO / "data" / "synthetic", tmp_path)
    assert len(whole["events"]) > 6000
    _compare(whole, regional)


def test_per_region_path_equals_all_at_once_with_diagnoses_in_some_regions(tmp_path):
    """Diagnoses in one region only: the others get the derived columns as no coded stay."""
    ds = generate(n_residents=300, n_homes=12, diagnoses=True, seed=11)
    write_dataset(ds, tmp_path / "data", fmt="parquet")
    first = sorted(p for p in (tmp_path / "data").iterdir() if p.is_dir())[0]
    adm = pd.read_parquet(first / "admissions.parquet").drop(columns="primary_diagnosis")
    adm.to_parquet(first / "admissions.parquet", index=False)
    whole, regional = _both_paths(tmp_path / "data", tmp_path)
    assert "avoidable_emergency_admission" in whole["cohort"]
    assert whole["cohort"]["avoidable_emergency_admission"].sum() > 0
    _compare(whole, regional)


def test_per_region_path_equals_all_at_once_with_cross_region_duplicates(tmp_path):
    """Ids in two regions, invalid rows, a home set aside: every cascade and account equal."""
    south = rename_ids(TINY, "s")
    south["residents"] += "R1,H2s,F,80,true,12,2015-01-01,2015-12-31,study_end\n"  # R1 twice
    south["residents"] += "R9s,H2s,F,8,true,12,2015-01-01,2015-12-31,study_end\n"  # age 8
    south["contacts"] += "R1,2015-02-02,gp_visit,1\nR9s,2015-02-02,gp_visit,1\n"
    east = rename_ids(TINY, "e")
    east["care_homes"] = east["care_homes"].replace("H2e,dedicated_team,false,20",
                                                    "H2e,no_such_model,false,20")
    for name, tables in (("north", TINY), ("south", south), ("east", east)):
        write_region(tmp_path / "data", name, tables)
    whole, regional = _both_paths(tmp_path / "data", tmp_path, reference="usual_care")
    problems = set(whole["failures"]["problem"])
    assert "duplicate_id_across_regions" in problems
    reasons = set(whole["accounting"]["reason"])
    assert {"resident_excluded", "care_home_excluded", "duplicate_id_across_regions"} <= reasons
    assert "R1" not in set(whole["cohort"]["resident_id"])
    _compare(whole, regional)


@pytest.mark.parametrize("fatal", [False, True])
def test_coverage_failures_equal_when_a_region_has_no_residents(tmp_path, fatal):
    write_region(tmp_path / "data", "north", TINY)
    empty = rename_ids(TINY, "s")
    empty["care_homes"] = empty["care_homes"].replace("usual_care", "nope").replace(
        "dedicated_team", "nope")
    write_region(tmp_path / "data", "south", empty)
    reference = "paid_gp" if fatal else "usual_care"
    whole, regional = _both_paths(tmp_path / "data", tmp_path, reference=reference)
    assert ("reference_without_residents" in set(whole["failures"]["problem"])) == fatal
    assert "region_without_residents" in set(whole["failures"]["problem"])
    for name in ("failures", "accounting", "optional", "cohort"):
        assert_identical(whole[name], regional[name])
