"""Rule cumulative_incidence: Aalen–Johansen incidence of first emergency admission and of death."""

from optimal_analysis.io import read_parquet, write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.survival import make_cumulative_incidence

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0])

cohort = read_parquet(snakemake.input.cohort)
table = make_cumulative_incidence(cohort, care_models=snakemake.params.care_models)
write_csv(table, snakemake.output.table)
log.info("wrote %s (%d rows)", snakemake.output.table, len(table))
