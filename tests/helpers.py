"""Test helpers: write tiny datasets in the data contract's layout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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
""",  # noqa: E501
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


# ---------------------------------------------------------------------------
# the ingest stage as the workflow runs it, at the function level


TINY_MODELS = ["dedicated_team", "usual_care"]  # the care models TINY's homes have


def ingest_dataset(root: Path, *, care_models: list[str] | None = None,
                   reference: str | None = "usual_care",
                   service_code_map: dict[str, dict[str, str]] | None = None):
    """ingest_region of every region folder under ``root``, then combine_regions.

    ``care_models`` (default: the ones TINY uses) is what the combine step
    checks for residents; every contract care model is accepted at ingest.
    Returns ``(combined, failures, accounting)`` as combine_regions does.
    """
    import pandas as pd

    from optimal_analysis.ingest import ingest_region
    from optimal_analysis.ingest.failures import empty_failures
    from optimal_analysis.ingest.quality import combine_regions
    from optimal_analysis.ingest.read import file_labels

    regions = sorted(p.name for p in root.iterdir() if p.is_dir())
    maps = service_code_map or {}
    results = {r: ingest_region(root / r, care_models=CARE_MODELS,
                                service_code_map=maps.get(r)) for r in regions}
    found = [res.failures for res in results.values() if len(res.failures)]
    failures = pd.concat(found, ignore_index=True) if found else empty_failures()
    files = {r: file_labels(root / r, r) for r in regions}
    return combine_regions({r: res.tables for r, res in results.items()}, failures, files,
                           care_models=care_models or TINY_MODELS,
                           reference_care_model=reference)


def assert_balanced(accounting) -> None:
    """rows_read = rows_used + every rows_excluded, for each region × table."""
    g = accounting.groupby(["region", "table"])
    assert (g["rows_read"].nunique() == 1).all(), accounting
    read = g["rows_read"].first()
    assert (read == g["rows_used"].sum() + g["rows_excluded"].sum()).all(), accounting


def workflow_targets(data_dir: Path, results_dir: Path, *config: str) -> list[str]:
    """Every table the workflow can build now (paths relative to ``results_dir``):
    the interim cohort (which needs every region's events) and each ``tables/*.csv``
    a rule file names whose rule resolves in a dry run.

    Stages still being written may name inputs no rule makes yet; their tables
    are left out (and the caller compares what exists) rather than failing.
    """
    import re
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    names = sorted({m for p in (repo / "workflow" / "rules").glob("*.smk")
                    for m in re.findall(r'R\("(tables/[a-z_]+\.csv)"\)', p.read_text())})
    candidates = [str(results_dir / t) for t in
                  ["interim/cohort.parquet", *names]]
    def resolves(targets: list[str]) -> bool:
        proc = subprocess.run(
            [sys.executable, "-m", "snakemake", "-n", "--nolock", "--cores", "1", "--quiet",
             "rules", "--config", f"data_dir={data_dir}", f"results_dir={results_dir}", *config,
             "--", *targets], cwd=repo, capture_output=True, text=True)
        return proc.returncode == 0

    # all at once (one dry run when every stage is there), else one by one so
    # that one broken rule does not hide the others
    ok = candidates if resolves(candidates) else [t for t in candidates if resolves([t])]
    return [str(Path(t).relative_to(results_dir)) for t in ok]


def cohort_of(ds) -> pd.DataFrame:
    """The cohort of a generated dataset (``synthetic.generate``), its regions combined in
    memory as the combine step does, without ingest."""
    from optimal_analysis.cohort import make_cohort

    tables = {
        t: pd.concat([ds.regions[r][t].assign(region=r) for r in ds.regions], ignore_index=True)
        for t in ["care_homes", "residents", "contacts", "admissions"]
    }
    cohort, _ = make_cohort(
        tables["care_homes"], tables["residents"], tables["contacts"], tables["admissions"]
    )
    return cohort
