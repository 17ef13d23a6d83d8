"""Stop the run if the input data break the contract (per config on_invalid), or if exclude
mode would set aside more of a region than config max_excluded_share; else note it."""

import pandas as pd

from optimal_analysis import io
from optimal_analysis.ingest import InputDataError, check_failures
from optimal_analysis.ingest.share import ExcessiveExclusionError, check_excluded_share
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

failures = pd.read_csv(snakemake.input.failures, dtype={"value": "string"}, keep_default_na=False,
                       na_values={"line": [""]})
accounting = pd.read_csv(snakemake.input.accounting)
try:
    summary = check_failures(failures, on_invalid=snakemake.params.on_invalid,
                             failures_file=snakemake.input.failures)
    set_aside = check_excluded_share(accounting, failures,
                                     max_share=snakemake.params.max_excluded_share,
                                     failures_file=snakemake.input.failures)
except (InputDataError, ExcessiveExclusionError) as exc:
    log.error("\n%s", exc)
    raise SystemExit(1) from None
if set_aside:
    summary += "\nSet aside, by region:\n  " + set_aside.replace("\n", "\n  ")
log.info(summary)
io.write_text(summary + "\n", snakemake.output[0])
