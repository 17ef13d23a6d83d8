"""Write data.csv: time to first avoidable emergency admission of a small synthetic cohort.

Run from the repository root: PYTHONPATH=src python tests/reference/derived_curves/make_data.py
The generator (seed 31, 400 residents, diagnoses) and the default code list give the cohort's
derived columns ``time_to_avoidable_emergency_admission_days`` and
``avoidable_emergency_admission_status`` (0 censored, 1 event, 2 death first); R's survival
package then computes the reference curves from this file alone (reference.R).
"""

from pathlib import Path

from optimal_analysis.cohort import make_cohort
from optimal_analysis.icd10 import normalise_codes
from optimal_analysis.io import read_code_list
from optimal_analysis.synthetic import generate

here = Path(__file__).resolve().parent
root = here.parents[2]
ds = generate(n_residents=400, seed=31, diagnoses=True)
tables = {t: ds.table(t) for t in ("care_homes", "residents", "contacts", "admissions")}
tables["admissions"]["primary_diagnosis"] = normalise_codes(
    tables["admissions"]["primary_diagnosis"])[0]
cohort, _ = make_cohort(**tables, code_list=read_code_list(root / "config/outcome_codes.csv"))
name = "avoidable_emergency_admission"
out = cohort[["resident_id", "care_home_id", "care_model"]].assign(
    time=cohort[f"time_to_{name}_days"], status=cohort[f"{name}_status"])
out.to_csv(here / "data.csv", index=False)
