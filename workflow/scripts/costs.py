"""Rule costs: cost every event at the reporting price year; costs.csv with bootstrap CIs.

The regions' events are read one region at a time (costing.regional)."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from optimal_analysis.costing.regional import (
    COHORT_COLUMNS,
    derived_order,
    event_columns,
    make_cost_tables_by_region,
)
from optimal_analysis.io import read_parquet, write_csv, write_parquet
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
inp, out, params = snakemake.input, snakemake.output, snakemake.params

log.info("unit costs: %s; inflation index: %s; price year %s; hospital costing %s",
         inp.unit_costs, inp.inflation, params.price_year, params.scheme)
costs, sensitivity, resident_costs = make_cost_tables_by_region(
    # one region at a time; derived_outcomes where a region has diagnoses
    (read_parquet(p, columns=event_columns(pq.read_schema(p).names)) for p in inp.events),
    read_parquet(inp.cohort, columns=COHORT_COLUMNS),
    pd.read_csv(inp.unit_costs),
    pd.read_csv(inp.inflation),
    price_year=params.price_year,
    scheme=params.scheme,
    replicates=params.replicates,
    rng=np.random.default_rng(params.seed),
    care_models=params.care_models,
    unit_costs_name=str(inp.unit_costs),
    inflation_name=str(inp.inflation),
    few_clusters_threshold=params.few_clusters_threshold,
    derived_order=derived_order(pq.read_schema(inp.cohort).names),
)
write_csv(costs, out.costs)
write_csv(sensitivity, out.sensitivity)
write_parquet(resident_costs, out.resident_costs)
log.info("wrote %s (%d rows), %s (%d rows) and %s", out.costs, len(costs), out.sensitivity,
         len(sensitivity), out.resident_costs)
