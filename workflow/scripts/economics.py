"""Rule economics: economics.csv, its bootstrap replicates and the probability-of-saving curve."""

import numpy as np
import pandas as pd

from optimal_analysis.economics import make_economics, validate_scheme_costs
from optimal_analysis.economics.scheme_costs import rebase_scheme_costs
from optimal_analysis.io import read_parquet, write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.unit_costs import validate_inflation

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
inp, out, params = snakemake.input, snakemake.output, snakemake.params

cohort = read_parquet(inp.cohort)
scheme_costs = rebase_scheme_costs(
    validate_scheme_costs(pd.read_csv(inp.scheme_costs), care_models=cohort["care_model"].unique(),
                          name=str(inp.scheme_costs)),
    validate_inflation(pd.read_csv(inp.inflation), name=str(inp.inflation)),
    price_year=params.price_year,
)
log.info("scheme costs %s re-based to %s", inp.scheme_costs, params.price_year)
economics, replicates, curve = make_economics(
    cohort, read_parquet(inp.resident_costs), scheme_costs,
    reference=params.reference, care_models=params.care_models, covariates=params.covariates,
    price_year=params.price_year, replicates=params.replicates,
    rng=np.random.default_rng([params.seed, 18]),  # a stream of its own (issue 18)
)
write_csv(economics, out.economics)
write_csv(replicates, out.replicates)
write_csv(curve, out.saving_curve)
log.info("wrote %s (%d rows), %s, %s", out.economics, len(economics), out.replicates,
         out.saving_curve)
