"""The outcome registry: adding a count outcome from a service code is one entry.

The entry below is the only change: the cohort gets its column, crude_rates its rows, the
rate models fit it, config may name it and the figures label it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml

from optimal_analysis import outcomes
from optimal_analysis.cohort import make_cohort
from optimal_analysis.figures.rates import plot_crude_rates
from optimal_analysis.ingest import combine_regions, empty_failures, ingest_region
from optimal_analysis.outcomes import Outcome
from optimal_analysis.rates import make_crude_rates, make_rate_models
from optimal_analysis.synthetic import generate, write_dataset
from optimal_analysis.unit_costs import ADMISSION_ITEMS, BED_DAY_ITEMS
from optimal_analysis.workflow_support import ConfigError, check_config
from tests.conftest import REPO

CARE_MODELS = ["dedicated_team", "paid_gp", "usual_care"]
DISTRICT_NURSE = Outcome("district_nurse", "District nurse contacts", ("count",), "service",
                         ("district_nurse",), cost_items=("district_nurse",))


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Combined input tables of a small synthetic dataset (3 regions, 12 homes)."""
    root = tmp_path_factory.mktemp("data")
    write_dataset(generate(n_residents=240, n_homes=12, seed=5), root)
    regions = {r.name: ingest_region(r, care_models=CARE_MODELS)
               for r in sorted(root.iterdir()) if r.is_dir()}
    combined, _, _ = combine_regions({k: v.tables for k, v in regions.items()}, empty_failures(),
                                     {k: v.files for k, v in regions.items()})
    return combined


def test_the_registry_gives_the_shipped_outcomes_in_crude_rate_order():
    assert list(outcomes.OUTCOMES) == ["emergency_admission", "elective_admission", "ae",
                                       "ambulance", "death", "bed_days"]
    assert [o.name for o in outcomes.of_kind("time_to_first")] == ["emergency_admission", "death"]
    assert ADMISSION_ITEMS == ("emergency_admission", "elective_admission")
    assert BED_DAY_ITEMS == ("emergency_bed_day", "elective_bed_day")
    assert outcomes.label("ae") == "A&E attendances"
    assert outcomes.label("gp_visit") == "Gp visit"  # not registered: a readable default


def test_an_outcome_with_a_bad_kind_or_source_is_refused():
    with pytest.raises(ValueError, match="kinds"):
        Outcome("x", "X", ("rate",), "service", ("x",))
    with pytest.raises(ValueError, match="source"):
        Outcome("x", "X", ("count",), "contacts", ("x",))
    with pytest.raises(ValueError, match="time_column"):
        Outcome("x", "X", ("time_to_first",), "service", ("x",))


def test_one_registry_entry_adds_a_count_outcome_end_to_end(tables, monkeypatch):
    monkeypatch.setitem(outcomes.OUTCOMES, "district_nurse", DISTRICT_NURSE)
    cohort, events = make_cohort(tables["care_homes"], tables["residents"], tables["contacts"],
                                 tables["admissions"])
    # the cohort column is the sum of n of the resident's district nurse contacts
    dn = events[events["item"] == "district_nurse"].groupby("resident_id")["n"].sum()
    expected = cohort["resident_id"].map(dn).fillna(0).astype("int64")
    assert expected.sum() > 50
    pd.testing.assert_series_equal(cohort["district_nurse"], expected, check_names=False)

    crude = make_crude_rates(cohort, care_models=CARE_MODELS)
    rows = crude[crude["outcome"] == "district_nurse"].set_index("care_model")
    assert rows.loc["all", "events"] == expected.sum()
    assert rows.loc[CARE_MODELS, "events"].sum() == expected.sum()
    assert crude["outcome"].iloc[-1] == "district_nurse"  # after the shipped outcomes

    models = make_rate_models(cohort, reference="usual_care", covariates=[],
                              outcomes=["district_nurse"], few_clusters_threshold=0,
                              wild_bootstrap_replicates=99, rng=np.random.default_rng(1),
                              care_models=CARE_MODELS, exposures=("person_years",))
    rr = models.rate_ratios
    poisson = rr[(rr["model"] == "poisson") & (rr["adjustment"] == "crude")].set_index("term")
    # a Poisson model on care model alone reproduces the ratio of crude rates exactly
    rate = rows["rate"]
    for term in ("dedicated_team", "paid_gp"):
        assert poisson.loc[term, "estimate"] == pytest.approx(rate[term] / rate["usual_care"],
                                                              rel=1e-8)

    ax = plot_crude_rates(crude[crude["outcome"].isin(["ae", "district_nurse"])])
    assert "District nurse contacts" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close(ax.figure)

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    config["data_dir"] = str(REPO / "data" / "synthetic")
    schema = REPO / "workflow" / "schemas" / "config.schema.json"
    check_config({**config, "rate_outcomes": ["district_nurse"]}, schema)


def test_config_names_only_registered_count_outcomes():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    config["data_dir"] = str(REPO / "data" / "synthetic")
    schema = REPO / "workflow" / "schemas" / "config.schema.json"
    with pytest.raises(ConfigError, match="district_nurse"):
        check_config({**config, "rate_outcomes": ["ae", "district_nurse"]}, schema)
