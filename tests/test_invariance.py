"""Invariance and determinism of whole runs: the answer changes only when the data do.

- Shuffling the rows of every input file changes no output table.
- Two runs on the same data give byte-identical tables.
- Adding a resident with no contacts or stays adds person-time and nothing else.
- Splitting a region's files into two regions of the same care model leaves the
  pooled estimates (crude rates, rate ratios) unchanged: regions are only where
  files come from; the cluster is the care home.

Each compares the tables the workflow can build today (tests/helpers.py
``workflow_targets``): interim cohort and events and every tables/*.csv
present in both runs. Small synthetic data (200 residents, 6 homes), so the
module runs in minutes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis import io
from tests.conftest import make_synthetic, run_workflow
from tests.helpers import workflow_targets

pytestmark = pytest.mark.slow

TABLES = ("care_homes", "residents", "contacts", "admissions")


def _read_text_tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(folder / f"{t}.csv", dtype=str, keep_default_na=False) for t in TABLES}


def _write_text_tables(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for t, df in tables.items():
        df.to_csv(folder / f"{t}.csv", index=False)


def _regions(data: Path) -> list[str]:
    return sorted(p.name for p in data.iterdir() if p.is_dir())


class Runs:
    """Runs of the workflow on variants of one dataset, into folders of one tmp dir."""

    def __init__(self, root: Path):
        self.root = root
        self.base = make_synthetic(root / "base", n_residents=200, n_homes=6, seed=13)
        self.targets = workflow_targets(self.base, root / "probe")
        self._done: dict[str, Path] = {}

    def run(self, name: str, data: Path) -> Path:
        if name not in self._done:
            results = self.root / f"results_{name}"
            run_workflow(data, results, targets=tuple(str(results / t) for t in self.targets),
                         cores=2)
            self._done[name] = results
        return self._done[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("invariance"))


def _tables(results: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted((results / "tables").glob("*.csv"))}


def _interim(results: Path, name: str) -> pd.DataFrame:
    if name == "events":  # one file per region (docs/developing.md, "Interim tables")
        return io.read_events(sorted((results / "interim" / "regions").glob("*/events.parquet")))
    return pd.read_parquet(results / "interim" / f"{name}.parquet")


def _assert_same_tables(a: Path, b: Path, *, skip: tuple[str, ...] = ()) -> list[str]:
    ta, tb = _tables(a), _tables(b)
    assert set(ta) == set(tb), (sorted(ta), sorted(tb))
    assert "crude_rates.csv" in ta  # at least the stage every later one builds on
    differ = [n for n in ta if n not in skip and ta[n].read_bytes() != tb[n].read_bytes()]
    assert not differ, f"tables differ: {differ}"
    return sorted(ta)


def test_the_workflow_builds_the_core_tables(runs):
    assert "interim/cohort.parquet" in runs.targets and "tables/crude_rates.csv" in runs.targets


def test_two_runs_give_byte_identical_tables(runs):
    a = runs.run("base", runs.base)
    b = runs.run("again", runs.base)
    _assert_same_tables(a, b)
    for name in ("cohort", "events"):
        pd.testing.assert_frame_equal(_interim(a, name), _interim(b, name))
    assert (a / "data_quality" / "data_quality.csv").read_bytes() == \
        (b / "data_quality" / "data_quality.csv").read_bytes()


def test_shuffling_input_rows_changes_no_output(runs):
    rng = np.random.default_rng(2024)
    shuffled = runs.root / "shuffled"
    for region in _regions(runs.base):
        tables = _read_text_tables(runs.base / region)
        _write_text_tables({t: df.sample(frac=1, random_state=rng) for t, df in tables.items()},
                           shuffled / region)
    a, b = runs.run("base", runs.base), runs.run("shuffled", shuffled)
    _assert_same_tables(a, b)
    for name in ("cohort", "events"):
        pd.testing.assert_frame_equal(_interim(a, name), _interim(b, name))
    assert (a / "data_quality" / "data_quality.csv").read_bytes() == \
        (b / "data_quality" / "data_quality.csv").read_bytes()


def test_a_resident_without_contacts_adds_person_time_only(runs):
    region = _regions(runs.base)[0]
    plus = runs.root / "plus_one"
    for r in _regions(runs.base):
        tables = _read_text_tables(runs.base / r)
        if r == region:
            home = tables["care_homes"].iloc[0]
            new = {"resident_id": "RZ9999", "care_home_id": home["care_home_id"], "sex": "F",
                   "age": "88", "dementia": "true", "barthel": "9", "entry_date": "2014-05-01",
                   "exit_date": "2014-11-30", "exit_reason": "study_end"}
            tables["residents"] = pd.concat([tables["residents"], pd.DataFrame([new])],
                                            ignore_index=True)
        _write_text_tables(tables, plus / r)
    model = _read_text_tables(runs.base / region)["care_homes"].iloc[0]["care_model"]
    added_days = (pd.Timestamp("2014-11-30") - pd.Timestamp("2014-05-01")).days + 1  # 214
    a, b = runs.run("base", runs.base), runs.run("plus_one", plus)

    ca, cb = _interim(a, "cohort"), _interim(b, "cohort")
    new = cb[cb["resident_id"] == "RZ9999"]
    assert new[["follow_up_days", "contacts", "emergency_admission", "bed_days"]].values.tolist() \
        == [[added_days, 0, 0, 0]]
    pd.testing.assert_frame_equal(cb[cb["resident_id"] != "RZ9999"].reset_index(drop=True), ca)
    pd.testing.assert_frame_equal(_interim(a, "events"), _interim(b, "events"))

    ra = pd.read_csv(a / "tables" / "crude_rates.csv")
    rb = pd.read_csv(b / "tables" / "crude_rates.csv")
    key = ["outcome", "care_model"]
    m = ra.merge(rb, on=key, suffixes=("_a", "_b"), validate="one_to_one")
    assert len(m) == len(ra) == len(rb)
    touched = m["care_model"].isin([model, "all"])
    # events never change; person-years grow by 214 / 365.25 where the resident is counted
    assert (m["events_a"] == m["events_b"]).all()
    extra = np.where(touched, added_days / 365.25, 0.0)
    np.testing.assert_allclose(m["person_years_b"] - m["person_years_a"], extra, atol=1e-6)
    if "residents_a" in m:
        assert ((m["residents_b"] - m["residents_a"]) == touched.astype(int)).all()
    untouched = m[~touched]
    np.testing.assert_array_equal(untouched["rate_a"], untouched["rate_b"])
    if "costs.csv" in _tables(a):  # costs are events × unit costs: the totals do not move
        ka = pd.read_csv(a / "tables" / "costs.csv")
        kb = pd.read_csv(b / "tables" / "costs.csv")
        cols = [c for c in ("care_model", "item", "units", "cost") if c in ka]
        pd.testing.assert_frame_equal(ka[cols], kb[cols])


def test_splitting_a_region_leaves_pooled_estimates_unchanged(runs):
    split = runs.root / "split"
    regions = _regions(runs.base)
    target = regions[0]
    for r in regions:
        tables = _read_text_tables(runs.base / r)
        if r != target:
            _write_text_tables(tables, split / r)
            continue
        homes = tables["care_homes"]
        assert homes["care_model"].nunique() == 1 and len(homes) >= 2
        halves = {f"{r}_a": homes.iloc[: len(homes) // 2], f"{r}_b": homes.iloc[len(homes) // 2:]}
        for name, h in halves.items():
            res = tables["residents"][tables["residents"]["care_home_id"].isin(h["care_home_id"])]
            part = {"care_homes": h, "residents": res}
            for t in ("contacts", "admissions"):
                part[t] = tables[t][tables[t]["resident_id"].isin(res["resident_id"])]
            _write_text_tables(part, split / name)
    a, b = runs.run("base", runs.base), runs.run("split", split)

    ca, cb = _interim(a, "cohort"), _interim(b, "cohort")
    assert set(cb["region"]) == (set(regions) - {target}) | {f"{target}_a", f"{target}_b"}
    pd.testing.assert_frame_equal(ca.drop(columns="region"), cb.drop(columns="region"))
    for name in ("crude_rates.csv", "rate_ratios.csv"):
        if name in _tables(a):
            assert (a / "tables" / name).read_bytes() == (b / "tables" / name).read_bytes(), name
    # every table that does not describe regions (columns region, regions, n_regions,
    # regions_with_both, region_confounded, ...) is unchanged too
    per_region = {n for n, p in _tables(a).items()
                  if any("region" in c for c in pd.read_csv(p, nrows=0).columns)}
    assert "crude_rates.csv" not in per_region
    # Fine-Gray estimates the censoring distribution within region (issue 12): splitting a
    # region changes its weights by design, so only the hazard ratios of the other models
    # (and every other table) must stay the same
    ha, hb = (pd.read_csv(r / "tables" / "hazard_ratios.csv") for r in (a, b))
    pd.testing.assert_frame_equal(ha[ha["model"] != "fine_gray"], hb[hb["model"] != "fine_gray"])
    assert (ha["model"] == "fine_gray").any()
    _assert_same_tables(a, b, skip=tuple(per_region | {"data_flow.csv", "hazard_ratios.csv"}))
