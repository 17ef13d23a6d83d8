"""Rule publish_tables: the published copies of the results tables (suppressed, rounded counts)."""

import pandas as pd

from optimal_analysis.disclosure import disclose_tables
from optimal_analysis.io import write_csv
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0])

tables = {name: pd.read_csv(path) for name, path in snakemake.input.items()}
published = disclose_tables(
    tables, suppress_max=snakemake.params.suppress_max, round_to=snakemake.params.round_to
)
for name, table in published.items():
    write_csv(table, snakemake.output[name])
    log.info("wrote %s (%d rows)", snakemake.output[name], len(table))
