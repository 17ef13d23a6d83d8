"""Tests of the synthetic generator: determinism, the data contract, integrity, calibration."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.synthetic import (
    NHS_REGIONS,
    calibration_summary,
    generate,
    main,
    write_dataset,
)

REPO = Path(__file__).resolve().parents[1]

# Copied from the data contract (not imported from the package, so a drift fails here).
CONTRACT_SERVICES = {
    "gp_surgery", "gp_visit", "gp_phone", "practice_nurse", "district_nurse",
    "community_matron", "care_home_team", "geriatrician", "mental_health", "physiotherapy",
    "occupational_therapy", "speech_therapy", "dietitian", "podiatry", "pharmacist",
    "out_of_hours", "ambulance", "ae", "outpatient",
}  # fmt: skip
COLUMNS = {
    "care_homes": ["care_home_id", "care_model", "nursing", "beds"],
    "residents": [
        "resident_id", "care_home_id", "sex", "age", "dementia", "barthel",
        "entry_date", "exit_date", "exit_reason",
    ],
    "contacts": ["resident_id", "contact_date", "service", "n"],
    "admissions": ["resident_id", "admission_date", "discharge_date", "method"],
}  # fmt: skip
CARE_MODELS = {"dedicated_team", "paid_gp", "usual_care"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(scope="module")
def default_ds():
    return generate()


@pytest.fixture(scope="module")
def medium_ds():
    # 5,000 residents in 250 homes (mixed models, the 7 NHS regions).
    return generate(n_residents=5000, n_homes=250, seed=11)


def test_same_seed_same_tables_other_seed_different(default_ds):
    again = generate()
    for region, tables in default_ds.regions.items():
        for name, df in tables.items():
            pd.testing.assert_frame_equal(df, again.regions[region][name])
    assert again.truth == default_ds.truth
    other = generate(seed=default_ds.truth["seed"] + 1)
    assert not other.regions["north"]["residents"].equals(default_ds.regions["north"]["residents"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_identical_files(tmp_path, default_ds, fmt):
    paths_a = write_dataset(default_ds, tmp_path / "a", fmt=fmt)
    write_dataset(generate(), tmp_path / "b", fmt=fmt)
    assert len(paths_a) == 13  # 3 regions x 4 tables + truth.json
    for p in paths_a:
        rel = p.relative_to(tmp_path / "a")
        assert p.read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_default_is_optimal_shaped(default_ds):
    assert list(default_ds.regions) == ["north", "midlands", "south"]
    homes = default_ds.table("care_homes")
    assert homes.groupby("region").size().tolist() == [4, 4, 4]
    # One care model per region, all three used.
    per_region = homes.groupby("region")["care_model"].nunique()
    assert per_region.eq(1).all() and set(homes["care_model"]) == CARE_MODELS
    assert len(default_ds.table("residents")) == 240


def test_csv_layout_and_contract(tmp_path, default_ds):
    write_dataset(default_ds, tmp_path, fmt="csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "midlands",
        "north",
        "south",
        "truth.json",
    ]
    for region in ("north", "midlands", "south"):
        files = sorted(p.name for p in (tmp_path / region).iterdir())
        assert files == sorted(f"{t}.csv" for t in COLUMNS)
        raw = {
            t: pd.read_csv(tmp_path / region / f"{t}.csv", dtype=str, keep_default_na=False)
            for t in COLUMNS
        }
        for t, cols in COLUMNS.items():
            assert list(raw[t].columns) == cols, (region, t)
        homes, res, con, adm = (raw[t] for t in COLUMNS)
        assert set(homes["care_model"]) <= CARE_MODELS
        assert set(homes["nursing"]) <= {"true", "false"}
        assert set(res["dementia"]) <= {"true", "false"}
        assert set(res["sex"]) <= {"F", "M"}
        assert set(res["exit_reason"]) <= {"died", "moved_out", "study_end"}
        assert set(adm["method"]) <= {"emergency", "elective"}
        assert set(con["service"]) <= CONTRACT_SERVICES
        for col in ("entry_date", "exit_date"):
            assert res[col].str.match(ISO_DATE).all()
        assert con["contact_date"].str.match(ISO_DATE).all()
        assert adm["admission_date"].str.match(ISO_DATE).all()
        assert (
            adm["discharge_date"].str.match(ISO_DATE).all()
            or (adm["discharge_date"].str.match(ISO_DATE) | adm["discharge_date"].eq("")).all()
        )
        age = res["age"].astype(float)
        assert age.between(60, 115).all()
        barthel = pd.to_numeric(res["barthel"].replace("", np.nan))
        assert barthel.dropna().between(0, 20).all() and (barthel.dropna() % 1 == 0).all()
        assert (con["n"].astype(int) >= 1).all()
        assert (homes["beds"].astype(int) > 0).all()


def test_parquet_types(tmp_path):
    ds = generate(n_residents=90, n_homes=6, seed=3)
    write_dataset(ds, tmp_path, fmt="parquet")
    res = pd.read_parquet(tmp_path / "north" / "residents.parquet")
    adm = pd.read_parquet(tmp_path / "north" / "admissions.parquet")
    assert list(res.columns) == COLUMNS["residents"]
    assert res["dementia"].dtype == bool and res["age"].dtype.kind == "i"
    assert pd.api.types.is_string_dtype(res["resident_id"])
    assert not isinstance(adm["resident_id"].dtype, pd.CategoricalDtype)


def _check_integrity(ds):
    homes, res = ds.table("care_homes"), ds.table("residents")
    con, adm = ds.table("contacts"), ds.table("admissions")
    assert homes["care_home_id"].is_unique and res["resident_id"].is_unique
    # Every resident's home is in the resident's own region.
    home_region = homes.set_index("care_home_id")["region"]
    assert res["care_home_id"].map(home_region).eq(res["region"]).all()
    start = pd.Timestamp(ds.truth["study_start"])
    # The study end of each resident's region (one for all unless region_months was given).
    ends = ds.truth.get("region_study_end", {r: ds.truth["study_end"] for r in ds.regions})
    res = res.assign(end=pd.to_datetime(res["region"].map(ends)))
    assert (res["entry_date"] >= start).all() and (res["exit_date"] <= res["end"]).all()
    assert (res["exit_date"] >= res["entry_date"]).all()
    at_end = res["exit_reason"] == "study_end"
    assert res.loc[at_end, "exit_date"].eq(res.loc[at_end, "end"]).all()
    fu = res.set_index("resident_id")[
        ["region", "entry_date", "exit_date", "exit_reason", "end"]
    ]
    for ev, date in ((con, "contact_date"), (adm, "admission_date")):
        j = ev.join(fu, on="resident_id", rsuffix="_res")
        assert j["entry_date"].notna().all(), "event of an unknown resident"
        assert j["region"].eq(j["region_res"]).all()
        assert j[date].between(j["entry_date"], j["exit_date"]).all()
    assert not con.duplicated(["resident_id", "contact_date", "service"]).any()
    # Stays: discharge >= admission; no overlap (next admission after previous discharge);
    # only a resident's last stay may lack a discharge date, and then they died in hospital
    # (exit on or after admission) or were still in at the study end.
    a = adm.sort_values(["resident_id", "admission_date"])
    a = a.join(fu.drop(columns="region"), on="resident_id")
    assert (a["discharge_date"].isna() | (a["discharge_date"] >= a["admission_date"])).all()
    nxt = a.groupby("resident_id")["admission_date"].shift(-1)
    assert (nxt.isna() | (nxt > a["discharge_date"])).all()
    open_ = a[a["discharge_date"].isna()]
    assert nxt[a["discharge_date"].isna()].isna().all()
    assert (open_["exit_reason"].eq("died") | open_["exit_date"].eq(open_["end"])).all()
    # Discharged stays end within follow-up (the study-end cases have no discharge date).
    closed = a[a["discharge_date"].notna()]
    assert (closed["discharge_date"] <= closed["exit_date"]).all()
    # No contact strictly inside a stay (contacts are outside hospital).
    m = con.merge(closed[["resident_id", "admission_date", "discharge_date"]], on="resident_id")
    inside = (m["contact_date"] > m["admission_date"]) & (m["contact_date"] < m["discharge_date"])
    assert not inside.any()
    return res, adm


def test_referential_integrity_default(default_ds):
    _check_integrity(default_ds)


def test_referential_integrity_medium_and_deaths_in_hospital(medium_ds):
    res, adm = _check_integrity(medium_ds)
    open_died = adm[adm["discharge_date"].isna()].merge(res, on="resident_id")
    # Some residents die in hospital: no discharge date, exit on the day of death.
    assert (open_died["exit_reason"] == "died").sum() > 0
    assert (res["entry_date"] > res["entry_date"].min()).any()
    assert (res["exit_reason"] == "moved_out").any()


def test_calibration_medium(medium_ds):
    summary = calibration_summary(medium_ds).dropna(subset=["low", "high"])
    out = summary[~summary["achieved"].between(summary["low"], summary["high"])]
    assert out.empty, out.to_string()
    row = calibration_summary(medium_ds).set_index("measure")["achieved"]
    assert row["mean Barthel, nursing homes"] < row["mean Barthel, residential homes"]
    assert row["% contact rows with n > 1"] > 0


def test_care_home_team_only_in_dedicated_homes_and_more_gp_visits_in_paid_gp(medium_ds):
    res = medium_ds.table("residents").merge(medium_ds.table("care_homes"), on="care_home_id")
    con = medium_ds.table("contacts").merge(res[["resident_id", "care_model"]], on="resident_id")
    team = con[con["service"] == "care_home_team"]
    assert len(team) > 0 and team["care_model"].eq("dedicated_team").all()
    py = ((res["exit_date"] - res["entry_date"]).dt.days + 1).groupby(res["care_model"]).sum()
    visits = con[con["service"] == "gp_visit"].groupby("care_model")["n"].sum() / py
    assert visits["paid_gp"] > 1.4 * visits["usual_care"]  # injected ratio 1.8


def test_overdispersion_makes_counts_overdispersed():
    # Residents followed the whole year in the reference model, Poisson vs gamma frailty.
    def var_to_mean(od: float) -> float:
        ds = generate(
            n_residents=6000, n_homes=30, seed=5, overdispersion=od, home_sd=0.0,
            regions={"r": "usual_care"},
            effects={"base_rates_per_year": {"death": 1e-6, "move_out": 1e-6}},
        )  # fmt: skip
        con, res = ds.table("contacts"), ds.table("residents")
        res = res[res["entry_date"] == res["entry_date"].min()]
        gp = con[con["service"] == "gp_phone"].groupby("resident_id")["n"].sum()
        counts = gp.reindex(res["resident_id"], fill_value=0)
        return counts.var() / counts.mean()

    # Poisson: ratio 1 up to covariates (small effects); frailty variance 0.5 on a mean of
    # about 5.5/yr adds about 0.5 * 5.5 = 2.75 to the ratio.
    assert var_to_mean(0.0) < 1.3
    assert var_to_mean(0.5) > 2.5


def test_truth_contents(tmp_path, default_ds):
    write_dataset(default_ds, tmp_path)
    truth = json.loads((tmp_path / "truth.json").read_text())
    for key in (
        "seed", "reference", "rate_ratios", "hazard_ratios", "covariate_log_effects",
        "home_sd", "overdispersion", "service_rate_ratios", "notes",
    ):  # fmt: skip
        assert key in truth, key
    assert truth["reference"] == "usual_care" and truth["home_sd"] == 0.2
    rr = truth["rate_ratios"]
    assert set(rr) >= {"emergency_admission", "ae", "ambulance", "elective_admission", "death"}
    assert all(r["usual_care"] == 1.0 for r in rr.values())
    assert truth["hazard_ratios"]["emergency_admission"] == rr["emergency_admission"]
    # A&E mixes same-day arrivals with admissions (p 0.8) and other arrivals:
    # (0.8*0.95*0.75 + 0.58*0.70) / (0.8*0.95 + 0.58) = (0.57 + 0.406) / 1.34 = 0.72836
    assert rr["ae"]["dedicated_team"] == pytest.approx(0.976 / 1.34, rel=1e-12)
    assert truth["service_rate_ratios"]["gp_visit"]["paid_gp"] == pytest.approx(1.8)
    assert "care_home_team" not in truth["service_rate_ratios"]
    assert set(truth["covariate_log_effects"]["death"]) == {
        "age_per_10_years", "male", "dementia", "nursing", "barthel_per_point",
    }  # fmt: skip


def test_effects_override_and_errors():
    ds = generate(
        n_residents=30, n_homes=3,
        effects={"rate_ratios": {"emergency_admission": {"dedicated_team": 0.5}}},
    )  # fmt: skip
    assert ds.truth["rate_ratios"]["emergency_admission"]["dedicated_team"] == 0.5
    assert ds.truth["rate_ratios"]["emergency_admission"]["paid_gp"] == 0.9
    with pytest.raises(ValueError, match="unknown effects keys: base_rates_per_yr, rate_ratio$"):
        generate(effects={"base_rates_per_yr": {}, "rate_ratio": {}})
    with pytest.raises(ValueError, match="n_homes=2 is fewer than the 3 regions"):
        generate(n_homes=2)
    with pytest.raises(ValueError, match="care models not in care_models"):
        generate(regions={"a": "mystery_model"})


def test_mixed_models_national_shape():
    ds = generate(n_residents=700, n_homes=35, seed=2)
    assert tuple(ds.regions) == NHS_REGIONS
    homes = ds.table("care_homes")
    assert homes.groupby("region")["care_model"].nunique().eq(3).all()
    explicit = generate(n_residents=120, n_homes=6, regions=("a", "b"), mixed_models=True)
    assert explicit.table("care_homes").groupby("region")["care_model"].nunique().eq(3).all()
    mapping = generate(
        n_residents=60, n_homes=4, regions={"x": ["paid_gp", "usual_care"], "y": "paid_gp"}
    )
    h = mapping.table("care_homes")
    assert set(h.loc[h["region"] == "x", "care_model"]) == {"paid_gp", "usual_care"}
    _check_integrity(ds)


def test_region_months_gives_regions_their_own_study_windows():
    months = {"north": 6, "south": 18}  # midlands keeps the default 12
    ds = generate(n_residents=3000, n_homes=12, seed=5, region_months=months)
    ends = {"north": "2014-09-30", "midlands": "2015-03-31", "south": "2015-09-30"}
    assert ds.truth["region_study_end"] == ends
    assert ds.truth["study_end"] == "2015-09-30"
    res = ds.table("residents")
    by = res.groupby("region")
    # Each region's followed residents exit at its own end; late entrants enter within it,
    # spread over all of it (uniform: the last ~5% of the window is reached).
    for region, end in ends.items():
        r = res[res["region"] == region]
        assert r.loc[r["exit_reason"] == "study_end", "exit_date"].eq(pd.Timestamp(end)).all()
        start, stop = pd.Timestamp("2014-04-01"), pd.Timestamp(end)
        late = r.loc[r["entry_date"] > start, "entry_date"]
        assert late.max() > stop - (stop - start) * 0.05
        assert (r["exit_date"] <= stop).all()
    # A shorter window censors more at the study end, and follow-up is shorter.
    fu = (res["exit_date"] - res["entry_date"]).dt.days.groupby(res["region"]).mean()
    assert fu["north"] < fu["midlands"] < fu["south"]
    assert by["exit_reason"].apply(lambda s: (s == "study_end").mean())["north"] > 0.6
    _check_integrity(ds)
    with pytest.raises(ValueError, match="region_months needs regions among"):
        generate(region_months={"east": 12})
    with pytest.raises(ValueError, match="months >= 1"):
        generate(region_months={"north": 0})


def test_region_late_entry_gives_regions_their_own_share_of_late_entrants():
    shares = {"north": 0.05, "south": 0.6}  # midlands keeps the default 0.20
    ds = generate(n_residents=6000, n_homes=12, seed=6, region_late_entry=shares)
    res = ds.table("residents")
    late = (res["entry_date"] > pd.Timestamp(ds.truth["study_start"])).groupby(res["region"])
    n = res.groupby("region").size()
    for region, p in {**shares, "midlands": 0.20}.items():
        # within 4 binomial SEs of the share (about 2,000 residents a region)
        assert late.mean()[region] == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / n[region]))
    # Later entry, earlier study-end censoring: shorter mean follow-up in the south.
    fu = (res["exit_date"] - res["entry_date"]).dt.days.groupby(res["region"]).mean()
    assert fu["south"] < fu["midlands"] < fu["north"]
    _check_integrity(ds)
    # Shares equal to the default leave the dataset unchanged (same random stream).
    same = generate(n_residents=300, n_homes=12, seed=6, region_late_entry={"north": 0.2})
    base = generate(n_residents=300, n_homes=12, seed=6)
    for region in base.regions:
        for t in base.regions[region]:
            pd.testing.assert_frame_equal(same.regions[region][t], base.regions[region][t])
    with pytest.raises(ValueError, match="region_late_entry needs regions among"):
        generate(region_late_entry={"north": 1.5})


def test_cli_writes_parquet(tmp_path):
    args = ["--out", str(tmp_path), "--residents", "60", "--homes", "6", "--regions", "3"]
    assert main([*args, "--seed", "4", "--format", "parquet", "--months", "6"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "midlands",
        "north",
        "south",
        "truth.json",
    ]
    res = pd.concat(pd.read_parquet(p) for p in tmp_path.glob("*/residents.parquet"))
    assert len(res) == 60 and res["exit_date"].max() == pd.Timestamp("2014-09-30").date()
    assert json.loads((tmp_path / "truth.json").read_text())["seed"] == 4


def test_cli_late_entry_sets_the_share_entering_during_the_window(tmp_path):
    # The five-year benchmark size: 60 months, 70% entering during the window.
    args = ["--residents", "4000", "--homes", "12", "--months", "60", "--format", "parquet"]
    assert main(["--out", str(tmp_path / "a"), *args, "--late-entry", "0.7"]) == 0
    res = pd.concat(pd.read_parquet(p) for p in (tmp_path / "a").glob("*/residents.parquet"))
    late = (pd.to_datetime(res["entry_date"]) > pd.Timestamp("2014-04-01")).mean()
    assert late == pytest.approx(0.7, abs=4 * np.sqrt(0.7 * 0.3 / 4000))  # 4 binomial SEs
    # The default share (0.20) spelled out gives the same files as leaving it out.
    assert main(["--out", str(tmp_path / "b"), *args]) == 0
    assert main(["--out", str(tmp_path / "c"), *args, "--late-entry", "0.2"]) == 0
    for f in (tmp_path / "b").rglob("*.parquet"):
        assert f.read_bytes() == (tmp_path / "c" / f.relative_to(tmp_path / "b")).read_bytes()
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "d"), "--late-entry", "1.5"])


def test_module_entry_point(tmp_path):
    cmd = [sys.executable, "-m", "optimal_analysis.synthetic", "--out", str(tmp_path)]
    done = subprocess.run(
        [*cmd, "--residents", "30", "--homes", "3"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "generated" in done.stderr and (tmp_path / "north" / "contacts.csv").exists()


def test_committed_dataset_is_the_default_command(tmp_path):
    committed = REPO / "data" / "synthetic"
    assert main(["--out", str(tmp_path)]) == 0
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for rel in made:
        assert (committed / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_crude_rates_match_injected_intensities_without_noise():
    # No home effect, no frailty, no covariate effects: emergency admissions per day out of
    # hospital are Poisson with rate 0.95/yr x RR, deaths per day with rate 0.26/yr x HR, so
    # the crude rates must match within a few Poisson standard errors (sqrt(events)/exposure).
    zero = dict.fromkeys(
        ("age_per_10_years", "male", "dementia", "nursing", "barthel_per_point"), 0.0
    )
    ds = generate(
        n_residents=20000, n_homes=300, seed=21, home_sd=0.0, overdispersion=0.0,
        effects={"covariate_log_effects": {"emergency_admission": zero, "death": zero}},
    )  # fmt: skip
    res = ds.table("residents").merge(ds.table("care_homes"), on=["care_home_id", "region"])
    adm = ds.table("admissions").merge(res[["resident_id", "exit_date"]], on="resident_id")
    end = adm["discharge_date"].fillna(adm["exit_date"]).clip(upper=adm["exit_date"])
    adm["bed_days"] = (end - adm["admission_date"]).dt.days
    res["follow_up_days"] = (res["exit_date"] - res["entry_date"]).dt.days + 1
    res["bed_days"] = res["resident_id"].map(adm.groupby("resident_id")["bed_days"].sum())
    res["at_risk_years"] = (res["follow_up_days"] - res["bed_days"].fillna(0)) / 365.25
    res["person_years"] = res["follow_up_days"] / 365.25
    em = adm[adm["method"] == "emergency"].merge(res[["resident_id", "care_model"]])
    by = res.groupby("care_model")
    deaths = res["exit_reason"].eq("died").groupby(res["care_model"]).sum()
    checks = {
        "emergency_admission": (em.groupby("care_model").size(), by["at_risk_years"].sum(), 0.95),
        "death": (deaths, by["person_years"].sum(), 0.26),
    }
    for outcome, (events, exposure, base) in checks.items():
        for model, ratio in ds.truth["rate_ratios"][outcome].items():
            expected = base * ratio
            se = np.sqrt(events[model]) / exposure[model]
            z = (events[model] / exposure[model] - expected) / se
            assert abs(z) < 4, (outcome, model, z)
