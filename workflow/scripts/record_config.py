"""Write the run's effective configuration to results_dir/config.yaml (notebooks read it)."""

from optimal_analysis import io
from optimal_analysis.logs import setup_logging
from optimal_analysis.workflow_support import effective_config_yaml

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

io.write_text(effective_config_yaml(dict(snakemake.params.config)), snakemake.output[0])
log.info("configuration recorded in %s", snakemake.output[0])
