"""Combine regions: cross-region id checks, used rows stacked, accounting and failures written."""

from pathlib import Path

import pandas as pd

from optimal_analysis import io
from optimal_analysis.logs import setup_logging
from optimal_analysis.quality import combine_regions
from optimal_analysis.schemas import TABLES

log = setup_logging(snakemake.log[0])  # noqa: F821
sm = snakemake  # noqa: F821

tables, files = {}, {}
for region in sm.params.regions:
    paths = {Path(p).stem: p for p in sm.input.tables if Path(p).parent.name == region}
    tables[region] = {t: io.read_parquet(paths[t]) for t in TABLES}
    files[region] = {t: f"{region}/{t}" for t in TABLES}
failures = pd.concat([io.read_parquet(p) for p in sm.input.failures], ignore_index=True)
for region, per_table in files.items():  # file labels as the failures name them
    for t, label in failures.loc[failures["region"] == region].groupby("table")["file"].first().items():
        per_table[t] = label

combined, failures, accounting = combine_regions(tables, failures, files)
for path, table in zip(sm.output.tables, TABLES):
    io.write_parquet(combined[table], path)
io.write_csv(accounting, sm.output.accounting)
io.write_csv(failures, sm.output.failures)
log.info("combined %d regions; %d failures", len(tables), len(failures))
