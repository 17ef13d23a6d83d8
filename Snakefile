# optimal-analysis: NHS service use, costs and admissions of care home residents by model of care.
# Run:  snakemake --cores 2 [--config data_dir=PATH results_dir=PATH]
import atexit
import sys
import time

from snakemake.utils import min_version, validate

from optimal_analysis.run_messages import closing_line, failure_summary
from optimal_analysis.workflow_support import (
    check_config,
    coerce_config,
    exit_on_config_error,
    final_targets,
)

min_version("8.10")


configfile: "config/config.yaml"


CONFIG_SCHEMA = "workflow/schemas/config.schema.json"
RUN_STARTED = time.time()
# Every configuration problem is named before any job runs, and the run stops with that
# message alone (exit_on_config_error); command-line values get the schema's types first.
with exit_on_config_error():
    coerce_config(config, CONFIG_SCHEMA)
    # every problem at once, with did-you-mean hints
    check_config(config, CONFIG_SCHEMA)
validate(config, CONFIG_SCHEMA)  # also fills in the schema's defaults


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/cohort.smk"
include: "workflow/rules/weighting.smk"
include: "workflow/rules/rates.smk"
include: "workflow/rules/costing.smk"
include: "workflow/rules/economics.smk"
include: "workflow/rules/survival.smk"
include: "workflow/rules/describe.smk"
include: "workflow/rules/regions.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/place_of_death.smk"
include: "workflow/rules/report.smk"


# Every output of every rule above (final_targets): a new rule is built by default.
rule all:
    """The whole analysis: every output of every rule (final_targets)."""
    default_target: True
    input:
        final_targets(workflow.rules),


# The run's last words: where the results are, or why it stopped. A failed step's own
# message is printed at exit, after Snakemake's account (kept in its log), so that the
# output ends with the reason (optimal_analysis.run_messages).
onsuccess:
    if Path(R("report.html")).exists():
        _closing = closing_line(config["results_dir"])
        atexit.register(lambda: print(_closing, file=sys.stderr))


onerror:
    _summary = failure_summary(
        Path(R("logs")).rglob("*.log"),
        since=RUN_STARTED,
        snakemake_log=(
            ", ".join(map(str, log)) if isinstance(log, list) else str(log)
        ),
    )
    atexit.register(lambda: print("\n" + _summary, file=sys.stderr))
