"""Synthetic datasets in the data contract's layout, beside the pipeline (never on its line).

- :mod:`~optimal_analysis.synthetic.generate`: :func:`generate` (the model, truth.json keys);
- :mod:`~optimal_analysis.synthetic.params`: default effects, services, truth;
- :mod:`~optimal_analysis.synthetic.population`: regions, homes and residents;
- :mod:`~optimal_analysis.synthetic.sim`: event histories;
- :mod:`~optimal_analysis.synthetic.write`: :func:`write_dataset`, :func:`calibration_summary`;
- :mod:`~optimal_analysis.synthetic.cli`: the ``optimal-synth`` command.
"""

from optimal_analysis.synthetic.cli import main
from optimal_analysis.synthetic.generate import (
    DEFAULT_EFFECTS,
    DEFAULT_SEED,
    NHS_REGIONS,
    SERVICES,
    TABLES,
    SyntheticDataset,
    generate,
    region_names,
)
from optimal_analysis.synthetic.write import calibration_summary, write_dataset

__all__ = [
    "DEFAULT_EFFECTS",
    "DEFAULT_SEED",
    "NHS_REGIONS",
    "SERVICES",
    "TABLES",
    "SyntheticDataset",
    "calibration_summary",
    "generate",
    "main",
    "region_names",
    "write_dataset",
]
