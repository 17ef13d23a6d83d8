"""Combine regions: cross-region id checks, used rows stacked, accounting and failures written."""

from pathlib import Path

import pandas as pd

from optimal_analysis import io
from optimal_analysis.failures import empty_failures
from optimal_analysis.logs import setup_logging
from optimal_analysis.quality import combine_regions
from optimal_analysis.read_input import file_labels
from optimal_analysis.schemas import TABLES

log = setup_logging(snakemake.log[0])  # noqa: F821
sm = snakemake  # noqa: F821

tables, files = {}, {}
for region in sm.params.regions:
    paths = {Path(p).stem: p for p in sm.input.tables if Path(p).parent.name == region}
    tables[region] = {t: io.read_parquet(paths[t]) for t in TABLES}
    files[region] = file_labels(sm.params.region_dirs[region], region)  # as messages name them
failures = pd.concat([f for p in sm.input.failures if len(f := io.read_parquet(p))] or
                     [empty_failures()], ignore_index=True)

combined, failures, accounting = combine_regions(
    tables, failures, files, care_models=list(sm.params.care_models),
    reference_care_model=sm.params.reference_care_model)
for path, table in zip(sm.output.tables, TABLES, strict=True):
    io.write_parquet(combined[table], path)
io.write_csv(accounting, sm.output.accounting)
io.write_csv(failures, sm.output.failures)
log.info("combined %d regions; %d failures", len(tables), len(failures))
