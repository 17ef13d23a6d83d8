# optimal-analysis: NHS service use, costs and admissions of care home residents by model of care.
# Run:  snakemake --cores 2 [--config data_dir=PATH results_dir=PATH]
from snakemake.utils import min_version, validate

from optimal_analysis.workflow_support import check_config, final_targets

min_version("8.10")


configfile: "config/config.yaml"


CONFIG_SCHEMA = "workflow/schemas/config.schema.json"
check_config(config, CONFIG_SCHEMA)  # every problem at once, with did-you-mean hints
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
    default_target: True
    input:
        final_targets(workflow.rules),
