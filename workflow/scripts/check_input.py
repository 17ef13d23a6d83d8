"""Stop the run if the input data break the contract (per config on_invalid); else note it."""

import pandas as pd

from optimal_analysis import io
from optimal_analysis.logs import setup_logging
from optimal_analysis.quality import InputDataError, check_failures

log = setup_logging(snakemake.log[0])  # noqa: F821
sm = snakemake  # noqa: F821

failures = pd.read_csv(sm.input.failures, dtype={"value": "string"}, keep_default_na=False,
                       na_values={"line": [""]})
try:
    summary = check_failures(failures, on_invalid=sm.params.on_invalid,
                             failures_file=sm.input.failures)
except InputDataError as exc:
    log.error("\n%s", exc)
    raise SystemExit(1) from None
log.info(summary)
io.write_text(summary + "\n", sm.output[0])
