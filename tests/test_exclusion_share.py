"""The exclude-mode stop when too much of a region is set aside (optimal_analysis.ingest.share)."""

from __future__ import annotations

import pandas as pd
import pytest

from optimal_analysis.ingest.share import (
    ExcessiveExclusionError,
    check_excluded_share,
    excluded_shares,
)

COLS = ["region", "table", "rows_read", "rows_used", "rows_excluded", "reason"]


def _acc(rows):
    return pd.DataFrame(rows, columns=COLS)


ACC = _acc([
    # north residents: 100 read, 2 blank lines, 49 bad dates -> 49/98
    ("north", "residents", 100, 49, 0, "used"),
    ("north", "residents", 100, 0, 49, "invalid_date"),
    ("north", "residents", 100, 0, 2, "blank_line"),
    # north contacts: 1000 read, 490 of set-aside residents, 300 outside follow-up (not invalid)
    ("north", "contacts", 1000, 210, 0, "used"),
    ("north", "contacts", 1000, 0, 490, "resident_excluded"),
    ("north", "contacts", 1000, 0, 300, "after_exit"),
    # south residents: 200 read, 4 bad ages -> 2%
    ("south", "residents", 200, 196, 0, "used"),
    ("south", "residents", 200, 0, 4, "out_of_range"),
])
FAILS = pd.DataFrame({
    "region": ["north", "south", "south"],
    "table": ["residents", "residents", "residents"],
    "column": ["entry_date", "age", ""],
    "problem": ["invalid_date", "out_of_range", "care_model_without_residents"],
    "message": ["entry_date is not a valid date (expected YYYY-MM-DD); the dates are DD/MM/YYYY",
                "age must be between 60 and 115", "care model 'x' has no residents"],
    "severity": ["error", "error", "warning"],
})


def test_shares_by_hand():
    s = excluded_shares(ACC, FAILS).set_index(["region", "table"])
    assert s.loc[("north", "residents"), ["rows", "set_aside"]].tolist() == [98, 49]
    assert s.loc[("north", "residents"), "share"] == pytest.approx(0.5)
    assert s.loc[("north", "contacts"), ["rows", "set_aside"]].tolist() == [1000, 490]
    assert s.loc[("south", "residents"), "share"] == pytest.approx(0.02)
    assert s.loc[("north", "contacts"), "causes"] == [("resident_excluded", 490)]


def test_stop_names_region_table_share_and_cause():
    with pytest.raises(ExcessiveExclusionError) as exc:
        check_excluded_share(ACC, FAILS, max_share=0.05, failures_file="dq/failures.csv")
    assert str(exc.value) == (
        "on_invalid=exclude would set aside more than 5% of the rows of region 'north' (config "
        "max_excluded_share); nothing was analysed.\n"
        "  region 'north', contacts: 490 of 1,000 rows (49%) would be set aside: their "
        "resident was set aside (490 rows)\n"
        "  region 'north', residents: 49 of 98 rows (50%) would be set aside: entry_date: "
        "entry_date is not a valid date (expected YYYY-MM-DD); the dates are DD/MM/YYYY "
        "(49 rows)\n"
        "A cause that affects a whole column is usually a fix to make, not rows to drop; every "
        "problem is listed in dq/failures.csv. To analyse without these rows anyway, raise the "
        "limit, e.g. --config max_excluded_share=1.")


def test_under_the_limit_returns_what_is_set_aside():
    text = check_excluded_share(ACC, FAILS, max_share=0.5)
    assert text == ("north: 490 of 1,000 contacts (49.0%), 49 of 98 residents (50.0%)\n"
                    "south: 4 of 200 residents (2.0%)")
    # the limit is a strict "more than"
    with pytest.raises(ExcessiveExclusionError, match="region 'north'"):
        check_excluded_share(ACC, FAILS, max_share=0.49)


def test_nothing_set_aside():
    acc = _acc([("a", "residents", 3, 3, 0, "used"), ("a", "contacts", 0, 0, 0, "used")])
    assert check_excluded_share(acc, FAILS.iloc[:0], max_share=0.0) == ""
