"""Derived outcomes: emergency admissions whose primary diagnosis is on a code list.

A vocabulary module (numpy/pandas and `optimal_analysis.icd10` only). The
outcome code list (data contract, "Optional data"; docs/outcome_codes.md)
names outcomes such as ``avoidable_emergency_admission``; an emergency
admission is an event of an outcome when its normalised primary diagnosis
starts with one of the outcome's prefixes. Each derived outcome is then an
ordinary count and time-to-first outcome:

- count per resident = number of its events in follow-up;
- time to first = admission_date − entry_date + 1 of the first one, else
  follow_up_days; status 1 (event), 2 (died first: competing) or 0 (censored),
  as for the first emergency admission (data-contract.md, "Follow-up and events").

An admission without a diagnosis is an event of no derived outcome; how many
there are, by region, is in the data-quality account (`missing_diagnoses`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from optimal_analysis.icd10 import match_outcomes
from optimal_analysis.place_of_death import PLACE_OF_DEATH_COLUMNS
from optimal_analysis.stats.binomial import clopper_pearson

__all__ = [
    "STATUS_CENSORED",
    "STATUS_DEATH",
    "STATUS_EVENT",
    "derived_flags",
    "derived_in_cohort",
    "derived_names",
    "missing_diagnoses",
    "make_place_of_death",
    "missing_places",
    "optional_data_table",
    "resident_columns",
    "status_column",
    "time_column",
]

STATUS_CENSORED, STATUS_EVENT, STATUS_DEATH = 0, 1, 2


def derived_names(code_list: pd.DataFrame | None) -> list[str]:
    """Outcome names of a checked code list, in order of first appearance."""
    if code_list is None or code_list.empty:
        return []
    return list(dict.fromkeys(code_list["outcome"].astype(str)))


def time_column(name: str) -> str:
    """Cohort column of days to the first event of derived outcome ``name``."""
    return f"time_to_{name}_days"


def status_column(name: str) -> str:
    """Cohort column of the status (0/1/2) of derived outcome ``name``."""
    return f"{name}_status"


def derived_flags(
    method: pd.Series, diagnosis: pd.Series, code_list: pd.DataFrame | None
) -> pd.DataFrame:
    """Which rows are events of which derived outcome.

    Parameters
    ----------
    method : Series
        Admission method of each row (``emergency`` / ``elective``); rows of
        other kinds (contacts) may carry anything else and never match.
    diagnosis : Series
        Normal-form primary diagnosis (`optimal_analysis.icd10.normalise_codes`),
        missing where there is none.
    code_list : DataFrame or None
        From `optimal_analysis.icd10.check_code_list`.

    Returns
    -------
    DataFrame of bool
        One column per derived outcome (none without a code list): emergency
        and diagnosis on the outcome's list.
    """
    names = derived_names(code_list)
    if not names:
        return pd.DataFrame(index=method.index)
    emergency = method.astype("string").eq("emergency").fillna(False).to_numpy(dtype=bool)
    hit = match_outcomes(diagnosis.astype(object).where(diagnosis.notna(), None), code_list)
    return pd.DataFrame(
        {n: hit[n].to_numpy(dtype=bool) & emergency for n in names}, index=method.index
    )


def resident_columns(
    n_residents: int,
    resident_pos: np.ndarray,
    day: np.ndarray,
    flags: pd.DataFrame,
    died: np.ndarray,
    follow_up_days: np.ndarray,
) -> pd.DataFrame:
    """Per-resident count, time to first and status of each derived outcome.

    Parameters
    ----------
    n_residents : int
        Rows of the cohort.
    resident_pos : ndarray of int
        For each event row, its resident's row in the cohort.
    day : ndarray of int
        Day of the event in follow-up (admission_date − entry_date + 1).
    flags : DataFrame of bool
        From `derived_flags`, aligned with ``resident_pos``.
    died, follow_up_days : ndarray
        Per resident (cohort order).

    Returns
    -------
    DataFrame
        For each outcome ``name``: ``name`` (count), ``time_to_{name}_days``
        and ``{name}_status`` (0 censored, 1 event, 2 death first).
    """
    out: dict[str, np.ndarray] = {}
    died = np.asarray(died, dtype=bool)
    fu = np.asarray(follow_up_days, dtype=np.int64)
    pos = np.asarray(resident_pos, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    for name in flags.columns:
        rows = flags[name].to_numpy(dtype=bool)
        out[name] = np.bincount(pos[rows], minlength=n_residents).astype(np.int64)
        first = np.full(n_residents, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, pos[rows], day[rows])
        has = out[name] > 0
        out[time_column(name)] = np.where(has, first, fu)
        out[status_column(name)] = np.where(
            has, STATUS_EVENT, np.where(died, STATUS_DEATH, STATUS_CENSORED)
        ).astype(np.int8)
    return pd.DataFrame(out)


def missing_diagnoses(admissions: pd.DataFrame) -> pd.DataFrame:
    """Emergency admissions without a primary diagnosis, by region.

    ``admissions`` has ``region``, ``method`` and ``primary_diagnosis`` (missing
    where none). Returns ``region, emergency_admissions, diagnosis_missing,
    share_missing`` (share NaN for a region without emergency admissions).
    """
    em = admissions.loc[admissions["method"].astype(str).eq("emergency")]
    regions = sorted(set(admissions["region"].astype(str)))
    n = em.groupby(em["region"].astype(str)).size().reindex(regions, fill_value=0)
    miss = (
        em["primary_diagnosis"]
        .isna()
        .groupby(em["region"].astype(str))
        .sum()
        .reindex(regions, fill_value=0)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n.to_numpy() > 0, miss.to_numpy() / np.maximum(n.to_numpy(), 1), np.nan)
    return pd.DataFrame(
        {
            "region": regions,
            "emergency_admissions": n.to_numpy(dtype=np.int64),
            "diagnosis_missing": miss.to_numpy(dtype=np.int64),
            "share_missing": share,
        }
    )


def missing_places(residents: pd.DataFrame) -> pd.DataFrame:
    """Deaths without a place of death, by region.

    ``residents`` has ``region``, ``exit_reason`` and ``place_of_death``.
    Returns ``region, deaths, place_missing, share_missing``.
    """
    d = residents.loc[residents["exit_reason"].astype(str).eq("died")]
    regions = sorted(set(residents["region"].astype(str)))
    n = d.groupby(d["region"].astype(str)).size().reindex(regions, fill_value=0)
    miss = (
        d["place_of_death"]
        .isna()
        .groupby(d["region"].astype(str))
        .sum()
        .reindex(regions, fill_value=0)
    )
    share = np.where(n.to_numpy() > 0, miss.to_numpy() / np.maximum(n.to_numpy(), 1), np.nan)
    return pd.DataFrame(
        {
            "region": regions,
            "deaths": n.to_numpy(dtype=np.int64),
            "place_missing": miss.to_numpy(dtype=np.int64),
            "share_missing": share,
        }
    )


def derived_in_cohort(columns: Iterable[str], code_list: pd.DataFrame | None) -> list[str]:
    """The code list's outcomes the cohort has columns for (none without diagnoses)."""
    have = set(columns)
    return [n for n in derived_names(code_list) if n in have and status_column(n) in have]


