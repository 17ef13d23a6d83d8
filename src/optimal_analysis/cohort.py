"""Cohort and events: one row per resident with person-time and event counts.

Definitions (data-contract.md, "Follow-up and events"):

- follow_up_days = exit_date − entry_date + 1; person_years = follow_up_days / 365.25.
- An event counts if its date is in [entry_date, exit_date] (ingest has
  already set aside rows outside that window, with a reason).
- A contact row counts as ``n`` events; an admission row is one event of its
  method. Each event outcome of the registry (:mod:`optimal_analysis.outcomes`,
  sources ``service`` and ``admission_method``) gets a count column.
- Bed days of a stay = min(discharge_date, exit_date) − admission_date (0 for
  a same-day stay); a stay with no discharge_date runs to exit_date.
- Time to first emergency admission = its admission_date − entry_date + 1;
  without one, follow_up_days, with status 2 (competing event) if the resident
  died and 0 (censored) if they moved out or the study ended.

The table layouts are in docs/developing.md ("Interim tables").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimal_analysis import derived_outcomes as derived
from optimal_analysis import outcomes as registry

DAYS_PER_YEAR = 365.25
RESIDENT_COLUMNS = ["resident_id", "region", "care_home_id", "care_model", "nursing", "beds",
                    "sex", "age", "dementia", "barthel", "entry_date", "exit_date", "exit_reason"]
EVENT_COLUMNS = ["resident_id", "region", "care_home_id", "care_model", "event_type", "item",
                 "event_date", "day", "n", "discharge_date", "bed_days"]
# The columns make_cohort reads from each combined table (the workflow reads
# only these from the interim Parquet files: at national size, skipping the
# contacts' region column saves about 0.25 GB and 4 s).
INPUT_COLUMNS = {
    "care_homes": ["care_home_id", "care_model", "nursing", "beds"],
    "residents": ["resident_id", "region", "care_home_id", "sex", "age", "dementia", "barthel",
                  "entry_date", "exit_date", "exit_reason"],
    "contacts": ["resident_id", "contact_date", "service", "n"],
    "admissions": ["resident_id", "admission_date", "discharge_date", "method"],
}
# Optional contract columns (docs/outcome_codes.md): read when the table has them.
OPTIONAL_INPUT_COLUMNS = {"residents": ["place_of_death"], "admissions": ["primary_diagnosis"]}
OPTIONAL_RESIDENT_COLUMNS = ["place_of_death"]
STATUS_CENSORED, STATUS_ADMISSION, STATUS_DEATH = 0, 1, 2


class CohortError(Exception):
    """The combined tables are inconsistent (a bug upstream, or tables edited by hand)."""


def _days(delta: pd.Series) -> np.ndarray:
    return (delta.to_numpy().astype("timedelta64[D]")).astype(np.int64)


def _categorical(values: pd.Series, pos: np.ndarray) -> pd.Categorical:
    """``values.take(pos)`` as a categorical with the sorted values that occur as categories
    (what ``astype("category")`` of the taken strings gives), built from integer codes."""
    codes, uniques = pd.factorize(values, sort=True)
    return pd.Categorical.from_codes(codes[pos], pd.Index(uniques, dtype="string")
                                     ).remove_unused_categories()


def make_events(residents: pd.DataFrame, contacts: pd.DataFrame,
                admissions: pd.DataFrame) -> pd.DataFrame:
    """Stack contacts and admissions into one tidy events table.

    ``residents`` must be sorted by resident_id and carry ``region``,
    ``care_home_id``, ``care_model``, ``entry_date`` and ``exit_date``; every
    event's resident must be in it. Rows are sorted by resident, date, event
    type, item, n and bed days, so the table does not depend on input row
    order.
    """
    return _events_and_positions(residents, contacts, admissions)[0]


def _events_and_positions(residents: pd.DataFrame, contacts: pd.DataFrame,
                          admissions: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The events table and, for each event, its resident's row in ``residents``.

    Each event's resident is looked up once (a hash join to a row position);
    everything after is positional numpy work, built into one frame at the
    end, so this scales to tens of millions of rows.
    """
    rid_index = pd.Index(residents["resident_id"])
    entry = residents["entry_date"].to_numpy(dtype="datetime64[ns]")
    exit_ = residents["exit_date"].to_numpy(dtype="datetime64[ns]")
    cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                         ("pos", "kind", "date", "n", "discharge", "bed")}
    items = []
    for kind, df, date_col in ((1, contacts, "contact_date"), (0, admissions, "admission_date")):
        pos = rid_index.get_indexer(df["resident_id"])
        if (pos < 0).any():
            raise CohortError(f"{int((pos < 0).sum())} events of residents not in the cohort, "
                              f"e.g. {df['resident_id'][pos < 0].iloc[0]!r}")
        date = df[date_col].to_numpy(dtype="datetime64[ns]")
        if kind == 1:
            items.append(df["service"].astype("string[pyarrow]").array)
            n = df["n"].to_numpy(dtype=np.int64)
            discharge = np.full(len(df), np.datetime64("NaT"), dtype="datetime64[ns]")
            bed = np.zeros(len(df), dtype=np.int64)
        else:
            items.append((df["method"].astype("string[pyarrow]") + "_admission").array)
            n = np.ones(len(df), dtype=np.int64)
            discharge = df["discharge_date"].to_numpy(dtype="datetime64[ns]")
            end = np.where(np.isnat(discharge), exit_[pos], np.minimum(discharge, exit_[pos]))
            bed = (end - date).astype("timedelta64[D]").astype(np.int64)
        for key, arr in (("pos", pos), ("kind", np.full(len(df), kind, np.int8)), ("date", date),
                         ("n", n), ("discharge", discharge), ("bed", bed)):
            cols[key].append(arr)
    a = {k: np.concatenate(v) for k, v in cols.items()}
    item = pd.concat([pd.Series(i) for i in items], ignore_index=True)
    item_code, item_names = pd.factorize(item, sort=True)
    # admission (kind 0) before contact (kind 1) on the same day, then item, n, bed days
    order = np.lexsort((a["bed"], a["n"], item_code, a["kind"], a["date"].view(np.int64), a["pos"]))
    pos = a["pos"][order]
    kind_names = pd.Index(["admission", "contact"], dtype="string")
    events = pd.DataFrame({
        # text columns built as categoricals from integer codes (no per-row strings): at five
        # national years a region's events hold 7 million rows of each
        **{col: _categorical(residents[col], pos)
           for col in ("resident_id", "region", "care_home_id", "care_model")},
        "event_type": pd.Categorical.from_codes(a["kind"][order], kind_names
                                                ).remove_unused_categories(),
        "item": pd.Categorical.from_codes(item_code[order], pd.Index(item_names, dtype="string")
                                          ).remove_unused_categories(),
        "event_date": a["date"][order],
        "day": (a["date"][order] - entry[pos]).astype("timedelta64[D]").astype(np.int64) + 1,
        "n": a["n"][order],
        "discharge_date": a["discharge"][order],
        "bed_days": a["bed"][order],
    })
    if (events["bed_days"] < 0).any() or (events["day"] < 1).any():
        raise CohortError("events outside follow-up reached the cohort stage")
    return events, pos


