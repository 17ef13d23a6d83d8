"""Large-sample truth of the marginal hazard ratios in tests/test_survival_recovery.py.

With a care-home effect (``home_sd`` > 0) and an individual frailty, the hazard ratio
of first emergency admission that a Cox model *without* frailty estimates (marginal
over homes and frailties) is attenuated towards 1 relative to the generator's
conditional intensity ratio (truth.json), and it depends on the follow-up (censoring)
pattern; the Fine–Gray subdistribution hazards are not proportional here (constant
cause-specific hazards with care-model effects on both causes), so its estimand is
the probability limit under this design's censoring. Neither has a closed form, so
both are taken from a very large sample of the exact generator and design of the
test (same arguments, 30 residents per home, 7 regions with mixed care models), as
the inverse-variance weighted mean of the log hazard ratios over ``CHUNKS``
independent datasets (one 1.2M-resident dataset does not fit in memory on CI-size
machines). Output: ``truth.csv`` (outcome, model, term, log_hr, se_log_hr, hr).

Run from the repository root (about 2-5 minutes, 4 GB of memory):
``PYTHONPATH=src python tests/reference/survival_recovery/make_truth.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from optimal_analysis.survival import make_survival_models
from optimal_analysis.synthetic import generate

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))
from tests.helpers import cohort_of  # noqa: E402

#: The design of the recovery test, except size and seed.
DESIGN = {"home_sd": 0.3, "overdispersion": 0.5}
RESIDENTS_PER_HOME = 30
CHUNKS, CHUNK_HOMES = 4, 10_000
COVARIATES = ["age", "sex", "dementia", "nursing", "barthel"]


def main() -> None:
    parts = []
    for k in range(CHUNKS):
        ds = generate(n_residents=CHUNK_HOMES * RESIDENTS_PER_HOME, n_homes=CHUNK_HOMES,
                      seed=900_000 + k, **DESIGN)
        hr = make_survival_models(cohort_of(ds), reference="usual_care", covariates=COVARIATES,
                                  care_models=ds.truth["care_models"]).hazard_ratios
        hr = hr[hr["adjustment"] == "adjusted"]
        parts.append(hr.assign(log_hr=np.log(hr["estimate"]), chunk=k))
        print(f"chunk {k + 1}/{CHUNKS} done", flush=True)
    allp = pd.concat(parts)
    w = 1 / allp["std_error"] ** 2
    allp = allp.assign(w=w, wx=w * allp["log_hr"])
    g = allp.groupby(["outcome", "model", "term"], sort=True)
    out = pd.DataFrame(
        {"log_hr": g["wx"].sum() / g["w"].sum(), "se_log_hr": 1 / np.sqrt(g["w"].sum())}
    )
    out["hr"] = np.exp(out["log_hr"])
    path = Path(__file__).with_name("truth.csv")
    out.reset_index().to_csv(path, index=False, float_format="%.6f")
    print(out)


if __name__ == "__main__":
    main()
