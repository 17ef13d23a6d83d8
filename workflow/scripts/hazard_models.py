"""Rule hazard_models: cause-specific Cox, Fine–Gray and all-cause Cox hazard ratios; PH tests."""

from optimal_analysis.io import read_parquet, write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.survival import make_survival_models

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0])

cohort = read_parquet(snakemake.input.cohort)
tables = make_survival_models(
    cohort,
    reference=snakemake.params.reference,
    covariates=snakemake.params.covariates,
    care_models=snakemake.params.care_models,
    ph_transform=snakemake.params.ph_transform,
)
write_csv(tables.hazard_ratios, snakemake.output.hazard_ratios)
write_csv(tables.ph_tests, snakemake.output.ph_tests)
log.info("wrote %s and %s", snakemake.output.hazard_ratios, snakemake.output.ph_tests)
