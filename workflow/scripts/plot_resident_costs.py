"""Rule plot_resident_costs: distribution of per-resident annual NHS cost by care model."""

import matplotlib.pyplot as plt

from optimal_analysis.figures.costs import plot_resident_cost_distribution
from optimal_analysis.io import read_parquet, save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0])

table = read_parquet(snakemake.input.table)
ax = plot_resident_cost_distribution(table, care_models=snakemake.params.care_models)
save_figure(ax.figure, [snakemake.output.png, snakemake.output.svg])
plt.close(ax.figure)
log.info("wrote %s and %s", snakemake.output.png, snakemake.output.svg)
