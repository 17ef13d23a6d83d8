"""ICD-10 diagnosis codes: normalisation, validation and outcome code lists.

A vocabulary module (no stage imports, numpy/pandas only). It gives one
spelling to every way a data provider writes an ICD-10 code, checks that a code
is well formed, reads an outcome code list (data contract, "Optional data") and
matches codes to the list's outcomes by prefix.

Normal form
-----------
``J18.9``, ``J189``, ``j18.9``, `` J18.9 `` and ``J18.9-`` are one code,
``J189``. A trailing filler ``X`` (``I10X``, HES 4-character style), a trailing
dash, and a dagger/asterisk mark (``†``, ``‡``, ``*``, ``+``) are dropped; a dot
is allowed only after the third character. A well-formed code is then

    letter, digit, digit-or-letter, then 0–4 digits or letters

(WHO ICD-10 ``A00``–``Z99`` with 4th/5th characters; ICD-10-CM's letter third
characters such as ``C4A`` and 7-character codes such as ``S7200XA`` pass too).

Prefix matching
---------------
A code is an event of an outcome when its normal form starts with the normal
form of one of the outcome's prefixes: prefix ``J18`` takes ``J180``–``J189``;
prefix ``J18.1`` takes ``J181`` and ``J1810`` but not ``J18`` (a code less
specific than the prefix does not say it is that condition). A code list's
prefix may also be a chapter letter (``J``) or a letter and digit (``J1``).
Matching works on
the distinct codes only (``pandas.factorize``), one ``isin`` per prefix length,
so its cost grows with the number of distinct codes, not of rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "CODE_LIST_COLUMNS",
    "CodeListError",
    "check_code_list",
    "is_well_formed",
    "match_outcomes",
    "normalise_codes",
]

CODE_LIST_COLUMNS: tuple[str, ...] = ("outcome", "code_prefix", "label", "source")

_MARKS = "†‡*+"
_TRAILING = re.compile(r"[\-" + re.escape(_MARKS) + r"]+$")
_FILLER_X = re.compile(r"^([A-Z][0-9][0-9A-Z]\.?[0-9A-Z]*?)X+$")
_WELL_FORMED = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4}|\.)?$")
_SHORT_PREFIX = r"[A-Z][0-9]?"
_OUTCOME_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class CodeListError(ValueError):
    """An outcome code list that cannot be used; the message lists every problem."""


def _normalise_one(code: str) -> str | None:
    """Normal form of one code, or None when it is not well formed."""
    s = "".join(code.split()).upper()
    s = _TRAILING.sub("", s)
    m = _FILLER_X.match(s)
    if m:
        s = m.group(1)
    s = s.rstrip("-")
    if not _WELL_FORMED.match(s):
        return None
    return s.replace(".", "")


def normalise_codes(codes: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normal form of ICD-10 codes, with the mask of malformed ones.

    Parameters
    ----------
    codes : Series
        Codes as read (strings; missing values and empty or blank strings are
        *missing*, not malformed).

    Returns
    -------
    normal : Series of str (object dtype)
        The normal form (upper case, no dot, no filler ``X``, dash or
        dagger/asterisk mark); missing where the code is missing or malformed.
    malformed : Series of bool
        True where a non-blank code is not a well-formed ICD-10 code.

    Notes
    -----
    Runs the regular expressions once per distinct value
    (``pandas.factorize``), so a column of millions of rows with a few
    thousand distinct codes costs a few thousand regex calls.
    """
    raw = codes.astype("string")
    blank = raw.isna() | (raw.str.strip() == "")
    labels, uniques = pd.factorize(raw.where(~blank), use_na_sentinel=True)
    uniq_norm = np.array([_normalise_one(str(u)) for u in uniques], dtype=object)
    uniq_bad = np.array([n is None for n in uniq_norm], dtype=bool)
    has = labels >= 0
    normal = np.full(len(raw), None, dtype=object)
    normal[has] = uniq_norm[labels[has]]
    malformed = np.zeros(len(raw), dtype=bool)
    malformed[has] = uniq_bad[labels[has]]
    return (
        pd.Series(normal, index=codes.index, dtype=object, name=codes.name),
        pd.Series(malformed, index=codes.index, name=codes.name),
    )


def is_well_formed(code: str) -> bool:
    """True when ``code`` is a well-formed ICD-10 code (see the module notes)."""
    return _normalise_one(code) is not None


