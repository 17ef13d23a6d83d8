"""Rule place_of_death: share of deaths in hospital by care model (exact binomial CI)."""

import pandas as pd

from optimal_analysis.derived_outcomes import make_place_of_death
from optimal_analysis.io import read_parquet, write_csv
from optimal_analysis.logs import setup_logging
from optimal_analysis.place_of_death import PLACE_OF_DEATH_COLUMNS

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

cohort = read_parquet(snakemake.input.cohort)
if "place_of_death" in cohort and cohort["place_of_death"].notna().any():
    table = make_place_of_death(cohort, snakemake.params.care_models)
else:  # no places of death in the data: header only (results contract)
    table = pd.DataFrame(columns=list(PLACE_OF_DEATH_COLUMNS))
write_csv(table, snakemake.output.table)
log.info("wrote %s (%d rows)", snakemake.output.table, len(table))
