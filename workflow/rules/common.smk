# Shared helpers of the rule files: result paths, region discovery, the target list.
import re
from pathlib import Path

from optimal_analysis.workflow_support import discover_regions


DATA_DIR = Path(config["data_dir"])
RESULTS_DIR = Path(config["results_dir"])
REGIONS = discover_regions(DATA_DIR, config["regions"])

# Each rule file appends its final targets; `rule all` (in the Snakefile) asks for them.
ALL_OUTPUTS = []


def R(path):
    """A path under results_dir."""
    return str(RESULTS_DIR / path)


wildcard_constraints:
    region="|".join(re.escape(str(r)) for r in REGIONS) if REGIONS else "[^/]+",


def region_files(wildcards):
    """The table files of one region (so an edited input reruns its ingest)."""
    folder = DATA_DIR / wildcards.region
    return sorted(str(p) for p in folder.iterdir() if p.suffix in (".csv", ".parquet"))
