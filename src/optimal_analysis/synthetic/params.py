"""Parameters of the synthetic generator and the ``truth`` they imply.

``DEFAULT_EFFECTS`` holds every number the generator uses; ``generate(effects=...)``
deep-merges a partial dict over it. Rates are per resident-year *out of
hospital*, at the reference covariate values (age 85, female, no dementia,
residential home, Barthel 10) in the reference care model (``usual_care``),
before the care-home and individual multipliers (both mean 1).

Calibration (published English care home figures: ONS/CQC care home
population, Barthel and dementia prevalence in UK care home cohorts, NHS
Digital HES emergency admissions of care home residents ~0.7-1.0 per
resident-year, A&E ~1.0-1.4, annual mortality ~26-40%): the base rates below
were tuned so that the default dataset's crude figures land in those ranges;
``calibration_summary`` in `optimal_analysis.synthetic` reports them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

SERVICES: tuple[str, ...] = (
    "gp_surgery", "gp_visit", "gp_phone", "practice_nurse", "district_nurse",
    "community_matron", "care_home_team", "geriatrician", "mental_health",
    "physiotherapy", "occupational_therapy", "speech_therapy", "dietitian",
    "podiatry", "pharmacist", "out_of_hours", "ambulance", "ae", "outpatient",
)  # fmt: skip
COVARIATES: tuple[str, ...] = (
    "age_per_10_years",
    "male",
    "dementia",
    "nursing",
    "barthel_per_point",
)
AGE_CENTRE_YEARS, BARTHEL_CENTRE = 85.0, 10.0

DEFAULT_EFFECTS: dict[str, Any] = {
    # Acute intensities per resident-year out of hospital (reference covariates, usual care).
    "base_rates_per_year": {
        "emergency_admission": 0.95,
        "elective_admission": 0.16,
        "ae_not_admitted": 0.58,  # A&E attendances not followed by admission
        "ambulance_not_admitted": 0.58,  # see-and-treat / conveyed, not admitted
        "death": 0.26,  # hazard per year, in and out of hospital
        "move_out": 0.075,  # hazard per year of moving out of the home
    },
    # Care-model intensity ratios vs the reference (missing model = 1).
    "rate_ratios": {
        "emergency_admission": {"dedicated_team": 0.75, "paid_gp": 0.90},
        "elective_admission": {"dedicated_team": 1.00, "paid_gp": 1.10},
        "ae_not_admitted": {"dedicated_team": 0.70, "paid_gp": 0.85},
        "ambulance_not_admitted": {"dedicated_team": 0.70, "paid_gp": 0.90},
        "death": {"dedicated_team": 0.90, "paid_gp": 0.95},
    },
    # Emergency admissions arriving through A&E / by ambulance (same day as admission).
    "p_ae_given_emergency_admission": 0.80,
    "p_ambulance_given_ae_admission": 0.85,
    "p_ambulance_given_direct_admission": 0.35,
    # Contacts per resident-year out of hospital (reference covariates, usual care).
    "service_rates_per_year": {
        "gp_surgery": 0.5,
        "gp_visit": 5.5,
        "gp_phone": 5.5,
        "practice_nurse": 1.0,
        "district_nurse": 9.0,
        "community_matron": 0.5,
        "care_home_team": 0.0,
        "geriatrician": 0.3,
        "mental_health": 1.0,
        "physiotherapy": 1.0,
        "occupational_therapy": 0.4,
        "speech_therapy": 0.3,
        "dietitian": 0.3,
        "podiatry": 2.0,
        "pharmacist": 0.5,
        "out_of_hours": 1.0,
        "outpatient": 1.5,
    },  # fmt: skip
    "service_rate_ratios": {
        "gp_surgery": {"dedicated_team": 0.8, "paid_gp": 0.8},
        "gp_visit": {"dedicated_team": 0.8, "paid_gp": 1.8},
        "gp_phone": {"dedicated_team": 0.8, "paid_gp": 1.0},
        "district_nurse": {"dedicated_team": 0.7, "paid_gp": 1.0},
        "community_matron": {"dedicated_team": 0.5, "paid_gp": 1.0},
        "geriatrician": {"dedicated_team": 2.0, "paid_gp": 1.0},
        "mental_health": {"dedicated_team": 1.3, "paid_gp": 1.0},
        "pharmacist": {"dedicated_team": 1.5, "paid_gp": 1.3},
        "out_of_hours": {"dedicated_team": 0.7, "paid_gp": 0.8},
    },
    # Care home team visits: only homes of these models, at this rate.
    "care_home_team_rates_per_year": {"dedicated_team": 8.0},
    # Log effects per unit of each covariate (age per 10 years, barthel per point).
    "covariate_log_effects": {
        "emergency_admission": {
            "age_per_10_years": 0.05,
            "male": 0.15,
            "dementia": -0.05,
            "nursing": 0.05,
            "barthel_per_point": -0.02,
        },
        "elective_admission": {
            "age_per_10_years": -0.20,
            "male": 0.10,
            "dementia": -0.30,
            "nursing": 0.0,
            "barthel_per_point": 0.02,
        },
        "death": {
            "age_per_10_years": 0.35,
            "male": 0.30,
            "dementia": 0.20,
            "nursing": 0.40,
            "barthel_per_point": -0.05,
        },
        "contacts": {
            "age_per_10_years": 0.0,
            "male": 0.0,
            "dementia": 0.10,
            "nursing": -0.10,
            "barthel_per_point": -0.01,
        },
    },  # fmt: skip
    "length_of_stay": {
        "emergency": {"median_days": 7.0, "sigma": 0.9},
        "elective": {"median_days": 2.0, "sigma": 1.0},
    },
    # Death hazard multiplier while in hospital; 1 keeps death independent of admissions.
    "death_in_hospital_multiplier": 1.0,
    "population": {
        "age_mean_years": 86.0,
        "age_sd_years": 8.0,
        "age_min_years": 60,
        "age_max_years": 115,
        "male_age_shift_years": -2.0,
        "p_female": 0.75,
        "p_dementia_residential": 0.72,
        "p_dementia_nursing": 0.80,
        "p_nursing_home": 0.42,
        "beds_median": 38,
        "beds_nursing_extra": 6,
        "barthel_mean_residential": 0.62,
        "barthel_mean_nursing": 0.35,
        "barthel_dementia_shift": -0.08,
        "barthel_concentration": 4.0,
        "p_barthel_missing": 0.03,
        "p_enter_during_window": 0.20,
    },  # fmt: skip
}


def merge_effects(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base``; unknown keys raise, all named."""
    out = copy.deepcopy(dict(base))
    if not override:
        return out
    bad: list[str] = []

    def _merge(dst: dict[str, Any], src: Mapping[str, Any], path: str, open_keys: bool) -> None:
        for key, val in src.items():
            where = f"{path}{key}"
            if key not in dst and not open_keys:
                bad.append(where)
            elif isinstance(val, Mapping) and isinstance(dst.get(key), dict):
                # Care-model and service maps may gain new keys; structural maps may not.
                _merge(dst[key], val, where + ".", open_keys=path != "")
            else:
                dst[key] = copy.deepcopy(val)

    _merge(out, override, "", open_keys=False)
    if bad:
        raise ValueError(f"unknown effects keys: {', '.join(sorted(bad))}")
    return out


