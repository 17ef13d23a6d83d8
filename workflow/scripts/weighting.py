"""Rule weighting: propensity scores, weights (interim), balance, summary and overlap tables."""

from optimal_analysis.io import read_parquet, write_csv, write_parquet
from optimal_analysis.logs import setup_logging
from optimal_analysis.weighting import make_weights

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
p = snakemake.params

results = make_weights(
    read_parquet(snakemake.input.cohort),
    covariates=p.covariates,
    care_models=p.care_models,
    reference=p.reference,
    method=p.weighting["method"],
    stabilise=p.weighting["stabilise"],
    trim=p.weighting["trim"],
)
write_parquet(results.weights, snakemake.output.weights)
tables = {"balance": results.balance, "weighting_summary": results.summary,
          "ps_overlap": results.overlap}
for name, table in tables.items():
    write_csv(table, snakemake.output[name])
    log.info("wrote %s (%d rows)", snakemake.output[name], len(table))
