"""Read and validate one region's four tables; every row kept, marked used or set aside."""

import pyarrow as pa

from optimal_analysis import io
from optimal_analysis.ingest import TABLES, ingest_region
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
# Arrow buffers from the C allocator: freed column copies go back to the system at
# once, so the job's peak stays near its live data (mimalloc, Arrow's default, kept
# them: 470 against 405 MB for 1.4 million contacts; benchmarks/results.md).
pa.set_memory_pool(pa.system_memory_pool())

result = ingest_region(
    snakemake.params.region_dir,
    region=snakemake.wildcards.region,
    care_models=list(snakemake.params.care_models),
    service_code_map=dict(snakemake.params.service_code_map),
    date_format=snakemake.params.date_format,
)
for table in TABLES:  # outputs are named by table (rule ingest_region)
    io.write_parquet(result.tables[table], snakemake.output[table])
io.write_parquet(result.failures.astype({"line": "Int64"}), snakemake.output.failures)
log.info("region %s: %d failures", result.region, len(result.failures))
