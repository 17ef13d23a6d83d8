"""ICD-10 normalisation, validation and code-list matching (optimal_analysis.icd10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.icd10 import (
    CodeListError,
    check_code_list,
    is_well_formed,
    match_outcomes,
    normalise_codes,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LIST = ROOT / "config" / "outcome_codes.csv"


def _list(rows):
    return pd.DataFrame(rows, columns=["outcome", "code_prefix", "label", "source"], dtype="string")


@pytest.mark.parametrize("raw", ["J18.9", "J189", "j18.9", " J18.9 ", "J18.9-", "J 18.9", "j189"])
def test_one_code_many_spellings(raw):
    # data contract: J18.9, J189 and j18.9 are one code
    normal, bad = normalise_codes(pd.Series([raw]))
    assert normal.iloc[0] == "J189" and not bad.iloc[0]


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("I10X", "I10"),
        ("E86X", "E86"),
        ("I10.X", "I10"),
        ("A17.0†", "A170"),
        ("G01*", "G01"),
        ("M01.4+", "M014"),
        ("C4A.0", "C4A0"),
        ("S72.00XA", "S7200XA"),
        ("X59X", "X59"),
        ("I10", "I10"),
    ],
)
def test_marks_and_filler_are_dropped(raw, normal):
    got, bad = normalise_codes(pd.Series([raw]))
    assert got.iloc[0] == normal and not bad.iloc[0]


@pytest.mark.parametrize(
    "raw", ["J.189", "18.9", "JJ8", "J18.99999", "J1", "J18..9", "?", "J18/9", "1234"]
)
def test_malformed_codes_are_flagged(raw):
    normal, bad = normalise_codes(pd.Series([raw]))
    assert bad.iloc[0] and normal.iloc[0] is None
    assert not is_well_formed(raw)


def test_missing_is_not_malformed():
    normal, bad = normalise_codes(pd.Series(["", "  ", None, np.nan, "J18.9"], dtype=object))
    assert normal.isna().tolist() == [True, True, True, True, False]
    assert bad.tolist() == [False] * 5


def test_index_is_kept():
    s = pd.Series(["J18.9", "bad!"], index=[10, 3])
    normal, bad = normalise_codes(s)
    assert list(normal.index) == [10, 3] and bad.loc[3] and normal.loc[10] == "J189"


def test_prefix_matching_hand_fixture():
    # prefix J18.1 takes J181 and J1810, not the less specific J18 nor J180;
    # prefix I50 takes every I50x; E86 takes E86 (written E86X)
    cl = check_code_list(
        _list(
            [
                ("pneu", "J18.1", "x", "s"),
                ("hf", "I50", "x", "s"),
                ("hf", "E86", "x", "s"),
                ("both", "J18", "x", "s"),
            ]
        )
    )
    codes = pd.Series(["J18.1", "J181 0", "J18", "J18.0", "I50.9", "I5", "E86X", "", "K52.9"])
    normal, bad = normalise_codes(codes)
    assert bad.tolist() == [False, False, False, False, False, True, False, False, False]
    hit = match_outcomes(normal, cl)
    assert list(hit.columns) == ["pneu", "hf", "both"]
    assert hit["pneu"].tolist() == [True, True, False, False, False, False, False, False, False]
    assert hit["hf"].tolist() == [False, False, False, False, True, False, True, False, False]
    assert hit["both"].tolist() == [True, True, True, True, False, False, False, False, False]


def _naive(codes: list[str | None], cl: pd.DataFrame) -> dict[str, list[bool]]:
    # independent: plain Python startswith over every row and prefix
    out = {}
    for outcome, rows in cl.groupby("outcome", sort=False):
        prefixes = list(rows["prefix"])
        out[outcome] = [c is not None and any(c.startswith(p) for p in prefixes) for c in codes]
    return out


def test_matching_equals_naive_on_random_codes():
    rng = np.random.default_rng(19)
    letters = np.array(list("ABEIJKNS"))
    n = 5000
    codes = [
        f"{letters[i]}{a}{b}" + ("" if k == 0 else "." + "".join(str(d) for d in ds[:k]))
        for i, a, b, k, ds in zip(
            rng.integers(0, 8, n),
            rng.integers(0, 3, n),
            rng.integers(0, 10, n),
            rng.integers(0, 3, n),
            rng.integers(0, 10, (n, 2)),
            strict=True,
        )
    ]
    pref = [
        f"{letters[i]}{a}{b}" + ("" if k == 0 else f".{d}")
        for i, a, b, k, d in zip(
            rng.integers(0, 8, 60),
            rng.integers(0, 3, 60),
            rng.integers(0, 10, 60),
            rng.integers(0, 2, 60),
            rng.integers(0, 10, 60),
            strict=True,
        )
    ]
    pref = list(dict.fromkeys(pref))
    cl = check_code_list(_list([(f"o{j % 3}", p, "x", "s") for j, p in enumerate(pref)]))
    normal, bad = normalise_codes(pd.Series(codes))
    assert not bad.any()
    got = match_outcomes(normal, cl)
    want = _naive(list(normal), cl)
    for outcome, col in want.items():
        assert got[outcome].tolist() == col
    assert got.to_numpy().sum() > 100  # the fixture exercises matches


def test_code_list_errors_name_line_column_value():
    table = _list(
        [
            ("avoidable", "J18.1", "pneumonia", "src"),
            ("avoidable", "J18,1", "typo", "src"),
            ("Bad Name", "I50", "hf", "src"),
            ("avoidable", "j18.1", "repeat", "src"),
            ("falls", "S72.0", "", "src"),
        ]
    )
    with pytest.raises(CodeListError) as err:
        check_code_list(table, source="my_codes.csv")
    msg = str(err.value)
    assert msg.startswith("my_codes.csv: ")
    assert "line 3, column code_prefix: 'J18,1' is not a well-formed ICD-10 code" in msg
    assert "line 4, column outcome: 'Bad Name' is not a snake_case name" in msg
    assert "line 5, column code_prefix: 'j18.1' repeats a prefix of outcome avoidable" in msg
    assert "line 6, column label: '' is empty" in msg


def test_short_prefixes_are_allowed_in_a_code_list_only():
    cl = check_code_list(_list([("chapter_j", "j", "x", "s"), ("j1", "J1", "x", "s")]))
    assert cl["prefix"].tolist() == ["J", "J1"]
    hit = match_outcomes(normalise_codes(pd.Series(["J18.9", "J44.1", "I10"]))[0], cl)
    assert hit["chapter_j"].tolist() == [True, True, False]
    assert hit["j1"].tolist() == [True, False, False]
    assert normalise_codes(pd.Series(["J", "J1"]))[1].tolist() == [True, True]


def test_code_list_missing_column():
    with pytest.raises(CodeListError, match="missing column.*source"):
        check_code_list(pd.DataFrame({"outcome": ["a"], "code_prefix": ["J18"], "label": ["x"]}))


def test_default_code_list_is_valid_and_sourced():
    cl = check_code_list(pd.read_csv(DEFAULT_LIST, dtype="string"), source=str(DEFAULT_LIST))
    assert list(dict.fromkeys(cl["outcome"])) == [
        "avoidable_emergency_admission",
        "fall_injury_admission",
    ]
    # the two outcomes share no code: no prefix of one is a prefix of the other's
    a = cl.loc[cl["outcome"] == "avoidable_emergency_admission", "prefix"].tolist()
    f = cl.loc[cl["outcome"] == "fall_injury_admission", "prefix"].tolist()
    assert not [(x, y) for x in a for y in f if x.startswith(y) or y.startswith(x)]
    # every row has a source; an assumption says so in its source
    assumed = cl["source"].str.startswith("assumption:")
    assert assumed.any() and (~assumed).any()
    doc = (ROOT / "docs" / "outcome_codes.md").read_text()
    for label in cl["label"].unique():
        assert label in doc, label
    for code in cl.loc[assumed, "code_prefix"]:
        assert code in doc, code


def test_default_list_classifies_known_codes():
    cl = check_code_list(pd.read_csv(DEFAULT_LIST, dtype="string"))
    codes = pd.Series(
        # pneumonia, UTI, COPD, heart failure, dehydration (HES style), hip fracture,
        # head injury, stroke, sepsis, femoral shaft fracture, lumbar vertebra
        [
            "J18.9",
            "N39.0",
            "J44.1",
            "I50.9",
            "E86X",
            "S72.0",
            "S06.0",
            "I63.9",
            "A41.9",
            "S72.3",
            "S32.0",
        ]
    )
    hit = match_outcomes(normalise_codes(codes)[0], cl)
    assert hit["avoidable_emergency_admission"].tolist() == [True] * 5 + [False] * 6
    assert hit["fall_injury_admission"].tolist() == [False] * 5 + [True, True] + [False] * 4
