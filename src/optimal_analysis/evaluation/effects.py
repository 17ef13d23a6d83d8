"""Scheme effects, event study and power tables from the home × month estimation frame.

``scheme_effects.csv`` rows (results contract, methods extended in
docs/developing.md):

* ``did`` — Wooldridge ETWFE Poisson rate ratio of switching
  (:func:`optimal_analysis.stats.staggered.fit_etwfe`), with the event
  study's joint pre-switch test in ``pre_trend_p_value``;
* ``before_after`` — the naive contrast in switched homes only;
* ``did_baseline_adjusted`` — ``did`` plus a home's baseline log rate
  (centred) × after-baseline term: conditions on the rates that selection may
  have used (the months before the first switch), so a transient high that
  led to selection is not read as an effect (Daw & Hatfield 2018, *Health
  Serv Res* 53:4138–4156);
* ``pre_switch_rate_ratio`` — the regression-to-the-mean check: switched
  homes' rate in the ``pre_months`` before switching against comparison homes'
  in the same calendar months (> 1: they were selected on high rates).

Estimates are rate ratios, ``std_error`` on the log scale, intervals
t(G − 1) with G the homes in the fit. Comparison homes are the homes that
stayed in the switched homes' origin model throughout.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from optimal_analysis.stats.did_power import homes_needed, mdrr, variance_components
from optimal_analysis.stats.fepois import FEPoissonError
from optimal_analysis.stats.staggered import (
    fit_before_after,
    fit_etwfe,
    fit_event_study,
    fit_pre_period_ratio,
    wald_summary,
)

__all__ = ["EFFECT_COLUMNS", "EVENT_COLUMNS", "POWER_COLUMNS", "make_power", "make_scheme_effects"]

log = logging.getLogger(__name__)

EFFECT_COLUMNS = ["outcome", "method", "term", "estimate", "std_error", "conf_low", "conf_high",
                  "p_value", "n_homes_switched", "n_homes_comparison", "pre_trend_p_value"]
EVENT_COLUMNS = ["outcome", "term", "months_from_switch", "estimate", "conf_low", "conf_high"]
POWER_COLUMNS = ["outcome", "term", "n_homes", "residents_per_home", "icc", "overdispersion",
                 "mdrr", "homes_needed_20", "homes_needed_30"]


def _row(outcome, method, term, b, se, df, n_sw, n_c, pre=np.nan, alpha=0.05) -> dict:
    s = wald_summary([b], [se], df, alpha=alpha).iloc[0]
    return {"outcome": outcome, "method": method, "term": term, "estimate": s["estimate"],
            "std_error": se, "conf_low": s["conf_low"], "conf_high": s["conf_high"],
            "p_value": s["p_value"], "n_homes_switched": n_sw, "n_homes_comparison": n_c,
            "pre_trend_p_value": pre}


def _arrays(d: pd.DataFrame, group: np.ndarray):
    return (d["y"].to_numpy(float), d["person_years"].to_numpy(float), d["home"].to_numpy(),
            d["month_index"].to_numpy(), d["cohort"].to_numpy(), group)


def _baseline_term(d: pd.DataFrame, pre_months: int) -> np.ndarray:
    """Centred log baseline rate × 1[month ≥ first switch]; baseline = the months before it."""
    g0 = int(d.loc[d["cohort"] >= 0, "cohort"].min())
    base = d[(d["month_index"] < g0) & (d["month_index"] >= g0 - pre_months)]
    sums = base.groupby("home")[["y", "person_years"]].sum()
    z = np.log((sums["y"] + 0.5) / sums["person_years"])
    z = (z - z.mean()).reindex(d["home"]).fillna(0.0).to_numpy()
    return (z * (d["month_index"] >= g0).to_numpy())[:, None]


def make_scheme_effects(frame: pd.DataFrame, outcome: str, *, window: int = 12,
                        pre_months: int = 12, alpha: float = 0.05
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """scheme_effects and event_study rows for one outcome (see the module docstring).

    ``frame`` is :func:`optimal_analysis.evaluation.design.estimation_frame`.
    A fit that cannot be made (too few homes, no events) gives no row and a
    logged warning.
    """
    rows, events = [], []
    for origin, d in frame.groupby("origin", sort=True):
        d = d.reset_index(drop=True)
        if not (d["cohort"] >= 0).any() or not (d["cohort"] < 0).any():
            continue
        schemes = sorted(d.loc[d["cohort"] >= 0, "scheme"].unique())
        group = np.where(d["cohort"] >= 0, pd.Index(schemes).get_indexer(d["scheme"]), -1)
        a = _arrays(d, group)
        pre = {}
        try:
            es, pt, fit = fit_event_study(*a, window=window)
            for g, e, b, se in es[["group", "e", "log_estimate", "std_error"]].itertuples(
                    index=False):
                s = wald_summary([b], [se], fit.n_clusters - 1, alpha=alpha).iloc[0]
                events.append((outcome, schemes[g], int(e), s["estimate"], s["conf_low"],
                               s["conf_high"]))
            for g in sorted(set(es["group"])):
                events.append((outcome, schemes[g], -1, 1.0, np.nan, np.nan))
            pre = dict(zip(pt["group"], pt["pre_trend_p_value"], strict=True))
        except FEPoissonError as err:
            log.warning("%s, origin %s: no event study (%s)", outcome, origin, err)
        for method in ("did", "did_baseline_adjusted"):
            try:
                kw: dict[str, Any] = {}
                if method == "did_baseline_adjusted":
                    kw = {"x": _baseline_term(d, pre_months), "terms": ["baseline_after"]}
                agg = fit_etwfe(*a, **kw)
            except FEPoissonError as err:
                log.warning("%s, origin %s: no %s (%s)", outcome, origin, method, err)
                continue
            for r in agg.table.itertuples(index=False):
                rows.append(_row(outcome, method, schemes[r.group], r.log_estimate, r.std_error,
                                 r.df, r.n_homes_switched, r.n_homes_comparison,
                                 pre.get(r.group, np.nan) if method == "did" else np.nan, alpha))
        for g, scheme in enumerate(schemes):
            sel = (group == g) | (d["cohort"].to_numpy() < 0)
            ds = d[sel]
            sw = ds["cohort"].to_numpy() >= 0
            n_sw = ds.loc[sw, "home"].nunique()
            n_c = ds.loc[~sw, "home"].nunique()
            try:
                b, se, fit = fit_before_after(*_arrays(ds[sw], group[sel][sw])[:5])
                rows.append(_row(outcome, "before_after", scheme, b, se, fit.n_clusters - 1,
                                 fit.n_clusters, 0, alpha=alpha))
                b, se, fit = fit_pre_period_ratio(*_arrays(ds, group[sel])[:5],
                                                  months_before=pre_months)
                if fit is not None:
                    rows.append(_row(outcome, "pre_switch_rate_ratio", scheme, b, se,
                                     fit.n_clusters - 1, n_sw, n_c, alpha=alpha))
            except FEPoissonError as err:
                log.warning("%s, %s: no before-after / pre-switch ratio (%s)", outcome, scheme, err)
    return (pd.DataFrame(rows, columns=EFFECT_COLUMNS),
            pd.DataFrame(events, columns=EVENT_COLUMNS).sort_values(
                ["outcome", "term", "months_from_switch"], ignore_index=True))


def make_power(frame: pd.DataFrame, outcome: str, terms: list[str], *, alpha: float = 0.05,
               power: float = 0.8) -> pd.DataFrame:
    """power.csv rows for one outcome: a planned switch to each of ``terms``.

    Components (rate, overdispersion, home × period and lasting home
    variances) from the homes that never switched
    (:func:`optimal_analysis.stats.did_power.variance_components`, the
    panel's months halved into before and after); ``n_homes`` the homes at
    hand — with a history, those that switched to the term plus comparison
    homes, else every home, half of them switching; ``residents_per_home``
    residents at a time (person-years per home-year).
    """
    stay = frame[frame["cohort"] < 0]
    try:
        c = variance_components(stay["y"], stay["person_years"], stay["home"],
                                stay["month_index"])
    except (ValueError, FEPoissonError) as err:
        log.warning("%s: no power calculation (%s)", outcome, err)
        return pd.DataFrame(columns=POWER_COLUMNS)
    n_months = frame["month_index"].nunique()
    residents = c.person_years / (n_months / 2 / 12)
    rows = []
    for term in terms:
        switched = frame[(frame["cohort"] >= 0) & (frame["scheme"] == term)]
        n_sw = switched["home"].nunique()
        n_c = stay.loc[stay["origin"].isin(switched["origin"].unique()), "home"].nunique()
        if n_sw == 0 or n_c == 0:
            n_all = frame["home"].nunique()
            n_sw, n_c = n_all / 2, n_all / 2
        n = int(round(n_sw + n_c))
        rows.append({"outcome": outcome, "term": term, "n_homes": n,
                     "residents_per_home": residents, "icc": c.icc, "overdispersion": c.phi,
                     "mdrr": mdrr(c, n_sw, n_c, alpha=alpha, power=power),
                     "homes_needed_20": homes_needed(c, 0.8, alpha=alpha, power=power),
                     "homes_needed_30": homes_needed(c, 0.7, alpha=alpha, power=power)})
    return pd.DataFrame(rows, columns=POWER_COLUMNS)
