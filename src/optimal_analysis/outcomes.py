"""Outcomes: one registry entry per outcome, read by every stage that analyses one.

An :class:`Outcome` says what the outcome is called and shown as, what kind of
analysis it gets, where its events come from and what its events cost:

- ``kinds``: ``count`` (events per person-year: crude rates, rate ratios),
  ``days`` (days per person-year, not Poisson events: a crude rate without an
  exact interval), ``time_to_first`` (time to the first event: cumulative
  incidence, Cox and Fine–Gray; see :attr:`Outcome.time_column`), ``share``
  (proportion of residents with any event).
- ``source`` and ``codes``: ``service`` (contact rows whose contract service
  code is in ``codes``; each row counts ``n``), ``admission_method``
  (admissions whose method is in ``codes``; each counts 1), ``stays`` (bed days
  of the admissions whose method is in ``codes``), ``exit_reason`` (the
  resident's exit, e.g. ``died``).
- ``cost_items``: the unit-cost items (docs/unit_costs.md) its events are costed by.

The cohort builds one column per event outcome (``service`` and
``admission_method`` sources) from the events table, so adding a count outcome
from a service code is one entry here: its column appears in the cohort, its
row in ``crude_rates.csv``, it can be named in config ``rate_outcomes``, and
figures and the report show its label.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "EVENT_SOURCES",
    "KINDS",
    "OUTCOMES",
    "SOURCES",
    "Outcome",
    "event_outcomes",
    "get",
    "label",
    "of_kind",
    "register_derived",
]

#: Kinds of analysis an outcome can have.
KINDS = ("count", "days", "time_to_first", "share")
#: Where an outcome's events come from.
SOURCES = ("service", "admission_method", "stays", "exit_reason", "diagnosis")
#: Sources whose per-resident counts the cohort takes from the events table.
EVENT_SOURCES = ("service", "admission_method")


@dataclass(frozen=True)
class Outcome:
    """One outcome: name, label, kinds, source and codes, cost items.

    ``column`` is the cohort column holding its per-resident count (default:
    the name). ``time_column``, for ``time_to_first`` outcomes, is the cohort
    column of days to the first event (or to censoring). ``first_label`` is the
    label of its time-to-first curve. ``poisson_ci`` is false for outcomes whose
    units are not independent events (bed days).
    """

    name: str
    label: str
    kinds: tuple[str, ...]
    source: str
    codes: tuple[str, ...]
    cost_items: tuple[str, ...] = ()
    column: str = ""
    time_column: str = ""
    first_label: str = ""
    poisson_ci: bool = True

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or self.source not in SOURCES or not self.kinds:
            raise ValueError(f"outcome {self.name!r}: kinds {list(self.kinds)} must be among "
                             f"{KINDS} and source {self.source!r} one of {SOURCES}")
        if not self.column:
            object.__setattr__(self, "column", self.name)
        if "time_to_first" in self.kinds and not self.time_column:
            raise ValueError(f"outcome {self.name!r}: a time_to_first outcome needs time_column")

    @property
    def items(self) -> tuple[str, ...]:
        """The ``item`` values of the events table (interim/regions/*/events.parquet) it counts."""
        if self.source == "admission_method":
            return tuple(f"{c}_admission" for c in self.codes)
        return self.codes if self.source == "service" else ()


#: The registry, in display order (the order of crude_rates.csv).
OUTCOMES: dict[str, Outcome] = {
    o.name: o
    for o in (
        Outcome("emergency_admission", "Emergency admissions", ("count", "time_to_first"),
                "admission_method", ("emergency",),
                cost_items=("emergency_admission", "emergency_bed_day"),
                time_column="time_to_admission_days", first_label="First emergency admission"),
        Outcome("elective_admission", "Elective admissions", ("count",), "admission_method",
                ("elective",), cost_items=("elective_admission", "elective_bed_day")),
        Outcome("ae", "A&E attendances", ("count",), "service", ("ae",), cost_items=("ae",)),
        Outcome("ambulance", "Ambulance call-outs", ("count",), "service", ("ambulance",),
                cost_items=("ambulance",)),
        Outcome("death", "Deaths", ("count", "time_to_first"), "exit_reason", ("died",),
                column="died", time_column="follow_up_days",
                first_label="Death before admission"),
        Outcome("bed_days", "Hospital bed days", ("days",), "stays", ("emergency", "elective"),
                cost_items=("emergency_bed_day", "elective_bed_day"), poisson_ci=False),
    )
}


def register_derived(names: Iterable[str]) -> list[Outcome]:
    """Register the derived outcomes of an outcome code list (source ``diagnosis``).

    A derived outcome (docs/outcome_codes.md) counts the emergency admissions
    whose primary diagnosis is on its code list: a ``count`` and
    ``time_to_first`` outcome whose stays are costed like emergency stays. The
    cohort gives it the columns ``name``, ``time_to_{name}_days`` and
    ``{name}_status`` (:mod:`optimal_analysis.derived_outcomes`). Registering a
    name twice keeps the first entry. Returns the entries, in the given order.
    """
    out = []
    for name in names:
        if name not in OUTCOMES:
            text = name.replace("_", " ").capitalize()
            OUTCOMES[name] = Outcome(
                name, text if text.endswith("s") else text + "s", ("count", "time_to_first"),
                "diagnosis", (name,), cost_items=("emergency_admission", "emergency_bed_day"),
                time_column=f"time_to_{name}_days", first_label=f"First {text.lower()}")
        out.append(OUTCOMES[name])
    return out


def get(name: str) -> Outcome:
    """The registered outcome ``name``; ``KeyError`` naming the known ones."""
    try:
        return OUTCOMES[name]
    except KeyError:
        raise KeyError(f"unknown outcome {name!r}; known: {list(OUTCOMES)}") from None


def label(name: str) -> str:
    """The label of outcome ``name`` (a readable default for a name not registered)."""
    o = OUTCOMES.get(name)
    return o.label if o else name.replace("_", " ").capitalize()


def of_kind(*kinds: str) -> list[Outcome]:
    """Registered outcomes having any of ``kinds``, in registry order."""
    return [o for o in OUTCOMES.values() if set(kinds) & set(o.kinds)]


def event_outcomes(names: Iterable[str] | None = None) -> list[Outcome]:
    """Outcomes counted from the events table (sources :data:`EVENT_SOURCES`), registry order."""
    wanted = set(OUTCOMES if names is None else names)
    return [o for o in OUTCOMES.values() if o.source in EVENT_SOURCES and o.name in wanted]
