"""The closing lines of a run (optimal_analysis.run_messages)."""

from __future__ import annotations

import logging
import os
import time

from optimal_analysis.logs import setup_logging
from optimal_analysis.run_messages import closing_line, error_records, failure_summary

LOG = """2026-11-28 23:10:18,001 INFO optimal_analysis: north/residents.csv: 799 rows read
2026-11-28 23:10:18,002 ERROR optimal_analysis:
The input data break the data contract: 1 problem in 1 file. Nothing was analysed.
  north/residents.csv, line 2, column entry_date: ...
Every problem is listed in results/data_quality/failures.csv.
2026-11-28 23:10:18,003 ERROR optimal_analysis: ValueError: no unit cost for podiatry
Traceback (most recent call last):
  File "x.py", line 1, in <module>
ValueError: no unit cost for podiatry
2026-11-28 23:10:18,004 WARNING py.warnings: something
"""


def test_error_records_keep_messages_and_drop_tracebacks():
    assert error_records(LOG) == [
        "The input data break the data contract: 1 problem in 1 file. Nothing was analysed.\n"
        "  north/residents.csv, line 2, column entry_date: ...\n"
        "Every problem is listed in results/data_quality/failures.csv.",
        "ValueError: no unit cost for podiatry",
    ]
    assert error_records("2026-11-28 23:10:18,001 INFO x: fine\n") == []


def test_records_written_by_setup_logging_are_found(tmp_path):
    path = tmp_path / "logs" / "step.log"
    log = setup_logging(path)
    log.info("reading")
    log.error("\n%s", "Clear message.\n  detail")
    logging.shutdown()
    assert error_records(path.read_text()) == ["Clear message.\n  detail"]


def test_failure_summary_ends_with_the_reason_and_skips_old_logs(tmp_path):
    old, new = tmp_path / "a.log", tmp_path / "b.log"
    old.write_text(LOG)
    new.write_text(LOG.split("2026-11-28 23:10:18,003")[0])
    start = time.time()
    os.utime(old, (start - 60, start - 60))
    text = failure_summary([old, new], since=start - 1, snakemake_log=".snakemake/log/x.log")
    assert text == (
        "The run stopped. Snakemake's account is above and in its log (.snakemake/log/x.log); "
        "the reason is below.\n\n"
        f"From {new}:\n"
        "The input data break the data contract: 1 problem in 1 file. Nothing was analysed.\n"
        "  north/residents.csv, line 2, column entry_date: ...\n"
        "Every problem is listed in results/data_quality/failures.csv.")
    assert text.splitlines()[-1].startswith("Every problem is listed")


def test_failure_without_a_step_message(tmp_path):
    assert failure_summary([tmp_path / "absent.log"], since=0, snakemake_log="s.log") == (
        "The run stopped: Snakemake's message is above, and in its log (s.log).")


def test_closing_line():
    assert closing_line("out") == ("Done. Report: out/report.html; to share: that report and "
                                   "the folder out/published/ (everything else under out/ is for "
                                   "the analyst only).")
