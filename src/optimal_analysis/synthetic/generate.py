"""Seeded synthetic care home datasets in the data contract's layout.

``generate()`` simulates residents of care homes in several regions, their
NHS contacts, hospital stays and deaths; ``write_dataset()`` writes them as
``<out>/<region>/{care_homes,residents,contacts,admissions}.csv|parquet`` plus
``<out>/truth.json`` (at the dataset root, so the pipeline never takes it for a
region). Writing: :mod:`optimal_analysis.synthetic.write`; command line
(:mod:`optimal_analysis.synthetic.cli`): ``optimal-synth`` or
``python -m optimal_analysis.synthetic``.
Same arguments and seed give identical tables and identical files.

The default is shaped like the OPTIMAL study: 3 regions (``north``,
``midlands``, ``south``) with one care model each, 4 care homes per region,
240 residents, a 12-month window from 2014-04-01. With more than 12 homes
(e.g. ``n_homes=15000``) care models are mixed across the homes of each
region and the regions are the 7 NHS England regions.

The simulation (details in `optimal_analysis.synthetic.sim`,
parameters in `optimal_analysis.synthetic.params.DEFAULT_EFFECTS`): each
resident has constant intensities of emergency and elective admission, of
A&E attendance and ambulance call-out without admission, and of every
contact service, switched off while in hospital; each is the base rate x
care-model ratio x exp(covariate log effects) x a care-home multiplier
(log-normal, SD of the log ``home_sd``, mean 1) x an individual gamma frailty
(mean 1, variance ``overdispersion``). Emergency admissions come through A&E
and by ambulance with fixed probabilities (same day). Death is a competing
event with a constant hazard (care-model hazard ratio, covariate effects; no
home effect or frailty) and may happen in hospital (the stay then has no
discharge date and exit_date is the day of death). Residents enter at the
study start or (about 20%) during the window and may move out. Hospital
stays are log-normal (median 7 days for emergency). Contacts of one
resident, service and day are one row with ``n`` contacts.

truth.json keys (stable; recovery tests read them)
--------------------------------------------------
seed : int
reference : the reference care model (``usual_care``)
care_models : list of care models
study_start, study_end : ISO dates of the window (inclusive; with
    ``region_months``, study_end is the end of the longest region window)
region_study_end : {region: ISO date}, only with ``region_months``
rate_ratios : {outcome: {care_model: ratio}} for ``emergency_admission``,
    ``elective_admission``, ``ae``, ``ambulance``, ``death``; intensity ratio
    vs the reference, conditional on covariates, home effect and frailty
    (the reference itself is 1.0)
hazard_ratios : {``emergency_admission``|``death``: {care_model: ratio}}; the
    cause-specific hazard ratio of first emergency admission (death
    competing) and of death
covariate_log_effects : {outcome: {covariate: log effect}} for the outcomes
    above plus ``contacts`` (every contact service); covariates
    ``age_per_10_years``, ``male``, ``dementia``, ``nursing``,
    ``barthel_per_point``; coding in ``covariate_coding``
home_sd, overdispersion : as passed to ``generate``
service_rate_ratios : {service: {care_model: ratio}} vs the reference (services
    with a zero reference rate, i.e. ``care_home_team``, omitted)
service_rates_per_year : {service: {care_model: contacts per resident-year
    out of hospital at reference covariates}}
base_rates_per_year, death_in_hospital_multiplier, length_of_stay : inputs
notes : what the numbers mean; in short, with ``home_sd=0`` and
    ``overdispersion=0`` the emergency admission ratio is both the Poisson rate
    ratio and the cause-specific hazard ratio of first admission. With them > 0
    the rate ratios stay the marginal ones (log-linear, mean-1 multipliers) but
    the marginal Cox and Fine–Gray ratios are attenuated and have no closed
    form: tests/test_survival_recovery.py takes them from a very large sample
    (tests/reference/survival_recovery/make_truth.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis.synthetic import population as pop_mod
from optimal_analysis.synthetic import sim as sim
from optimal_analysis.synthetic.diagnoses import add_diagnoses
from optimal_analysis.synthetic.params import (
    COVARIATES,
    DEFAULT_EFFECTS,
    SERVICES,
    make_truth,
    merge_effects,
    ratio_vector,
    service_rates,
)
from optimal_analysis.synthetic.population import (
    DAYS_PER_YEAR,
    NHS_REGIONS,
    region_names,
    resolve_regions,
)

__all__ = [
    "DEFAULT_EFFECTS",
    "DEFAULT_SEED",
    "NHS_REGIONS",
    "SERVICES",
    "TABLES",
    "SyntheticDataset",
    "generate",
    "region_names",
]

log = logging.getLogger(__name__)

DEFAULT_SEED = 20140401
TABLES: tuple[str, ...] = ("care_homes", "residents", "contacts", "admissions")
CARE_MODELS: tuple[str, ...] = ("dedicated_team", "paid_gp", "usual_care")
_EXIT_REASONS = np.array(["study_end", "moved_out", "died"])  # indexed by sim.EXIT_*


@dataclass
class SyntheticDataset:
    """A generated dataset: ``regions[region][table]`` DataFrames and the ``truth`` dict.

    Tables have exactly the data contract's columns. ``care_homes`` and
    ``residents`` hold plain strings; in ``contacts`` and ``admissions`` the
    ``resident_id``, ``service`` and ``method`` columns are pandas Categoricals
    (national-size tables stay small in memory). Dates are ``datetime64[ns]``
    at midnight; ``discharge_date`` is NaT when missing; ``barthel`` is ``Int64``.
    """

    regions: dict[str, dict[str, pd.DataFrame]]
    truth: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """One table over all regions, with a leading ``region`` column."""
        parts = [
            t[name].astype({c: str for c in t[name].select_dtypes("category").columns})
            for t in self.regions.values()
        ]
        out = pd.concat(parts, keys=list(self.regions), names=["region", None])
        return out.reset_index(level=0).reset_index(drop=True)


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(5, len(str(n)))
    return (prefix + pd.Index(np.arange(1, n + 1)).astype(str).str.zfill(width)).to_numpy(object)


def _dates(start: np.datetime64, day: np.ndarray) -> np.ndarray:
    return (start + day.astype("timedelta64[D]")).astype("datetime64[ns]")


def _tables(
    region_names_: list[str],
    care_models: list[str],
    homes: dict[str, np.ndarray],
    res: dict[str, np.ndarray],
    hist: sim.Histories,
    contacts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    t0: np.datetime64,
) -> dict[str, dict[str, pd.DataFrame]]:
    """The contract's four tables per region (homes, residents and events are region-sorted)."""
    c_res, c_day, c_svc, c_n = contacts
    home = res["home"]
    home_ids, res_ids = _ids("CH", homes["beds"].size), _ids("R", home.size)
    res_region = homes["region"][home]
    model_names = np.array(care_models, dtype=object)
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for r, name in enumerate(region_names_):  # a handful of regions; rows are contiguous slices
        h_sel = np.flatnonzero(homes["region"] == r)
        lo, hi = np.searchsorted(res_region, [r, r + 1])
        c_lo, c_hi = np.searchsorted(c_res, [lo, hi])
        s_lo, s_hi = np.searchsorted(hist.stay_resident, [lo, hi])
        rid = pd.Index(res_ids[lo:hi])
        discharge_day = hist.stay_discharge_day[s_lo:s_hi]
        discharge = _dates(t0, np.maximum(discharge_day, 0))
        discharge[discharge_day < 0] = np.datetime64("NaT")
        barthel = pd.array(res["barthel"][lo:hi], dtype="Int64")
        barthel[res["barthel_missing"][lo:hi]] = pd.NA
        out[name] = {
            "care_homes": pd.DataFrame(
                {
                    "care_home_id": home_ids[h_sel],
                    "care_model": model_names[homes["model"][h_sel]],
                    "nursing": homes["nursing"][h_sel],
                    "beds": homes["beds"][h_sel],
                }
            ),
            "residents": pd.DataFrame(
                {
                    "resident_id": rid.to_numpy(object),
                    "care_home_id": home_ids[home[lo:hi]],
                    "sex": np.where(res["male"][lo:hi], "M", "F").astype(object),
                    "age": res["age"][lo:hi],
                    "dementia": res["dementia"][lo:hi],
                    "barthel": barthel,
                    "entry_date": _dates(t0, res["entry_day"][lo:hi]),
                    "exit_date": _dates(t0, hist.exit_day[lo:hi]),
                    "exit_reason": _EXIT_REASONS[hist.exit_reason[lo:hi]].astype(object),
                }
            ),
            "contacts": pd.DataFrame(
                {
                    "resident_id": pd.Categorical.from_codes(c_res[c_lo:c_hi] - lo, rid),
                    "contact_date": _dates(t0, c_day[c_lo:c_hi]),
                    "service": pd.Categorical.from_codes(c_svc[c_lo:c_hi], SERVICES),
                    "n": c_n[c_lo:c_hi],
                }
            ),
            "admissions": pd.DataFrame(
                {
                    "resident_id": pd.Categorical.from_codes(
                        hist.stay_resident[s_lo:s_hi] - lo, rid
                    ),
                    "admission_date": _dates(t0, hist.stay_admission_day[s_lo:s_hi]),
                    "discharge_date": discharge,
                    "method": pd.Categorical.from_codes(
                        hist.stay_emergency[s_lo:s_hi].astype(np.int8), ["elective", "emergency"]
                    ),
                }
            ),
        }
    return out


