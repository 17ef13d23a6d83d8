"""Rule plot_km: Kaplan–Meier all-cause survival by care model with numbers at risk."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.figures.survival import plot_km
from optimal_analysis.io import save_figure
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0])

table = pd.read_csv(snakemake.input.table)
at_risk = pd.read_csv(snakemake.input.at_risk)
ax = plot_km(table, at_risk=at_risk, care_models=snakemake.params.care_models)
ax.figure.set_size_inches(6.5, 5.4)
ax.figure.subplots_adjust(bottom=0.36, left=0.14, right=0.96)
save_figure(ax.figure, [snakemake.output.png, snakemake.output.svg])
plt.close(ax.figure)
log.info("wrote %s and %s", snakemake.output.png, snakemake.output.svg)
