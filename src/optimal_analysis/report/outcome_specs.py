"""Disclosure specs of the derived-outcome tables (``optional_data``, ``place_of_death``).

:data:`OUTCOME_SPECS` holds the arguments of their
:class:`optimal_analysis.report.disclosure.TableSpec` entries (that module builds them, as
it builds :data:`optimal_analysis.report.balance.WEIGHTING_SPECS`). A share next to rounded
counts would give the exact counts back, so shares and their exact binomial limits are
recomputed from the rounded counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis.stats.binomial import clopper_pearson

__all__ = ["OUTCOME_SPECS", "share_from_rounded"]

_CI = ("conf_low", "conf_high")


def share_from_rounded(t: pd.DataFrame) -> dict[str, pd.Series]:
    """place_of_death: share = deaths_in_hospital / deaths with its exact binomial limits,
    from the rounded counts (a share of the exact counts would give them away)."""
    x = t["deaths_in_hospital"].astype(float).to_numpy()
    n = t["deaths"].astype(float).to_numpy()
    ok = np.isfinite(x) & np.isfinite(n) & (x <= n)
    share, low, high = clopper_pearson(np.where(ok, x, 0), np.where(ok, n, 0))
    return {c: pd.Series(np.where(ok, v, np.nan), index=t.index)
            for c, v in (("share", share), ("conf_low", low), ("conf_high", high))}


def _missing_share(t: pd.DataFrame) -> dict[str, pd.Series]:
    """optional_data: the share missing from the rounded counts."""
    records = t["records"].astype(float)
    return {"share_missing": t["missing"].astype(float) / records.where(records > 0)}


#: Table name -> keyword arguments of its ``TableSpec``.
OUTCOME_SPECS: dict[str, dict[str, Any]] = {
    "optional_data": {
        "counts": ("records", "missing"),
        "derived": {"share_missing": ("records", "missing")},
        "recompute": _missing_share,
    },
    "place_of_death": {
        "counts": ("deaths", "deaths_in_hospital"),
        "derived": {c: ("deaths_in_hospital", "deaths") for c in ("share", *_CI)},
        "recompute": share_from_rounded,
    },
}