OPTIONAL_DATA_COLUMNS = ("region", "item", "records", "missing", "share_missing")


def optional_data_table(admissions: pd.DataFrame, residents: pd.DataFrame) -> pd.DataFrame:
    """How complete the optional data are, by region: ``optional_data.csv``.

    One row per region × item: ``primary_diagnosis`` (records = emergency
    admissions used, missing = those without a diagnosis) and
    ``place_of_death`` (records = deaths, missing = those without a place).
    A region whose files lack the column has every record missing.
    """
    adm = admissions if "primary_diagnosis" in admissions else admissions.assign(
        primary_diagnosis=pd.NA)
    res = residents if "place_of_death" in residents else residents.assign(place_of_death=pd.NA)
    d = missing_diagnoses(adm).rename(
        columns={"emergency_admissions": "records", "diagnosis_missing": "missing"})
    p = missing_places(res).rename(columns={"deaths": "records", "place_missing": "missing"})
    out = pd.concat([d.assign(item="primary_diagnosis"), p.assign(item="place_of_death")],
                    ignore_index=True)
    return out[list(OPTIONAL_DATA_COLUMNS)]


def make_place_of_death(
    residents: pd.DataFrame, care_models: Sequence[str], *, level: float = 0.95
) -> pd.DataFrame:
    """Deaths, deaths in hospital and their share by care model.

    Parameters
    ----------
    residents : DataFrame
        One row per resident: ``care_model``, ``exit_reason`` and
        ``place_of_death`` (normal form or missing).
    care_models : sequence of str
        Row order (care models with no resident get a row of zeros).
    level : float
        Confidence level of the exact binomial interval.

    Returns
    -------
    DataFrame
        ``care_model, deaths, deaths_in_hospital, share, conf_low, conf_high``
        (results contract). ``deaths`` counts residents who died with a
        recorded place of death (the denominator); ``share =
        deaths_in_hospital / deaths`` with its Clopper–Pearson interval
        (`optimal_analysis.stats.binomial.clopper_pearson`); NaN when
        ``deaths`` is 0. Deaths without a recorded place are counted in the
        data-quality account, not here.
    """
    died = residents["exit_reason"].eq("died") & residents["place_of_death"].notna()
    d = residents.loc[died, ["care_model", "place_of_death"]]
    models = list(care_models) + sorted(set(d["care_model"]) - set(care_models))
    deaths = d.groupby("care_model").size().reindex(models, fill_value=0)
    in_hosp = (
        d.loc[d["place_of_death"].eq("hospital")]
        .groupby("care_model")
        .size()
        .reindex(models, fill_value=0)
    )
    share, lo, hi = clopper_pearson(in_hosp.to_numpy(), deaths.to_numpy(), level=level)
    out = pd.DataFrame(
        {
            "care_model": models,
            "deaths": deaths.to_numpy(dtype=np.int64),
            "deaths_in_hospital": in_hosp.to_numpy(dtype=np.int64),
            "share": share,
            "conf_low": lo,
            "conf_high": hi,
        }
    )
    return out[list(PLACE_OF_DEATH_COLUMNS)]
