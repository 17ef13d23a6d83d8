# Shared settings of the rule files: result paths, regions, the target list.
# Logic lives in optimal_analysis.workflow_support, where it is tested.
import re
from pathlib import Path

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
# Each rule file appends its final targets; `rule all` (in the Snakefile) asks for them.
ALL_OUTPUTS = []


wildcard_constraints:
    region="|".join(re.escape(str(r)) for r in REGIONS) if REGIONS else "[^/]+",
