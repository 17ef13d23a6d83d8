"""Rule plot_crude_rates: figure of crude rates by care model with 95% CIs."""

import matplotlib.pyplot as plt
import pandas as pd

from optimal_analysis.figures.rates import plot_crude_rates
from optimal_analysis.io import atomic_path
from optimal_analysis.logs import setup_logging

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0])

table = pd.read_csv(snakemake.input.table)
ax = plot_crude_rates(table, care_models=snakemake.params.care_models)
for path, fmt in [(snakemake.output.png, "png"), (snakemake.output.svg, "svg")]:
    with atomic_path(path) as tmp:
        ax.figure.savefig(tmp, format=fmt, dpi=200)
plt.close(ax.figure)
log.info("wrote %s and %s", snakemake.output.png, snakemake.output.svg)
