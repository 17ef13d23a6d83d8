"""The evaluation stage: cohort, events and care-model history in, its four tables out."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from optimal_analysis import outcomes as registry
from optimal_analysis.evaluation.design import estimation_frame, home_switches
from optimal_analysis.evaluation.effects import (
    EFFECT_COLUMNS,
    EVENT_COLUMNS,
    POWER_COLUMNS,
    make_power,
    make_scheme_effects,
)
from optimal_analysis.evaluation.monthly import SCHEME_RATE_COLUMNS, make_scheme_rates
from optimal_analysis.evaluation.panel import make_panel

__all__ = ["EVALUATION_TABLES", "make_evaluation_tables"]

log = logging.getLogger(__name__)

EVALUATION_TABLES = ("scheme_effects", "event_study", "scheme_rates", "power")


def make_evaluation_tables(cohort: pd.DataFrame, events: pd.DataFrame,
                           care_homes: pd.DataFrame, history: pd.DataFrame | None, *,
                           outcomes: Sequence[str], care_models: Sequence[str], reference: str,
                           window: int = 12, pre_months: int = 12, alpha: float = 0.05
                           ) -> dict[str, pd.DataFrame]:
    """scheme_effects, event_study, scheme_rates and power tables (results contract).

    Parameters
    ----------
    cohort, events
        interim/cohort.parquet and events.parquet.
    care_homes
        interim/care_homes.parquet (``care_home_id, care_model``).
    history
        interim/care_model_history.parquet (may be empty: then the effect
        tables are empty and power.csv plans a switch from ``reference`` to
        each other care model).
    outcomes
        Count outcomes of the registry (config ``evaluation.outcomes``).
    care_models, reference
        Config ``care_models`` and ``reference_care_model`` (power terms).
    window, pre_months
        Event-study months either side; months before switching of the
        regression-to-the-mean check and the baseline.
    """
    items = {o: list(registry.get(o).items) for o in outcomes}
    has_history = history is not None and len(history) > 0
    panel = make_panel(cohort, events, care_homes, history if has_history else None, items)
    switches = home_switches(care_homes, history if has_history else None)
    effects, studies, rates, power = [], [], [], []
    for outcome in outcomes:
        frame = estimation_frame(panel, switches, outcome)
        if has_history:
            eff, ev = make_scheme_effects(frame, outcome, window=window, pre_months=pre_months,
                                          alpha=alpha)
            effects.append(eff)
            studies.append(ev)
            rates.append(make_scheme_rates(frame, outcome, window=window))
            terms = sorted(frame.loc[frame["cohort"] >= 0, "scheme"].unique())
        else:
            frame = frame[frame["origin"] == reference]
            terms = [m for m in care_models if m != reference]
        if len(frame):
            power.append(make_power(frame, outcome, terms, alpha=alpha))
    log.info("evaluation: %d homes switched; %d outcomes", int(switches["scheme"].notna().sum()),
             len(outcomes))

    def stack(parts, columns):
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(
            columns=columns)

    return {"scheme_effects": stack(effects, EFFECT_COLUMNS),
            "event_study": stack(studies, EVENT_COLUMNS),
            "scheme_rates": stack(rates, SCHEME_RATE_COLUMNS),
            "power": stack(power, POWER_COLUMNS)}
