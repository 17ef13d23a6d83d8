"""Combine regions: cross-region id checks on care homes and residents (all regions), the
contacts and admissions accounted one region at a time; accounting and failures written."""

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from optimal_analysis import io
from optimal_analysis.ingest import empty_failures, file_labels
from optimal_analysis.ingest.combine import (
    ACCOUNT_COLUMNS,
    EVENT_TABLES,
    PEOPLE_TABLES,
    account_events,
    accounting_from_counts,
    combine_people,
    optional_data_from_parts,
    residents_used,
)
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

paths, people, files = {}, {}, {}
for region in snakemake.params.regions:
    paths[region] = {Path(p).stem: p for p in snakemake.input.tables
                     if Path(p).parent.name == region}
    people[region] = {t: io.read_parquet(paths[region][t]) for t in PEOPLE_TABLES}
    # file names as the messages give them
    files[region] = file_labels(snakemake.params.region_dirs[region], region)
failures = pd.concat([f for p in snakemake.input.failures if len(f := io.read_parquet(p))] or
                     [empty_failures()], ignore_index=True)

combined, failures, counts = combine_people(
    people, failures, files, care_models=list(snakemake.params.care_models),
    reference_care_model=snakemake.params.reference_care_model)
del people
diagnoses = []
for region in sorted(paths):  # one region's contacts, then its admissions: never all regions
    used_ids = residents_used(combined["residents"], region)
    for table in EVENT_TABLES:
        present = set(pq.read_schema(paths[region][table]).names)
        columns = ACCOUNT_COLUMNS[table] + [c for c in ("primary_diagnosis",) if c in present
                                            and table == "admissions"]
        events = io.read_parquet(paths[region][table], columns=columns)
        counts[region][table], diagnosis = account_events(events, table, region, used_ids)
        if diagnosis is not None:
            diagnoses.append(diagnosis)
        del events
for table in PEOPLE_TABLES:  # outputs are named by table (rule combine_regions)
    io.write_parquet(combined[table], snakemake.output[table])
io.write_csv(accounting_from_counts(counts), snakemake.output.accounting)
# completeness of the optional columns by region (docs/outcome_codes.md)
io.write_csv(optional_data_from_parts(diagnoses, combined["residents"]),
             snakemake.output.optional_data)
io.write_csv(failures, snakemake.output.failures)
log.info("combined %d regions (%s read whole, %s one region at a time); %d failures",
         len(paths), ", ".join(PEOPLE_TABLES), ", ".join(EVENT_TABLES), len(failures))
