"""Expected ingest results of the fixture datasets, from the code before Arrow-native ingest.

    git -C <checkout> checkout a770b63      # ingest before issue 20 part 2
    PYTHONPATH=<checkout>/src python tests/reference/ingest_equivalence/make_expected.py

Ingests every region of every dataset under ``data/`` (options per region in
its ``options.json``) and writes ``expected.json.gz``: per region, the
failures and the four marked tables, column by column, as plain values
(dates as ``YYYY-MM-DD HH:MM:SS`` text, missing as null), in row order. The
datasets were made by ``make_inputs.py`` (seeds 504, 509, 531 and 538 of
``python make_inputs.py <synthetic 45 residents, 6 homes, --diagnoses> data 40 500``):
random corruptions of every column type, in CSV (BOM, CRLF, quoted) and
Parquet (typed and text columns), with declared date layouts and service maps.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd

from optimal_analysis.ingest import TABLES, ingest_region

HERE = Path(__file__).parent
MODELS = ["dedicated_team", "paid_gp", "usual_care"]


def plain(df: pd.DataFrame) -> dict:
    """Columns as lists of plain values (what must not change), in row order."""
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = [None if pd.isna(v) else str(v) for v in s]
        else:
            out[c] = [None if (v is None or (not isinstance(v, str) and pd.isna(v)))
                      else (v.item() if hasattr(v, "item") else v) for v in s.astype(object)]
    return out


def ingest_all(root: Path) -> dict:
    """``{"<dataset>/<region>": {"failures": ..., table: ...}}`` of every region under ``root``."""
    res = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        options = json.loads((d / "options.json").read_text())
        for region, opt in sorted(options.items()):
            r = ingest_region(d / region, region=region, care_models=MODELS,
                              service_code_map=opt.get("service_code_map"),
                              date_format=opt.get("date_format"))
            res[f"{d.name}/{region}"] = {
                "failures": plain(r.failures.astype({"line": "Int64"})),
                **{t: plain(r.tables[t]) for t in TABLES}}
    return res


if __name__ == "__main__":
    with gzip.open(HERE / "expected.json.gz", "wt", encoding="utf-8") as fh:
        json.dump(ingest_all(HERE / "data"), fh, sort_keys=True)
