"""Rule survival: cumulative incidence, at-risk counts, Cox and Fine-Gray models, KM tables."""

import numpy as np

from optimal_analysis import outcomes
from optimal_analysis.derived_outcomes import derived_in_cohort
from optimal_analysis.io import read_code_list, read_parquet, write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.survival import make_survival_tables

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
p = snakemake.params

cohort = read_parquet(snakemake.input.cohort)
# derived outcomes of the code list (docs/outcome_codes.md): Cox and Fine-Gray of time to first
outcomes.register_derived(derived_in_cohort(cohort.columns, read_code_list(p.outcome_codes)))
tables = make_survival_tables(
    cohort,
    reference=p.reference,
    covariates=p.covariates,
    at_risk_days=p.at_risk_days,
    rmst_horizon_days=p.rmst_horizon_days,
    care_models=p.care_models,
    ph_transform=p.ph_transform,
    few_clusters_threshold=p.few_clusters_threshold,
    rng=np.random.default_rng(p.seed),
    wild_bootstrap_replicates=p.wild_bootstrap_replicates,
    ps_weights=read_parquet(snakemake.input.weights)[["resident_id", "weight"]],
)
for name, table in tables.items():
    write_csv(table, snakemake.output[name])
    log.info("wrote %s (%d rows)", snakemake.output[name], len(table))
