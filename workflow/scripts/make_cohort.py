"""Build the cohort (one row per resident) and the tidy events table."""

import pyarrow.parquet as pq

from optimal_analysis import io
from optimal_analysis.cohort import INPUT_COLUMNS, OPTIONAL_INPUT_COLUMNS, make_cohort
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])


def _columns(table: str) -> list[str]:
    present = set(pq.read_schema(snakemake.input[table]).names)
    return INPUT_COLUMNS[table] + [c for c in OPTIONAL_INPUT_COLUMNS.get(table, []) if c in present]


# inputs are named by table (rule make_cohort); only the columns make_cohort reads
tables = {t: io.read_parquet(snakemake.input[t], columns=_columns(t)) for t in INPUT_COLUMNS}
code_list = io.read_code_list(snakemake.params.outcome_codes)
cohort, events = make_cohort(**tables, code_list=code_list)
io.write_parquet(cohort, snakemake.output.cohort)
io.write_parquet(events, snakemake.output.events)
log.info("cohort: %d residents, %.1f person-years; %d event rows",
         len(cohort), cohort["person_years"].sum(), len(events))
