"""Write the fixed synthetic dataset the R reference values are computed on.

Run: ``.venv/bin/python tests/reference/survival/make_data.py`` (seeded: the
same file every time). 360 residents in 18 care homes (6 per care model),
follow-up in whole days up to 420 with many ties, emergency admission
(status 1) and death before admission (status 2) competing, administrative
censoring, and barthel missing for about 8% of residents.
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
N_HOMES = 18
N = 360


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    models = np.array(["dedicated_team", "paid_gp", "usual_care"])
    home_model = np.repeat(models, N_HOMES // 3)
    home = rng.integers(0, N_HOMES, N)
    care_model = home_model[home]
    age = np.round(rng.normal(85, 7, N), 1)
    sex = np.where(rng.random(N) < 0.7, "F", "M")
    dementia = rng.random(N) < 0.6
    nursing = (home % 2) == 0
    barthel = rng.integers(0, 21, N).astype(float)
    lp_adm = (
        0.3 * (care_model == "usual_care")
        - 0.2 * (care_model == "dedicated_team")
        + 0.02 * (age - 85)
    )
    lp_adm += 0.25 * (sex == "M") - 0.03 * (barthel - 10) + rng.normal(0, 0.3, N_HOMES)[home]
    lp_death = 0.04 * (age - 85) + 0.3 * nursing + 0.2 * dementia
    t_adm = rng.exponential(600 / np.exp(lp_adm))
    t_death = rng.exponential(900 / np.exp(lp_death))
    t_cens = np.where(rng.random(N) < 0.2, rng.uniform(1, 420, N), 420)
    t = np.minimum.reduce([t_adm, t_death, t_cens])
    # whole days, counted from day 1 (as time_to_admission_days): many ties
    days = np.ceil(t / 3).astype(int) * 3
    days = np.minimum(days, 420)
    status = np.select([t == t_adm, t == t_death], [1, 2], 0)
    barthel[rng.random(N) < 0.08] = np.nan
    return pd.DataFrame(
        {
            "resident_id": [f"R{i:04d}" for i in range(N)],
            "care_home_id": [f"H{h:02d}" for h in home],
            "care_model": care_model,
            "time": days,
            "status": status,
            "age": age,
            "sex": sex,
            "dementia": dementia.astype(int),
            "nursing": nursing.astype(int),
            "barthel": barthel,
        }
    )


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, na_rep="NA")
