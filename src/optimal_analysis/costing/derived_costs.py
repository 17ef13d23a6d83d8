"""Costs of the stays of derived outcomes (docs/outcome_codes.md): rows of costs.csv.

A derived outcome (e.g. ``avoidable_emergency_admission``) counts emergency
admissions whose primary diagnosis is on the outcome code list; the cohort
stage marks them in the events table's ``derived_outcomes`` column (the
outcome names, ``;``-joined, on admission rows; absent without diagnoses).
The cost of an outcome's stays is the cost of those admissions under the
same rules as every stay (:func:`optimal_analysis.costing.costs.cost_events`:
admission item at its tier + costed bed days x the bed-day unit cost):

    C_{h,k} = sum over costed rows r of stays s flagged k in home h of cost_r
    U_{h,k} = number of stays flagged k in home h (units = stays).

These are a subset of the emergency stays: their rows carry ``service_group``
:data:`~optimal_analysis.unit_costs.DERIVED_SERVICE_GROUP` and are not added
into ``total``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DERIVED_COLUMN", "derived_masks", "derived_per_home"]

#: Events-table column naming the derived outcomes of an admission row.
DERIVED_COLUMN = "derived_outcomes"


def derived_masks(events: pd.DataFrame) -> dict[str, np.ndarray]:
    """Which event rows are stays of each derived outcome: ``{outcome: bool array}``.

    Empty without a ``derived_outcomes`` column (no diagnoses or no code list).
    Outcomes are in order of first appearance in the column's categories.
    """
    if DERIVED_COLUMN not in events:
        return {}
    col = events[DERIVED_COLUMN]
    cat = col.astype("category") if col.dtype.name != "category" else col
    labels = [str(c) for c in cat.cat.categories]
    codes = cat.cat.codes.to_numpy()
    names = list(dict.fromkeys(n for lab in labels for n in lab.split(";") if n))
    out = {}
    for name in names:
        hit = np.array([name in lab.split(";") for lab in labels] + [False])  # per category
        out[name] = hit[np.where(codes < 0, len(labels), codes)]
    return out


def derived_per_home(
    masks: dict[str, np.ndarray],
    home_code: np.ndarray,
    row: np.ndarray,
    cost: np.ndarray,
    n_homes: int,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per-home cost and stays of each derived outcome: ``(names, cost_hk, units_hk)``.

    Parameters
    ----------
    masks : dict of bool arrays
        From :func:`derived_masks` (one entry per event row).
    home_code : ndarray of int
        Care-home code (row of the homes table) of each event row.
    row, cost : ndarray
        The costed rows of one scheme: the event row each costs, and its cost
        (an admission gives an admission-item row and/or a bed-day row).
    n_homes : int

    Returns
    -------
    names, cost_hk, units_hk
        ``cost_hk[h, k]`` = sum of the costs of the stays of outcome k in home
        h; ``units_hk[h, k]`` = their number (each stay once).
    """
    names = list(masks)
    cost_hk = np.zeros((n_homes, len(names)))
    units_hk = np.zeros((n_homes, len(names)))
    for k, name in enumerate(names):  # a loop over outcomes, each vectorised over rows
        m = masks[name]
        on = m[row]
        cost_hk[:, k] = np.bincount(home_code[row[on]], weights=cost[on], minlength=n_homes)
        units_hk[:, k] = np.bincount(home_code[m], minlength=n_homes)
    return names, cost_hk, units_hk
