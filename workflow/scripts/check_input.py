"""Stop the run if the input data break the contract (per config on_invalid); else note it."""

import pandas as pd

from optimal_analysis import io
from optimal_analysis.ingest import InputDataError, check_failures
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

failures = pd.read_csv(snakemake.input.failures, dtype={"value": "string"}, keep_default_na=False,
                       na_values={"line": [""]})
try:
    summary = check_failures(failures, on_invalid=snakemake.params.on_invalid,
                             failures_file=snakemake.input.failures)
except InputDataError as exc:
    log.error("\n%s", exc)
    raise SystemExit(1) from None
log.info(summary)
io.write_text(summary + "\n", snakemake.output[0])
