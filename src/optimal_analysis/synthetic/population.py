"""Care homes and residents of the synthetic generator (array functions, no tables).

Used by `optimal_analysis.synthetic`; parameters are ``DEFAULT_EFFECTS["population"]``
in `optimal_analysis.synthetic.params`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from optimal_analysis.synthetic import sim as sim
from optimal_analysis.synthetic.params import AGE_CENTRE_YEARS, BARTHEL_CENTRE

DAYS_PER_YEAR = 365.25
OPTIMAL_REGIONS: tuple[str, ...] = ("north", "midlands", "south")
NHS_REGIONS: tuple[str, ...] = (
    "london", "south_east", "south_west", "midlands", "east_of_england",
    "north_west", "north_east_and_yorkshire",
)  # fmt: skip


def region_names(k: int, n_homes: int = 12) -> tuple[str, ...]:
    """Default names of ``k`` regions: OPTIMAL's three, NHS England's seven, else numbered."""
    if k == 3 and n_homes <= 12:
        return OPTIMAL_REGIONS
    if k <= len(NHS_REGIONS):
        return NHS_REGIONS[:k]
    return tuple(f"region_{i + 1:02d}" for i in range(k))


def resolve_regions(
    regions: Sequence[str] | Mapping[str, str | Sequence[str]] | None,
    care_models: Sequence[str],
    n_homes: int,
    mixed: bool,
) -> list[tuple[str, list[str]]]:
    """``[(region, [care models of its homes])]`` from ``generate``'s arguments.

    Raises ValueError naming every problem (unknown care models, repeated names, too few homes).
    """
    if regions is None:
        regions = OPTIMAL_REGIONS if n_homes <= 12 else NHS_REGIONS[: min(7, n_homes)]
    if isinstance(regions, Mapping):
        out = [(str(r), [m] if isinstance(m, str) else list(m)) for r, m in regions.items()]
    else:
        names = [str(r) for r in regions]
        out = [
            (r, list(care_models) if mixed else [care_models[i % len(care_models)]])
            for i, r in enumerate(names)
        ]
    unknown = sorted({m for _, ms in out for m in ms} - set(care_models))
    problems = [f"care models not in care_models: {unknown}"] if unknown else []
    if len({r for r, _ in out}) != len(out):
        problems.append("region names repeat")
    if n_homes < len(out):
        problems.append(f"n_homes={n_homes} is fewer than the {len(out)} regions")
    if any(not ms for _, ms in out):
        problems.append("a region has no care model")
    if problems:
        raise ValueError("generate(): " + "; ".join(problems))
    return out


def draw_homes(
    rng: np.random.Generator,
    n_homes: int,
    region_models: list[np.ndarray],
    n_care_models: int,
    pop: Mapping[str, Any],
) -> dict[str, np.ndarray]:
    """Region, care model (index), nursing flag and beds of each home.

    Homes are split evenly over regions in order; home *k* of region *r* gets
    ``region_models[r][(k + r) % len]`` (balanced, and offset so mixed regions
    do not all start with the same model). Nursing homes are a share
    ``p_nursing_home`` spread evenly over region x care model strata
    (`sim.stratified_flags`); beds are log-normal around
    ``beds_median`` (+``beds_nursing_extra`` for nursing homes).
    """
    home_region = np.arange(n_homes) * len(region_models) // n_homes
    k_in_region = np.arange(n_homes) - np.searchsorted(home_region, home_region)
    home_model = np.empty(n_homes, dtype=np.int64)
    for r, idx in enumerate(region_models):  # a handful of regions
        sel = home_region == r
        home_model[sel] = idx[(k_in_region[sel] + r) % idx.size]
    nursing = sim.stratified_flags(
        rng, home_region * n_care_models + home_model, pop["p_nursing_home"]
    )
    beds = np.clip(
        np.round(pop["beds_median"] * np.exp(0.35 * rng.standard_normal(n_homes))), 8, 180
    )
    beds = (beds + pop["beds_nursing_extra"] * nursing).astype(np.int64)
    return {"region": home_region, "model": home_model, "nursing": nursing, "beds": beds}


def draw_residents(
    rng: np.random.Generator,
    n_residents: int,
    homes: Mapping[str, np.ndarray],
    pop: Mapping[str, Any],
    *,
    window_days: int,
    move_out_per_year: float,
    home_window_days: np.ndarray | None = None,
    home_p_late: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Residents' home, covariates, entry day and (potential) end of follow-up.

    Residents are allocated to homes in proportion to beds (largest
    remainder, so the total is exact) and numbered home by home. Age ~
    Normal(age_mean + male shift, age_sd), whole years, clipped; sex female
    with ``p_female``; dementia more common in nursing homes; Barthel ~
    BetaBinomial(20) with mean share lower in nursing homes and with
    dementia, a share ``p_barthel_missing`` blanked at random (MCAR; the
    complete value still drives the intensities). A share
    ``p_enter_during_window`` enters on a uniform day 1..D-1, the rest on day
    0; the move-out time is entry + Exponential(``move_out_per_year``), and
    ``end_time = min(D, move-out time)``. ``x`` is the covariate matrix in the
    order of ``params.COVARIATES``. ``home_window_days`` (one per home)
    gives each home's own window length ``D`` (regions with different study
    windows; ``window_days`` is then unused); the result then also has
    ``window_days``, one per resident. ``home_p_late`` (one per home) replaces
    ``p_enter_during_window`` by each home's own share of late entrants.
    """
    counts = sim.allocate_counts(n_residents, homes["beds"].astype(float))
    home = np.repeat(np.arange(homes["beds"].size), counts)
    n = home.size
    nursing = homes["nursing"][home]
    male = rng.random(n) >= pop["p_female"]
    age = np.round(
        pop["age_mean_years"]
        + pop["male_age_shift_years"] * male
        + pop["age_sd_years"] * rng.standard_normal(n)
    )
    age = np.clip(age, pop["age_min_years"], pop["age_max_years"]).astype(np.int64)
    p_dem = np.where(nursing, pop["p_dementia_nursing"], pop["p_dementia_residential"])
    dementia = rng.random(n) < p_dem
    b_mean = np.where(nursing, pop["barthel_mean_nursing"], pop["barthel_mean_residential"])
    b_mean = np.clip(b_mean + pop["barthel_dementia_shift"] * dementia, 0.05, 0.95)
    conc = pop["barthel_concentration"]
    barthel = rng.binomial(20, rng.beta(b_mean * conc, (1 - b_mean) * conc))
    barthel_missing = rng.random(n) < pop["p_barthel_missing"]
    x = np.column_stack(
        [(age - AGE_CENTRE_YEARS) / 10, male, dementia, nursing, barthel - BARTHEL_CENTRE]
    ).astype(float)
    p_late = pop["p_enter_during_window"] if home_p_late is None else home_p_late[home]
    late = rng.random(n) < p_late
    if home_window_days is None:
        d: int | np.ndarray = window_days
        entry_day = np.where(late, rng.integers(1, max(window_days, 2), size=n), 0)
    else:
        d = home_window_days[home]
        entry_day = np.where(late, rng.integers(1, np.maximum(d, 2)), 0)
    entry_day = np.minimum(entry_day, d - 1)
    move_time = entry_day + rng.exponential(size=n) * DAYS_PER_YEAR / move_out_per_year
    extra = {} if home_window_days is None else {"window_days": d}
    return {
        **extra,
        "home": home,
        "male": male,
        "age": age,
        "dementia": dementia,
        "barthel": barthel,
        "barthel_missing": barthel_missing,
        "x": x,
        "entry_day": entry_day,
        "end_time": np.minimum(move_time, np.asarray(d, dtype=float)),
    }
