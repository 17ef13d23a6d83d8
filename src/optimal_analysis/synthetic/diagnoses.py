"""Synthetic primary diagnoses of hospital stays and places of death, with truth.

Added to a generated dataset after its histories are simulated (diagnoses
and places do not change when or how often anything happens):

* every stay gets a diagnosis *group*: for an emergency stay ``avoidable``
  with probability ``avoidable_share[care_model]``, ``fall`` with probability
  ``fall_share``, ``other`` otherwise; an elective stay is ``avoidable`` with
  probability ``elective_avoidable_share`` (a check that elective stays never
  count), else ``other``. A code is drawn uniformly from the group's pool
  (`POOLS`: every avoidable code is in the default code list's
  ``avoidable_emergency_admission``, every fall code in its
  ``fall_injury_admission``, no other code in either) and written in one of
  five formats (``J18.9``, ``J189``, ``j18.9``, `` J18.9 ``, and ``E86X`` /
  ``J18.9-``); with probability ``missing_share`` the cell is left empty;
* first, a share of the deaths outside a stay get a terminal emergency stay
  (:mod:`optimal_analysis.synthetic.hospital_deaths`: realistic deaths in
  hospital, differing by care model); its diagnosis is drawn like any other;
* a resident who died in hospital (exit_reason ``died`` and a stay with no
  discharge date) has place of death ``hospital``; other deaths are
  ``care_home`` / ``hospice`` / ``other`` with probabilities
  ``place_probs``; with probability ``place_missing_share`` the cell is empty;
  residents who did not die have an empty cell.

Because the avoidable share acts on emergency admissions that arrive as a
Poisson process with intensity ratio RR_m, avoidable emergency admissions are
a thinned Poisson process with ratio ``RR_m * share_m / share_ref``
(`derived_rate_ratios`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis.synthetic.hospital_deaths import (
    DEFAULT_HOSPITAL_DEATH_PARAMS,
    add_terminal_stays,
)

__all__ = [
    "DEFAULT_DIAGNOSIS_PARAMS",
    "GROUP_OUTCOME",
    "POOLS",
    "add_diagnoses",
    "derived_rate_ratios",
    "diagnosis_truth",
    "draw_diagnoses",
    "draw_places_of_death",
]

POOLS: dict[str, tuple[str, ...]] = {
    "avoidable": (
        "J18.9", "J18.0", "N39.0", "J44.1", "J44.0", "I50.0", "I50.9", "E86", "L03.1",
        "J22", "J45.9", "E11.6", "F03", "L89.1", "N30.0", "G40.9", "J13", "I10",
    ),
    "fall": (
        "S72.0", "S72.1", "S72.2", "S06.0", "S06.5", "S52.5", "S42.2", "S32.5", "S02.0", "S00.0",
    ),
    "other": (
        "I63.9", "R55", "C34.9", "K57.3", "I21.9", "N17.9", "A41.9", "R41.0", "S72.3",
        "J69.0", "K56.6", "R06.0", "E87.1", "I26.9", "S32.0", "I25.1",
    ),
}  # fmt: skip

GROUPS: tuple[str, ...] = ("avoidable", "fall", "other")
#: The default code list's outcome of each group.
GROUP_OUTCOME: dict[str, str] = {
    "avoidable": "avoidable_emergency_admission",
    "fall": "fall_injury_admission",
}

DEFAULT_DIAGNOSIS_PARAMS: dict[str, Any] = {
    # share of emergency stays with an avoidable diagnosis (IAU 2019 found 41% of
    # emergency admissions from care homes potentially avoidable)
    "avoidable_share": {"usual_care": 0.40, "paid_gp": 0.36, "dedicated_team": 0.32},
    "fall_share": 0.10,
    "elective_avoidable_share": 0.05,
    "missing_share": 0.05,
    "place_probs": {"care_home": 0.85, "hospice": 0.08, "other": 0.07},
    "place_missing_share": 0.03,
}


def _share(table: Mapping[str, float], model: str, reference: str) -> float:
    return float(table.get(model, table.get(reference, 0.0)))


def derived_rate_ratios(
    emergency_ratios: Mapping[str, float], params: Mapping[str, Any], reference: str
) -> dict[str, dict[str, float]]:
    """True rate ratios of the derived outcomes vs the reference care model.

    ``avoidable_emergency_admission``: RR_m * a_m / a_ref (a = avoidable share);
    ``fall_injury_admission``: RR_m (the fall share does not depend on care model).
    """
    a = params["avoidable_share"]
    a_ref = _share(a, reference, reference)
    return {
        "avoidable_emergency_admission": {
            m: float(r) * _share(a, m, reference) / a_ref for m, r in emergency_ratios.items()
        },
        "fall_injury_admission": {m: float(r) for m, r in emergency_ratios.items()},
    }


def _format(codes: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Write codes (dotted WHO form) in the five formats, vectorised over rows."""
    s = pd.Series(codes, dtype=object)
    plain = s.str.replace(".", "", regex=False)
    three = s.str.len() == 3
    out = s.copy()
    out[style == 1] = plain[style == 1]
    out[style == 2] = s[style == 2].str.lower()
    out[style == 3] = " " + s[style == 3] + " "
    filler = (style == 4) & three.to_numpy()
    dash = (style == 4) & ~three.to_numpy()
    out[filler] = s[filler] + "X"
    out[dash] = s[dash] + "-"
    return out.to_numpy(dtype=object)


