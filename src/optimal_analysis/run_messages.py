"""The last lines a run prints: where the results are, or why it stopped.

Snakemake ends a failed run with its own account (the failed rule, its
files, "Exiting because a job execution failed", the path of its log,
"WorkflowError"), after the step's own message. The Snakefile's ``onerror``
handler gathers the steps' own messages with :func:`failure_summary` and
prints them last (at exit, after Snakemake's lines, which stay in its log);
``onsuccess`` prints :func:`closing_line`.

A step's own message is an ``ERROR`` record of its log (every workflow script
logs through :func:`optimal_analysis.logs.setup_logging`, whose records start
``YYYY-MM-DD HH:MM:SS,mmm LEVEL name: message``); a Python traceback after
the message is left in the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["closing_line", "error_records", "failure_summary"]

_RECORD = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} (?P<level>[A-Z]+) [\w.]+: ?",
                     re.MULTILINE)


def error_records(text: str) -> list[str]:
    """The messages of the ``ERROR`` records of a log, without tracebacks or blank edges."""
    out = []
    starts = list(_RECORD.finditer(text))
    for i, m in enumerate(starts):
        if m.group("level") not in ("ERROR", "CRITICAL"):
            continue
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[m.end():end]
        body = body.split("\nTraceback (most recent call last):", 1)[0]
        body = body.strip("\n").rstrip()
        if body:
            out.append(body)
    return out


def failure_summary(log_files: Iterable[str | Path], *, since: float,
                    snakemake_log: str = "") -> str:
    """What to print last when a run fails.

    Parameters
    ----------
    log_files
        The steps' log files (e.g. every ``results_dir/logs/**/*.log``).
    since
        Start time of the run (``time.time()``): only logs written since count.
    snakemake_log
        Path of Snakemake's own log of the run, named for the details.

    Returns
    -------
    str
        Where Snakemake's account is, then every error message of the steps
        that failed in this run, each after its log file (so that the run's
        output ends with the reason); or, when no step
        left a message (Snakemake itself stopped: a missing input, a lock),
        a pointer to Snakemake's account above and in its log.
    """
    blocks = []
    for path in sorted(map(Path, log_files)):
        try:
            if path.stat().st_mtime < since:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        blocks += [f"From {path}:\n{message}" for message in error_records(text)]
    where = f" ({snakemake_log})" if snakemake_log else ""
    if not blocks:
        return "The run stopped: Snakemake's message is above, and in its log" + where + "."
    return (f"The run stopped. Snakemake's account is above and in its log{where}; the reason "
            "is below.\n\n" + "\n\n".join(blocks))


def closing_line(results_dir: str | Path) -> str:
    """One line saying where the report and the shareable folder are."""
    root = Path(results_dir)
    return (f"Done. Report: {root / 'report.html'}; to share: that report and the folder "
            f"{root / 'published'}/ (everything else under {root}/ is for the analyst only).")
