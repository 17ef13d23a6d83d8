"""A synthetic care-model history: a scheme starts in some homes, with a known effect.

:func:`add_scheme_history` takes a generated dataset (tables by region and
``truth``) and returns a new one with a ``care_model_history`` table in every
region and its emergency admissions *thinned* so that their intensity is

.. math::

    \\lambda_{it} = \\lambda^{(0)}_{it}\\, \\exp\\big(\\kappa\\,t_{\\text{years}}
        + v_i\\,1[t < S] + \\log\\mathrm{RR}\\;D_{it} - c\\big),

where :math:`\\lambda^{(0)}` is the generator's intensity, :math:`\\kappa` a
trend shared by every home (log per year), :math:`v_i \\sim N(0, \\sigma_v^2)`
(clipped at ±2σ) a *transient* home effect present only in the first
:math:`S` months (the selection window), :math:`D_{it} = 1` once home
:math:`i` has switched, and :math:`c` the constant that keeps every
acceptance probability ≤ 1 (thinning a Poisson process with probability
:math:`p(t)` gives intensity :math:`p(t)\\lambda^{(0)}`). So the causal rate
ratio of switching is exactly ``rate_ratio``.

Selection: among homes of the origin model, a home's selection score is
``selection_strength`` × its standardised log emergency admission rate in the
window (after thinning) plus standard logistic noise; the top
``share_switching`` switch, each on the first day of a month drawn uniformly
from ``switch_months`` (months after the study start). A before-and-after
in the switched homes then mixes the scheme effect with the shared trend
and with regression to the mean (their window rates were high partly by
chance and by :math:`v_i`); a difference in differences removes the trend;
conditioning on the window rate removes the selection on it.

Only emergency admissions change; A&E attendances and ambulance contacts
linked to a removed admission stay (the scheme's truth is for
``emergency_admission`` only), and with a history the cross-sectional truth
``rate_ratios.emergency_admission`` no longer holds for switched homes.
Command line: ``optimal-synth --months 24 --scheme dedicated_team``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["add_scheme_history"]

HISTORY_COLUMNS = ["care_home_id", "care_model", "start_date"]


def _concat(regions: dict[str, dict[str, pd.DataFrame]], table: str) -> pd.DataFrame:
    return pd.concat([t[table].assign(_region=r) for r, t in regions.items()], ignore_index=True)


def _month_start(start: pd.Timestamp, months: np.ndarray) -> np.ndarray:
    first = np.datetime64(start.date(), "M")
    return (first + months.astype("timedelta64[M]")).astype("datetime64[D]")


def add_scheme_history(
    ds: Any,
    rng: np.random.Generator,
    *,
    scheme_model: str,
    origin_model: str | None = None,
    rate_ratio: float = 0.8,
    share_switching: float = 0.4,
    selection_strength: float = 1.0,
    selection_months: int = 12,
    switch_months: Sequence[int] = (12, 18),
    trend_per_year: float = -0.1,
    transient_sd: float = 0.0,
) -> Any:
    """Return a copy of ``ds`` with a care-model history and thinned emergency admissions.

    Parameters
    ----------
    ds
        A generated dataset: ``ds.regions[region][table]`` and ``ds.truth``
        (with ``study_start``, ``reference``); the same type is returned.
    rng
        Random generator (selection noise, switch months, transient effects,
        thinning).
    scheme_model, origin_model
        The model switched to, and the model of the candidate homes (default
        the reference).
    rate_ratio
        Causal rate ratio of emergency admission after switching.
    share_switching, selection_strength, selection_months, switch_months
        Selection and timing (see the module docstring); switches happen on
        the first day of month ``k`` after the start, ``k`` uniform in
        ``[switch_months[0], switch_months[1])``, all after the window.
    trend_per_year, transient_sd
        :math:`\\kappa` and :math:`\\sigma_v`.
    """
    origin = origin_model or ds.truth["reference"]
    lo, hi = (int(m) for m in switch_months)
    if not (0 < rate_ratio and 0 < share_switching < 1 and selection_months <= lo < hi):
        raise ValueError("need rate_ratio > 0, 0 < share_switching < 1 and "
                         f"selection_months <= switch_months[0] < switch_months[1]; got "
                         f"{rate_ratio}, {share_switching}, {selection_months}, {switch_months}")
    start = pd.Timestamp(ds.truth["study_start"])
    study_end = pd.Timestamp(ds.truth["study_end"])
    if study_end < start + pd.DateOffset(months=hi):
        raise ValueError(f"switch_months {list(switch_months)} need a study window of at least "
                         f"{hi} months (it ends {study_end.date()}); generate with more months")
    window_end = np.datetime64((start + pd.DateOffset(months=selection_months)).date(), "D")
    homes = _concat(ds.regions, "care_homes")
    residents = _concat(ds.regions, "residents")
    adm = _concat(ds.regions, "admissions")
    h_index = pd.Index(homes["care_home_id"])
    cand = np.flatnonzero((homes["care_model"] == origin).to_numpy())
    n_h = len(homes)
    v = np.clip(rng.normal(0.0, transient_sd, n_h), -2 * transient_sd, 2 * transient_sd)
    u = rng.random(len(adm))
    # Residents' home and the window person-years of each home.
    res_home = h_index.get_indexer(residents["care_home_id"])
    entry = residents["entry_date"].to_numpy("datetime64[D]")
    exit_ = residents["exit_date"].to_numpy("datetime64[D]")
    in_window = (np.minimum(exit_, window_end - 1) - entry).astype(np.int64) + 1
    py_window = np.bincount(res_home, weights=np.clip(in_window, 0, None), minlength=n_h) / 365.25
    res_pos = pd.Index(residents["resident_id"].astype(object)).get_indexer(
        adm["resident_id"].astype(object))
    a_home = res_home[res_pos]
    a_date = adm["admission_date"].to_numpy("datetime64[D]")
    years = (a_date - np.datetime64(start.date(), "D")).astype(np.int64) / 365.25
    emergency = (adm["method"].astype(str) == "emergency").to_numpy()
    early = a_date < window_end
    c = 2 * transient_sd + max(0.0, np.log(rate_ratio)) + max(0.0, trend_per_year * years.max())
    log_p = trend_per_year * years + v[a_home] * early - c
    keep_early = ~emergency | ~early | (u < np.exp(log_p))
    # Selection on the window's (thinned) emergency admission rate.
    y_window = np.bincount(a_home[emergency & early & keep_early], minlength=n_h)
    log_rate = np.log((y_window[cand] + 0.5) / np.maximum(py_window[cand], 1e-9))
    z = (log_rate - log_rate.mean()) / max(log_rate.std(), 1e-12)
    score = selection_strength * z + rng.logistic(size=cand.size)
    n_switch = int(round(share_switching * cand.size))
    switched = cand[np.argsort(-score, kind="stable")[:n_switch]]
    switch_day = np.full(n_h, np.datetime64("NaT"), dtype="datetime64[D]")
    switch_day[switched] = _month_start(start, rng.integers(lo, hi, n_switch))
    d = ~np.isnat(switch_day[a_home]) & (a_date >= switch_day[a_home])
    log_p = log_p + np.log(rate_ratio) * d
    keep = ~emergency | (early & keep_early) | (~early & (u < np.exp(log_p)))
    history = pd.DataFrame({
        "care_home_id": np.repeat(homes["care_home_id"].to_numpy(object)[switched], 2),
        "care_model": np.tile(np.array([origin, scheme_model], dtype=object), n_switch),
        "start_date": np.column_stack([np.full(n_switch, np.datetime64(start.date(), "D")),
                                       switch_day[switched]]).ravel().astype("datetime64[ns]"),
        "_region": np.repeat(homes["_region"].to_numpy(object)[switched], 2)})
    adm_kept = adm[keep]
    regions = {}
    for r, tables in ds.regions.items():
        new = dict(tables)
        a = adm_kept[adm_kept["_region"] == r].drop(columns="_region")
        new["admissions"] = a.astype(tables["admissions"].dtypes.to_dict()).reset_index(drop=True)
        mine = history.loc[history["_region"] == r, HISTORY_COLUMNS]
        new["care_model_history"] = mine.sort_values(["care_home_id", "start_date"],
                                                     ignore_index=True)
        regions[r] = new
    truth = dict(ds.truth)
    truth["scheme"] = {
        "outcome": "emergency_admission", "origin": origin, "care_model": scheme_model,
        "rate_ratio": float(rate_ratio), "trend_log_per_year": float(trend_per_year),
        "transient_sd": float(transient_sd), "selection_strength": float(selection_strength),
        "selection_months": int(selection_months), "switch_months": [lo, hi],
        "share_switching": float(share_switching), "n_switched": int(n_switch),
        "n_candidates": int(cand.size), "thinning_log_constant": float(c),
        "notes": ("emergency admissions thinned: intensity x exp(trend x years + transient x "
                  "1[window] + log(rate_ratio) x switched - c); rate_ratio is the causal rate "
                  "ratio of switching; cross-sectional emergency_admission rate_ratios no "
                  "longer hold for switched homes"),
    }
    return type(ds)(regions=regions, truth=truth)
