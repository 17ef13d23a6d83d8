"""Scheme evaluation: scheme_effects, event_study, scheme_rates and power tables.

The regions' events are read one region at a time and reduced to the counts the panel
needs (evaluation.panel.event_counts)."""

import pandas as pd

from optimal_analysis import io
from optimal_analysis import outcomes as registry
from optimal_analysis.evaluation import EVALUATION_TABLES, make_evaluation_tables
from optimal_analysis.evaluation.panel import event_counts
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

p = snakemake.params
items = sorted({i for o in p.outcomes for i in registry.get(o).items})
events = pd.concat([event_counts(io.read_parquet(f, columns=["care_home_id", "item",
                                                             "event_date", "n"]), items)
                    for f in snakemake.input.events], ignore_index=True)
tables = make_evaluation_tables(
    io.read_parquet(snakemake.input.cohort,
                    columns=["resident_id", "care_home_id", "entry_date", "exit_date", "died"]),
    events,
    io.read_parquet(snakemake.input.care_homes, columns=["care_home_id", "care_model"]),
    io.read_parquet(snakemake.input.history),
    outcomes=list(p.outcomes), care_models=list(p.care_models), reference=p.reference,
    window=p.event_window_months, pre_months=p.pre_switch_months)
for name in EVALUATION_TABLES:
    io.write_csv(tables[name], snakemake.output[name])
    log.info("%s: %d rows", name, len(tables[name]))
