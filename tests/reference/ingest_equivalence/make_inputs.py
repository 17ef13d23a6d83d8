"""Corrupted copies of a small synthetic dataset, CSV and Parquet, every column type.

usage: python make_inputs.py BASE OUT N_SEEDS [FIRST_SEED]

BASE is a dataset of ``optimal-synth --format csv --diagnoses`` (the fixtures:
``--residents 45 --homes 6``). Cells get junk of their column's type (bad and
ambiguous dates, numbers, booleans, codes, ICD-10 codes, Unicode spaces),
rows are duplicated, blank lines added, ids changed; whole date columns are
re-laid out (DD/MM/YYYY, ...) with or without a declared ``date_format``;
tables are written as CSV (BOM, CRLF, quoting) or Parquet (typed: date32,
timestamp, int64, float64, bool; or text: string, large_string, dictionary).
Writes OUT/s{seed}/{region}/{table}.{csv|parquet} and OUT/s{seed}/options.json.
"""
import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

KINDS = {
    "care_homes": {"care_home_id": "id", "care_model": "code", "nursing": "bool", "beds": "int"},
    "residents": {"resident_id": "id", "care_home_id": "id", "sex": "code", "age": "float",
                  "dementia": "bool", "barthel": "int", "entry_date": "date", "exit_date": "date",
                  "exit_reason": "code", "place_of_death": "place"},
    "contacts": {"resident_id": "id", "contact_date": "date", "service": "code", "n": "int"},
    "admissions": {"resident_id": "id", "admission_date": "date", "discharge_date": "date",
                   "method": "code", "primary_diagnosis": "icd10"},
}
JUNK = {
    "any": ["", " ", "  ", "NA", "null", "x", "é", "\u00a0", "\u3000", "\t", "-", "?", "0", "1"],
    "id": ["R00001", "CH00001", " R00002", "R00003 ", "\u00a0R00004", "r00005", "ZZZ"],
    "code": ["GPV", "gp visit", " ae", "AE", "Emergency", "emergency ", "died ", "Died",
             "usual_care", "Usual_care", "new_model", "f", "M ", "m", "U", "paid_gp",
             "dedicated_team", "ambulance", "moved_out", "elective"],
    "bool": ["true", "TRUE", "True ", "yes", "Y", "n", "0", "1", "2", "maybe", "t", "F", "no"],
    "int": ["-1", "0", "1", "1.5", "1.0", "2e0", "1e400", "inf", "-inf", "nan", "20", "21",
            "99999999999999999999", "0x10", "+3", "3 ", "١", "1,000"],
    "float": ["59", "60", "115", "115.5", "116", "-1", "85.25", "nan", "inf", "1e3", "80 "],
    "date": ["2015-13-45", "2015-02-29", "2016-02-29", "31/12/2014", "12/31/2014",
             "01/02/2015", "1900-01-01", "1989-12-31", "1990-01-01", "2100-12-31",
             "2101-01-01", "2200-01-01", "2300-01-01", "1600-01-01", "99999-01-01",
             "2014-4-5", "20140405", "2014-04-05 10:00", "2014-04-05T00:00:00",
             " 2014-06-01 ", "05-Apr-2014", "41000", "2014/04/05"],
    "icd10": ["J18.9", "j189", "J18.9X", "I10X", "XX", "J1", "123", "J18.9-", "A00†", "c4a",
              "S7200XA", "J18..9", "J 18.9", "jj18"],
    "place": ["hospital", "Hospital ", "care home", "care-home", "hospice", "other", "moon",
              "HOSPITAL"],
}
LAYOUT_FMT = {"DD/MM/YYYY": "%d/%m/%Y", "MM/DD/YYYY": "%m/%d/%Y", "YYYYMMDD": "%Y%m%d"}


def corrupt_text(df, table, rng):
    """Corrupt cells of an all-text frame in place; return it (rows may be added)."""
    kinds = KINDS[table]
    cols = [c for c in df.columns if c in kinds]
    n_cells = rng.integers(0, 12)
    for _ in range(n_cells):
        if len(df) == 0:
            break
        c = cols[rng.integers(len(cols))]
        pool = JUNK[kinds[c]] + JUNK["any"]
        i = rng.integers(len(df))
        df.iat[i, df.columns.get_loc(c)] = pool[rng.integers(len(pool))]
    if len(df) and rng.random() < 0.3:  # duplicate rows
        for _ in range(rng.integers(1, 3)):
            i = rng.integers(len(df))
            df = pd.concat([df, df.iloc[[i]]], ignore_index=True)
    if len(df) and rng.random() < 0.2:  # blank and whitespace-only rows
        blank = pd.DataFrame([[""] * df.shape[1]], columns=df.columns)
        white = pd.DataFrame([[" "] * df.shape[1]], columns=df.columns)
        at = rng.integers(len(df))
        df = pd.concat([df.iloc[:at], blank if rng.random() < 0.5 else white, df.iloc[at:]],
                       ignore_index=True)
    if len(df) and rng.random() < 0.15:  # an id typo in a key column
        c = cols[0]
        i = rng.integers(len(df))
        df.iat[i, df.columns.get_loc(c)] = df.iat[i, df.columns.get_loc(c)] + "x"
    if rng.random() < 0.1 and len(cols) > 1:  # an extra column
        df["extra"] = "e"
    if rng.random() < 0.05:  # an optional column missing
        opt = [c for c in ("beds", "barthel", "n", "discharge_date", "primary_diagnosis",
                           "place_of_death") if c in df.columns]
        if opt:
            df = df.drop(columns=[opt[rng.integers(len(opt))]])
    return df


