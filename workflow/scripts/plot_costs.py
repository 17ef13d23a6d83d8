"""Rule plot_costs: cost per resident-year by service group, and per-resident cost distribution."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.care_models import CareModels
from optimal_analysis.figures.costs import (
    plot_cost_by_service_group,
    plot_resident_cost_distribution,
)
from optimal_analysis.io import read_parquet, save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
# order and labels of the care models (config care_models, care_model_labels)
models = CareModels.of(snakemake.params.care_models, snakemake.params.care_model_labels)

for ax, out in [
    (plot_cost_by_service_group(pd.read_csv(snakemake.input.costs), care_models=models),
     snakemake.output.by_service_group),
    (plot_resident_cost_distribution(read_parquet(snakemake.input.resident_costs),
                                     care_models=models), snakemake.output.distribution),
]:
    save_figure(ax.figure, out)
    plt.close(ax.figure)
    log.info("wrote %s", ", ".join(out))
