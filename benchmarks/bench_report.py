"""Writing benchmarks/results.md from the runs of run_benchmarks.py (machine, versions, tables)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import os
import platform
import subprocess
from pathlib import Path

import bench_law
import numpy as np
import pandas as pd

PACKAGES = ("numpy", "pandas", "pyarrow", "scipy", "statsmodels", "lifelines", "pandera",
            "snakemake", "snakemake-executor-plugin-slurm", "psutil")
NOTES = Path(__file__).resolve().parent / "profile_notes.md"


def machine_info(repo: Path) -> dict:
    """nproc, memory, CPU model, OS, Python and package versions, git commit, date, load."""
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem_kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                  if ln.startswith("MemTotal"))

    def git(*a: str) -> str:
        r = subprocess.run(["git", *a], cwd=repo, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else "unknown"

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "not installed"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
        "mem_gb": mem_kb / 2**20, "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "versions": versions,
        "commit": git("rev-parse", "--short", "HEAD")
        + (" + uncommitted changes" if dirty else ""),
        "load_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _fmt(x: float, nd: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:,.{nd}f}"


def _table(df: pd.DataFrame) -> list[str]:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return lines


def max_concurrency(start: np.ndarray, end: np.ndarray) -> int:
    """Largest number of intervals [start, end) open at one moment (sweep over the ends)."""
    if start.size == 0:
        return 0
    t = np.concatenate([start, end])
    step = np.concatenate([np.ones(start.size), -np.ones(end.size)])
    order = np.lexsort((step, t))  # at a tie a finish (-1) comes before a start (+1)
    return int(np.cumsum(step[order]).max())


def _stage_table(jobs: pd.DataFrame, wall: float) -> pd.DataFrame:
    g = jobs.groupby("stage", sort=False)
    out = pd.DataFrame({
        "jobs": g.size(),
        "job-seconds": g["seconds"].sum(),
        "span_s": g["end_s"].max() - g["start_s"].min(),
        "max RSS, MB": g["max_rss_mb"].max(),
    })
    out["share of job-seconds"] = out["job-seconds"] / out["job-seconds"].sum()
    out = out.sort_values("job-seconds", ascending=False).reset_index()
    return pd.DataFrame({
        "stage": out["stage"], "jobs": out["jobs"],
        "job-seconds": out["job-seconds"].map(_fmt),
        "first start → last end, s": out["span_s"].map(_fmt),
        "share": out["share of job-seconds"].map(lambda x: f"{100 * x:.0f}%"),
        "max RSS, MB": out["max RSS, MB"].map(lambda x: _fmt(x, 0)),
    })


def _rule_table(jobs: pd.DataFrame) -> pd.DataFrame:
    g = jobs.groupby(["stage", "rule"], sort=False)
    out = pd.DataFrame({"jobs": g.size(), "seconds": g["seconds"].sum(),
                        "longest job, s": g["seconds"].max(), "CPU s": g["cpu_seconds"].sum(),
                        "max RSS, MB": g["max_rss_mb"].max(),
                        "start, s": g["start_s"].min()}).reset_index()
    out = out.sort_values("start, s")
    return pd.DataFrame({
        "stage": out["stage"], "rule": out["rule"], "jobs": out["jobs"],
        "wall s (sum)": out["seconds"].map(_fmt), "longest job, s": out["longest job, s"].map(_fmt),
        "CPU s": out["CPU s"].map(_fmt),
        "max RSS, MB": out["max RSS, MB"].map(lambda x: _fmt(x, 0)),
        "first start, s": out["start, s"].map(_fmt),
    })


def _regions_section(jobs: pd.DataFrame, cores: int) -> list[str]:
    """Per-region jobs (a ``region`` wildcard) of each rule: how many ran at once."""
    per = jobs[jobs["region"].notna()] if "region" in jobs else jobs.iloc[:0]
    if per.empty:
        return ["No per-region jobs recorded."]
    lines = []
    for rule, ing in per.sort_values("start_s").groupby("rule", sort=False):
        conc = max_concurrency(ing["start_s"].to_numpy(), ing["end_s"].to_numpy())
        lines += [f"Regions run as separate `{rule}` jobs: {len(ing)} jobs, at most "
                  f"**{conc}** running at once with `--cores {cores}` (from the benchmark "
                  "files: end = file time, start = end − wall seconds).", "",
                  "| region | start, s | end, s | wall s | max RSS, MB |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r.key} | {_fmt(r.start_s)} | {_fmt(r.end_s)} | {_fmt(r.seconds)} | "
                  f"{_fmt(r.max_rss_mb, 0)} |" for r in ing.itertuples()]
        lines.append("")
    return lines


def _largest_jobs_table(jobs: pd.DataFrame) -> pd.DataFrame:
    top = bench_law.largest_jobs(jobs)
    return pd.DataFrame({
        "rule": top["rule"].map(lambda r: f"`{r}`"),
        "region / wildcards": top["key"].map(lambda k: k or "– (global)"),
        "stage": top["stage"], "max RSS, MB": top["max_rss_mb"].map(lambda x: _fmt(x, 0)),
        "wall s": top["seconds"].map(_fmt), "CPU s": top["cpu_seconds"].map(_fmt)})


def law_inputs(runs: list) -> list[dict]:
    """The runs with job records, as ``bench_law.memory_law`` takes them; a failed run is
    kept (its jobs' memory is measured) and named ``<size> (exit N)``."""
    out = []
    for r in runs:
        g = r.generation or {}
        if r.jobs.empty or "rows" not in g:
            continue
        name = r.size.name + (f" (exit {r.returncode})" if r.returncode else "")
        out.append({"size": name, "contacts": g["rows"]["contacts"],
                    "residents": g["rows"].get("residents", float("nan")),
                    "contacts_by_region": g.get("contacts_by_region", {}),
                    "n_regions": len(g.get("regions", [])) or 1,
                    "peak_sum_mb": r.peak_sum_mb, "jobs": r.jobs})
    return out


def _law_section(runs: list) -> list[str]:
    inputs = law_inputs(runs)
    if not inputs:
        return ["No finished run."]
    law = bench_law.memory_law(inputs)
    lines = ["Max RSS (GB) against contact rows (millions), a least-squares line "
             "GB = a + b × million rows through one point per size (the largest job of that "
             "kind at that size; with one size no slope). Per-region jobs (a `region` "
             "wildcard) are set against their own region's contact rows, global jobs and "
             "the peak against all contact rows. Formats differ between sizes (CSV at "
             "small and medium, Parquet above), so the CSV points weigh on ingest's line. "
             "A size marked `(exit N)` failed: only the jobs before the failure are in it.", "",
             "| law | b, GB per million (contacts, or residents where so named) | a, GB "
             "| largest residual, GB | points |",
             "|---|---|---|---|---|"]
    lines += [f"| {r.law} | **{_fmt(r[2], 3)}** | {_fmt(r[3], 2)} | {_fmt(r[4], 2)} | "
              f"{r.sizes} |" for r in law.itertuples(index=False)]
    per_rule = bench_law.rule_memory_law(inputs)
    if not per_rule.empty:
        sizes = [c for c in per_rule.columns if c not in
                 ("rule", "kind", "GB per million", "intercept, GB")]
        lines += ["", "Per rule (largest job of the rule at each size, GB):", "",
                  "| rule | kind | " + " | ".join(sizes)
                  + " | b, GB per million contacts | a, GB |",
                  "|---|---|" + "---|" * len(sizes) + "---|---|"]
        lines += [f"| `{r['rule']}` | {r['kind']} | "
                  + " | ".join(_fmt(r[s], 2) for s in sizes)
                  + f" | {_fmt(r['GB per million'], 3)} | "
                  f"{_fmt(r['intercept, GB'], 2)} |" for _, r in per_rule.iterrows()]
    return lines


def _alternatives_section(alternatives: list[dict], size_label: str,
                          stage_label: str) -> list[str]:
    """Each side-by-side script: status, its ratio lines, then its whole output."""
    if not alternatives:
        return ["Not run (`--alternatives-size none`)."]
    lines = [f"Each stage's own script times the stage's models at {stage_label}, and our "
             f"implementation against the slow obvious alternative at {size_label}, on data it "
             "simulates itself (the pandas costing bootstrap at the stage size).", ""]
    for alt in alternatives:
        if alt["status"] == "missing":
            lines += [f"- `benchmarks/{alt['script']}.py`: **missing** at this run; no ratio.", ""]
            continue
        lines.append(f"- `{alt['command']}`: {alt['status']}, {alt['seconds']:.1f} s")
        lines += [f"  - {r}" for r in alt["ratios"]] or ["  - (no ratio line printed)"]
    lines.append("")
    for alt in alternatives:
        if alt["text"].strip():
            lines += [f"`{alt['script']}` output:", "", "```", alt["text"].strip()[-4000:],
                      "```", ""]
    return lines


def _target(run, targets: dict) -> str:
    """Each target of the size, met or **missed** (a failed run misses every one)."""
    t = targets.get(run.size.name)
    if not t:
        return "–"
    ok_run = run.returncode == 0
    largest = run.jobs["max_rss_mb"].max() if len(run.jobs) else float("nan")
    checks = [(t.wall_s, run.wall_seconds, "< {:.0f} s"),
              (t.peak_gb, run.peak_sum_mb / 1024, "peak < {:g} GB"),
              (t.largest_job_gb, largest / 1024, "largest job < {:g} GB"),
              (t.ingest_s, bench_law.ingest_seconds(run.jobs) if len(run.jobs) else np.nan,
               "ingest < {:.0f} s")]
    return "; ".join(f"{label.format(limit)}: {'met' if ok_run and value < limit else '**missed**'}"
                     for limit, value, label in checks if limit is not None)


def write(out: Path, machine: dict, runs: list, targets: dict, args,
          alternatives: list[dict]) -> None:
    """Write the whole results.md (called after each size, so a long run leaves a partial file)."""
    m = machine
    lines = [
        "# Benchmark results", "",
        "Written by `benchmarks/run_benchmarks.py` (`make bench`); see `benchmarks/README.md`.", "",
        f"- date: {m['date']}; git commit: {m['commit']}",
        f"- machine: {m['nproc']} CPUs ({m['affinity']} usable), {m['mem_gb']:.1f} GB RAM, "
        f"{m['cpu']}; {m['os']}; load average at start: {m['load_at_start']}",
        f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- command: `run_benchmarks.py --sizes {args.sizes} --cores {args.cores} "
        f"--replicates {args.replicates}`: whole workflow (`snakemake --cores {args.cores}`, "
        f"`bootstrap_replicates={args.replicates}`), fresh results folder per size"
        + (f"; the harness ran {_fmt(m['harness_s'] / 60)} min in all (generation, workflows, "
           "stage scripts)" if "harness_s" in m else ""), "",
        "## Summary", "",
        "| size | residents | homes | months | contacts | input | generation, s | workflow "
        "wall, s (incl. start-up) | Snakemake start-up, s | ingest, s | peak RSS sum, MB | "
        "largest process, MB | largest job | exit | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        g = r.generation
        rows = g.get("rows", {})
        top = bench_law.largest_jobs(r.jobs, 1)
        largest = (f"{_fmt(top['max_rss_mb'].iloc[0], 0)} MB (`{top['rule'].iloc[0]}`"
                   + (f", {top['key'].iloc[0]}" if top["key"].iloc[0] else "") + ")"
                   if len(top) else "–")
        ingest = bench_law.ingest_seconds(r.jobs) if len(r.jobs) else float("nan")
        lines.append(
            f"| {r.size.label} | {r.size.residents:,} | {r.size.homes:,} | {r.size.months} | "
            f"{rows.get('contacts', float('nan')):,} | {r.size.fmt} | {_fmt(g.get('total_s'))} | "
            f"**{_fmt(r.wall_seconds)}** | {_fmt(r.first_job_seconds)} | {_fmt(ingest)} | "
            f"**{_fmt(r.peak_sum_mb, 0)}** | {_fmt(r.peak_single_mb, 0)} | {largest} | "
            f"{r.returncode} | {_target(r, targets)} |")
    lines += ["", "Peak RSS sum: the largest total resident memory of Snakemake and all running "
              "jobs at one moment (sampled every 0.2 s). Largest process: the kernel's peak RSS of "
              "the largest single process (`getrusage`). Largest job: the job with the largest "
              "max RSS (per-job records below). Start-up: launch to the first job's start. "
              "Ingest: first start to last end of the ingest stage's jobs (every region's "
              "ingest, the combining and the input check).",
              "", "## Memory law", ""] + _law_section(runs) + [""]
    if NOTES.exists():
        lines += ["## Findings", "", NOTES.read_text().strip(), ""]
    for r in runs:
        g = r.generation
        lines += [f"## {r.size.label}", ""]
        if g:
            lines += [f"Generation: {_fmt(g['simulate_s'])} s simulating + {_fmt(g['write_s'])} s "
                      f"writing {r.size.fmt} ({_fmt(g['disk_mb'])} MB on disk), peak "
                      f"{_fmt(g['peak_rss_mb'], 0)} MB; rows: "
                      + ", ".join(f"{k} {v:,}" for k, v in g["rows"].items()) + ".", ""]
        n_jobs, job_cpu = len(r.jobs), r.jobs["cpu_seconds"].sum() if len(r.jobs) else np.nan
        lines += [f"Workflow: {_fmt(r.wall_seconds)} s wall, exit status {r.returncode}; "
                  f"{n_jobs} jobs using {_fmt(job_cpu)} CPU-seconds, {_fmt(r.cpu_seconds)} "
                  f"CPU-seconds in all with Snakemake itself (a lower bound on the wall time "
                  f"with {args.cores} idle cores: {_fmt(r.cpu_seconds / args.cores)} s).", ""]
        if r.returncode != 0:
            lines += ["The run failed; the end of Snakemake's log:", "", "```",
                      r.log_tail.strip()[-2500:], "```", ""]
        if not r.jobs.empty:
            lines += ["### Per stage", ""] + _table(_stage_table(r.jobs, r.wall_seconds))
            lines += ["", "Job-seconds add the wall time of a stage's jobs (two run at once with "
                      "2 cores, so they can exceed the stage's span).", "",
                      "### Per rule", ""] + _table(_rule_table(r.jobs))
            lines += ["", "### Largest jobs", ""] + _table(_largest_jobs_table(r.jobs))
            lines += ["", "Max RSS per job (the larger of Snakemake's benchmark record and the "
                      "kernel's high-water mark of the job's process).", "",
                      "### Regions in parallel", ""] + _regions_section(r.jobs, args.cores)
        lines.append("")
    from run_benchmarks import SIZES

    alt_label = SIZES[args.alternatives_size].label if args.alternatives_size in SIZES else ""
    stage_label = SIZES[args.stage_size].label if args.stage_size in SIZES else ""
    lines += ["## Side by side: our engines against the obvious alternatives", ""]
    lines += _alternatives_section(alternatives, alt_label, stage_label)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(out)
