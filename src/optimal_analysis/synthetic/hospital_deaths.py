"""Synthetic deaths in hospital: a terminal emergency stay for a share of the deaths.

Only for datasets generated with diagnoses (``--diagnoses``); without them the
tables stay as simulated. The simulated histories give a death in hospital only
when a resident dies during a stay (a handful per care model), far below what is
seen: Public Health England's National End of Life Care Intelligence Network
found that 70% of permanent care-home residents who died in England in 2014 died
in their care home, so about 30% died elsewhere, mostly in hospital ("The role of
care homes in end of life care, Briefing 2: place and cause of death for permanent
and temporary residents of care homes", PHE publications gateway 2017275,
September 2017). The shares by care model below are an *assumption* around that
figure (enhanced support in the home is assumed to keep more deaths there).

Each resident who died outside a stay is, with probability
``hospital_death_share[care_model]`` (others: the reference's), given an
emergency admission that ends in death: admission_date = exit_date − L with
L ~ Poisson(``terminal_stay_mean_days``) (an assumption), moved later if
needed so that it is on or after the entry date and the end of the resident's
last stay (a transfer on the discharge day is allowed), and no discharge_date
(data-contract.md: empty when the resident died in hospital). Expected share of
deaths in hospital in care model m: e_m + (1 − e_m) p_m, e_m the share already
dying during a simulated stay. Contacts dated during the added stay are kept
(a simplification: the contact truths do not move).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_HOSPITAL_DEATH_PARAMS", "add_terminal_stays"]

DEFAULT_HOSPITAL_DEATH_PARAMS: dict[str, Any] = {
    # probability that a death outside a simulated stay happens in hospital (assumption
    # around PHE NEoLCIN 2017: ~30% of permanent care-home residents die outside the home)
    "hospital_death_share": {"usual_care": 0.28, "paid_gp": 0.24, "dedicated_team": 0.18},
    "terminal_stay_mean_days": 5.0,
}


def add_terminal_stays(
    residents: pd.DataFrame,
    admissions: pd.DataFrame,
    model: np.ndarray,
    rng: np.random.Generator,
    *,
    params: Mapping[str, Any] = DEFAULT_HOSPITAL_DEATH_PARAMS,
    reference: str = "usual_care",
) -> tuple[pd.DataFrame, np.ndarray]:
    """Admissions with a terminal emergency stay added for some deaths.

    Parameters
    ----------
    residents : DataFrame
        ``resident_id, entry_date, exit_date, exit_reason`` (row order kept).
    admissions : DataFrame
        ``resident_id, admission_date, discharge_date, method`` as generated.
    model : ndarray of str
        Care model of each resident (``residents`` order).
    rng : numpy Generator
    params : mapping
        As :data:`DEFAULT_HOSPITAL_DEATH_PARAMS`.
    reference : str
        Care model whose share applies to care models not listed.

    Returns
    -------
    admissions, added
        Admissions with the new rows (sorted by resident and admission date,
        the original order kept among ties), and for each resident whether a
        terminal stay was added.
    """
    shares = params["hospital_death_share"]
    p = np.array([float(shares.get(str(m), shares[reference])) for m in model])
    rid = residents["resident_id"].astype(str).to_numpy()
    a_rid = admissions["resident_id"].astype(str)
    died = residents["exit_reason"].astype(str).eq("died").to_numpy()
    open_stay = pd.Index(rid).isin(set(a_rid[admissions["discharge_date"].isna()]))
    u = rng.random(len(rid))
    length = rng.poisson(float(params["terminal_stay_mean_days"]), len(rid))
    added = died & ~open_stay & (u < p)
    last_end = (admissions["discharge_date"].groupby(a_rid.to_numpy()).max()
                .reindex(rid).to_numpy(dtype="datetime64[ns]"))
    exit_ = residents["exit_date"].to_numpy(dtype="datetime64[ns]")
    start = exit_ - length.astype("timedelta64[D]")
    start = np.maximum(start, residents["entry_date"].to_numpy(dtype="datetime64[ns]"))
    start = np.where(np.isnat(last_end), start, np.maximum(start, last_end))
    new = pd.DataFrame({
        "resident_id": rid[added],
        "admission_date": start[added],
        "discharge_date": np.full(int(added.sum()), np.datetime64("NaT"), "datetime64[ns]"),
        "method": "emergency",
    })
    out = pd.concat([admissions.astype({"resident_id": object, "method": object}), new],
                    ignore_index=True)
    out["admission_date"] = pd.to_datetime(out["admission_date"])
    out["discharge_date"] = pd.to_datetime(out["discharge_date"])
    order = np.lexsort((out["admission_date"].to_numpy(), pd.Index(rid).get_indexer(
        out["resident_id"].astype(str))))
    out = out.iloc[order].reset_index(drop=True)
    out["resident_id"] = pd.Categorical(out["resident_id"], categories=rid)
    out["method"] = pd.Categorical(out["method"], categories=["elective", "emergency"])
    return out, added
