"""Rule plot_service_use: contacts per resident-year by service and care model (published table)."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.care_models import CareModels
from optimal_analysis.figures.describe import plot_service_use
from optimal_analysis.io import save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
# order and labels of the care models (config care_models, care_model_labels)
models = CareModels.of(snakemake.params.care_models, snakemake.params.care_model_labels)

table = pd.read_csv(snakemake.input.table)
ax = plot_service_use(table, care_models=models)
save_figure(ax.figure, [snakemake.output.png, snakemake.output.svg])
plt.close(ax.figure)
log.info("wrote %s and %s", snakemake.output.png, snakemake.output.svg)
