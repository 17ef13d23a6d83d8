"""Rule plot_rates: crude rates by care model, and the forest plot of rate ratios."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.care_models import CareModels
from optimal_analysis.figures.rates import plot_crude_rates, plot_rate_ratios
from optimal_analysis.io import save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
# order and labels of the care models (config care_models, care_model_labels)
models = CareModels.of(snakemake.params.care_models, snakemake.params.care_model_labels)

for plot, table, out in [
    (plot_crude_rates, snakemake.input.crude_rates, snakemake.output.crude_rates),
    (plot_rate_ratios, snakemake.input.rate_ratios, snakemake.output.rate_ratios_forest),
]:
    ax = plot(pd.read_csv(table), care_models=models)
    save_figure(ax.figure, out)
    plt.close(ax.figure)
    log.info("wrote %s", ", ".join(out))
