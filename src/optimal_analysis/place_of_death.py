"""Place of death: the share of deaths that happened in hospital, by care model.

The table itself is :func:`optimal_analysis.derived_outcomes.make_place_of_death`.

Data contract ("Optional data"): ``residents.place_of_death`` is one of
``hospital``, ``care_home``, ``hospice``, ``other`` for residents whose
exit_reason is ``died`` and empty otherwise. Case, surrounding blanks and a
space or dash for the underscore are forgiven (``Care home`` is
``care_home``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "PLACES",
    "PLACE_OF_DEATH_COLUMNS",
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
