"""Shared figure style: care models in one order and one colour everywhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")  # figures are files; never need a display

# Colour-blind-safe (Okabe-Ito); the defaults for the three OPTIMAL models first.
_KNOWN = {
    "dedicated_team": "#0072B2",
    "paid_gp": "#E69F00",
    "usual_care": "#666666",
}
_EXTRA = ["#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"]

LABELS = {
    "dedicated_team": "Dedicated care home team",
    "paid_gp": "Paid-for extra GP provision",
    "usual_care": "Usual GP care",
}


def care_model_order(present: Iterable[str], configured: Sequence[str] | None = None) -> list[str]:
    """Care models in display order: configured order first, then any others sorted."""
    present = list(dict.fromkeys(present))
    configured = list(configured or _KNOWN)
    first = [m for m in configured if m in present]
    return first + sorted(m for m in present if m not in first)


def care_model_colours(models: Sequence[str]) -> dict[str, str]:
    """A colour for each care model: fixed for the known ones, a stable cycle for others."""
    out: dict[str, str] = {}
    extra = iter(_EXTRA * (1 + len(models) // len(_EXTRA)))
    for m in models:
        out[m] = _KNOWN[m] if m in _KNOWN else next(extra)
    return out


def care_model_label(model: str) -> str:
    """Readable label of a care model code."""
    return LABELS.get(model, model.replace("_", " ").capitalize())
