"""Care models: their display order, labels and colours, from config.

The one place the order of care models is decided. Config ``care_models``
gives the order (the first listed is drawn first); ``care_model_labels`` maps a
model to the label shown in every table and figure. A model without a label
gets a readable default (``enhanced_practice`` -> ``Enhanced practice``); a
model in the data but not configured follows the configured ones, sorted.
Colours are the Okabe–Ito palette by position in that order, so the same
model has the same colour in every figure of a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

__all__ = [
    "ALL_CARE_MODELS",
    "PALETTE",
    "CareModels",
    "CareModelsLike",
    "care_model_colours",
    "care_model_label",
    "care_model_levels",
    "care_model_order",
    "default_label",
]

#: ``care_model`` value of a whole-cohort row (crude rates, cohort summary).
ALL_CARE_MODELS = "all"
#: Colour-blind-safe (Okabe–Ito, grey third); assigned by position in the configured order.
PALETTE = ("#0072B2", "#E69F00", "#666666", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
           "#F0E442", "#000000")


def default_label(model: str) -> str:
    """The label of a care model without a configured one: ``paid_gp`` -> ``Paid gp``."""
    return model.replace("_", " ").capitalize()


def care_model_order(present: Iterable[str], configured: Sequence[str] | None = None) -> list[str]:
    """Care models of ``present`` in display order: configured order first, then others sorted."""
    present = [str(m) for m in dict.fromkeys(present)]
    first = [m for m in (configured or ()) if m in present]
    return first + sorted(m for m in present if m not in first)


def care_model_levels(cohort: pd.DataFrame, care_models: Sequence[str] | None) -> list[str]:
    """The care models of ``cohort`` (its ``care_model`` column) in display order."""
    return care_model_order(cohort["care_model"].astype(str).unique(), care_models)


def care_model_label(model: str, labels: Mapping[str, str] | None = None) -> str:
    """The label of ``model``: from ``labels`` (config ``care_model_labels``), else readable."""
    return str((labels or {}).get(model) or default_label(model))


def care_model_colours(
    models: Sequence[str], configured: Sequence[str] | None = None
) -> dict[str, str]:
    """A colour for each of ``models``: the palette by position in the full display order."""
    order = care_model_order([*(configured or ()), *models], configured)
    cycle = PALETTE * (1 + len(order) // len(PALETTE))
    position = {m: k for k, m in enumerate(order)}
    return {m: cycle[position[m]] for m in models}


@dataclass(frozen=True)
class CareModels:
    """The configured care models: order and labels (config ``care_models``,
    ``care_model_labels``)."""

    order: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, care_models: CareModelsLike, labels: Mapping[str, str] | None = None) -> CareModels:
        """``care_models`` as :class:`CareModels` (a list of names, or None, is the order)."""
        if isinstance(care_models, CareModels):
            return care_models if labels is None else cls(care_models.order, dict(labels))
        return cls(tuple(care_models or ()), dict(labels or {}))

    def ordered(self, present: Iterable[str]) -> list[str]:
        """:func:`care_model_order` of ``present``."""
        return care_model_order(present, self.order)

    def label(self, model: str) -> str:
        """:func:`care_model_label` of ``model``."""
        return care_model_label(model, self.labels)

    def colours(self, models: Sequence[str]) -> dict[str, str]:
        """:func:`care_model_colours` of ``models``."""
        return care_model_colours(models, self.order)


#: What a function taking care models accepts: :class:`CareModels`, their names in
#: display order (config ``care_models``), or None (sorted, default labels).
CareModelsLike = CareModels | Sequence[str] | None
