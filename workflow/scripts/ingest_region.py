"""Read and validate one region's four tables; every row kept, marked used or set aside."""

from optimal_analysis import io
from optimal_analysis.ingest import ingest_region
from optimal_analysis.logs import setup_logging

log = setup_logging(snakemake.log[0])  # noqa: F821
sm = snakemake  # noqa: F821

result = ingest_region(
    sm.params.region_dir,
    region=sm.wildcards.region,
    care_models=list(sm.params.care_models),
    service_code_map=dict(sm.params.service_code_map),
)
for path, table in zip(sm.output.tables, result.tables, strict=True):
    io.write_parquet(result.tables[table], path)
io.write_parquet(result.failures.astype({"line": "Int64"}), sm.output.failures)
log.info("region %s: %d failures", result.region, len(result.failures))
