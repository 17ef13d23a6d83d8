"""Rule plot_survival: cumulative incidence (admission and death panels) and Kaplan-Meier."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.care_models import CareModels
from optimal_analysis.figures.survival import plot_cumulative_incidence, plot_km
from optimal_analysis.io import save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]  # set by Snakemake's script directive
log = setup_logging(snakemake.log[0])
# order and labels of the care models (config care_models, care_model_labels)
models = CareModels.of(snakemake.params.care_models, snakemake.params.care_model_labels)
at_risk = pd.read_csv(snakemake.input.at_risk)

table = pd.read_csv(snakemake.input.cumulative_incidence)
table = table[table["adjustment"] == "crude"]  # weighted curves: figure of the weighting stage
fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True)
for ax, event in zip(axes, ["emergency_admission", "death"], strict=True):
    plot_cumulative_incidence(table, event=event, at_risk=at_risk, ax=ax, care_models=models)
fig.subplots_adjust(bottom=0.36, left=0.1, right=0.98, wspace=0.16)
save_figure(fig, snakemake.output.cumulative_incidence)
plt.close(fig)

ax = plot_km(pd.read_csv(snakemake.input.km), at_risk=at_risk, care_models=models)
ax.figure.set_size_inches(6.5, 5.4)
ax.figure.subplots_adjust(bottom=0.36, left=0.14, right=0.96)
save_figure(ax.figure, snakemake.output.km)
plt.close(ax.figure)
log.info("wrote %s", ", ".join(snakemake.output))
