"""Build the cohort (one row per resident) and the tidy events table."""

from pathlib import Path

from optimal_analysis import io
from optimal_analysis.cohort import INPUT_COLUMNS, make_cohort
from optimal_analysis.logs import setup_logging

log = setup_logging(snakemake.log[0])  # noqa: F821
sm = snakemake  # noqa: F821

care_homes, residents, contacts, admissions = (
    io.read_parquet(path, columns=INPUT_COLUMNS[Path(path).stem]) for path in sm.input.tables
)
cohort, events = make_cohort(care_homes, residents, contacts, admissions)
io.write_parquet(cohort, sm.output.cohort)
io.write_parquet(events, sm.output.events)
log.info("cohort: %d residents, %.1f person-years; %d event rows",
         len(cohort), cohort["person_years"].sum(), len(events))
