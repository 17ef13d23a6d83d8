"""Time the scheme evaluation stage on a simulated national-size cohort with a care-model history.

    .venv/bin/python benchmarks/bench_evaluation.py --residents 400000 --homes 15000 --months 24

Simulates ``interim/cohort.parquet``- and ``events.parquet``-shaped tables directly
(vectorised: residents spread over homes with staggered entry and exit over the window,
events of the four count outcomes at resident-level Poisson rates with a home effect,
dated uniformly within follow-up) and a care_model_history in which 30% of the usual-care
homes switch in months 10-17 (rate ratio 0.8 after switching). Times the stage's package
functions: the home x month panel, then per outcome the estimation frame, scheme effects
(did, baseline-adjusted did, before-after, pre-switch ratio, event study +-12 months) and
power. Prints one line per step (wall and CPU seconds).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from optimal_analysis.evaluation.design import estimation_frame, home_switches
from optimal_analysis.evaluation.effects import make_power, make_scheme_effects
from optimal_analysis.evaluation.panel import make_panel

OUTCOMES = {"emergency_admission": 0.85, "elective_admission": 0.1, "ae": 1.2, "ambulance": 1.0}


def simulate(n_residents: int, n_homes: int, months: int, rng: np.random.Generator):
    """(cohort, events, care_homes, history) of the shapes the stage reads."""
    start = np.datetime64("2014-04-01")
    end = (np.datetime64("2014-04") + np.timedelta64(months, "M")).astype("datetime64[D]")
    span = int((end - start) // np.timedelta64(1, "D"))
    homes = pd.DataFrame({"care_home_id": [f"CH{i:05d}" for i in range(n_homes)],
                          "care_model": rng.choice(["dedicated_team", "paid_gp", "usual_care"],
                                                   n_homes)})
    home = rng.integers(0, n_homes, n_residents)
    entry = np.where(rng.random(n_residents) < 0.6, 0, rng.integers(0, span, n_residents))
    exit_ = np.minimum(entry + rng.exponential(500, n_residents).astype(np.int64), span - 1)
    usual = np.flatnonzero(homes["care_model"] == "usual_care")
    switched = rng.choice(usual, int(0.3 * usual.size), replace=False)
    switch_month = np.full(n_homes, 10 ** 6)
    switch_month[switched] = rng.integers(10, 18, switched.size)
    switch_day = np.full(n_homes, 10 ** 9)
    switch_day[switched] = ((np.datetime64("2014-04") + switch_month[switched].astype(
        "timedelta64[M]")).astype("datetime64[D]") - start) // np.timedelta64(1, "D")
    effect = rng.normal(0, 0.3, n_homes)
    rows = []
    for name, rate in OUTCOMES.items():  # four outcomes, each vectorised over residents
        n = rng.poisson(rate * np.exp(effect[home]) * (exit_ - entry + 1) / 365.25)
        who = np.repeat(np.arange(n_residents), n)
        day = entry[who] + (rng.random(who.size) * (exit_[who] - entry[who] + 1)).astype(np.int64)
        keep = (day < switch_day[home[who]]) | (rng.random(who.size) < 0.8)
        rows.append(pd.DataFrame({"resident_id": who[keep], "item": name, "day": day[keep]}))
    ev = pd.concat(rows, ignore_index=True)
    ids = np.array([f"R{i:07d}" for i in range(n_residents)], dtype=object)
    home_ids = homes["care_home_id"].to_numpy()
    cohort = pd.DataFrame({"resident_id": ids, "care_home_id": home_ids[home],
                           "entry_date": start + entry.astype("timedelta64[D]"),
                           "exit_date": start + exit_.astype("timedelta64[D]"),
                           "died": rng.random(n_residents) < 0.3})
    events = pd.DataFrame({"resident_id": ids[ev["resident_id"]],
                           "care_home_id": cohort["care_home_id"].to_numpy()[ev["resident_id"]],
                           "item": ev["item"].to_numpy(object),
                           "event_date": start + ev["day"].to_numpy().astype("timedelta64[D]"),
                           "n": 1})
    hid = homes["care_home_id"].to_numpy()[switched]
    history = pd.DataFrame({
        "care_home_id": np.repeat(hid, 2),
        "care_model": np.tile(["usual_care", "dedicated_team"], switched.size),
        "start_date": np.column_stack([np.full(switched.size, start),
                                       start + switch_day[switched].astype("timedelta64[D]")]
                                      ).ravel()})
    return cohort, events, homes, history


def _timed(label: str, fn, *args, **kw):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    print(f"{label:<48} wall {time.perf_counter() - w:6.2f} s  "
          f"cpu {time.process_time() - c:6.2f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=400_000)
    parser.add_argument("--homes", type=int, default=15_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    a = parser.parse_args()
    cohort, events, homes, history = simulate(a.residents, a.homes, a.months,
                                              np.random.default_rng(a.seed))
    print(f"{a.residents:,} residents, {a.homes:,} homes, {a.months} months, {len(events):,} "
          f"events, {history['care_home_id'].nunique():,} homes switch")
    w0, c0 = time.perf_counter(), time.process_time()
    items = {k: [k] for k in OUTCOMES}
    panel = _timed("panel (home x month x period, 4 outcomes)", make_panel, cohort, events, homes,
                   history, items)
    switches = home_switches(homes, history)
    for outcome in OUTCOMES:
        frame = _timed(f"  {outcome}: estimation frame", estimation_frame, panel, switches,
                       outcome)
        eff, _ = _timed(f"  {outcome}: effects + event study", make_scheme_effects, frame,
                        outcome, window=12)
        _timed(f"  {outcome}: power", make_power, frame, outcome, ["dedicated_team"])
        did = eff.set_index("method").loc["did"]
        print(f"    did {did['estimate']:.3f} ({did['conf_low']:.3f}-{did['conf_high']:.3f}), "
              f"pre-trend p {did['pre_trend_p_value']:.2f}")
    print(f"{'scheme stage total':<48} wall {time.perf_counter() - w0:6.2f} s  "
          f"cpu {time.process_time() - c0:6.2f} s")


if __name__ == "__main__":
    main()
