"""Write the dataset of the Fine–Gray-with-region-censoring reference (finegray_strata.R).

Run: ``PYTHONPATH=src .venv/bin/python tests/reference/survival/make_finegray_strata_data.py``
(seeded: the same file every time). 400 residents in 20 care homes over two
regions whose study windows differ (region A censors at 365 days, region B at
730, plus random moves out), emergency admission (status 1) and death before
admission (status 2) competing, a binary care-model indicator and age. Times are
continuous and all distinct (no ties at all), so crr's Breslow ties equal Efron
and crr's censoring Kaplan–Meier tie convention does not matter.
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261128
N = 400
N_HOMES = 20


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    home = rng.integers(0, N_HOMES, N)
    region = np.where(home < 8, "A", "B")  # homes 0-7 in A (window 365), 8-19 in B (730)
    treated = (home % 2 == 1).astype(float)
    age = np.round(rng.normal(85, 7, N), 1)
    frailty = np.exp(rng.normal(0, 0.3, N_HOMES))[home]
    t_adm = rng.exponential(500 / (frailty * np.exp(-0.3 * treated + 0.02 * (age - 85))))
    t_death = rng.exponential(600, N)
    window = np.where(region == "A", 365.0, 730.0)
    moved = rng.exponential(1500, N)
    c = np.minimum(window * rng.uniform(0.5, 1.0, N), moved)
    t = np.minimum.reduce([t_adm, t_death, c])
    status = np.select([t == t_adm, t == t_death], [1, 2], 0)
    t = np.round(t, 4)
    assert np.unique(t).size == N, "times must be distinct"
    return pd.DataFrame(
        {
            "resident_id": [f"R{i:04d}" for i in range(N)],
            "care_home_id": [f"H{h:02d}" for h in home],
            "region": region,
            "treated": treated,
            "age": age,
            "time": t,
            "status": status,
        }
    )


if __name__ == "__main__":
    out = Path(__file__).parent / "finegray_strata_data.csv"
    make().to_csv(out, index=False)
    print(f"wrote {out}")
