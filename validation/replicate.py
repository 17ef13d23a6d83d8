"""One replicate of the validation study: generate -> cohort -> models -> the estimands.

Used by ``validation/run_validation.py`` (``make validate``). A replicate runs the
package's own functions in the order the workflow does (``synthetic.generate``, the
regions combined in memory, ``cohort.make_cohort``, ``rate_models.make_rate_models``,
``survival.models.make_survival_models``, ``survival.make_cumulative_incidence``,
``costing.make_cost_tables``) and returns one row per estimand x term with the
estimate, its reported standard error and every interval the tables carry.

Columns are read by name: the small-sample interval (``tidy.SMALL_SAMPLE_COLUMNS``)
is read where the table has it and is NaN otherwise, so the study picks it up
without change once the stages report it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from optimal_analysis.cohort import make_cohort
from optimal_analysis.costing import make_cost_tables
from optimal_analysis.rates.models import make_rate_models
from optimal_analysis.survival import make_cumulative_incidence
from optimal_analysis.survival.models import make_survival_models
from optimal_analysis.synthetic import generate

REPO = Path(__file__).resolve().parents[1]
CARE_MODELS = ["dedicated_team", "paid_gp", "usual_care"]
REFERENCE = "usual_care"
COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]
HORIZON_DAYS = 365
TABLES = ("care_homes", "residents", "contacts", "admissions")
#: Interval kind -> (lower, upper) column; a kind whose columns a table lacks is NaN.
INTERVALS: dict[str, tuple[str, str]] = {
    "contract": ("conf_low", "conf_high"),
    "small": ("conf_low_small", "conf_high_small"),
}
#: Share of late entrants by region (12-month window from 2014-04-01 for all): later entry
#: means earlier censoring at the study end, so censoring differs by region, while every
#: region keeps residents followed the whole year (positivity up to 365 days; windows of
#: different length would leave a region with nobody at risk late in follow-up).
REGION_LATE_ENTRY = {"north": 0.05, "midlands": 0.3, "south": 0.6}
#: ``effects`` of the censoring-free truth dataset: no move-out, everyone enters at the start.
NO_CENSORING = {"base_rates_per_year": {"move_out": 1e-12},
                "population": {"p_enter_during_window": 0.0}}


@dataclass(frozen=True)
class Design:
    """A simulation design: ``generate`` arguments at replicate size."""

    name: str
    n_homes: int
    residents_per_home: int
    regions: Mapping[str, Any]
    description: str
    home_sd: float = 0.3
    overdispersion: float = 0.5
    region_late_entry: Mapping[str, float] = field(
        default_factory=lambda: dict(REGION_LATE_ENTRY)
    )

    def generate(self, *, seed: int, n_homes: int | None = None, censored: bool = True):  # type: ignore[no-untyped-def]
        """The design's dataset (``n_homes`` overrides the size; residents per home kept).

        ``censored=False``: the same population without censoring (no move-out, no
        late entry; followed to death or the end of the 12-month window).
        """
        homes = n_homes or self.n_homes
        return generate(
            n_residents=homes * self.residents_per_home, n_homes=homes, seed=seed,
            regions=dict(self.regions), home_sd=self.home_sd,
            overdispersion=self.overdispersion,
            region_late_entry=dict(self.region_late_entry) if censored else None,
            effects=None if censored else NO_CENSORING,
        )  # fmt: skip


DESIGNS: dict[str, Design] = {
    "moderate": Design(
        "moderate", 60, 20,
        {"north": ["dedicated_team", "usual_care"], "midlands": ["paid_gp", "usual_care"],
         "south": CARE_MODELS},
        "60 care homes x 20 residents in 3 regions; north mixes dedicated_team and usual_care "
        "homes, midlands paid_gp and usual_care, south all three (17/17/26 homes by care "
        "model), so care model and region (hence study-end censoring) are partly associated",
    ),
    "few_homes": Design(
        "few_homes", 12, 20,
        {"north": "dedicated_team", "midlands": "paid_gp", "south": "usual_care"},
        "12 care homes x 20 residents, OPTIMAL's shape: one care model per region, 4 homes "
        "each, so each comparison has 8 homes and censoring differs by care model",
    ),
}  # fmt: skip
SMALL_DESIGN = Design(  # the harness smoke test's design
    "smoke", 12, 10, DESIGNS["few_homes"].regions, "smoke test: 12 homes x 10 residents"
)

#: Estimand id -> (description, scale of bias/SE: "log" or "identity", truth source).
ESTIMANDS: dict[str, tuple[str, str, str]] = {
    "rr_poisson_py": ("Poisson rate ratio, emergency admissions, adjusted, per person-year",
                      "log", "large sample (Poisson, person-years)"),
    "rr_negbin_py": ("NB rate ratio, emergency admissions, adjusted, per person-year",
                     "log", "large sample (Poisson, person-years)"),
    "rr_poisson_dar": ("Poisson rate ratio, emergency admissions, adjusted, per day at risk",
                       "log", "generator (truth.json rate_ratios)"),
    "rr_negbin_dar": ("NB rate ratio, emergency admissions, adjusted, per day at risk",
                      "log", "generator (truth.json rate_ratios)"),
    "hr_cox": ("Cox hazard ratio, first emergency admission, adjusted", "log",
               "large sample (Cox)"),
    "hr_fine_gray": ("Fine–Gray subdistribution HR, first emergency admission, adjusted",
                     "log", "large sample without censoring (Fine–Gray)"),
    "cif_365": (f"Cumulative incidence of emergency admission at {HORIZON_DAYS} days",
                "identity", "large sample without censoring (share admitted)"),
    "cost_pry": ("Cost per resident-year (total, GBP)", "identity", "large sample (ratio of "
                 "totals)"),
}  # fmt: skip


def cohort_and_events(ds) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """Combine the regions in memory (as the combine step) and build cohort and events."""
    tables = {
        t: pd.concat([ds.regions[r][t].assign(region=r) for r in ds.regions], ignore_index=True)
        for t in TABLES
    }
    return make_cohort(*(tables[t] for t in TABLES))


def _intervals(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for kind, (lo, hi) in INTERVALS.items():
        nan = np.full(len(rows), np.nan)
        out[f"low_{kind}"] = rows[lo].to_numpy(float) if lo in rows else nan
        out[f"high_{kind}"] = rows[hi].to_numpy(float) if hi in rows else nan
    return out


def _pick(rows: pd.DataFrame, estimand: str, term_col: str, *, se: np.ndarray | None = None,
          value: str = "estimate") -> pd.DataFrame:
    std = rows["std_error"].to_numpy(float) if se is None else se
    return pd.DataFrame({"estimand": estimand, "term": rows[term_col].astype(str).to_numpy(),
                         "estimate": rows[value].to_numpy(float), "std_error": std,
                         **_intervals(rows)})


def _cif_at(ci: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """The Aalen–Johansen row of emergency admission in force at ``horizon`` days, per model."""
    em = ci[(ci["event"] == "emergency_admission") & (ci["time"] <= horizon)]
    return em.sort_values(["care_model", "time"]).groupby("care_model", sort=False).tail(1)


def estimands(cohort: pd.DataFrame, events: pd.DataFrame, *, rng: np.random.Generator,
              wild_replicates: int, cost_replicates: int) -> pd.DataFrame:
    """Every estimand of one dataset: ``estimand, term, estimate, std_error, low_*, high_*``.

    ``std_error`` is on the scale of ``ESTIMANDS`` (log for ratios). Costs have no
    reported SE unless the table gains a ``std_error`` column; the one implied by the
    interval, ``(high - low) / (2 z_0.975)``, is used instead.
    """
    rr = make_rate_models(
        cohort, reference=REFERENCE, covariates=COVARIATES, outcomes=["emergency_admission"],
        few_clusters_threshold=30, wild_bootstrap_replicates=wild_replicates, rng=rng,
        care_models=CARE_MODELS, exposures=("person_years", "days_at_risk"),
    ).rate_ratios  # fmt: skip
    rr = rr[rr["adjustment"] == "adjusted"]
    hr = make_survival_models(
        cohort, reference=REFERENCE, covariates=COVARIATES, care_models=CARE_MODELS
    ).hazard_ratios
    hr = hr[(hr["adjustment"] == "adjusted") & (hr["outcome"] == "emergency_admission")]
    ci = _cif_at(make_cumulative_incidence(cohort, care_models=CARE_MODELS), HORIZON_DAYS)
    costs, _, _ = make_cost_tables(
        events, cohort, pd.read_csv(REPO / "config/unit_costs/unit_costs_2015.csv"),
        pd.read_csv(REPO / "config/unit_costs/inflation_index.csv"), price_year=2024,
        scheme="spell", replicates=cost_replicates, rng=rng, care_models=CARE_MODELS,
    )  # fmt: skip
    costs = costs[costs["item"] == "total"]
    z = stats.norm.ppf(0.975)
    cost_se = (costs["std_error"].to_numpy(float) if "std_error" in costs
               else (costs["conf_high"] - costs["conf_low"]).to_numpy(float) / (2 * z))
    parts = [
        _pick(rr[(rr["model"] == m) & (rr["exposure"] == e)], f"rr_{m}_{tag}", "term")
        for m in ("poisson", "negbin") for e, tag in (("person_years", "py"),
                                                      ("days_at_risk", "dar"))
    ]  # fmt: skip
    parts += [_pick(hr[hr["model"] == m], f"hr_{m}", "term") for m in ("cox", "fine_gray")]
    parts.append(_pick(ci, "cif_365", "care_model"))
    parts.append(_pick(costs, "cost_pry", "care_model", se=cost_se,
                       value="cost_per_resident_year"))
    return pd.concat(parts, ignore_index=True)


def replicate_seeds(
    seed: int, design_index: int, replicate: int
) -> tuple[int, np.random.Generator]:
    """The generator's seed and the models' Generator of one replicate (independent streams)."""
    ss = np.random.SeedSequence(seed, spawn_key=(design_index, replicate))
    data_ss, model_ss = ss.spawn(2)
    return int(data_ss.generate_state(1)[0]), np.random.default_rng(model_ss)


def run_replicate(design: Design, *, seed: int, design_index: int, replicate: int,
                  wild_replicates: int, cost_replicates: int) -> pd.DataFrame:
    """One replicate's estimands, with ``design`` and ``replicate`` columns."""
    data_seed, rng = replicate_seeds(seed, design_index, replicate)
    cohort, events = cohort_and_events(design.generate(seed=data_seed))
    out = estimands(cohort, events, rng=rng, wild_replicates=wild_replicates,
                    cost_replicates=cost_replicates)
    return out.assign(design=design.name, replicate=replicate)


