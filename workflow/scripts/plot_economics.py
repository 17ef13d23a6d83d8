"""Rule plot_economics: cost-effectiveness plane and probability of saving (analyst's copies)."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.care_models import CareModels
from optimal_analysis.figures.economics import plot_ce_plane, plot_saving_curve
from optimal_analysis.io import save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
models = CareModels.of(snakemake.params.care_models, snakemake.params.care_model_labels)
economics = pd.read_csv(snakemake.input.economics)
for ax, outputs in [
    (plot_ce_plane(pd.read_csv(snakemake.input.replicates), economics, care_models=models),
     snakemake.output.plane),
    (plot_saving_curve(pd.read_csv(snakemake.input.saving_curve), economics,
                       care_models=models), snakemake.output.saving),
]:
    save_figure(ax.figure, outputs)
    plt.close(ax.figure)
    log.info("wrote %s", ", ".join(outputs))
