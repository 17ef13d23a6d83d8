"""Rule rate_models: rate ratios, standardised rates and design caveats by care model."""

import numpy as np

from optimal_analysis import outcomes
from optimal_analysis.derived_outcomes import derived_in_cohort
from optimal_analysis.io import read_code_list, read_parquet, write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.rates.models import make_rate_models

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
p = snakemake.params

cohort = read_parquet(snakemake.input.cohort)
# derived outcomes of the code list (docs/outcome_codes.md) get rate ratios too
derived = derived_in_cohort(cohort.columns, read_code_list(p.outcome_codes))
outcomes.register_derived(derived)
results = make_rate_models(
    cohort,
    reference=p.reference,
    care_models=p.care_models,
    covariates=p.covariates,
    outcomes=[*p.outcomes, *(d for d in derived if d not in p.outcomes)],
    few_clusters_threshold=p.few_clusters_threshold,
    wild_bootstrap_replicates=p.wild_bootstrap_replicates,
    rng=np.random.default_rng(p.seed),
    ps_weights=read_parquet(snakemake.input.weights)[["resident_id", "weight"]],
)
write_csv(results.rate_ratios, snakemake.output.rate_ratios)
write_csv(results.standardised_rates, snakemake.output.standardised)
write_csv(results.caveats, snakemake.output.caveats)
log.info("wrote %d rate ratios", len(results.rate_ratios))
