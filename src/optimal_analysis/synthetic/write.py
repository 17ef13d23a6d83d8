"""Writing synthetic datasets and their calibration summary.

See :mod:`optimal_analysis.synthetic.generate` for the model and truth.json.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from optimal_analysis.io import atomic_path, write_text

if TYPE_CHECKING:
    from optimal_analysis.synthetic.generate import SyntheticDataset

log = logging.getLogger("optimal_analysis.synthetic")

_TABLES = ("care_homes", "residents", "contacts", "admissions")
_OPTIONAL_TABLES = ("care_model_history",)  # written where a region has it (synthetic.history)


def _to_arrow(df: pd.DataFrame) -> pa.Table:
    """Contract types: strings, date32 dates, bool, int64 (nullable), no pandas metadata."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    cols = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, pa.string())
        elif pa.types.is_timestamp(col.type):
            col = pc.cast(col, pa.date32())
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


def write_dataset(ds: SyntheticDataset, out_dir: str | Path, *, fmt: str = "csv") -> list[Path]:
    """Write ``ds`` as ``<out_dir>/<region>/<table>.<fmt>`` and ``<out_dir>/truth.json``.

    CSV: UTF-8, header, ISO dates, ``true``/``false``, empty cells for missing
    values. Parquet: strings, ``date32`` dates, booleans, nullable int64. Each
    file is written atomically; equal datasets give byte-identical files.
    Returns the paths written.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"write_dataset(): fmt must be 'csv' or 'parquet', got {fmt!r}")
    out = Path(out_dir)
    paths: list[Path] = []
    for region, tables in ds.regions.items():
        for name in (*_TABLES, *(t for t in _OPTIONAL_TABLES if t in tables)):
            path = out / region / f"{name}.{fmt}"
            table = _to_arrow(tables[name])
            with atomic_path(path) as tmp:
                if fmt == "csv":
                    opts = pacsv.WriteOptions(include_header=True, quoting_style="none")
                    pacsv.write_csv(table, tmp, write_options=opts)
                else:
                    pq.write_table(table, tmp, compression="zstd")
            paths.append(path)
    truth_path = out / "truth.json"
    write_text(json.dumps(ds.truth, indent=2, sort_keys=False) + "\n", truth_path)
    paths.append(truth_path)
    return paths


def calibration_summary(ds: SyntheticDataset) -> pd.DataFrame:
    """Crude figures of a dataset beside the published targets it is calibrated to.

    Returns one row per measure: ``measure, target, low, high, achieved``
    (``low``/``high`` NaN where the target is descriptive only). Rates are per
    resident-year with follow-up days = exit − entry + 1 (data contract);
    ``annual death risk`` is 1 − exp(−deaths / person-years).
    """
    homes, res = ds.table("care_homes"), ds.table("residents")
    con, adm = ds.table("contacts"), ds.table("admissions")
    res = res.merge(homes[["care_home_id", "nursing"]], on="care_home_id", how="left")
    py = float(((res["exit_date"] - res["entry_date"]).dt.days + 1).sum() / 365.25)
    by_svc = con.groupby("service")["n"].sum()
    emerg = adm[adm["method"] == "emergency"]
    los = (emerg["discharge_date"] - emerg["admission_date"]).dt.days.dropna()
    in_hosp = adm["discharge_date"].isna() & adm["resident_id"].map(
        res.set_index("resident_id")["exit_reason"]
    ).eq("died")
    died = res["exit_reason"].eq("died")
    deaths_in_hosp = adm.loc[in_hosp, "resident_id"].nunique()
    bart = res.groupby("nursing")["barthel"].mean()
    late = 100 * (res["entry_date"] > res["entry_date"].min()).mean()
    elective = float((adm["method"] == "elective").sum())
    pct_in_hosp = 100 * deaths_in_hosp / max(int(died.sum()), 1)
    ae, amb = float(by_svc.get("ae", 0)), float(by_svc.get("ambulance", 0))
    gp = sum(float(by_svc.get(s, 0)) for s in ("gp_visit", "gp_surgery", "gp_phone"))
    rows = [
        ("residents", "about 240 (OPTIMAL)", np.nan, np.nan, len(res)),
        ("mean age, years", "85-86", 85.0, 86.5, res["age"].mean()),
        ("SD of age, years", "about 8", 6.5, 9.5, res["age"].std()),
        ("% women", "about 75", 70, 80, 100 * res["sex"].eq("F").mean()),
        ("% with dementia", "70-80", 70, 80, 100 * res["dementia"].mean()),
        ("% of homes with nursing", "35-50", 35, 50, 100 * homes["nursing"].mean()),
        ("% of residents in nursing homes", "35-50", 35, 50, 100 * res["nursing"].mean()),
        ("mean Barthel, residential homes", "higher", np.nan, np.nan, bart.get(False)),
        ("mean Barthel, nursing homes", "lower", np.nan, np.nan, bart.get(True)),
        ("% Barthel missing", "a few", 1, 6, 100 * res["barthel"].isna().mean()),
        ("% entering during the window", "about 20", 15, 25, late),
        ("% moving out", "about 5", 2, 8, 100 * res["exit_reason"].eq("moved_out").mean()),
        ("% died during follow-up", "26-40", 26, 40, 100 * died.mean()),
        ("annual death risk, %", "26-40", 26, 40, 100 * (1 - np.exp(-died.sum() / py))),
        ("% of deaths in hospital", "descriptive", np.nan, np.nan, pct_in_hosp),
        ("emergency admissions per resident-year", "0.7-1.0", 0.7, 1.0, len(emerg) / py),
        ("elective admissions per resident-year", "0.1-0.2", 0.1, 0.2, elective / py),
        ("A&E attendances per resident-year", "1.0-1.4", 1.0, 1.4, ae / py),
        ("ambulance call-outs per resident-year", "similar to A&E", 0.9, 1.5, amb / py),
        ("GP contacts per resident-year", "roughly monthly", 9, 16, gp / py),
        ("median emergency stay, days", "about 7", 5, 9, los.median()),
        ("90th centile emergency stay, days", "long right tail", 14, 40, los.quantile(0.9)),
        ("contacts per resident-year (all)", "descriptive", np.nan, np.nan, by_svc.sum() / py),
        ("% contact rows with n > 1", "ties occur", np.nan, np.nan, 100 * (con["n"] > 1).mean()),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["measure", "target", "low", "high", "achieved"])
