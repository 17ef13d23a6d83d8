"""Build the cohort (one row per resident) and the tidy events table."""

from optimal_analysis import io
from optimal_analysis.cohort import INPUT_COLUMNS, make_cohort
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

# inputs are named by table (rule make_cohort); only the columns make_cohort reads
tables = {t: io.read_parquet(snakemake.input[t], columns=cols) for t, cols in INPUT_COLUMNS.items()}
cohort, events = make_cohort(**tables)
io.write_parquet(cohort, snakemake.output.cohort)
io.write_parquet(events, snakemake.output.events)
log.info("cohort: %d residents, %.1f person-years; %d event rows",
         len(cohort), cohort["person_years"].sum(), len(events))