def draw_diagnoses(
    admissions: pd.DataFrame,
    care_model: np.ndarray,
    rng: np.random.Generator,
    *,
    params: Mapping[str, Any] = DEFAULT_DIAGNOSIS_PARAMS,
    reference: str = "usual_care",
) -> pd.DataFrame:
    """Primary diagnoses for every stay, with their true group.

    Parameters
    ----------
    admissions : DataFrame
        With ``method`` (``emergency`` / ``elective``); row order is kept.
    care_model : ndarray of str
        Care model of each row's resident.
    rng : numpy Generator
    params : mapping
        As `DEFAULT_DIAGNOSIS_PARAMS`.
    reference : str
        Care model whose avoidable share applies to care models not listed.

    Returns
    -------
    DataFrame (same index)
        ``primary_diagnosis`` (as written; empty string when missing),
        ``diagnosis_group`` (true group: avoidable / fall / other) and
        ``diagnosis_recorded`` (False where the cell is empty).
    """
    n = len(admissions)
    emergency = admissions["method"].astype(str).eq("emergency").to_numpy()
    models = np.asarray(care_model, dtype=object)
    uniq, inv = np.unique(models, return_inverse=True)
    a_share = np.array([_share(params["avoidable_share"], str(m), reference) for m in uniq])[inv]
    p_avoid = np.where(emergency, a_share, float(params["elective_avoidable_share"]))
    p_fall = np.where(emergency, float(params["fall_share"]), 0.0)
    u = rng.random(n)
    group_idx = np.where(u < p_avoid, 0, np.where(u < p_avoid + p_fall, 1, 2))
    codes = np.empty(n, dtype=object)
    for g, name in enumerate(GROUPS):
        rows = np.flatnonzero(group_idx == g)
        pool = np.array(POOLS[name], dtype=object)
        codes[rows] = pool[rng.integers(0, pool.size, rows.size)]
    written = _format(codes, rng.integers(0, 5, n))
    recorded = rng.random(n) >= float(params["missing_share"])
    written[~recorded] = ""
    return pd.DataFrame(
        {
            "primary_diagnosis": written,
            "diagnosis_group": np.array(GROUPS, dtype=object)[group_idx],
            "diagnosis_recorded": recorded,
        },
        index=admissions.index,
    )


def draw_places_of_death(
    residents: pd.DataFrame,
    admissions: pd.DataFrame,
    rng: np.random.Generator,
    *,
    params: Mapping[str, Any] = DEFAULT_DIAGNOSIS_PARAMS,
) -> pd.DataFrame:
    """Place of death for every resident, with the true place.

    Parameters
    ----------
    residents : DataFrame
        ``resident_id``, ``exit_reason``; row order is kept.
    admissions : DataFrame
        ``resident_id``, ``discharge_date`` (NaT for a stay still open at exit).
    rng : numpy Generator
    params : mapping
        ``place_probs`` (for deaths outside hospital), ``place_missing_share``.

    Returns
    -------
    DataFrame (same index)
        ``place_of_death`` (as written: ``hospital`` etc., some capitalised, or
        empty), ``place_true`` (empty for residents who did not die) and
        ``place_recorded``.
    """
    n = len(residents)
    died = residents["exit_reason"].astype(str).eq("died").to_numpy()
    open_stay = admissions.loc[admissions["discharge_date"].isna(), "resident_id"].astype(str)
    in_hosp = residents["resident_id"].astype(str).isin(set(open_stay)).to_numpy() & died
    places = np.array(list(params["place_probs"]), dtype=object)
    probs = np.array(list(params["place_probs"].values()), dtype=float)
    probs = probs / probs.sum()
    drawn = places[rng.choice(places.size, size=n, p=probs)]
    true = np.where(died, np.where(in_hosp, "hospital", drawn), "").astype(object)
    recorded = died & (rng.random(n) >= float(params["place_missing_share"]))
    written = np.where(recorded, true, "").astype(object)
    caps = recorded & (rng.random(n) < 0.1)
    written[caps] = (
        pd.Series(written[caps], dtype=object).str.replace("_", " ").str.capitalize().to_numpy()
    )
    return pd.DataFrame(
        {"place_of_death": written, "place_true": true, "place_recorded": recorded},
        index=residents.index,
    )


def diagnosis_truth(
    params: Mapping[str, Any], emergency_ratios: Mapping[str, float], reference: str
) -> dict:
    """The truth.json block for diagnoses and places of death."""
    return {
        "diagnosis_params": {
            k: (dict(v) if isinstance(v, Mapping) else v) for k, v in params.items()
        },
        "diagnosis_pools": {k: list(v) for k, v in POOLS.items()},
        "derived_rate_ratios": derived_rate_ratios(emergency_ratios, params, reference),
    }


