"""Rule describe: baseline table, service use, cohort summary and the flow of records.

Service use is counted one region's events at a time (describe.service_use_counts)."""

import pandas as pd

from optimal_analysis.describe import (
    make_baseline,
    make_cohort_summary,
    make_data_flow,
    service_use_counts,
    service_use_table,
)
from optimal_analysis.io import read_parquet, write_csv
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
p = snakemake.params

cohort = read_parquet(snakemake.input.cohort)
# only the columns service use reads, one region at a time
counts = [service_use_counts(read_parquet(f, columns=["resident_id", "event_type", "item", "n"]),
                             cohort) for f in snakemake.input.events]
tables = {
    "baseline": make_baseline(cohort, reference=p.reference, care_models=p.care_models),
    "service_use": service_use_table(counts, cohort),
    "cohort_summary": make_cohort_summary(cohort, care_models=p.care_models),
    "data_flow": make_data_flow(pd.read_csv(snakemake.input.data_quality, keep_default_na=False,
                                            na_values=[""])),
}
for name, table in tables.items():
    write_csv(table, snakemake.output[name])
    log.info("wrote %s (%d rows)", snakemake.output[name], len(table))