def relayout(df, table, layout):
    for c, k in KINDS[table].items():
        if k == "date" and c in df.columns:
            d = pd.to_datetime(df[c], format="%Y-%m-%d", errors="coerce")
            df[c] = np.where(d.notna(), d.dt.strftime(LAYOUT_FMT[layout]), df[c])
    return df


def write_csv(df, path, rng):
    opts = dict(index=False, lineterminator="\r\n" if rng.random() < 0.3 else "\n",
                quoting=csv.QUOTE_ALL if rng.random() < 0.2 else csv.QUOTE_MINIMAL)
    text = df.to_csv(**opts)
    if rng.random() < 0.2:
        text = "\ufeff" + text
    path.write_text(text, encoding="utf-8", newline="")


def typed(values, kind, rng):
    """An Arrow array of the text column, typed per ``kind`` (or text), with typed junk."""
    s = pd.Series(values, dtype=object)
    choice = rng.random()
    if kind == "date" and choice < 0.6:
        d = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
        days = ((d - pd.Timestamp("1970-01-01")).dt.days).astype("Int64")
        arr = days.to_numpy(dtype=object, na_value=None)
        if rng.random() < 0.5 and len(arr):
            for _ in range(rng.integers(1, 4)):
                y = [1, 1600, 1677, 1900, 1989, 2101, 2262, 2263, 2300, 9999][rng.integers(10)]
                arr[rng.integers(len(arr))] = (pd.Timestamp(f"{min(y, 2262)}-01-01")
                                               - pd.Timestamp("1970-01-01")).days \
                    if y <= 2262 and y >= 1678 else int((np.datetime64(f"{y:04d}-06-15")
                                                        - np.datetime64("1970-01-01"))
                                                       .astype(int))
        a = pa.array(list(arr), pa.int32()).cast(pa.date32())
        if rng.random() < 0.15:
            try:
                return a.cast(pa.timestamp("ns"))
            except pa.ArrowInvalid:
                return a
        return a
    if kind in ("int",) and choice < 0.6:
        num = pd.to_numeric(s, errors="coerce").astype(float)
        if rng.random() < 0.3 and len(num):
            num.iloc[rng.integers(len(num))] = [-5, 0, 2.5, np.nan, 1e20][rng.integers(5)]
        whole = num.dropna()
        exact = (np.isfinite(whole).all() and (whole == np.floor(whole)).all()
                 and whole.abs().max() < 2**53) if len(whole) else True
        if exact:
            return pa.array(num.astype("Int64").to_numpy(dtype=object, na_value=None),
                            pa.int64())
        return pa.array(num.to_numpy(dtype=float), pa.float64())
    if kind == "float" and choice < 0.6:
        num = pd.to_numeric(s, errors="coerce").astype(float)
        w = num.dropna()
        if rng.random() < 0.5 or not (np.isfinite(w).all() and (w == w.round()).all()):
            return pa.array(num.to_numpy(dtype=float), pa.float64(), from_pandas=True)
        return pa.array(num.round().astype("Int64").to_numpy(dtype=object, na_value=None),
                        pa.int64()) if (num.dropna() == num.dropna().round()).all() else \
            pa.array(num.to_numpy(dtype=float), pa.float64())
    if kind == "bool" and choice < 0.6:
        low = s.str.strip().str.lower()
        b = low.map({"true": True, "false": False})
        return pa.array(b.to_numpy(dtype=object), pa.bool_(), from_pandas=True)
    if kind == "id" and choice < 0.1:
        num = pd.to_numeric(s.str.replace(r"\D", "", regex=True), errors="coerce")
        return pa.array(num.to_numpy(dtype=float), pa.float64(), from_pandas=True)
    vals = [None if (v == "" and rng.random() < 0.5) else v for v in s]
    t = [pa.string(), pa.large_string()][int(rng.random() < 0.3)]
    a = pa.array(vals, t)
    if kind == "code" and rng.random() < 0.2:
        return a.dictionary_encode()
    return a


def write_parquet(df, table, path, rng):
    kinds = KINDS[table]
    arrays = {c: typed(df[c].tolist(), kinds.get(c, "code"), rng) for c in df.columns}
    pq.write_table(pa.table(arrays), path)


def main(base, out, n, start=0):
    base, out = Path(base), Path(out)
    for seed in range(start, start + n):
        rng = np.random.default_rng(seed)
        d = out / f"s{seed}"
        if d.exists():
            shutil.rmtree(d)
        options = {}
        for region_dir in sorted(p for p in base.iterdir() if p.is_dir()):
            region = region_dir.name
            (d / region).mkdir(parents=True)
            opt = {}
            layout = None
            if rng.random() < 0.15:
                layout = list(LAYOUT_FMT)[rng.integers(len(LAYOUT_FMT))]
                if rng.random() < 0.6:
                    opt["date_format"] = layout
            elif rng.random() < 0.05:
                opt["date_format"] = "DD/MM/YYYY"
            if rng.random() < 0.2:
                opt["service_code_map"] = {"GPV": "gp_visit", "AE": "ae", "": "ae"}
            options[region] = opt
            fmt_all = rng.random()
            for table in KINDS:
                df = pd.read_csv(region_dir / f"{table}.csv", dtype=str, keep_default_na=False)
                if layout:
                    df = relayout(df, table, layout)
                df = corrupt_text(df, table, rng)
                use_parquet = fmt_all < 0.35 or (fmt_all < 0.6 and rng.random() < 0.5)
                if rng.random() < 0.03:
                    continue  # missing file
                if use_parquet:
                    write_parquet(df, table, d / region / f"{table}.parquet", rng)
                else:
                    write_csv(df, d / region / f"{table}.csv", rng)
        (d / "options.json").write_text(json.dumps(options))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 0)
