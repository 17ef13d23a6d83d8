"""Rule report: the self-contained HTML report from the published tables and the figures."""

import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from optimal_analysis.io import write_text
from optimal_analysis.logs import setup_logging
from optimal_analysis.report import Figure, SectionInputs, make_provenance, render_report

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])

# The one place the report reads a clock; SOURCE_DATE_EPOCH (reproducible builds) fixes it.
epoch = os.environ.get("SOURCE_DATE_EPOCH")
run_date = (
    (datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)).date().isoformat()
)

captions = snakemake.params.captions
tables = {Path(p).stem: pd.read_csv(p, keep_default_na=True) for p in snakemake.input.tables}
figures = {
    # caption: what the figure shows (figures.published.FIGURE_CAPTIONS, rule report's params)
    name: Figure(name, Path(p).read_bytes(), "image/svg+xml", captions.get(name, ""))
    for name, p in zip(snakemake.params.figure_names, snakemake.input.figures, strict=True)
}
sections = {
    k: SectionInputs(tuple(v["tables"]), tuple(v["figures"]))
    for k, v in snakemake.params.sections.items()
}
config = dict(snakemake.params.config)
provenance = make_provenance(
    config, [*snakemake.input.checksum_files, *snakemake.input.tables], run_date=run_date
)
html = render_report(
    sections=sections,
    tables=tables,
    figures=figures,
    config=config,
    provenance=provenance,
    title=snakemake.params.title,
)
write_text(html, snakemake.output.html)
log.info("wrote %s (%d bytes)", snakemake.output.html, len(html))
