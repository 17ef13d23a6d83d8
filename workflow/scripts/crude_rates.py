"""Rule crude_rates: crude rates per person-year by care model with exact Poisson CIs."""

from optimal_analysis.io import read_parquet, write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.rates import make_crude_rates

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

cohort = read_parquet(snakemake.input.cohort)
table = make_crude_rates(cohort, care_models=snakemake.params.care_models)
write_csv(table, snakemake.output.table)
log.info("wrote %s (%d rows)", snakemake.output.table, len(table))
