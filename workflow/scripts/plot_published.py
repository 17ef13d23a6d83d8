"""Rule plot_published: the report figures, redrawn from the published (disclosed) tables."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.care_models import CareModels
from optimal_analysis.figures.published import FIGURE_TABLES, plot_published
from optimal_analysis.io import save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
# order and labels of the care models (config care_models, care_model_labels)
models = CareModels.of(snakemake.params.care_models, snakemake.params.care_model_labels)

tables = {name: pd.read_csv(path) for name, path in snakemake.input.items()}
for figure in FIGURE_TABLES:
    fig = plot_published(figure, tables, care_models=models)
    save_figure(fig, snakemake.output[figure])
    plt.close(fig)
    log.info("wrote %s", ", ".join(snakemake.output[figure]))
