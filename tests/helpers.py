"""Test helpers: write tiny datasets in the data contract's layout."""

from __future__ import annotations

from pathlib import Path

CARE_MODELS = ["dedicated_team", "paid_gp", "usual_care"]

TINY = {
    "care_homes": """care_home_id,care_model,nursing,beds
H1,usual_care,true,30
H2,dedicated_team,false,20
""",
    "residents": """resident_id,care_home_id,sex,age,dementia,barthel,entry_date,exit_date,exit_reason
R1,H1,F,85,true,10,2015-01-01,2015-12-31,study_end
R2,H2,M,90,false,,2015-01-01,2015-01-10,died
R3,H2,F,88.5,yes,4,2015-06-01,2015-06-30,moved_out
""",
    "contacts": """resident_id,contact_date,service,n
R1,2015-02-01,gp_visit,2
R1,2015-03-01,ae,
R2,2015-01-03,ambulance,1
R3,2015-06-01,ae,1
""",
    "admissions": """resident_id,admission_date,discharge_date,method
R1,2015-03-01,2015-03-05,emergency
R1,2015-07-01,2015-07-01,elective
R2,2015-01-05,,emergency
""",
}


def write_region(root: Path, region: str, tables: dict[str, str] | None = None,
                 **overrides: str | None) -> Path:
    """Write one region folder; ``overrides`` replace (or, with None, omit) a table's text."""
    folder = root / region
    folder.mkdir(parents=True, exist_ok=True)
    content = dict(tables or TINY)
    content.update(overrides)
    for name, text in content.items():
        if text is not None:
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def rename_ids(tables: dict[str, str], suffix: str) -> dict[str, str]:
    """The same tables with every H*/R* id suffixed (a second, disjoint region)."""
    import re

    return {k: re.sub(r"\b([HR]\d+)\b", rf"\1{suffix}", v) for k, v in tables.items()}