def add_diagnoses(
    regions: dict[str, dict[str, pd.DataFrame]],
    rng: np.random.Generator,
    *,
    params: Mapping[str, Any] = DEFAULT_DIAGNOSIS_PARAMS,
    reference: str = "usual_care",
    emergency_ratios: Mapping[str, float] | None = None,
    death_params: Mapping[str, Any] = DEFAULT_HOSPITAL_DEATH_PARAMS,
) -> dict[str, Any]:
    """Add ``admissions.primary_diagnosis`` and ``residents.place_of_death`` to every region.

    ``regions[region][table]`` as generated (changed in place). Returns the
    truth block: `diagnosis_truth` plus ``derived_events`` ({outcome:
    {care_model: emergency admissions of its true group with a recorded
    diagnosis}}) and ``deaths_by_place`` ({care_model: {"deaths",
    "deaths_in_hospital"}} over residents with a recorded place of death).
    Every generated event lies in follow-up, so these are the counts the
    pipeline must find. ``hospital_deaths``: the terminal stays' parameters
    (``death_params``), the stays added per care model (``terminal_stays``;
    they are emergency admissions, so emergency-admission counts, rates and
    the derived outcomes' counts include them: the simulated rate ratios in
    ``rate_ratios`` describe the admissions before them), and per care model
    the deaths, deaths already during a simulated stay and the expected share
    of deaths in hospital e + (1 − e) p (``expected_share``, e their share).
    """
    events: dict[str, dict[str, int]] = {GROUP_OUTCOME[g]: {} for g in ("avoidable", "fall")}
    deaths: dict[str, dict[str, int]] = {}
    by_model: dict[str, dict[str, Any]] = {}
    for tables in regions.values():
        homes, res, adm = tables["care_homes"], tables["residents"], tables["admissions"]
        model_of_home = homes.set_index("care_home_id")["care_model"].astype(str)
        res_model = res["care_home_id"].astype(str).map(model_of_home)
        already = res["exit_reason"].astype(str).eq("died") & res["resident_id"].astype(str).isin(
            set(adm.loc[adm["discharge_date"].isna(), "resident_id"].astype(str)))
        adm, added = add_terminal_stays(res, adm, res_model.to_numpy().astype(str), rng,
                                        params=death_params, reference=reference)
        for m in np.unique(res_model.to_numpy().astype(str)):
            sel = res_model.to_numpy().astype(str) == m
            h = by_model.setdefault(
                str(m), {"deaths": 0, "died_during_stay": 0, "terminal_stays": 0})
            h["deaths"] += int(res["exit_reason"].astype(str).eq("died").to_numpy()[sel].sum())
            h["died_during_stay"] += int(already.to_numpy()[sel].sum())
            h["terminal_stays"] += int(added[sel].sum())
        adm_model = adm["resident_id"].astype(str).map(
            pd.Series(res_model.to_numpy(), index=res["resident_id"].astype(str))
        ).to_numpy()
        dx = draw_diagnoses(adm, adm_model, rng, params=params, reference=reference)
        pod = draw_places_of_death(res, adm, rng, params=params)
        tables["admissions"] = adm.assign(primary_diagnosis=dx["primary_diagnosis"].to_numpy())
        tables["residents"] = res.assign(place_of_death=pod["place_of_death"].to_numpy())
        emergency = adm["method"].astype(str).eq("emergency").to_numpy()
        for g, outcome in GROUP_OUTCOME.items():
            hit = emergency & dx["diagnosis_group"].eq(g).to_numpy()
            hit &= dx["diagnosis_recorded"].to_numpy()
            for m, k in pd.Series(hit).groupby(adm_model).sum().items():
                events[outcome][str(m)] = events[outcome].get(str(m), 0) + int(k)
        rec = pod["place_recorded"].to_numpy()
        hosp = rec & pod["place_true"].eq("hospital").to_numpy()
        for m in np.unique(res_model.to_numpy().astype(str)):
            sel = res_model.to_numpy().astype(str) == m
            d = deaths.setdefault(str(m), {"deaths": 0, "deaths_in_hospital": 0})
            d["deaths"] += int(rec[sel].sum())
            d["deaths_in_hospital"] += int(hosp[sel].sum())
    truth = diagnosis_truth(params, emergency_ratios or {}, reference)
    truth["derived_events"] = events
    truth["deaths_by_place"] = deaths
    shares = death_params["hospital_death_share"]
    for m, h in by_model.items():
        e = h["died_during_stay"] / h["deaths"] if h["deaths"] else 0.0
        p = float(shares.get(m, shares[reference]))
        h["expected_share"] = e + (1 - e) * p
    truth["hospital_deaths"] = {
        "params": {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in death_params.items()},
        "by_care_model": by_model,
    }
    return truth
