"""The cohort of every region (one row per resident) from the regions' cohort parts."""

from optimal_analysis import io
from optimal_analysis.cohort import combine_cohort_parts
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

cohort = combine_cohort_parts([io.read_parquet(p) for p in snakemake.input.parts],
                              io.read_code_list(snakemake.params.outcome_codes))
io.write_parquet(cohort, snakemake.output.cohort)
log.info("cohort: %d residents in %d regions, %.1f person-years", len(cohort),
         len(snakemake.input.parts), cohort["person_years"].sum())