def generate(
    *,
    n_residents: int = 240,
    n_homes: int = 12,
    regions: Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    care_models: Sequence[str] = CARE_MODELS,
    mixed_models: bool | None = None,
    start: str = "2014-04-01",
    months: int = 12,
    seed: int = DEFAULT_SEED,
    home_sd: float = 0.2,
    overdispersion: float = 0.5,
    effects: Mapping[str, Any] | None = None,
    reference: str = "usual_care",
    region_months: Mapping[str, int] | None = None,
    region_late_entry: Mapping[str, float] | None = None,
    diagnoses: bool = False,
) -> SyntheticDataset:
    """Simulate a dataset in the data contract's shape.

    Parameters
    ----------
    n_residents, n_homes : residents over the window (including later
        entrants) and care homes; residents are spread over homes in
        proportion to beds.
    regions : region names, or ``{region: care_model | [care_models]}``;
        ``None`` = ``north, midlands, south`` for up to 12 homes, else the 7
        NHS England regions. Homes are split evenly over regions.
    care_models : the care models; ``reference`` must be one of them (if it is
        not, the last one is the reference).
    mixed_models : every region's homes cycle through all care models
        (``None``: when ``n_homes > 12``); otherwise region *i* has model *i*.
    start, months : the study window, ``[start, start + months)`` in days.
    seed : seeds ``np.random.default_rng``.
    home_sd : SD of the log care-home multiplier (0 = none).
    overdispersion : variance of the individual gamma frailty (0 = Poisson).
    effects : partial dict deep-merged over ``DEFAULT_EFFECTS``.
    region_months : ``{region: months}``, study windows that differ by region
        (censoring at the study end that differs by region): every window
        starts at ``start``; a named region's lasts ``months`` months (others
        ``months``), its late entrants enter uniformly within it, and its
        residents still followed at its end exit ``study_end`` then. ``None``
        (default) keeps one window and the default random stream.
    region_late_entry : ``{region: share}``, the share of a region's residents
        who enter during the window (``population.p_enter_during_window``
        for regions not named): later entry means earlier censoring at the
        study end, so censoring differs by region while every region keeps
        residents followed over the whole window.
    diagnoses : also write ``admissions.primary_diagnosis`` and
        ``residents.place_of_death`` (:mod:`optimal_analysis.synthetic.diagnoses`,
        own random stream, so every other cell is the same as without), with
        truth.json key ``diagnoses`` (derived-outcome events and deaths by
        place per care model, derived rate ratios, the parameters).

    Returns
    -------
    SyntheticDataset with the tables by region and ``truth``.
    """
    if n_residents < 0 or n_homes < 1 or months < 1 or home_sd < 0 or overdispersion < 0:
        raise ValueError(
            "generate(): need n_residents >= 0, n_homes >= 1, months >= 1, home_sd >= 0, "
            f"overdispersion >= 0; got {n_residents}, {n_homes}, {months}, {home_sd}, "
            f"{overdispersion}"
        )
    care_models = list(care_models)
    reference = reference if reference in care_models else care_models[-1]
    mixed = bool(n_homes > 12) if mixed_models is None else bool(mixed_models)
    plan = resolve_regions(regions, care_models, n_homes, mixed)
    eff = merge_effects(DEFAULT_EFFECTS, effects)
    pop = eff["population"]
    rng = np.random.default_rng(seed)
    t0 = np.datetime64(start, "D")
    end_excl = np.datetime64((pd.Timestamp(start) + pd.DateOffset(months=months)).date(), "D")
    window_days = int((end_excl - t0) // np.timedelta64(1, "D"))
    names = [name for name, _ in plan]
    region_ends: list[np.datetime64] | None = None
    if region_months is not None:
        unknown = sorted(set(region_months) - set(names))
        if unknown or any(int(m) < 1 for m in region_months.values()):
            raise ValueError(
                f"generate(): region_months needs regions among {names} and months >= 1; "
                f"got {dict(region_months)}"
            )
        region_ends = [
            np.datetime64(
                (pd.Timestamp(start) + pd.DateOffset(months=int(region_months.get(r, months))))
                .date(),
                "D",
            )
            for r in names
        ]
        end_excl = max(region_ends)
        window_days = int((end_excl - t0) // np.timedelta64(1, "D"))

    if region_late_entry is not None:
        unknown = sorted(set(region_late_entry) - set(names))
        if unknown or any(not 0 <= float(p) <= 1 for p in region_late_entry.values()):
            raise ValueError(
                f"generate(): region_late_entry needs regions among {names} and shares in "
                f"[0, 1]; got {dict(region_late_entry)}"
            )
    homes = pop_mod.draw_homes(
        rng,
        n_homes,
        [np.array([care_models.index(m) for m in ms]) for _, ms in plan],
        len(care_models),
        pop,
    )
    res = pop_mod.draw_residents(
        rng,
        n_residents,
        homes,
        pop,
        window_days=window_days,
        move_out_per_year=eff["base_rates_per_year"]["move_out"],
        home_window_days=None
        if region_ends is None
        else np.array([(e - t0) // np.timedelta64(1, "D") for e in region_ends])[homes["region"]],
        home_p_late=None
        if region_late_entry is None
        else np.array(
            [float(region_late_entry.get(r, pop["p_enter_during_window"])) for r in names]
        )[homes["region"]],
    )
    home, n = res["home"], res["home"].size
    model = homes["model"][home]
    base, rr, cov = eff["base_rates_per_year"], eff["rate_ratios"], eff["covariate_log_effects"]

    def lin(outcome: str) -> np.ndarray:
        return np.exp(res["x"] @ np.array([cov[outcome][c] for c in COVARIATES], dtype=float))

    def ratio(outcome: str) -> np.ndarray:
        return ratio_vector(rr[outcome], care_models, reference)[model]

    # Care-home multipliers and frailties: one pair for acute outcomes, one for contacts.
    acute = sim.lognormal_effect(rng, n_homes, home_sd)[home]
    acute = acute * sim.gamma_frailty(rng, n, overdispersion)
    contact_mult = sim.lognormal_effect(rng, n_homes, home_sd)[home]
    contact_mult = contact_mult * sim.gamma_frailty(rng, n, overdispersion)
    per_day = 1.0 / DAYS_PER_YEAR
    lam_em_core = per_day * lin("emergency_admission") * acute
    lam_el = per_day * lin("elective_admission") * acute
    los = eff["length_of_stay"]
    hist = sim.simulate_histories(
        rng,
        entry_day=res["entry_day"],
        end_time=res["end_time"],
        window_days=res.get("window_days", window_days),
        lam_emergency=base["emergency_admission"] * ratio("emergency_admission") * lam_em_core,
        lam_elective=base["elective_admission"] * ratio("elective_admission") * lam_el,
        lam_death=per_day * base["death"] * ratio("death") * lin("death"),
        death_in_hospital_multiplier=float(eff["death_in_hospital_multiplier"]),
        los_median_days=(los["emergency"]["median_days"], los["elective"]["median_days"]),
        los_sigma=(los["emergency"]["sigma"], los["elective"]["sigma"]),
    )

    out_days = sim.out_of_hospital_days(hist, n)
    svc_rates = service_rates(eff, care_models, reference)
    contacts_lin = lin("contacts") * contact_mult * per_day * out_days
    expected = np.empty((n, len(SERVICES)))
    for k, s in enumerate(SERVICES):  # a loop over services, each vectorised over residents
        if s in ("ae", "ambulance"):  # arrivals without admission share the acute multipliers
            key = f"{s}_not_admitted"
            expected[:, k] = base[key] * ratio(key) * lam_em_core * out_days
        else:
            expected[:, k] = np.array([svc_rates[s][m] for m in care_models])[model] * contacts_lin
    c_res, c_day, c_svc, c_n = sim.draw_contacts(
        rng,
        hist,
        expected,
        window_days=window_days,
        ae_index=SERVICES.index("ae"),
        ambulance_index=SERVICES.index("ambulance"),
        p_ae_given_emergency=eff["p_ae_given_emergency_admission"],
        p_ambulance_given_ae=eff["p_ambulance_given_ae_admission"],
        p_ambulance_given_direct=eff["p_ambulance_given_direct_admission"],
    )

    out = _tables(
        names, care_models, homes, res, hist, (c_res, c_day, c_svc, c_n), t0
    )
    log.info(
        "simulated %d residents in %d homes: %d stays, %d contact rows",
        n, n_homes, hist.stay_resident.size, c_n.size,
    )  # fmt: skip
    truth = make_truth(
        eff,
        care_models=care_models,
        reference=reference,
        seed=seed,
        home_sd=home_sd,
        overdispersion=overdispersion,
        study_start=str(t0),
        study_end=str(end_excl - 1),
    )
    if region_ends is not None:
        truth["region_study_end"] = {r: str(e - 1) for r, e in zip(names, region_ends, strict=True)}
    if diagnoses:  # own stream: the other tables stay identical with or without
        truth["diagnoses"] = add_diagnoses(
            out, np.random.default_rng([seed, 19]), reference=reference,
            emergency_ratios=truth["rate_ratios"]["emergency_admission"],
        )  # fmt: skip
    return SyntheticDataset(regions=out, truth=truth)