def large_sample_truth(design: Design, *, seed: int, n_homes: int) -> pd.DataFrame:
    """Truth of each estimand x term for ``design``: ``estimand, term, truth, truth_se, source``.

    Datasets of the same design with ``n_homes`` homes (same residents per home,
    regions, late entry, home effect and frailty). The day-at-risk rate ratios' truth
    is the generator's intensity ratio (truth.json). The Fine–Gray ratio and the
    cumulative incidence are censoring-free quantities (the censoring weights and the
    Aalen–Johansen estimator are there to undo censoring): their truth is the
    estimate on a second large dataset of the same population without censoring
    (:data:`NO_CENSORING`; its Aalen–Johansen estimate is the share admitted by 365
    days). The Cox hazard ratio (marginal over home effect and frailty, so not
    proportional and dependent on censoring), the per-person-year rate ratios and the
    costs take the estimate on the censored large dataset, the NB per-person-year
    ratio the Poisson one (the ratio of marginal means, which the mean-1
    multiplicative home effect and frailty leave unchanged). ``truth_se`` is the
    large-sample SE (its Monte Carlo error); the censored large-sample estimate of
    the day-at-risk, Fine–Gray and incidence estimands is kept in ``check``.
    """
    def run(censored: bool) -> tuple[pd.DataFrame, dict]:
        ds = design.generate(seed=seed + (0 if censored else 1), n_homes=n_homes,
                             censored=censored)
        cohort, events = cohort_and_events(ds)
        return estimands(cohort, events, rng=np.random.default_rng(seed), wild_replicates=0,
                         cost_replicates=20), ds.truth

    est, gen_truth = run(True)
    est = est.assign(truth=est["estimate"], truth_se=est["std_error"], check=np.nan)
    free = run(False)[0].set_index(["estimand", "term"])
    cf = est["estimand"].isin(["hr_fine_gray", "cif_365"])
    idx = pd.MultiIndex.from_frame(est.loc[cf, ["estimand", "term"]])
    est.loc[cf, "check"] = est.loc[cf, "estimate"]
    est.loc[cf, "truth"] = free.loc[idx, "estimate"].to_numpy()
    est.loc[cf, "truth_se"] = free.loc[idx, "std_error"].to_numpy()
    key = ["estimand", "term"]
    pois = est[est["estimand"] == "rr_poisson_py"].set_index("term")
    nb = est["estimand"] == "rr_negbin_py"
    est.loc[nb, "truth"] = est.loc[nb, "term"].map(pois["estimate"]).to_numpy()
    est.loc[nb, "truth_se"] = est.loc[nb, "term"].map(pois["std_error"]).to_numpy()
    dar = est["estimand"].str.endswith("_dar")
    gen = gen_truth["rate_ratios"]["emergency_admission"]
    est.loc[dar, "check"] = est.loc[dar, "estimate"]
    est.loc[dar, "truth"] = est.loc[dar, "term"].map(gen).to_numpy()
    est.loc[dar, "truth_se"] = 0.0
    est["source"] = est["estimand"].map({k: v[2] for k, v in ESTIMANDS.items()})
    return est[[*key, "truth", "truth_se", "check", "source"]].assign(design=design.name)
