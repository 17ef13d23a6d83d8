"""Read and check the optional care_model_history tables; stop the run as check_input does."""

from optimal_analysis import io
from optimal_analysis.ingest import InputDataError, check_failures, ingest_history
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

history, failures = ingest_history(
    dict(snakemake.params.region_dirs), io.read_parquet(snakemake.input.care_homes),
    io.read_parquet(snakemake.input.residents), care_models=list(snakemake.params.care_models))
io.write_csv(failures, snakemake.output.failures)
try:
    summary = check_failures(failures, on_invalid=snakemake.params.on_invalid,
                             failures_file=snakemake.output.failures)
except InputDataError as exc:
    log.error("\n%s", exc)
    raise SystemExit(1) from None
log.info("care_model_history: %d rows used from %d homes; %s", len(history),
         history["care_home_id"].nunique(), summary)
io.write_parquet(history, snakemake.output.history)
