"""Write panel.csv: a small seeded home x month panel for reference.R (run from this folder).

30 homes x 10 months; 8 homes switch to scheme 0 in months 4-6, 7 to scheme 1 in
months 5-7, 15 never switch; person-years 1-3 per home-month; Poisson counts with
home effects, a falling month trend and cell-specific effects. Regenerate:
``python make_panel.py && Rscript reference.R``.
"""

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261128)
n_homes, n_months = 30, 10
home = np.repeat(np.arange(n_homes), n_months)
month = np.tile(np.arange(n_months), n_homes)
cohort_h = np.full(n_homes, -1)
group_h = np.full(n_homes, -1)
cohort_h[:8] = rng.integers(4, 7, 8)
group_h[:8] = 0
cohort_h[8:15] = rng.integers(5, 8, 7)
group_h[8:15] = 1
person_years = rng.uniform(1.0, 3.0, home.size).round(4)
alpha = rng.normal(0.0, 0.4, n_homes)
post = (cohort_h[home] >= 0) & (month >= cohort_h[home])
log_mu = (np.log(person_years) + np.log(4.0) + alpha[home] - 0.03 * month
          + post * np.where(group_h[home] == 0, -0.25, -0.1) * (1 + 0.1 * (month - cohort_h[home])))
y = rng.poisson(np.exp(log_mu))
pd.DataFrame({"home": home, "month": month, "cohort": cohort_h[home], "group": group_h[home],
              "person_years": person_years, "y": y}).to_csv("panel.csv", index=False)
