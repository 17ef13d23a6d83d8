# Shared settings of the rule files: result paths, regions, the input tables.
# Logic lives in optimal_analysis.workflow_support, where it is tested.
import re
from pathlib import Path

from optimal_analysis.ingest.schemas import TABLES
from optimal_analysis.workflow_support import (
    discover_regions,
    region_files,
    results_path,
)

DATA_DIR = Path(config["data_dir"])
REGIONS = discover_regions(DATA_DIR, config["regions"])
# R("tables/x.csv") -> a path under results_dir
R = results_path(config["results_dir"])
# input function: the table files of one region
REGION_FILES = region_files(DATA_DIR)
# The data contract's four input tables (optimal_analysis.ingest.schemas.TABLES); every rule
# names its table files by table, never by position.
TABLES = list(TABLES)


wildcard_constraints:
    region="|".join(re.escape(str(r)) for r in REGIONS) if REGIONS else "[^/]+",
