"""Economic bottom line: scheme running costs, a joint care-home bootstrap, ICER logic.

Every quantity is a ratio estimator per resident-year, R_m = Σ_h Y_h / Σ_h T_h over
the care homes h of care model m (Y: a per-home total, T: person-years), as in
costs.csv. Costs and admissions of the same home are resampled together, so each
replicate keeps their correlation; care models are resampled independently of each
other (their homes are different homes), as in the cost bootstrap.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from optimal_analysis.stats.bootstrap import cluster_bootstrap_ratio, percentile_interval

__all__ = [
    "SCHEME_COST_UNITS",
    "JointBootstrap",
    "break_even_running_cost",
    "icer_quadrant",
    "incremental_summary",
    "joint_home_bootstrap",
    "prob_below",
    "prob_saving_curve",
    "scheme_cost_per_home",
]

#: Units a scheme's running cost may be given in (config/scheme_costs.csv).
SCHEME_COST_UNITS = ("resident_year", "home_year", "bed_year")


def scheme_cost_per_home(
    cost: ArrayLike,
    unit: ArrayLike,
    *,
    person_years: ArrayLike,
    home_years: ArrayLike,
    beds: ArrayLike,
) -> NDArray[np.float64]:
    """Running cost of the scheme in each care home over its follow-up (GBP).

    .. math::  S_h = c_h \\times E_h, \\qquad
        E_h = \\begin{cases} T_h & \\text{per resident-year} \\\\
                              Y_h & \\text{per home-year} \\\\
                              B_h Y_h & \\text{per bed-year} \\end{cases}

    with c_h the cost of the home's care model per unit, T_h the person-years of its
    residents, Y_h the years the home was observed and B_h its registered beds.

    Parameters
    ----------
    cost, unit
        ``(H,)`` cost per unit and unit (one of :data:`SCHEME_COST_UNITS`) of each home.
    person_years, home_years, beds
        ``(H,)`` exposures; ``beds`` may be NaN where no home is costed per bed-year.

    Raises
    ------
    ValueError
        An unknown unit, or a home costed per bed-year without a positive bed count
        (every such home is counted in the message).
    """
    c = np.asarray(cost, dtype=float)
    u = np.asarray(unit, dtype=object)
    t = np.asarray(person_years, dtype=float)
    y = np.asarray(home_years, dtype=float)
    b = np.asarray(beds, dtype=float)
    unknown = sorted({str(x) for x in u[~np.isin(u, SCHEME_COST_UNITS)]})
    if unknown:
        raise ValueError(f"unknown scheme cost unit(s) {unknown}; expected {SCHEME_COST_UNITS}")
    per_bed = u == "bed_year"
    no_beds = per_bed & ~(np.isfinite(b) & (b > 0))
    if no_beds.any():
        raise ValueError(
            f"{int(no_beds.sum())} care home(s) costed per bed-year have no bed count "
            "(care_homes.beds): give beds, or cost the scheme per home-year or resident-year"
        )
    exposure = np.where(u == "resident_year", t, np.where(per_bed, np.nan_to_num(b) * y, y))
    return c * exposure


@dataclass(frozen=True)
class JointBootstrap:
    """Point estimates and bootstrap replicates of per-resident-year ratios.

    ``estimate[m, k]`` = Σ_h Y_hk / Σ_h T_h over the homes of group m;
    ``replicates[b, m, k]`` the same in replicate b (NaN for a group with < 2 homes,
    whose between-home variation cannot be estimated).
    """

    estimate: NDArray[np.float64]
    replicates: NDArray[np.float64]
    n_homes: NDArray[np.int64]


def joint_home_bootstrap(
    values: ArrayLike,
    person_years: ArrayLike,
    groups: ArrayLike,
    *,
    n_groups: int,
    replicates: int,
    rng: np.random.Generator,
    chunk_size: int = 200,
) -> JointBootstrap:
    """Resample care homes within each group; all columns of a home move together.

    Parameters
    ----------
    values
        ``(H, K)`` per-home totals (e.g. NHS cost GBP, scheme cost GBP, emergency
        admissions).
    person_years
        ``(H,)`` person-years of each home's residents.
    groups
        ``(H,)`` integer group (care model) codes 0..n_groups-1.

    Returns
    -------
    JointBootstrap
        with replicates ``R*_{bmk} = Σ_h W_bh Y_hk / Σ_h W_bh T_h`` where W are the
        resampling counts of group m's homes in replicate b (one draw for all K
        columns: :func:`~optimal_analysis.stats.bootstrap.cluster_bootstrap_ratio`).
        The draws of group m come after those of groups < m from the same ``rng``.
    """
    y = np.asarray(values, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    t = np.asarray(person_years, dtype=float)
    g = np.asarray(groups, dtype=np.int64)
    if not (y.shape[0] == t.size == g.size):
        raise ValueError(f"lengths differ: values {y.shape[0]}, person_years {t.size}, "
                         f"groups {g.size}")
    k = y.shape[1]
    n_homes = np.bincount(g, minlength=n_groups).astype(np.int64)
    sums = np.zeros((n_groups, k))
    np.add.at(sums, g, y)
    py = np.bincount(g, weights=t, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = np.where(py[:, None] > 0, sums / py[:, None], np.nan)
    reps = np.full((replicates, n_groups, k), np.nan)
    for m in range(n_groups):  # a few care models; the replicates are vectorised
        sel = g == m
        if sel.sum() >= 2:
            reps[:, m, :] = cluster_bootstrap_ratio(y[sel], t[sel], replicates=replicates,
                                                    rng=rng, chunk_size=chunk_size)
    return JointBootstrap(estimate, reps, n_homes)


def icer_quadrant(delta_cost: ArrayLike, avoided: ArrayLike) -> tuple[NDArray, NDArray]:
    """Cost per admission avoided, and where the ratio means nothing, why.

    With ΔC the incremental cost and ΔE the admissions avoided (both per
    resident-year, scheme minus reference):

    ==================  ==========================  ===================
    ΔE > 0, ΔC > 0       ICER = ΔC / ΔE              ``"costs more, avoids admissions"``
    ΔE > 0, ΔC <= 0      no ratio                    ``"dominant"``
    ΔE < 0, ΔC >= 0      no ratio                    ``"dominated"``
    ΔE < 0, ΔC < 0       ΔC / ΔE = saving per        ``"saves money, more admissions"``
                         extra admission
    ΔE = 0 or NaN        no ratio                    ``"no difference in admissions"``
    ==================  ==========================  ===================

    Returns ``(icer, quadrant)`` arrays (icer NaN where there is no ratio).
    """
    c = np.atleast_1d(np.asarray(delta_cost, dtype=float))
    e = np.atleast_1d(np.asarray(avoided, dtype=float))
    ne = (e > 0) & (c > 0)
    sw = (e < 0) & (c < 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        icer = np.where(ne | sw, c / e, np.nan)
    quadrant = np.select(
        [ne, (e > 0) & (c <= 0), (e < 0) & (c >= 0), sw, np.isnan(c)],
        ["costs more, avoids admissions", "dominant", "dominated",
         "saves money, more admissions", "not estimable"],
        default="no difference in admissions",
    ).astype(object)
    return icer, quadrant


def prob_below(replicates: ArrayLike, threshold: float = 0.0) -> NDArray[np.float64]:
    """Share of replicates below ``threshold`` in each column, ignoring NaN ones.

    .. math::  \\hat P = \\#\\{b: \\Delta^*_b < t\\} / \\#\\{b: \\Delta^*_b\\ \\text{finite}\\}

    (the probability that the scheme saves money, with Δ* the incremental total
    cost and t = 0); NaN for a column without finite replicates.
    """
    r = np.asarray(replicates, dtype=float)
    if r.ndim == 1:
        r = r[:, None]
    ok = np.isfinite(r)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, ((r < threshold) & ok).sum(axis=0) / n, np.nan)


def prob_saving_curve(
    delta_nhs: ArrayLike, reference_scheme: ArrayLike, running_costs: ArrayLike
) -> NDArray[np.float64]:
    """Probability of saving money as a function of the scheme's running cost.

    .. math::  P(s) = \\Pr\\big(\\Delta^*_{NHS} + s - s^*_{ref} < 0\\big)

    over the replicates, for each running cost s (GBP per resident-year) of the
    scheme; ``delta_nhs`` ``(B,)`` replicates of the NHS cost difference (scheme
    minus reference), ``reference_scheme`` ``(B,)`` or scalar: the reference
    model's own running cost per resident-year. Non-increasing in s.
    """
    d = np.asarray(delta_nhs, dtype=float) - np.broadcast_to(
        np.asarray(reference_scheme, dtype=float), np.shape(delta_nhs))
    s = np.asarray(running_costs, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return np.full(s.shape, np.nan)
    # P(d + s < 0) = P(d < -s): count with one sort instead of a B x S comparison.
    return np.searchsorted(np.sort(d), -s, side="left") / d.size


def break_even_running_cost(
    delta_nhs: float, delta_nhs_replicates: ArrayLike, reference_scheme: float = 0.0,
    *, level: float = 0.95,
) -> tuple[float, float, float]:
    """The running cost per resident-year at which the scheme breaks even, with its interval.

    .. math::  s_{BE} = s_{ref} - \\Delta_{NHS}

    (the NHS costs it saves, plus what the reference model's own scheme costs);
    the interval is the percentile interval of s_ref − Δ*_NHS. A negative value
    means the scheme's NHS costs are higher: it cannot break even at any price.
    """
    reps = reference_scheme - np.asarray(delta_nhs_replicates, dtype=float)
    low, high = percentile_interval(reps, level=level)
    return float(reference_scheme - delta_nhs), float(low[0]), float(high[0])


def incremental_summary(
    boot: JointBootstrap, *, reference: int, level: float = 0.95
) -> dict[str, NDArray[np.float64]]:
    """Incremental cost and admissions avoided of every group against ``reference``.

    ``boot`` columns must be (0) NHS cost, (1) scheme running cost, (2) emergency
    admissions, all per resident-year (:func:`joint_home_bootstrap`). With
    C_m = NHS_m + S_m the total cost and A_m the admission rate:

    .. math::

        \\Delta C_m = C_m - C_{ref}, \\qquad \\Delta E_m = A_{ref} - A_m,

    each with the percentile interval of its replicates (computed on the same
    replicates: C*_m and A*_m come from the same resampled homes);
    ``prob_cost_saving`` = share of replicates with ΔC* < 0 (:func:`prob_below`);
    ``icer``/``quadrant`` from the point estimates (:func:`icer_quadrant`);
    ``delta_nhs_replicates`` ``(B, M)`` and ``reference_scheme_replicates`` ``(B,)``
    for the saving curve. The reference group's own row is NaN.
    """
    est, reps = boot.estimate, boot.replicates
    total, total_r = est[:, 0] + est[:, 1], reps[:, :, 0] + reps[:, :, 1]
    d_cost = total - total[reference]
    d_cost_r = total_r - total_r[:, [reference]]
    avoided = est[reference, 2] - est[:, 2]
    avoided_r = reps[:, [reference], 2] - reps[:, :, 2]
    with warnings.catch_warnings():  # a model with < 2 homes has only NaN replicates
        warnings.simplefilter("ignore", RuntimeWarning)
        c_low, c_high = percentile_interval(d_cost_r, level=level)
        a_low, a_high = percentile_interval(avoided_r, level=level)
    prob = prob_below(d_cost_r)
    icer, quadrant = icer_quadrant(d_cost, avoided)
    out = {
        "nhs_cost": est[:, 0], "scheme_cost": est[:, 1], "total_cost": total,
        "incremental_cost": d_cost, "incremental_cost_low": c_low,
        "incremental_cost_high": c_high, "admissions_avoided": avoided,
        "admissions_avoided_low": a_low, "admissions_avoided_high": a_high,
        "prob_cost_saving": prob, "icer": icer, "quadrant": quadrant,
        "delta_nhs_replicates": reps[:, :, 0] - reps[:, [reference], 0],
        "delta_cost_replicates": d_cost_r, "avoided_replicates": avoided_r,
        "reference_scheme_replicates": reps[:, reference, 1],
    }
    for key in ("incremental_cost", "incremental_cost_low", "incremental_cost_high",
                "admissions_avoided", "admissions_avoided_low", "admissions_avoided_high",
                "prob_cost_saving", "icer"):
        out[key] = np.asarray(out[key], dtype=float).copy()
        out[key][reference] = np.nan
    out["quadrant"] = out["quadrant"].copy()
    out["quadrant"][reference] = "reference"
    return out
