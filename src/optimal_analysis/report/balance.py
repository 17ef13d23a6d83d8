"""Disclosure of the weighting and regions tables: their specs, and what balance.csv's
published copy recomputes.

:data:`WEIGHTING_SPECS` holds the arguments of their
:class:`optimal_analysis.report.disclosure.TableSpec` entries (that module builds them).
A category's exact proportion next to rounded counts gives the counts back, and so does
an SMD whose denominator uses the exact proportions; both are recomputed here from the
rounded counts. Means of numbers and weighted proportions are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BALANCE_DERIVED", "BALANCE_PRIMARY", "WEIGHTING_SPECS", "balance_from_rounded"]


@dataclass(frozen=True)
class _Group:
    """A secondary-suppression group (the fields of ``disclosure.SecondaryGroup``)."""

    count: str
    by: tuple[str, ...]

#: Statistics suppressed with the level's count (a category's proportion and its SMDs).
BALANCE_DERIVED = {"mean_crude": ("n_level",), "smd_crude": ("mean_crude",),
                   "smd_weighted": ("mean_crude",)}
#: Means suppressed where the care model's own count is small.
BALANCE_PRIMARY = {c: ("n_residents",) for c in ("mean_crude", "mean_weighted")}


def balance_from_rounded(t: pd.DataFrame) -> dict[str, pd.Series]:
    """balance: proportions (level other than ``mean``) from the rounded counts, and their
    SMDs, crude and weighted, with the denominator from those proportions (the exact
    ones would give the counts back); means of continuous covariates are kept."""
    binary = t["level"].astype(str) != "mean"
    p = (t["n_level"].astype(float) / t["n_residents"].astype(float)).where(binary)
    ref = t["is_reference"].astype(str).str.lower().isin(["true", "1"])
    key = pd.Series(list(zip(t["covariate"], t["level"], strict=True)), index=t.index)
    p_ref = key.map(p[ref].set_axis(key[ref]))
    w = pd.to_numeric(t["mean_weighted"], errors="coerce")
    w_ref = key.map(w[ref].set_axis(key[ref]))
    den = np.sqrt((p * (1 - p) + p_ref * (1 - p_ref)) / 2)
    keep = ~binary | ref
    return {
        "mean_crude": t["mean_crude"].where(~binary, p),
        "smd_crude": t["smd_crude"].where(keep, (p - p_ref) / den),
        "smd_weighted": t["smd_weighted"].where(keep, (w - w_ref) / den),
    }


#: Table name -> arguments of its TableSpec (report.disclosure.TABLE_SPECS).
WEIGHTING_SPECS: dict[str, dict[str, Any]] = {
    "balance": {"counts": ("n_residents", "n_level"), "derived": BALANCE_DERIVED,
                "derived_primary": BALANCE_PRIMARY, "recompute": balance_from_rounded},
    "weighting_summary": {"counts": ("n_residents", "n_no_overlap"),
                          "derived_primary": {"effective_sample_size": ("n_residents",)}},
    # bins of one score and care model add up to the care model's residents
    "ps_overlap": {"counts": ("residents",),
                   "secondary": (_Group("residents", ("score_of", "care_model")),)},
    "region_effects": {"counts": ("n_residents",)},
}
