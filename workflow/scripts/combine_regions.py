"""Combine regions: cross-region id checks, used rows stacked, accounting and failures written."""

from pathlib import Path

import pandas as pd

from optimal_analysis import io
from optimal_analysis.derived_outcomes import optional_data_table
from optimal_analysis.ingest import TABLES, combine_regions, empty_failures, file_labels
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

tables, files = {}, {}
for region in snakemake.params.regions:
    paths = {Path(p).stem: p for p in snakemake.input.tables if Path(p).parent.name == region}
    tables[region] = {t: io.read_parquet(paths[t]) for t in TABLES}
    # file names as the messages give them
    files[region] = file_labels(snakemake.params.region_dirs[region], region)
failures = pd.concat([f for p in snakemake.input.failures if len(f := io.read_parquet(p))] or
                     [empty_failures()], ignore_index=True)

combined, failures, accounting = combine_regions(
    tables, failures, files, care_models=list(snakemake.params.care_models),
    reference_care_model=snakemake.params.reference_care_model)
for table in TABLES:  # outputs are named by table (rule combine_regions)
    io.write_parquet(combined[table], snakemake.output[table])
io.write_csv(accounting, snakemake.output.accounting)
# completeness of the optional columns by region (docs/outcome_codes.md)
io.write_csv(optional_data_table(combined["admissions"], combined["residents"]),
             snakemake.output.optional_data)
io.write_csv(failures, snakemake.output.failures)
log.info("combined %d regions; %d failures", len(tables), len(failures))