def model_ratio(table: Mapping[str, float], model: str, reference: str) -> float:
    """Ratio of ``model`` vs the reference from a ``{model: ratio}`` map (missing = 1)."""
    return float(table.get(model, 1.0)) / float(table.get(reference, 1.0))


def ratio_vector(table: Mapping[str, float], models: Sequence[str], reference: str) -> np.ndarray:
    """``model_ratio`` for each of ``models``, as an array aligned with them."""
    return np.array([model_ratio(table, m, reference) for m in models])


def make_truth(
    eff: Mapping[str, Any],
    *,
    care_models: Sequence[str],
    reference: str,
    seed: int,
    home_sd: float,
    overdispersion: float,
    study_start: str,
    study_end: str,
) -> dict[str, Any]:
    """The ``truth`` dict written as truth.json (keys: see `optimal_analysis.synthetic`)."""
    base, rr = eff["base_rates_per_year"], eff["rate_ratios"]
    p_ae = eff["p_ae_given_emergency_admission"]
    p_amb = (
        p_ae * eff["p_ambulance_given_ae_admission"]
        + (1 - p_ae) * eff["p_ambulance_given_direct_admission"]
    )

    def _mix(p_link: float, key: str) -> dict[str, float]:
        # E[count]/time = p_link*lam_e*RR_e + lam_other*RR_other, same covariates/frailty for both.
        def rate(m: str) -> float:
            return p_link * base["emergency_admission"] * model_ratio(
                rr["emergency_admission"], m, reference
            ) + base[key] * model_ratio(rr[key], m, reference)

        return {m: round(rate(m) / rate(reference), 12) for m in care_models}

    def _plain(key: str) -> dict[str, float]:
        return {m: model_ratio(rr[key], m, reference) for m in care_models}

    rate_ratios = {
        "emergency_admission": _plain("emergency_admission"),
        "elective_admission": _plain("elective_admission"),
        "ae": _mix(p_ae, "ae_not_admitted"),
        "ambulance": _mix(p_amb, "ambulance_not_admitted"),
        "death": _plain("death"),
    }
    svc_rates = service_rates(eff, care_models, reference)
    svc_ratios = {
        s: {m: round(r[m] / r[reference], 12) for m in care_models}
        for s, r in svc_rates.items()
        if r[reference] > 0
    }
    cov = eff["covariate_log_effects"]
    return {
        "seed": int(seed),
        "reference": reference,
        "care_models": list(care_models),
        "study_start": study_start,
        "study_end": study_end,
        "rate_ratios": rate_ratios,
        "hazard_ratios": {
            "emergency_admission": dict(rate_ratios["emergency_admission"]),
            "death": dict(rate_ratios["death"]),
        },
        "covariate_log_effects": {
            "emergency_admission": dict(cov["emergency_admission"]),
            "elective_admission": dict(cov["elective_admission"]),
            "ae": dict(cov["emergency_admission"]),
            "ambulance": dict(cov["emergency_admission"]),
            "death": dict(cov["death"]),
            "contacts": dict(cov["contacts"]),
        },
        "covariate_coding": {
            "age_per_10_years": f"(age - {AGE_CENTRE_YEARS:g}) / 10, age in whole years at entry",
            "male": "sex == 'M'",
            "dementia": "dementia recorded",
            "nursing": "care home registered for nursing",
            "barthel_per_point": f"barthel - {BARTHEL_CENTRE:g} (missing values are MCAR)",
        },
        "home_sd": float(home_sd),
        "overdispersion": float(overdispersion),
        "service_rate_ratios": svc_ratios,
        "service_rates_per_year": svc_rates,
        "base_rates_per_year": dict(base),
        "death_in_hospital_multiplier": float(eff["death_in_hospital_multiplier"]),
        "length_of_stay": copy.deepcopy(eff["length_of_stay"]),
        "notes": TRUTH_NOTES,
    }


