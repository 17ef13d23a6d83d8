"""Rule plot_crude_rates: figure of crude rates by care model with 95% CIs."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.figures.rates import plot_crude_rates
from optimal_analysis.io import save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0])

table = pd.read_csv(snakemake.input.table)
ax = plot_crude_rates(table, care_models=snakemake.params.care_models)
save_figure(ax.figure, [snakemake.output.png, snakemake.output.svg])
plt.close(ax.figure)
log.info("wrote %s and %s", snakemake.output.png, snakemake.output.svg)
