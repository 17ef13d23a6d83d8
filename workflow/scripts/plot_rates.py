"""Rule plot_rates: crude rates by care model, and the forest plot of rate ratios."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.figures.rates import plot_crude_rates, plot_rate_ratios
from optimal_analysis.io import save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0])
models = snakemake.params.care_models

for plot, table, out in [
    (plot_crude_rates, snakemake.input.crude_rates, snakemake.output.crude_rates),
    (plot_rate_ratios, snakemake.input.rate_ratios, snakemake.output.rate_ratios_forest),
]:
    ax = plot(pd.read_csv(table), care_models=models)
    save_figure(ax.figure, out)
    plt.close(ax.figure)
    log.info("wrote %s", ", ".join(out))