def service_rates(
    eff: Mapping[str, Any], care_models: Sequence[str], reference: str
) -> dict[str, dict[str, float]]:
    """Contacts per resident-year out of hospital by service and model, reference covariates."""
    out: dict[str, dict[str, float]] = {}
    for s, rate in eff["service_rates_per_year"].items():
        if s == "care_home_team":
            team = eff["care_home_team_rates_per_year"]
            out[s] = {m: float(team.get(m, 0.0)) for m in care_models}
        else:
            ratios = eff["service_rate_ratios"].get(s, {})
            out[s] = {m: float(rate) * model_ratio(ratios, m, reference) for m in care_models}
    return out


TRUTH_NOTES = (
    "Intensities are constant in time and per day out of hospital (emergency and elective "
    "admissions, A&E, ambulance and every contact service are switched off during a stay; "
    "death is not). rate_ratios[outcome][model] is the ratio of the outcome's intensity in "
    "that care model to the reference, conditional on the covariates (log effects in "
    "covariate_log_effects, coding in covariate_coding), the care-home multiplier "
    "(log-normal, mean 1, SD of the log = home_sd) and the individual gamma frailty (mean 1, "
    "variance = overdispersion; shared by the acute outcomes, a separate one shared by all "
    "contact services). ae and ambulance mix same-day arrivals with emergency admissions "
    "(fixed probabilities) and arrivals without admission; their ratio is the ratio of the "
    "mixed intensities, exact because both parts share covariates and multipliers. death is "
    "a constant hazard (no home effect, no frailty), so rate_ratios.death = "
    "hazard_ratios.death; with death_in_hospital_multiplier = 1 (default) it is also the "
    "all-cause Cox hazard ratio. With home_sd = 0 and overdispersion = 0 the emergency "
    "admission intensity ratio is both the Poisson rate ratio (exactly with days out of "
    "hospital as exposure; with person-years it is off by the care models' difference in "
    "time in hospital, under 1%) and the cause-specific hazard ratio of the first emergency "
    "admission (death competing); recovery tests should generate with both set to 0. With "
    "them > 0 the ratios are conditional (cluster- and frailty-specific) effects; the "
    "frailty makes marginal hazard ratios of first admission attenuate towards 1, while "
    "Poisson/negative-binomial rate ratios stay consistent. service_rate_ratios omits "
    "services with zero rate in the reference (care_home_team); service_rates_per_year "
    "gives every service's rate by care model at the reference covariates."
)
