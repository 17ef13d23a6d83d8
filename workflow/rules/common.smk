# Shared settings of the rule files: result paths, regions, the input tables.
# Logic lives in optimal_analysis.workflow_support, where it is tested.
import re
from pathlib import Path

from optimal_analysis.ingest.read import TABLES
from optimal_analysis.ingest.schemas import ADMISSION_METHODS, SERVICE_CODES
from optimal_analysis.workflow_support import (
    check_study_inputs,
    discover_regions,
    exit_on_config_error,
    region_files,
    results_path,
)

DATA_DIR = Path(config["data_dir"])
# Region folders, unit costs and the inflation index are checked before any job runs.
with exit_on_config_error():
    REGIONS = discover_regions(DATA_DIR, config["regions"])
    check_study_inputs(
        config,
        regions=REGIONS,
        tables=TABLES,
        services=SERVICE_CODES,
        admission_methods=ADMISSION_METHODS,
    )
# R("tables/x.csv") -> a path under results_dir
R = results_path(config["results_dir"])
# input function: the table files of one region
REGION_FILES = region_files(DATA_DIR)
# The data contract's four input tables (optimal_analysis.ingest.read.TABLES); every rule
# names its table files by table, never by position.
TABLES = list(TABLES)


wildcard_constraints:
    region="|".join(re.escape(str(r)) for r in REGIONS) if REGIONS else "[^/]+",


rule record_config:
    """Write the run's effective configuration (files and --config applied) to config.yaml."""
    output:
        R("config.yaml"),
    log:
        R("logs/record_config.log"),
    params:
        config=config,
    script:
        "../scripts/record_config.py"
