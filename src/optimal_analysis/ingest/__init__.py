"""Ingest stage: read each region's four tables, check them against the data contract, account.

- :mod:`~optimal_analysis.ingest.read`: finding and reading the files (CSV or Parquet);
- :mod:`~optimal_analysis.ingest.schemas`: the contract's tables, columns, codes and parsing;
- :mod:`~optimal_analysis.ingest.region`: one region read, parsed and every row marked
  (:func:`ingest_region`);
- :mod:`~optimal_analysis.ingest.integrity`: row and cross-table checks within a region;
- :mod:`~optimal_analysis.ingest.quality`: regions combined, cross-region checks, the
  accounting of every row read, and the stop/exclude decision (:func:`check_failures`);
- :mod:`~optimal_analysis.ingest.failures`: the failures table;
- :mod:`~optimal_analysis.ingest.history`: the optional care_model_history table
  (:func:`ingest_history`, after the regions are combined).
"""

from optimal_analysis.ingest.failures import FAILURE_COLUMNS, empty_failures
from optimal_analysis.ingest.history import ingest_history
from optimal_analysis.ingest.quality import (
    InputDataError,
    check_failures,
    combine_regions,
    make_accounting,
)
from optimal_analysis.ingest.read import TABLES, InputFileError, file_labels
from optimal_analysis.ingest.region import RegionTables, ingest_region, parse_table

__all__ = [
    "FAILURE_COLUMNS",
    "TABLES",
    "InputDataError",
    "InputFileError",
    "RegionTables",
    "check_failures",
    "combine_regions",
    "empty_failures",
    "file_labels",
    "ingest_history",
    "ingest_region",
    "make_accounting",
    "parse_table",
]
