"""Write the fixed synthetic dataset of the weighting R reference values (data.csv).

Run from this folder: ``python make_data.py`` (seeded: the same bytes every time).
600 residents in 30 care homes and 5 regions; three care models assigned to homes,
with residents' age, sex, dementia and Barthel depending on the home's care model
(so the groups differ and a propensity model has something to do); nursing is a
home attribute. Counts (emergency admissions over person-years) and a competing-risks
time (status 1 emergency admission, 2 death first, 0 censored) in whole days with ties.
Four regions hold two care models, one region only one (meta-analysis edge case).
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261128
N_HOMES = 30
N = 600


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    region_models = {
        "r1": ["dedicated_team", "usual_care"],
        "r2": ["dedicated_team", "usual_care"],
        "r3": ["paid_gp", "usual_care"],
        "r4": ["dedicated_team", "paid_gp", "usual_care"],
        "r5": ["usual_care"],
    }
    home_region = np.array([f"r{1 + h % 5}" for h in range(N_HOMES)])
    home_model = np.array(
        [region_models[r][(h // 5) % len(region_models[r])] for h, r in enumerate(home_region)]
    )
    home_nursing = rng.random(N_HOMES) < 0.45
    home_effect = rng.normal(0, 0.2, N_HOMES)
    home = rng.integers(0, N_HOMES, N)
    cm = home_model[home]
    shift = {"dedicated_team": 2.5, "paid_gp": 1.0, "usual_care": -1.0}
    age = np.round(rng.normal(85 + np.vectorize(shift.get)(cm), 6), 1)
    p_male = np.where(cm == "dedicated_team", 0.2, np.where(cm == "paid_gp", 0.3, 0.35))
    sex = np.where(rng.random(N) < p_male, "M", "F")
    p_dem = np.where(cm == "dedicated_team", 0.8, np.where(cm == "paid_gp", 0.65, 0.6))
    dementia = (rng.random(N) < p_dem).astype(int)
    barthel = np.clip(np.round(rng.normal(9 - 1.2 * (cm == "dedicated_team"), 5)), 0, 20)
    barthel[rng.random(N) < 0.05] = np.nan
    nursing = home_nursing[home].astype(int)
    log_rr = {"dedicated_team": -0.3, "paid_gp": -0.1, "usual_care": 0.0}
    b = np.nan_to_num(barthel, nan=9.0)
    lp = (
        np.vectorize(log_rr.get)(cm)
        + home_effect[home]
        + 0.03 * (age - 85)
        + 0.2 * (sex == "M")
        + 0.25 * dementia
        - 0.04 * (b - 9)
        + 0.15 * nursing
    )
    days = rng.integers(30, 366, N)
    person_years = days / 365.25
    frailty = rng.gamma(1 / 0.5, 0.5, N)
    emergency = rng.poisson(1.1 * person_years * np.exp(lp) * frailty)
    t_adm = rng.exponential(400 / np.exp(lp))
    t_death = rng.exponential(700 / np.exp(0.04 * (age - 85) + 0.2 * nursing))
    t_cens = np.where(rng.random(N) < 0.2, rng.uniform(1, 365, N), 365)
    t = np.minimum(np.minimum(t_adm, t_death), t_cens)
    status = np.where(t == t_adm, 1, np.where(t == t_death, 2, 0))
    time = np.maximum(np.ceil(t / 3) * 3, 1).astype(int)  # 3-day grid: many ties
    return pd.DataFrame(
        {
            "resident_id": [f"R{i:04d}" for i in range(N)],
            "region": home_region[home],
            "care_home_id": [f"H{h:02d}" for h in home],
            "care_model": cm,
            "age": age,
            "sex": sex,
            "dementia": dementia,
            "nursing": nursing,
            "barthel": barthel,
            "person_years": person_years,
            "emergency_admission": emergency,
            "time": time,
            "status": status,
        }
    )


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False)
