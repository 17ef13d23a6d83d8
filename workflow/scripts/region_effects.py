"""Rule region_effects: per-region adjusted rate ratios and their REML meta-analysis."""

from optimal_analysis.io import read_parquet, write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.regions import make_region_effects

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
p = snakemake.params

table = make_region_effects(
    read_parquet(snakemake.input.cohort),
    outcomes=p.outcomes,
    covariates=p.covariates,
    reference=p.reference,
)
if table.empty:
    log.info("no region holds the reference and another care model: region and care model "
             "cannot be separated; region_effects.csv has its header only")
write_csv(table, snakemake.output.table)
log.info("wrote %s (%d rows)", snakemake.output.table, len(table))
