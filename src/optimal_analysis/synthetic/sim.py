"""Numerical core of the synthetic generator: vectorised event simulation.

Array functions only (no DataFrames, no files); `optimal_analysis.synthetic`
turns their output into the data contract's tables. Time is continuous, in
days from the study start (day 0 = study start; the window is ``[0, D)``).
An event at time ``t`` falls on day ``floor(t)``.

Model (per resident *i*, all intensities per day, constant over time):

* out of hospital, emergency admissions arrive at rate ``lam_emergency[i]``
  and elective admissions at ``lam_elective[i]`` (both switched off while in
  hospital), death at ``lam_death[i]``;
* in hospital, death arrives at ``lam_death[i] * death_in_hospital_multiplier``;
* a stay lasts ``L ~ LogNormal(log(median_days), sigma)`` days; the next
  out-of-hospital spell starts on the day after the discharge day, so stays
  of one resident never share a day;
* follow-up ends at the first of death, move-out (``end_time[i] < D``; a
  move-out due while in hospital happens at discharge) and the study end
  ``D``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXIT_STUDY_END, EXIT_MOVED_OUT, EXIT_DIED = 0, 1, 2


@dataclass(frozen=True)
class Histories:
    """Output of :func:`simulate_histories`.

    ``exit_time`` is continuous (days from study start); ``exit_day`` is the
    exit date's day index (``floor(exit_time)``, at most ``D - 1``).
    Out-of-hospital segments ``[seg_start, seg_end)`` are sorted by resident
    then time; stays are sorted by resident then admission time and
    ``stay_discharge_day`` is -1 when the stay has no discharge date (died in
    hospital, or still in hospital at the study end).
    """

    exit_time: np.ndarray
    exit_day: np.ndarray
    exit_reason: np.ndarray
    seg_resident: np.ndarray
    seg_start: np.ndarray
    seg_end: np.ndarray
    stay_resident: np.ndarray
    stay_admission_day: np.ndarray
    stay_discharge_day: np.ndarray
    stay_emergency: np.ndarray


def simulate_histories(
    rng: np.random.Generator,
    *,
    entry_day: np.ndarray,
    end_time: np.ndarray,
    window_days: int | np.ndarray,
    lam_emergency: np.ndarray,
    lam_elective: np.ndarray,
    lam_death: np.ndarray,
    death_in_hospital_multiplier: float,
    los_median_days: tuple[float, float],
    los_sigma: tuple[float, float],
) -> Histories:
    """Simulate admissions, stays and exits for every resident at once.

    Parameters
    ----------
    entry_day : int array, day index of entry (follow-up starts at its beginning).
    end_time : float array, ``min(D, move-out time)`` in days.
    window_days : ``D``, days in the study window: one number, or one per
        resident (windows that differ by region; all start on day 0).
    lam_* : float arrays, intensities per day.
    los_median_days, los_sigma : (emergency, elective) log-normal length of stay.

    Notes
    -----
    Vectorised by rounds: each round advances every still-followed resident
    by one out-of-hospital spell (and the stay that ends it), so the number
    of rounds is the largest number of stays of any resident plus one.
    Exponential waiting times are memoryless, so redrawing the death time at
    the start of each spell gives the constant hazards above.
    """
    n = entry_day.size
    d_all = np.broadcast_to(np.asarray(window_days, dtype=float), (n,))
    exit_time = np.full(n, np.nan)
    exit_reason = np.zeros(n, dtype=np.int8)
    segs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    stays: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    act = np.arange(n)
    t = entry_day.astype(float)
    while act.size:
        lam_adm = lam_emergency[act] + lam_elective[act]
        t_adm = t + rng.exponential(size=act.size) / lam_adm
        t_die = t + rng.exponential(size=act.size) / lam_death[act]
        e, big_d = end_time[act], d_all[act]
        first = np.minimum(np.minimum(t_adm, t_die), e)
        segs.append((act, t, first))

        died = (t_die <= t_adm) & (t_die < e)
        exit_time[act[died]] = t_die[died]
        exit_reason[act[died]] = EXIT_DIED
        cens = ~died & (e <= t_adm)
        exit_time[act[cens]] = e[cens]
        exit_reason[act[cens]] = np.where(e[cens] < big_d[cens], EXIT_MOVED_OUT, EXIT_STUDY_END)

        adm = ~died & ~cens
        b, tb, eb, big_d = act[adm], t_adm[adm], e[adm], big_d[adm]
        emergency = rng.random(b.size) * lam_adm[adm] < lam_emergency[b]
        med = np.where(emergency, los_median_days[0], los_median_days[1])
        sig = np.where(emergency, los_sigma[0], los_sigma[1])
        t_dis = tb + med * np.exp(sig * rng.standard_normal(b.size))
        t_die_h = tb + rng.exponential(size=b.size) / (lam_death[b] * death_in_hospital_multiplier)
        die_h = (t_die_h < t_dis) & (t_die_h < big_d)
        next_t = np.floor(t_dis) + 1.0
        still_in = ~die_h & (t_dis >= big_d)
        moves = ~die_h & ~still_in & (eb < big_d) & (eb < next_t)
        ends = ~die_h & ~still_in & ~moves & (next_t >= big_d)
        goes_on = ~(die_h | still_in | moves | ends)

        dis_day = np.where(die_h | still_in, -1, np.floor(t_dis)).astype(np.int64)
        stays.append((b, np.floor(tb).astype(np.int64), dis_day, emergency))
        exit_time[b[die_h]] = t_die_h[die_h]
        exit_reason[b[die_h]] = EXIT_DIED
        exit_time[b[still_in | ends]] = big_d[still_in | ends]
        exit_reason[b[still_in | ends]] = EXIT_STUDY_END
        exit_time[b[moves]] = np.maximum(eb[moves], t_dis[moves])
        exit_reason[b[moves]] = EXIT_MOVED_OUT
        act, t = b[goes_on], next_t[goes_on]

    exit_day = np.minimum(np.floor(exit_time), d_all - 1).astype(np.int64)
    seg_r, seg_s, seg_e = (np.concatenate(x) for x in zip(*segs, strict=True))
    order = np.lexsort((seg_s, seg_r))
    if stays:
        st = [np.concatenate(x) for x in zip(*stays, strict=True)]
    else:  # pragma: no cover - no residents
        st = [np.empty(0, np.int64)] * 3 + [np.empty(0, bool)]
    st_order = np.lexsort((st[1], st[0]))
    return Histories(
        exit_time=exit_time,
        exit_day=exit_day,
        exit_reason=exit_reason,
        seg_resident=seg_r[order],
        seg_start=seg_s[order],
        seg_end=seg_e[order],
        stay_resident=st[0][st_order],
        stay_admission_day=st[1][st_order],
        stay_discharge_day=st[2][st_order],
        stay_emergency=st[3][st_order],
    )


def out_of_hospital_days(h: Histories, n_residents: int) -> np.ndarray:
    """Total out-of-hospital time per resident (days): sum of segment lengths."""
    return np.bincount(h.seg_resident, weights=h.seg_end - h.seg_start, minlength=n_residents)


def place_events(
    rng: np.random.Generator, h: Histories, counts: np.ndarray, n_residents: int
) -> np.ndarray:
    """Day index of each of ``counts[i]`` events per resident, uniform over out-of-hospital time.

    Events are returned in resident order (``np.repeat(arange(n), counts)``).
    A homogeneous Poisson process on a union of intervals, given its count, has
    its points independent and uniform on the union; the union is laid end to
    end on one global clock (cumulative segment lengths) and each point is
    mapped back to its segment with ``searchsorted``.
    """
    seg_len = h.seg_end - h.seg_start
    cum_end = np.cumsum(seg_len)
    cum_start = cum_end - seg_len
    res_total = np.bincount(h.seg_resident, weights=seg_len, minlength=n_residents)
    res_offset = np.cumsum(res_total) - res_total
    who = np.repeat(np.arange(n_residents), counts)
    g = res_offset[who] + rng.random(who.size) * res_total[who]
    seg = np.searchsorted(cum_end, g, side="right")
    # Guard the global clock's float edges: stay inside the resident's own segments.
    residents = np.arange(n_residents)
    first_seg = np.searchsorted(h.seg_resident, residents, side="left")[who]
    last_seg = np.searchsorted(h.seg_resident, residents, side="right")[who] - 1
    seg = np.clip(seg, first_seg, last_seg)
    t = h.seg_start[seg] + (g - cum_start[seg])
    day = np.floor(t).astype(np.int64)
    return np.clip(day, np.floor(h.seg_start[seg]).astype(np.int64), h.exit_day[who])


def gamma_frailty(rng: np.random.Generator, n: int, variance: float) -> np.ndarray:
    """Gamma multipliers with mean 1 and the given variance (all ones when variance is 0)."""
    if variance <= 0:
        return np.ones(n)
    return rng.gamma(1.0 / variance, variance, size=n)


def lognormal_effect(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    """``exp(N(-sd²/2, sd²))``: log-normal multipliers with mean 1 (ones when sd is 0)."""
    if sd <= 0:
        return np.ones(n)
    return np.exp(sd * rng.standard_normal(n) - sd**2 / 2)


def stratified_flags(rng: np.random.Generator, group: np.ndarray, p: float) -> np.ndarray:
    """Flag about a share ``p`` of units, spread evenly over groups (systematic sampling).

    Units are put in group order, randomly within group; unit ``k`` of the
    ordered list is flagged when ``floor((k+1)p + u) - floor(kp + u) = 1``
    (one uniform ``u``), so the total is ``floor(np)`` or ``ceil(np)`` and
    every group gets its share to within one.
    """
    n = group.size
    order = np.lexsort((rng.random(n), group))
    k = np.arange(n)
    u = rng.random()
    hit = (np.floor((k + 1) * p + u) - np.floor(k * p + u)) == 1
    flags = np.empty(n, dtype=bool)
    flags[order] = hit
    return flags


def allocate_counts(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    share = total * weights / weights.sum()
    base = np.floor(share).astype(np.int64)
    left = total - int(base.sum())
    # Ties broken by position so the split is deterministic.
    extra = np.argsort(-(share - base), kind="stable")[:left]
    base[extra] += 1
    return base


def draw_contacts(
    rng: np.random.Generator,
    h: Histories,
    expected: np.ndarray,
    *,
    window_days: int,
    ae_index: int,
    ambulance_index: int,
    p_ae_given_emergency: float,
    p_ambulance_given_ae: float,
    p_ambulance_given_direct: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Contact rows ``(resident, day, service, n)`` sorted by resident, day, service.

    ``expected[i, k]`` is resident *i*'s expected count of service *k* over
    their out-of-hospital time; counts are Poisson (the frailties are already
    in ``expected``) and placed uniformly in that time (:func:`place_events`).
    Each emergency admission adds an A&E attendance on its day with
    probability ``p_ae_given_emergency`` and an ambulance call-out with
    ``p_ambulance_given_ae`` (through A&E) or ``p_ambulance_given_direct``.
    Events of one resident, service and day become one row with ``n`` >= 1.
    """
    n, k = expected.shape
    counts = rng.poisson(expected)
    per_res = counts.sum(axis=1)
    day = place_events(rng, h, per_res, n)
    res = np.repeat(np.arange(n), per_res)
    svc = np.repeat(np.tile(np.arange(k), n), counts.ravel())
    em = h.stay_emergency
    via_ae = rng.random(em.size) < p_ae_given_emergency
    p_amb = np.where(via_ae, p_ambulance_given_ae, p_ambulance_given_direct)
    via_amb = rng.random(em.size) < p_amb
    linked = [(em & via_ae, ae_index), (em & via_amb, ambulance_index)]
    res = np.concatenate([res] + [h.stay_resident[m] for m, _ in linked])
    day = np.concatenate([day] + [h.stay_admission_day[m] for m, _ in linked])
    svc = np.concatenate([svc] + [np.full(int(m.sum()), i) for m, i in linked])
    key, n_per_row = np.unique((res * window_days + day) * k + svc, return_counts=True)
    return key // (k * window_days), (key // k) % window_days, key % k, n_per_row.astype(np.int64)
