"""End to end: derived outcomes and place of death on a dataset no other test has seen.

The counts are checked against an independent count made here from the written CSV files
with plain Python (csv module, string operations), not with the package's code.
"""

from __future__ import annotations

import csv
import html
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import make_synthetic, run_workflow

# a user's own list: overlapping outcomes, prefixes in every spelling
CODE_LIST = [
    ("outcome", "code_prefix", "label", "source"),
    ("chest_admission", "J18", "pneumonia", "test"),
    ("chest_admission", "j44.1", "COPD with exacerbation", "test"),
    ("chest_admission", "J22X", "lower respiratory infection", "test"),
    ("hip_or_head_admission", "S72.0", "neck of femur", "test"),
    ("hip_or_head_admission", "S06", "intracranial", "test"),
    ("any_j_admission", "J", "chapter J", "test"),
]
CARE_MODELS = ("dedicated_team", "paid_gp", "usual_care")


def _norm(code: str) -> str:
    """Independent normal form: the data contract's rule written out by hand."""
    c = "".join(code.split()).upper().rstrip("-")
    if len(c) > 3 and c.endswith("X"):
        c = c[:-1]
    return c.replace(".", "")


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _independent_counts(data: Path) -> tuple[Counter, Counter, Counter]:
    prefixes: dict[str, list[str]] = {}
    for outcome, prefix, *_ in CODE_LIST[1:]:
        prefixes.setdefault(outcome, []).append(_norm(prefix))
    events: Counter = Counter()
    deaths: Counter = Counter()
    in_hospital: Counter = Counter()
    for region in sorted(p for p in data.iterdir() if p.is_dir()):
        model = {h["care_home_id"]: h["care_model"] for h in _read(region / "care_homes.csv")}
        res = {r["resident_id"]: r for r in _read(region / "residents.csv")}
        for r in res.values():
            if r["exit_reason"] == "died" and r["place_of_death"].strip():
                deaths[model[r["care_home_id"]]] += 1
                if r["place_of_death"].strip().lower() == "hospital":
                    in_hospital[model[r["care_home_id"]]] += 1
        for a in _read(region / "admissions.csv"):
            r = res[a["resident_id"]]
            inside = r["entry_date"] <= a["admission_date"] <= r["exit_date"]
            code = _norm(a["primary_diagnosis"])
            if a["method"] != "emergency" or not inside or not code:
                continue
            for outcome, pre in prefixes.items():
                if any(code.startswith(p) for p in pre):
                    events[(outcome, model[r["care_home_id"]])] += 1
    return events, deaths, in_hospital


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("derived")
    data = make_synthetic(base / "data", n_residents=900, n_homes=12, seed=8086, diagnoses=True)
    codes = base / "my_codes.csv"
    with open(codes, "w", newline="") as fh:
        csv.writer(fh).writerows(CODE_LIST)
    results = base / "results"
    run_workflow(data, results, f"outcome_codes={codes}", cores=2)
    return data, results


def test_derived_event_counts_equal_an_independent_count(run):
    data, results = run
    events, _, _ = _independent_counts(data)
    crude = pd.read_csv(results / "tables" / "crude_rates.csv")
    for outcome in ("chest_admission", "hip_or_head_admission", "any_j_admission"):
        rows = crude[(crude["outcome"] == outcome) & crude["care_model"].isin(CARE_MODELS)]
        got = dict(zip(rows["care_model"], rows["events"], strict=True))
        want = {m: events[(outcome, m)] for m in CARE_MODELS}
        assert got == want, outcome
        assert sum(want.values()) > 5
    assert "avoidable_emergency_admission" not in set(crude["outcome"])  # the list replaced
    rr = pd.read_csv(results / "tables" / "rate_ratios.csv")
    assert {"chest_admission", "hip_or_head_admission"} <= set(rr["outcome"])


def test_derived_stays_in_costs_equal_an_independent_count(run):
    data, results = run
    events, _, _ = _independent_counts(data)
    costs = pd.read_csv(results / "tables" / "costs.csv")
    derived = costs[costs["service_group"] == "derived_outcome"]
    for outcome in ("chest_admission", "hip_or_head_admission", "any_j_admission"):
        rows = derived[derived["item"] == outcome]
        got = dict(zip(rows["care_model"], rows["units"].astype(int), strict=True))
        assert got == {m: events[(outcome, m)] for m in CARE_MODELS}, outcome
    # a subset of the emergency stays: never in the total
    for _, g in costs.groupby("care_model"):
        items = g[~g["service_group"].isin(["total", "derived_outcome"])]
        assert g.loc[g["item"] == "total", "cost"].item() == pytest.approx(items["cost"].sum())
    published = pd.read_csv(results / "published" / "tables" / "costs.csv")
    assert set(published.loc[published["service_group"] == "derived_outcome", "item"]) == {
        "chest_admission", "hip_or_head_admission", "any_j_admission"}
    ci = pd.read_csv(results / "tables" / "cumulative_incidence.csv")
    for outcome in ("chest_admission", "any_j_admission"):
        rows = ci[(ci["event"] == outcome) & (ci["adjustment"] == "crude")]
        got = rows.groupby("care_model")["n_events"].sum().to_dict()
        cohort = pd.read_parquet(results / "interim" / "cohort.parquet")
        want = cohort[cohort[f"{outcome}_status"] == 1].groupby("care_model").size().to_dict()
        assert got == want and sum(want.values()) >= 10, outcome


def test_place_of_death_equals_an_independent_count(run):
    data, results = run
    _, deaths, in_hospital = _independent_counts(data)
    t = pd.read_csv(results / "tables" / "place_of_death.csv").set_index("care_model")
    assert t["deaths"].to_dict() == {m: deaths[m] for m in t.index}
    assert t["deaths_in_hospital"].to_dict() == {m: in_hospital[m] for m in t.index}


def _report_text(results: Path) -> str:
    text = re.sub(r"<[^>]+>", " ", (results / "report.html").read_text())
    return re.sub(r"\s+", " ", html.unescape(text))


def test_without_diagnoses_or_places_the_report_says_what_it_could_not_show(synthetic_results):
    t = pd.read_csv(synthetic_results / "tables" / "place_of_death.csv")
    assert t.empty and list(t.columns) == [
        "care_model",
        "deaths",
        "deaths_in_hospital",
        "share",
        "conf_low",
        "conf_high",
    ]
    crude = pd.read_csv(synthetic_results / "tables" / "crude_rates.csv")
    assert not crude["outcome"].str.contains("avoidable|fall_injury").any()
    text = _report_text(synthetic_results)
    assert (
        "Potentially avoidable and fall-injury admissions are not shown: no emergency "
        "admission has a primary diagnosis" in text
    )
    assert "Deaths in hospital are not shown" in text
