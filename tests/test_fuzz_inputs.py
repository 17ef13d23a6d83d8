"""Random corruptions of a tiny dataset: a readable stop or a balanced run, never a traceback.

Hypothesis applies one to three corruptions (blank a cell, put junk in a cell,
duplicate or delete a row, swap two columns' values, truncate a file, change
an id) to the CSV text of TINY (tests/helpers.py, as regions ``north`` and
``south``), then runs ingest → combine → the stop gate → cohort as the
workflow does, in both ``on_invalid`` modes. Each run must either

- raise :class:`InputDataError` whose message names a file (or "all regions"
  for a dataset-wide problem), or
- complete: the accounting balances and the cohort and events hold exactly
  the rows the accounting says were used.

Any other exception fails the test. Derandomised, so CI sees the same examples.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimal_analysis.cohort import make_cohort
from optimal_analysis.ingest.quality import InputDataError, check_failures
from tests.helpers import TINY, assert_balanced, ingest_dataset, rename_ids, write_region

TABLES = list(TINY)
JUNK = ["", " ", "NA", "null", "x", "-1", "0", "1.5", "1e400", "inf", "-inf", "nan", "2015-13-45",
        "2015-02-29", "31/12/2015", "1900-01-01", "2200-01-01", "99999-01-01", "true", "maybe",
        "R1", "R2s", "H1", "H9", "ae", "GPV", "died", "usual_care", "paid_gp", '"', ",", "é", "\t"]
FILE_NAMED = re.compile(r"(north|south)/(care_homes|residents|contacts|admissions)\.csv"
                        r"|all regions")

cell_text = st.one_of(st.sampled_from(JUNK),
                      st.text(st.characters(blacklist_categories=("Cs",)), max_size=10))


@st.composite
def corruption(draw):
    """(region, table, op, arguments) of one corruption."""
    region = draw(st.sampled_from(["north", "south"]))
    table = draw(st.sampled_from(TABLES))
    op = draw(st.sampled_from(["blank", "junk", "duplicate_row", "delete_row", "swap_columns",
                               "truncate", "change_id"]))
    return region, table, op, draw(st.integers(0, 10_000)), draw(st.integers(0, 10_000)), \
        draw(cell_text)


def _apply(text: str, op: str, a: int, b: int, junk: str) -> str:
    if op == "truncate":
        return text[: a % (len(text) + 1)]
    lines = text.split("\n")  # not splitlines: a junk "\r" stays inside its line
    if lines[-1] == "":
        lines.pop()
    header, rows = lines[0], [r.split(",") for r in lines[1:]]
    width = len(header.split(","))
    if not rows:
        return text
    i, j, k = a % len(rows), b % width, (b // width) % width
    if op == "blank":
        rows[i][j % len(rows[i])] = ""
    elif op == "junk":
        rows[i][j % len(rows[i])] = junk
    elif op == "duplicate_row":
        rows.insert(b % (len(rows) + 1), list(rows[i]))
    elif op == "delete_row":
        del rows[i]
    elif op == "swap_columns":  # the whole of two columns, as a mis-ordered export would
        for r in rows:
            if max(j, k) < len(r):
                r[j], r[k] = r[k], r[j]
    elif op == "change_id":  # the id columns come first in every table
        rows[i][0] = junk if junk.strip() else rows[(i + 1) % len(rows)][0] + "x"
    return "\n".join([header, *(",".join(r) for r in rows)]) + "\n"


def _dataset(root: Path, corruptions) -> None:
    texts = {"north": dict(TINY), "south": rename_ids(TINY, "s")}
    for region, table, op, a, b, junk in corruptions:
        texts[region][table] = _apply(texts[region][table], op, a, b, junk)
    for region, tables in texts.items():
        write_region(root, region, tables)


def _complete(combined, accounting) -> None:
    assert_balanced(accounting)
    cohort, events = make_cohort(*(combined[t] for t in TABLES))
    used = accounting.groupby("table")["rows_used"].sum()
    assert len(cohort) == used["residents"]
    assert len(events) == used["contacts"] + used["admissions"]
    assert cohort["resident_id"].is_unique
    assert (cohort["follow_up_days"] >= 1).all()
    # resident_id is categorical: map its values, not its categories (a one-to-one map of a
    # categorical gives a categorical, which has no order to compare with)
    follow_up = events["resident_id"].astype(object).map(
        cohort.set_index("resident_id")["follow_up_days"]).to_numpy(dtype="int64")
    assert (events["day"] >= 1).all() and (events["day"].to_numpy() <= follow_up).all()


@pytest.mark.slow  # 150 examples: about a minute on 2 cores
@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(corruption(), min_size=1, max_size=3))
def test_random_corruption_stops_readably_or_balances(corruptions):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _dataset(root, corruptions)
        combined, failures, accounting = ingest_dataset(root)
        assert set(failures["severity"]) <= {"fatal", "error", "warning"}
        assert failures["file"].str.match(FILE_NAMED.pattern).all(), failures["file"]
        # the accounting balances whatever the gate decides
        assert_balanced(accounting)
        for mode in ("stop", "exclude"):
            try:
                check_failures(failures, on_invalid=mode, failures_file="failures.csv")
            except InputDataError as exc:
                msg = str(exc)
                assert msg.startswith("The input data break the data contract")
                assert FILE_NAMED.search(msg), msg
                assert "Traceback" not in msg
                event(f"{mode}: stopped")
                continue
            _complete(combined, accounting)
            event(f"{mode}: completed")


def test_every_kind_of_corruption_is_exercised():
    """The strategy can reach every operation, table and region (guards the fuzz test's reach)."""
    seen = set()

    @settings(max_examples=300, derandomize=True, database=None)
    @given(corruption())
    def collect(c):
        seen.add((c[0], c[1], c[2]))

    collect()
    assert {op for _, _, op in seen} == {"blank", "junk", "duplicate_row", "delete_row",
                                         "swap_columns", "truncate", "change_id"}
    assert {t for _, t, _ in seen} == set(TABLES)
    assert pd.Series([r for r, _, _ in seen]).nunique() == 2
