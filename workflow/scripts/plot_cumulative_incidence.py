"""Rule plot_cumulative_incidence: admission and death panels with numbers at risk."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.figures.survival import plot_cumulative_incidence
from optimal_analysis.io import save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0])

table = pd.read_csv(snakemake.input.table)
at_risk = pd.read_csv(snakemake.input.at_risk)
fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True)
for ax, event in zip(axes, ["emergency_admission", "death"], strict=True):
    plot_cumulative_incidence(
        table, event=event, at_risk=at_risk, ax=ax, care_models=snakemake.params.care_models
    )
fig.subplots_adjust(bottom=0.36, left=0.1, right=0.98, wspace=0.16)
save_figure(fig, [snakemake.output.png, snakemake.output.svg])
plt.close(fig)
log.info("wrote %s and %s", snakemake.output.png, snakemake.output.svg)
