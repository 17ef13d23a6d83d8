"""Rule crude_rates: crude rates per person-year by care model with exact Poisson CIs."""

from optimal_analysis import outcomes
from optimal_analysis.derived_outcomes import derived_in_cohort
from optimal_analysis.io import read_code_list, read_parquet, write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.rates import make_crude_rates

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

cohort = read_parquet(snakemake.input.cohort)
# derived outcomes of the code list (docs/outcome_codes.md), when the data have diagnoses
code_list = read_code_list(snakemake.params.outcome_codes)
outcomes.register_derived(derived_in_cohort(cohort.columns, code_list))
table = make_crude_rates(cohort, care_models=snakemake.params.care_models)
write_csv(table, snakemake.output.table)
log.info("wrote %s (%d rows)", snakemake.output.table, len(table))