def make_cohort(care_homes: pd.DataFrame, residents: pd.DataFrame, contacts: pd.DataFrame,
                admissions: pd.DataFrame, code_list: pd.DataFrame | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the cohort (one row per resident) and the events table.

    Parameters
    ----------
    care_homes, residents, contacts, admissions
        The combined, validated tables (used rows only, with a ``region``
        column), as written by the combine step.
    code_list
        Checked outcome code list (:func:`optimal_analysis.icd10.check_code_list`).
        When given and some admission has a ``primary_diagnosis``, each of its
        outcomes gets the columns of
        :func:`optimal_analysis.derived_outcomes.resident_columns` and is
        registered (:func:`optimal_analysis.outcomes.register_derived`);
        ``place_of_death`` is kept when the residents table has it.

    Returns
    -------
    cohort, events
        See docs/developing.md for the columns. The cohort is sorted by
        resident_id; counts are per resident over follow-up.
    """
    homes = care_homes[["care_home_id", "care_model", "nursing", "beds"]]
    res = residents.merge(homes, on="care_home_id", how="left", validate="many_to_one")
    if res["care_model"].isna().any():
        raise CohortError("residents whose care home is not in the combined care_homes")
    keep = RESIDENT_COLUMNS + [c for c in OPTIONAL_RESIDENT_COLUMNS if c in res.columns]
    res = res[keep].sort_values("resident_id", ignore_index=True)
    res["follow_up_days"] = _days(res["exit_date"] - res["entry_date"]) + 1
    res["person_years"] = res["follow_up_days"] / DAYS_PER_YEAR
    res["died"] = (res["exit_reason"] == "died").to_numpy(dtype=bool)
    res["nursing"] = res["nursing"].astype(bool)
    res["dementia"] = res["dementia"].astype(bool)

    events, idx = _events_and_positions(res, contacts, admissions)
    n_res = len(res)

    def total(mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.bincount(idx[mask], weights=weights[mask], minlength=n_res).astype(np.int64)

    codes, names = pd.factorize(events["item"])
    names = np.asarray(names, dtype=object)

    def is_item(*items: str) -> np.ndarray:
        return np.isin(codes, np.flatnonzero(np.isin(names, items)))

    n = events["n"].to_numpy()
    bed = events["bed_days"].to_numpy()
    is_contact = (events["event_type"] == "contact").to_numpy()
    for outcome in registry.event_outcomes():  # one count column per registered event outcome
        res[outcome.column] = total(is_item(*outcome.items), n)
    res["contacts"] = total(is_contact, n)
    emergency = is_item("emergency_admission")
    res["emergency_bed_days"] = total(emergency, bed)
    res["elective_bed_days"] = total(is_item("elective_admission"), bed)
    res["bed_days"] = res["emergency_bed_days"] + res["elective_bed_days"]
    res["days_at_risk"] = res["follow_up_days"] - res["bed_days"]

    # First emergency admission: events are sorted by resident and date.
    emerg = events.loc[emergency, ["resident_id", "day"]]
    first = emerg.drop_duplicates("resident_id").set_index("resident_id")["day"]
    first_day = res["resident_id"].map(first)
    has = first_day.notna().to_numpy()
    res["time_to_admission_days"] = np.where(
        has, first_day.fillna(0).to_numpy(dtype=np.int64), res["follow_up_days"].to_numpy())
    res["admission_status"] = np.where(
        has, STATUS_ADMISSION, np.where(res["died"], STATUS_DEATH, STATUS_CENSORED)).astype(np.int8)
    res, flags = _with_derived(res, admissions, code_list)
    if flags is not None:
        events = _events_with_derived(events, res, admissions, flags)
    return res, events


def _with_derived(res: pd.DataFrame, admissions: pd.DataFrame, code_list: pd.DataFrame | None,
                  ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Add the derived outcomes' columns (when there are diagnoses and a code list).

    Also returns the per-admission flags (:func:`derived_outcomes.derived_flags`,
    admissions' row order), None when there are no derived outcomes.
    """
    if (code_list is None or "primary_diagnosis" not in admissions
            or not admissions["primary_diagnosis"].notna().any()):
        return res, None
    pos = pd.Index(res["resident_id"]).get_indexer(admissions["resident_id"])
    entry = res["entry_date"].to_numpy(dtype="datetime64[ns]")[pos]
    day = _days(admissions["admission_date"] - pd.Series(entry, index=admissions.index)) + 1
    flags = derived.derived_flags(admissions["method"], admissions["primary_diagnosis"], code_list)
    registry.register_derived(flags.columns)
    cols = derived.resident_columns(len(res), pos, day, flags, res["died"].to_numpy(),
                                    res["follow_up_days"].to_numpy())
    return pd.concat([res, cols.set_index(res.index)], axis=1), flags


def _events_with_derived(events: pd.DataFrame, res: pd.DataFrame, admissions: pd.DataFrame,
                         flags: pd.DataFrame) -> pd.DataFrame:
    """The events table with column ``derived_outcomes`` on its admission rows.

    ``derived_outcomes`` names the derived outcomes an admission is an event
    of (``;``-joined, in code-list order; missing for none and on contact
    rows), a categorical (one small integer code per row), so the costing
    stage can cost the flagged stays. Admission rows keep their relative
    order in the events table (sorted by resident, date, item, bed days; ties
    in input order), so the admissions sorted the same way line up with them;
    the keys are compared to make sure.
    """
    rid = pd.Index(res["resident_id"]).get_indexer(admissions["resident_id"])
    date = admissions["admission_date"].to_numpy(dtype="datetime64[ns]")
    exit_ = res["exit_date"].to_numpy(dtype="datetime64[ns]")[rid]
    discharge = admissions["discharge_date"].to_numpy(dtype="datetime64[ns]")
    end = np.where(np.isnat(discharge), exit_, np.minimum(discharge, exit_))
    bed = (end - date).astype("timedelta64[D]").astype(np.int64)
    item = (admissions["method"].astype(str) + "_admission").to_numpy(dtype=object)
    item_code = pd.factorize(item, sort=True)[0]
    order = np.lexsort((bed, item_code, date.view(np.int64), rid))
    rows = np.flatnonzero((events["event_type"] == "admission").to_numpy())
    adm = events.iloc[rows]
    same = (len(rows) == len(order)
            and np.array_equal(adm["resident_id"].to_numpy(object),
                               res["resident_id"].to_numpy(object)[rid[order]])
            and np.array_equal(adm["event_date"].to_numpy(), date[order])
            and np.array_equal(adm["item"].to_numpy(object), item[order])
            and np.array_equal(adm["bed_days"].to_numpy(), bed[order]))
    if not same:
        raise CohortError("admissions do not line up with the admission rows of the events")
    names = list(flags.columns)
    bits = flags.to_numpy(dtype=np.int64) @ (1 << np.arange(len(names), dtype=np.int64))
    combos, inverse = np.unique(bits, return_inverse=True)
    labels = [";".join(n for k, n in enumerate(names) if (c >> k) & 1) for c in combos]
    codes = np.full(len(events), -1, dtype=np.int64)
    codes[rows] = np.where(combos[inverse] > 0, inverse, -1)[order]
    cats = [lab for lab in labels if lab]
    remap = np.array([cats.index(lab) if lab else -1 for lab in labels] + [-1])
    return events.assign(derived_outcomes=pd.Categorical.from_codes(remap[codes], cats))


# ---------------------------------------------------------------------------
# per region (docs/scaling.md): make_cohort on one region's used rows, then the parts combined

#: Low-cardinality text columns of the events, dictionary-encoded in memory and in Parquet.
EVENT_DICTIONARY_COLUMNS = ["resident_id", "region", "care_home_id", "care_model",
                            "event_type", "item"]


def encode_events(events: pd.DataFrame) -> pd.DataFrame:
    """The events with :data:`EVENT_DICTIONARY_COLUMNS` as categoricals (sorted categories).

    Values are unchanged; a region's events table takes about a third of the
    memory and disk, and is read back without decoding (Arrow dictionaries).
    Columns are replaced one at a time in ``events`` itself (returned), so at
    most one column is held twice.
    """
    for col in EVENT_DICTIONARY_COLUMNS:
        events[col] = events[col].astype("category")
    return events


def combine_cohort_parts(parts: list[pd.DataFrame],
                         code_list: pd.DataFrame | None = None) -> pd.DataFrame:
    """The cohort of every region from :func:`make_cohort`'s per-region cohorts.

    Equal to :func:`make_cohort` of the stacked regions: a resident's row
    depends only on its own region's rows, and resident ids are unique across
    regions (ingest sets aside ids used in more than one). The derived outcomes'
    columns are added when any admission has a diagnosis: a region whose
    admissions have none gets what :func:`_with_derived` gives a resident
    without a coded admission (count 0, time = follow_up_days, status 2 if
    died else 0). Sorted by resident_id.
    """
    names = derived.derived_names(code_list)
    if any(names and names[0] in p.columns for p in parts):
        flags = pd.DataFrame({n: np.zeros(0, dtype=bool) for n in names})
        parts = [p if names[0] in p.columns else pd.concat([p, derived.resident_columns(
            len(p), np.zeros(0, np.int64), np.zeros(0, np.int64), flags, p["died"].to_numpy(),
            p["follow_up_days"].to_numpy()).set_index(p.index)], axis=1) for p in parts]
        registry.register_derived(names)
    parts = [p for p in parts if len(p)] or parts[:1]  # an empty part has no dtypes to give
    cohort = pd.concat(parts, ignore_index=True)
    return cohort.sort_values("resident_id", ignore_index=True)
