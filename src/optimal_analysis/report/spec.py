"""The declarative description of how one table is disclosed (:class:`TableSpec`).

Kept apart from :mod:`optimal_analysis.report.disclosure`, which holds the specs of every
table (``TABLE_SPECS``) and applies them; a stage's own spec module (e.g.
:mod:`optimal_analysis.report.balance`) describes its tables with the same fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["SecondaryGroup", "TableSpec"]


@dataclass(frozen=True)
class SecondaryGroup:
    """Rows whose ``count`` cells add up to a total a reader knows or can compute.

    ``by`` are the columns whose values define a group (e.g. ``("outcome",)``:
    the care-model rows of one outcome).
    """

    count: str
    by: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    """How to disclose one table.

    Attributes
    ----------
    counts
        Columns holding counts: suppressed if 1..suppress_max, otherwise rounded.
    derived
        ``statistic column -> columns it is derived from`` (counts, or statistics
        listed before it): the statistic is suppressed wherever any of its
        sources is (in the same row).
    derived_primary
        ``statistic column -> count columns``: suppressed only where one of the
        counts is small itself (primary suppression): means and SDs.
    exempt
        ``column -> values``: rows with such a value hold counts of organisations
        (care homes), not of people, and are left as they are.
    secondary
        Groupings for secondary suppression.
    optional
        Columns of the spec a table may lack (names not fixed by the results
        contract); any other missing column is an error.
    recompute
        ``function(table with rounded counts) -> {column: values}``: statistics
        recomputed from the rounded counts before suppression.
    """

    counts: tuple[str, ...] = ()
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    derived_primary: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    exempt: Mapping[str, frozenset[str]] = field(default_factory=dict)
    secondary: tuple[SecondaryGroup, ...] = ()
    optional: frozenset[str] = frozenset()
    recompute: Callable[[pd.DataFrame], dict[str, pd.Series]] | None = None


_COMPETING = "death_before_"


def curve_family(event: pd.Series) -> pd.Series:
    """The curve each row of cumulative_incidence.csv belongs to, by its ``event``.

    ``""`` for first emergency admission and death (one time scale); a derived
    outcome's name for its own event and ``death_before_<name>``, which share
    that outcome's time scale. Curves of one family are published together.
    """
    ev = event.astype(str)
    names = set(ev[ev.str.startswith(_COMPETING)].str.removeprefix(_COMPETING))
    own = ev.str.removeprefix(_COMPETING)
    return own.where(own.isin(names), "")