@dataclass(frozen=True)
class _Problem:
    line: int
    column: str
    value: str
    why: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.value!r} {self.why}"


def check_code_list(table: pd.DataFrame, *, source: str = "outcome code list") -> pd.DataFrame:
    """Check an outcome code list and add the normal form of each prefix.

    Parameters
    ----------
    table : DataFrame
        As read from the CSV, all columns as strings: ``outcome, code_prefix,
        label, source`` (data contract). Extra columns are kept.
    source : str
        Name of the file, used in error messages.

    Returns
    -------
    DataFrame
        The rows, stripped, with ``prefix`` (normal form of ``code_prefix``).

    Raises
    ------
    CodeListError
        Naming the file and, for each problem, the CSV line (header = line 1),
        column and value: a missing column, an empty cell, an outcome name that
        is not snake_case, a prefix that is not a well-formed ICD-10 code, or
        the same prefix twice in one outcome.
    """
    missing = [c for c in CODE_LIST_COLUMNS if c not in table.columns]
    if missing:
        raise CodeListError(f"{source}: missing column(s) {', '.join(missing)}")
    if table.empty:
        raise CodeListError(f"{source}: no rows")
    out = table.copy()
    problems: list[_Problem] = []
    lines = np.arange(len(out)) + 2
    for col in CODE_LIST_COLUMNS:
        out[col] = out[col].astype("string").str.strip()
        for i in np.flatnonzero((out[col].isna() | (out[col] == "")).to_numpy()):
            problems.append(_Problem(int(lines[i]), col, "", "is empty"))
    name_ok = out["outcome"].fillna("").str.match(_OUTCOME_NAME.pattern).to_numpy(dtype=bool)
    for i in np.flatnonzero(~name_ok & out["outcome"].fillna("").ne("").to_numpy()):
        problems.append(
            _Problem(
                int(lines[i]), "outcome", str(out["outcome"].iloc[i]), "is not a snake_case name"
            )
        )
    prefix, bad = normalise_codes(out["code_prefix"])
    # a prefix may be shorter than a code: a chapter letter (J) or letter and digit (J1)
    short = out["code_prefix"].fillna("").str.strip().str.upper().str.fullmatch(_SHORT_PREFIX)
    short = short.fillna(False).to_numpy(dtype=bool)
    prefix = prefix.where(~short, out["code_prefix"].str.strip().str.upper().astype(object))
    bad = bad & ~short
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(
            _Problem(
                int(lines[i]),
                "code_prefix",
                str(out["code_prefix"].iloc[i]),
                "is not a well-formed ICD-10 code",
            )
        )
    out["prefix"] = prefix
    dup = out.duplicated(["outcome", "prefix"], keep="first") & prefix.notna()
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(
            _Problem(
                int(lines[i]),
                "code_prefix",
                str(out["code_prefix"].iloc[i]),
                f"repeats a prefix of outcome {out['outcome'].iloc[i]}",
            )
        )
    if problems:
        problems.sort(key=lambda p: p.line)
        raise CodeListError(f"{source}: " + "; ".join(str(p) for p in problems))
    return out.reset_index(drop=True)


def match_outcomes(normal: pd.Series, code_list: pd.DataFrame) -> pd.DataFrame:
    """Which outcomes of a code list each (normalised) code belongs to.

    Parameters
    ----------
    normal : Series
        Normal-form codes (from `normalise_codes`); missing values match nothing.
    code_list : DataFrame
        From `check_code_list` (columns ``outcome`` and ``prefix``).

    Returns
    -------
    DataFrame of bool
        Same index as ``normal``; one column per outcome in order of first
        appearance in the list; True where the code starts with one of the
        outcome's prefixes. A code may belong to several outcomes.
    """
    labels, uniques = pd.factorize(normal, use_na_sentinel=True)
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    has = labels >= 0
    out: dict[str, np.ndarray] = {}
    for outcome, rows in code_list.groupby("outcome", sort=False):
        hit = np.zeros(len(uniq), dtype=bool)
        prefixes = rows["prefix"].astype(str)
        for length, group in prefixes.groupby(prefixes.str.len()):
            hit |= uniq.str[: int(length)].isin(set(group)).to_numpy() & (
                uniq.str.len().to_numpy() >= int(length)
            )
        col = np.zeros(len(normal), dtype=bool)
        col[has] = hit[labels[has]]
        out[str(outcome)] = col
    return pd.DataFrame(out, index=normal.index)
