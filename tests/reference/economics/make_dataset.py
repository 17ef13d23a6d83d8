"""Make cohort.csv, the fixture of the cost-GLM reference (run once; seeded).

Residents in 36 care homes, three care models (usual_care the reference), age,
sex, dementia, person-years, and a cost over follow-up with ~25% zeros, gamma
positive costs and a care-home effect, so the cluster-robust covariance matters.
"""

import numpy as np
import pandas as pd

rng = np.random.default_rng(20260512)
homes = 36
model = np.array(["usual_care", "dedicated_team", "paid_gp"])[np.arange(homes) % 3]
size = rng.integers(6, 22, homes)
home = np.repeat(np.arange(homes), size)
n = home.size
age = np.round(rng.uniform(68, 101, n), 1)
sex = rng.choice(["female", "male"], n, p=[0.7, 0.3])
dementia = rng.binomial(1, 0.55, n)
person_years = np.round(rng.uniform(0.08, 1.0, n), 4)
effect = {"usual_care": 0.0, "dedicated_team": -0.25, "paid_gp": 0.1}
home_effect = rng.normal(0, 0.35, homes)
lin = (np.log(2500) + np.vectorize(effect.get)(model[home]) + 0.015 * (age - 85)
       + 0.2 * (sex == "male") - 0.15 * dementia + home_effect[home])
mean = person_years * np.exp(lin) / 0.75
positive = rng.binomial(1, 0.75, n).astype(bool)
cost = np.where(positive, rng.gamma(1.2, mean / 1.2), 0.0)
pd.DataFrame({
    "resident_id": [f"r{i:04d}" for i in range(n)],
    "care_home_id": [f"h{h:02d}" for h in home],
    "care_model": model[home], "age": age, "sex": sex, "dementia": dementia,
    "person_years": person_years, "cost_gbp": np.round(cost, 2),
}).to_csv("cohort.csv", index=False)
