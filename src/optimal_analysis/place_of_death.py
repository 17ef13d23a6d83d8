"""Place of death: the share of deaths that happened in hospital, by care model.

Data contract ("Optional data"): ``residents.place_of_death`` is one of
``hospital``, ``care_home``, ``hospice``, ``other`` for residents whose
exit_reason is ``died`` and empty otherwise. Case, surrounding blanks and a
space or dash for the underscore are forgiven (``Care home`` is
``care_home``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimal_analysis.stats.binomial import clopper_pearson

__all__ = [
    "PLACES",
    "PLACE_OF_DEATH_COLUMNS",
    "make_place_of_death",
    "normalise_places",
    "place_problems",
]

PLACES: tuple[str, ...] = ("hospital", "care_home", "hospice", "other")
PLACE_OF_DEATH_COLUMNS: tuple[str, ...] = (
    "care_model",
    "deaths",
    "deaths_in_hospital",
    "share",
    "conf_low",
    "conf_high",
)


def normalise_places(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normal form of place-of-death values, with the mask of unknown ones.

    Returns
    -------
    normal : Series (object)
        One of `PLACES`, or missing where the value is missing, blank or unknown.
    unknown : Series of bool
        True where a non-blank value is not one of `PLACES`.
    """
    s = values.astype("string").str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    blank = s.isna() | (s == "")
    known = s.isin(PLACES).fillna(False).astype(bool)
    unknown = ~blank & ~known
    normal = s.where(known & ~blank).astype(object)
    normal = normal.where(normal.notna(), None)
    return normal, unknown.astype(bool)


def place_problems(exit_reason: pd.Series, place: pd.Series) -> pd.Series:
    """Which rows break the contract's rule for place of death.

    Parameters
    ----------
    exit_reason : Series of str
        ``died`` / ``moved_out`` / ``study_end``.
    place : Series
        As read (before `normalise_places`).

    Returns
    -------
    Series of str
        Empty where the row is fine, else why not: ``not one of hospital,
        care_home, hospice, other`` or ``given for a resident who did not die``.
    """
    normal, unknown = normalise_places(place)
    given = normal.notna() | unknown
    why = np.full(len(place), "", dtype=object)
    why[(given & exit_reason.ne("died")).to_numpy()] = "given for a resident who did not die"
    why[unknown.to_numpy()] = "not one of " + ", ".join(PLACES)
    return pd.Series(why, index=place.index, dtype=object)


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
    return pd.DataFrame(
        {
            "care_model": models,
            "deaths": deaths.to_numpy(dtype=np.int64),
            "deaths_in_hospital": in_hosp.to_numpy(dtype=np.int64),
            "share": share,
            "conf_low": lo,
            "conf_high": hi,
        }
    )
