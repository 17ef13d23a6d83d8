"""One region's cohort part and events: make_cohort on the region's used rows."""

import pyarrow.parquet as pq

from optimal_analysis import io
from optimal_analysis.cohort import (
    INPUT_COLUMNS,
    OPTIONAL_INPUT_COLUMNS,
    encode_events,
    make_cohort,
)
from optimal_analysis.ingest.combine import residents_used, used_events
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
region = snakemake.wildcards.region


def _columns(table: str) -> list[str]:
    present = set(pq.read_schema(snakemake.input[table]).names)
    return INPUT_COLUMNS[table] + [c for c in OPTIONAL_INPUT_COLUMNS.get(table, []) if c in present]


# the combined care homes and residents of this region (used rows, region column first)
only = [("region", "==", region)]
residents = io.read_parquet(snakemake.input.residents, columns=_columns("residents"),
                            filters=only)
care_homes = io.read_parquet(snakemake.input.care_homes, columns=INPUT_COLUMNS["care_homes"],
                             filters=only)
# the region's marked contacts and admissions: the used rows, after the cascade from residents
used_ids = residents_used(residents, region)
events_in = {t: used_events(io.read_parquet(snakemake.input[t], columns=[*_columns(t), "_reason"]),
                            used_ids)
             for t in ("contacts", "admissions")}
cohort, events = make_cohort(care_homes, residents, **events_in,
                             code_list=io.read_code_list(snakemake.params.outcome_codes))
del events_in
io.write_parquet(cohort, snakemake.output.cohort)
io.write_parquet(encode_events(events), snakemake.output.events)
log.info("region %s: %d residents, %.1f person-years; %d event rows", region, len(cohort),
         cohort["person_years"].sum(), len(events))
