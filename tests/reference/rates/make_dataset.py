"""Write the fixed synthetic cohort used for the R reference values (cohort.csv).

Run from this folder: ``python make_dataset.py``. Seeded; the CSV is committed so
R and the tests read the same bytes. 420 residents in 16 care homes (6 dedicated
team, 5 paid GP, 5 usual care) in 4 regions, with a care-home random effect,
gamma overdispersion and about 8% missing Barthel.
"""

import numpy as np
import pandas as pd

rng = np.random.default_rng(20240611)
n_homes, n = 16, 420
home_model = np.array(["dedicated_team"] * 6 + ["paid_gp"] * 5 + ["usual_care"] * 5)
home_region = np.array(
    ["r1", "r1", "r2", "r2", "r3", "r4", "r1", "r3", "r3", "r4", "r4", "r2", "r2", "r3", "r4", "r1"]
)
home_nursing = rng.random(n_homes) < 0.45
home_effect = rng.normal(0, 0.25, n_homes)
home = rng.integers(0, n_homes, n)
age = np.round(rng.normal(85.5, 7, n).clip(62, 105), 1)
sex = np.where(rng.random(n) < 0.74, "F", "M")
dementia = rng.random(n) < 0.75
barthel = rng.integers(0, 21, n).astype(float)
barthel[rng.random(n) < 0.08] = np.nan
follow_up_days = rng.integers(20, 366, n)
person_years = follow_up_days / 365.25
log_rr = {"dedicated_team": -0.3, "paid_gp": -0.15, "usual_care": 0.0}
eta = (
    np.log(0.8)
    + np.vectorize(log_rr.get)(home_model[home])
    + home_effect[home]
    + 0.02 * (age - 85)
    + 0.2 * (sex == "M")
    + 0.15 * dementia
    - 0.03 * np.nan_to_num(barthel - 10)
)
frailty = rng.gamma(1 / 0.6, 0.6, n)  # mean 1, variance 0.6: NB2 overdispersion
bed_days = rng.integers(0, 15, n) * (rng.random(n) < 0.4)
data = pd.DataFrame(
    {
        "resident_id": [f"p{i:04d}" for i in range(n)],
        "region": home_region[home],
        "care_home_id": [f"h{h:02d}" for h in home],
        "care_model": home_model[home],
        "nursing": home_nursing[home],
        "sex": sex,
        "age": age,
        "dementia": dementia,
        "barthel": pd.array(barthel, dtype="Int64"),
        "person_years": person_years,
        "days_at_risk": np.maximum(follow_up_days - bed_days, 1),
        "emergency_admission": rng.poisson(person_years * np.exp(eta) * frailty),
        "ae": rng.poisson(person_years * np.exp(eta + 0.3) * rng.gamma(2.0, 0.5, n)),
    }
)
data.to_csv("cohort.csv", index=False)
