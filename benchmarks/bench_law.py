"""What the benchmark computes from its job records: the stage of a rule, the ingest window,
the largest jobs and the memory law (memory against contact rows across sizes).

Used by ``run_benchmarks.py`` and ``bench_report.py``; no I/O here, so each function is
tested on hand-made tables (``tests/test_bench_harness.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# The stage of a rule is the rule file it is defined in (workflow/rules/<stage>.smk), unless
# its name starts with one of these prefixes (first match wins). The table keeps per-region
# rules and the rules combining them in their stage wherever they are defined, e.g. a
# ``make_cohort_region`` or ``combine_cohort`` in a file of its own is still "cohort". Add a
# line when a rule is added whose name or file does not say its stage.
STAGE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("ingest_", "ingest"),
    ("combine_regions", "ingest"),
    ("check_input", "ingest"),
    ("make_cohort", "cohort"),
    ("combine_cohort", "cohort"),
    ("cohort_", "cohort"),
)
# Ingest-stage rules outside the ingest window: they run beside the cohort, not before it.
INGEST_WINDOW_EXCLUDES: frozenset[str] = frozenset({"ingest_history"})


def stage_of(rule: str, rule_file: str | None) -> str | None:
    """The stage of ``rule``: a prefix of :data:`STAGE_PREFIXES`, else its rule file's stem
    (None for a rule of no rule file and no prefix, e.g. the Snakefile's ``all``: it is in no
    stage's table)."""
    for prefix, stage in STAGE_PREFIXES:
        if rule.startswith(prefix):
            return stage
    return rule_file or None


def ingest_seconds(jobs: pd.DataFrame) -> float:
    """The ingest window: first start to last end of the ingest stage's jobs.

    ``max(end_s) - min(start_s)`` over jobs with ``stage == "ingest"`` whose rule is not in
    :data:`INGEST_WINDOW_EXCLUDES` (today: every ``ingest_region`` job, ``combine_regions``
    and ``check_input``, so launch-relative start of the first region to the end of the
    input check). NaN when no ingest job ran.
    """
    ing = jobs[(jobs["stage"] == "ingest") & ~jobs["rule"].isin(INGEST_WINDOW_EXCLUDES)]
    if ing.empty:
        return float("nan")
    return float(ing["end_s"].max() - ing["start_s"].min())


def largest_jobs(jobs: pd.DataFrame, n: int = 8) -> pd.DataFrame:
    """The ``n`` jobs with the largest max RSS (ties: longer first): rule, region/wildcards,
    stage, max RSS (MB), wall and CPU seconds."""
    cols = ["rule", "key", "stage", "max_rss_mb", "seconds", "cpu_seconds"]
    if jobs.empty:
        return pd.DataFrame(columns=cols)
    top = jobs.sort_values(["max_rss_mb", "seconds"], ascending=False, na_position="last")
    return top.head(n)[cols].reset_index(drop=True)


def fit_line(x: Sequence[float], y: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares line ``y = a + b x``: ``(b, a, largest |residual|)``.

    ``b = sum((x - xbar)(y - ybar)) / sum((x - xbar)^2)``, ``a = ybar - b xbar``. With
    one point (or all x equal) the slope is NaN and ``a`` is the mean of y.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    if xa.size == 0:
        return float("nan"), float("nan"), float("nan")
    dx = xa - xa.mean()
    sxx = float(dx @ dx)
    if xa.size < 2 or sxx == 0:
        return float("nan"), float(ya.mean()), float(np.abs(ya - ya.mean()).max())
    b = float(dx @ (ya - ya.mean())) / sxx
    a = float(ya.mean() - b * xa.mean())
    return b, a, float(np.abs(ya - a - b * xa).max())


def _points(runs: Sequence[dict]) -> pd.DataFrame:
    """One row per job of every run: size, region, x (contact rows the job scales with)."""
    frames = []
    for r in runs:
        j = r["jobs"]
        if j.empty:
            continue
        by_region = r.get("contacts_by_region") or {}
        total = float(r["contacts"])
        region = j["region"] if "region" in j else pd.Series(None, index=j.index, dtype=object)
        per_region = region.notna() & (region.astype(str) != "")
        fallback = total / max(r.get("n_regions", 1), 1)
        x = np.where(per_region, region.map(by_region).astype(float).fillna(fallback), total)
        frames.append(pd.DataFrame({"size": r["size"], "rule": j["rule"].to_numpy(),
                                    "per_region": per_region.to_numpy(),
                                    "x_m": np.asarray(x, dtype=float) / 1e6,
                                    "rss_gb": j["max_rss_mb"].to_numpy(dtype=float) / 1024}))
    cols = ["size", "rule", "per_region", "x_m", "rss_gb"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return out[np.isfinite(out["rss_gb"].astype(float))]  # jobs with no memory record out


def memory_law(runs: Sequence[dict]) -> pd.DataFrame:
    """Memory against contact rows across sizes: GB = a + b x (x in millions of contact rows).

    ``runs``: one dict per size that ran, with ``size``, ``contacts`` (all regions),
    ``contacts_by_region`` ({region: rows}, may be empty), ``n_regions``, ``residents``
    (optional), ``peak_sum_mb`` and ``jobs`` (``rule, region, max_rss_mb``). The laws, one
    point per size:

    - the largest per-region job (a job with a ``region`` wildcard) against its region's
      contact rows;
    - the largest global job (no region) against all contact rows, and against residents
      (x in millions of residents), since a global job that no longer holds the events
      scales with residents and homes;
    - the peak of all running jobs and Snakemake together against all contact rows.

    Returns one row per law: ``law``, ``points``, ``GB per million`` (b, per million of x),
    ``intercept, GB`` (a), ``largest residual, GB`` and ``sizes``, the points as
    ``size: x M → y GB (rule)``.
    """
    pts = _points(runs)
    rows = []
    for law, sel in (("largest per-region job vs its region's contacts", True),
                     ("largest global job vs all contacts", False)):
        p = pts[pts["per_region"] == sel]
        if p.empty:
            continue
        best = p.loc[p.groupby("size", sort=False)["rss_gb"].idxmax()]
        rows.append((law, best["size"], best["x_m"], best["rss_gb"], best["rule"]))
        residents = {r["size"]: r.get("residents", np.nan) for r in runs}
        if not sel and all(np.isfinite(float(v)) for v in residents.values()):
            rows.append(("largest global job vs residents (x: millions of residents)",
                         best["size"], best["size"].map(residents).astype(float) / 1e6,
                         best["rss_gb"], best["rule"]))
    peak = [(r["size"], float(r["contacts"]) / 1e6, float(r["peak_sum_mb"]) / 1024)
            for r in runs if np.isfinite(float(r["peak_sum_mb"]))]
    if peak:
        s, x, y = zip(*peak, strict=True)
        rows.append(("peak of all running jobs vs all contacts", pd.Series(s), pd.Series(x),
                     pd.Series(y), pd.Series(["Snakemake and jobs"] * len(s))))
    out = []
    for law, size, x, y, rule in rows:
        b, a, resid = fit_line(x.to_numpy(dtype=float), y.to_numpy(dtype=float))
        out.append({"law": law, "points": len(x), "GB per million": b,
                    "intercept, GB": a, "largest residual, GB": resid,
                    "sizes": "; ".join(f"{s}: {xi:.2f} M → {yi:.2f} GB ({ru})"
                                       for s, xi, yi, ru in zip(size, x, y, rule, strict=True))})
    return pd.DataFrame(out, columns=["law", "points", "GB per million",
                                      "intercept, GB", "largest residual, GB", "sizes"])


def rule_memory_law(runs: Sequence[dict]) -> pd.DataFrame:
    """Per rule: max RSS (GB) at each size and the line through them against the contact rows
    the rule scales with (its region's for per-region rules, all for global rules)."""
    pts = _points(runs)
    if pts.empty:
        return pd.DataFrame()
    sizes = list(dict.fromkeys(pts["size"]))
    best = pts.loc[pts.groupby(["rule", "size"], sort=False)["rss_gb"].idxmax()]
    out = []
    for rule, g in best.groupby("rule", sort=False):
        b, a, _ = fit_line(g["x_m"].to_numpy(), g["rss_gb"].to_numpy())
        row = {"rule": rule, "kind": "per region" if g["per_region"].any() else "global"}
        row.update({s: g.loc[g["size"] == s, "rss_gb"].max() for s in sizes})
        row.update({"GB per million": b, "intercept, GB": a})
        out.append(row)
    df = pd.DataFrame(out)
    return df.sort_values(sizes[-1], ascending=False, na_position="last").reset_index(drop=True)
