"""Logging set-up for workflow scripts: everything goes to the rule's log file."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path


def setup_logging(
    log_path: str | Path | None = None, *, level: int = logging.INFO
) -> logging.Logger:
    """Route the root logger (and Python warnings) to ``log_path`` and stderr.

    Returns the ``optimal_analysis`` logger. Uncaught exceptions are logged
    before the script exits, so the rule's log explains a failed step.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    logger = logging.getLogger("optimal_analysis")

    def _excepthook(exc_type, exc, tb):  # type: ignore[no-untyped-def]
        logger.error("%s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb))

    sys.excepthook = _excepthook
    return logger
