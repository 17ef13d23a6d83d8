"""Benchmark the whole workflow at four dataset sizes; write benchmarks/results.md.

For each size: generate a seeded synthetic dataset (timed, in its own process),
run the whole workflow with Snakemake (``--cores 2``, 1,000 bootstrap
replicates) while sampling the memory of Snakemake and every job it starts,
then read each rule's Snakemake benchmark file (wall time, CPU time, max RSS)
and the job start/finish lines of the Snakemake log. The stage engineers'
side-by-side scripts (``benchmarks/bench_*.py``: our implementation against
lifelines / statsmodels / a pandas alternative) run on the same interim tables.

    .venv/bin/python benchmarks/run_benchmarks.py                  # all four sizes
    .venv/bin/python benchmarks/run_benchmarks.py --sizes small --out /tmp/r.md

Memory: ``peak RSS, sum`` is the largest sampled (every 0.2 s) total resident
memory of Snakemake and all its jobs at one moment: what the machine must hold.
A rule's ``max RSS`` is the largest of its Snakemake benchmark record and the
kernel's high-water mark (VmHWM) of its job processes, so short peaks between
samples are not missed. The largest jobs of each size and the memory law (memory against
contact rows across the sizes that ran, per-region jobs apart from global ones) are computed
in ``bench_law.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_law  # noqa: E402  (stage mapping, ingest window, memory law)
import bench_report  # noqa: E402  (the markdown writer, beside this script)

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@dataclass(frozen=True)
class Size:
    name: str
    residents: int
    homes: int
    fmt: str
    label: str
    months: int = 12
    late_entry: float | None = None  # share entering during the window (None: 0.20)


SIZES = {
    "small": Size("small", 240, 12, "csv", "OPTIMAL-sized (3 regions)"),
    "medium": Size("medium", 40_000, 1_500, "csv", "40,000 residents (7 regions)"),
    "large": Size("large", 400_000, 15_000, "parquet", "national, 400,000 residents (7 regions)"),
    # Five national years: the same 15,000 homes over 60 months, beds turning over (70% of
    # residents enter during the window, which keeps about 300,000 beds filled throughout):
    # 1,000,000 residents, about 52 million contact rows.
    "five_years": Size("five_years", 1_000_000, 15_000, "parquet",
                       "five national years, 1,000,000 residents (7 regions)", 60, 0.70),
}
DEFAULT_SIZES = "small,medium,large,five_years"
SEED = 20140401
SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Target:
    """What a size must meet (None: no target): whole-workflow wall seconds, peak GB of all
    running jobs, the largest single job's GB, the ingest window's seconds."""

    wall_s: float | None = None
    peak_gb: float | None = None
    largest_job_gb: float | None = None
    ingest_s: float | None = None


TARGETS = {
    "small": Target(wall_s=30.0),  # issue 8
    "large": Target(wall_s=180.0, peak_gb=6.0,  # issue 8
                    largest_job_gb=1.5, ingest_s=60.0),  # issue 20
    "five_years": Target(wall_s=600.0, peak_gb=8.0),  # issue 20
}


@dataclass
class RunResult:
    size: Size
    generation: dict = field(default_factory=dict)
    wall_seconds: float = float("nan")
    returncode: int = 0
    jobs: pd.DataFrame = field(default_factory=pd.DataFrame)
    peak_sum_mb: float = float("nan")
    peak_single_mb: float = float("nan")
    first_job_seconds: float = float("nan")
    cpu_seconds: float = float("nan")  # Snakemake and every job, user + system
    log_tail: str = ""


# --- generation --------------------------------------------------------------------------


def _generate_child(residents: int, homes: int, fmt: str, out: str, months: int = 12,
                    late_entry: float | None = None) -> None:
    """Runs in a child process: generate and write one dataset, print timings as JSON."""
    from optimal_analysis.synthetic import generate
    from optimal_analysis.synthetic.write import write_dataset

    effects = None if late_entry is None else {"population": {"p_enter_during_window":
                                                              late_entry}}
    t0 = time.perf_counter()
    ds = generate(n_residents=residents, n_homes=homes, seed=SEED, months=months,
                  effects=effects)
    t1 = time.perf_counter()
    write_dataset(ds, out, fmt=fmt)
    t2 = time.perf_counter()
    rows = {k: int(sum(len(r[k]) for r in ds.regions.values()))
            for k in ("care_homes", "residents", "contacts", "admissions")}
    print(json.dumps({"simulate_s": t1 - t0, "write_s": t2 - t1, "rows": rows,
                      "regions": list(ds.regions),
                      "contacts_by_region": {g: len(t["contacts"]) for g, t in
                                             ds.regions.items()}}))


def generate_dataset(size: Size, out: Path) -> dict:
    """Generate ``size`` into ``out`` in a child process; timings, rows and peak RSS."""
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import run_benchmarks as rb; "
            f"rb._generate_child({size.residents}, {size.homes}, {size.fmt!r}, {str(out)!r}, "
            f"{size.months}, {size.late_entry!r})")
    t0 = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    stdout = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"generating the {size.name} dataset failed ({proc.returncode})")
    info = json.loads(stdout.strip().splitlines()[-1])
    info["total_s"] = time.perf_counter() - t0
    info["peak_rss_mb"] = usage.ru_maxrss / 1024
    info["disk_mb"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    return info


# --- memory sampling ---------------------------------------------------------------------


def _vm_hwm_mb(pid: int) -> float:
    """The kernel's peak-RSS high-water mark of one process, MB (0 if gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process tree and each job process's VmHWM."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_sum_mb = 0.0
        self.scripts: dict[int, dict] = {}  # pid -> {script, hwm_mb, first, last}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            total, now = 0.0, time.time()
            for p in procs:
                try:
                    total += p.memory_info().rss / 2**20
                    if p.pid not in self.scripts:
                        m = re.search(r"\.snakemake/scripts/tmp[^.]*\.(\w+)\.py",
                                      " ".join(p.cmdline()))
                        self.scripts[p.pid] = {"script": m.group(1) if m else None,
                                               "hwm_mb": 0.0, "cpu_s": 0.0, "first": now,
                                               "log": None}
                    rec = self.scripts[p.pid]
                    if rec["script"]:
                        rec["hwm_mb"] = max(rec["hwm_mb"], _vm_hwm_mb(p.pid))
                        rec["cpu_s"] = sum(p.cpu_times()[:2])  # user + system so far
                        rec["last"] = now
                        if rec["log"] is None:  # the job's own log file names the job
                            rec["log"] = next((os.path.realpath(f.path) for f in p.open_files()
                                               if f.path.endswith(".log")), None)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self.peak_sum_mb = max(self.peak_sum_mb, total)
            self.stop.wait(SAMPLE_SECONDS)


# --- the workflow run --------------------------------------------------------------------


def rule_table() -> pd.DataFrame:
    """Every rule of workflow/rules/*.smk: rule, stage (``bench_law.stage_of``: a name prefix
    of ``bench_law.STAGE_PREFIXES``, else its file), script stem."""
    rows = []
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        blocks = re.split(r"^rule (\w+):", smk.read_text(), flags=re.M)
        for name, body in zip(blocks[1::2], blocks[2::2], strict=True):
            script = re.search(r"script:\s*\n?\s*[\"'][^\"']*/(\w+)\.py", body)
            rows.append({"rule": name, "stage": bench_law.stage_of(name, smk.stem),
                         "script": script.group(1) if script else None,
                         "benchmarked": "benchmark:" in body})
    return pd.DataFrame(rows)


_JOB_START = re.compile(r"^\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]\n(?:local)?rule (\w+):\n"
                        r"((?:    .*\n)*)", re.M)
_JOB_END = re.compile(r"^\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]\nFinished jobid: (\d+) "
                      r"\(Rule: (\w+)\)", re.M)


def parse_snakemake_log(text: str) -> pd.DataFrame:
    """Job start and finish times (1 s resolution) from Snakemake's log output."""
    starts = []
    for stamp, rule, body in _JOB_START.findall(text):
        jobid = re.search(r"jobid: (\d+)", body)
        wc = re.search(r"wildcards: (.*)", body)
        log = re.search(r"^    log: (.*)$", body, re.M)
        starts.append({"jobid": int(jobid.group(1)) if jobid else -1, "rule": rule,
                       "wildcards": wc.group(1).strip() if wc else "",
                       "log": os.path.realpath(REPO / log.group(1).strip()) if log else None,
                       "log_start": pd.Timestamp(stamp)})
    ends = pd.DataFrame([{"jobid": int(j), "log_end": pd.Timestamp(s)}
                         for s, j, _ in _JOB_END.findall(text)], columns=["jobid", "log_end"])
    out = pd.DataFrame(starts, columns=["jobid", "rule", "wildcards", "log", "log_start"])
    return out.merge(ends, on="jobid", how="left")


def read_benchmark_files(results: Path) -> pd.DataFrame:
    """Snakemake benchmark records under results/benchmarks/: one row per job."""
    rows = []
    for tsv in sorted((results / "benchmarks").rglob("*.tsv")):
        rec = pd.read_csv(tsv, sep="\t").iloc[-1]
        rel = tsv.relative_to(results / "benchmarks").with_suffix("")
        end = tsv.stat().st_mtime
        rows.append({"rule": rel.parts[0], "key": "/".join(rel.parts[1:]),
                     "seconds": float(rec["s"]), "cpu_seconds": float(rec["cpu_time"]),
                     "bench_rss_mb": pd.to_numeric(rec["max_rss"], errors="coerce"),
                     "end": end, "start": end - float(rec["s"])})
    return pd.DataFrame(rows, columns=["rule", "key", "seconds", "cpu_seconds", "bench_rss_mb",
                                       "end", "start"])


def run_workflow(size: Size, data: Path, results: Path, cores: int, replicates: int,
                 extra: list[str]) -> RunResult:
    """Run the whole workflow once; wall time, peak memory and per-job records."""
    cmd = [str(Path(PYTHON).parent / "snakemake"), "--cores", str(cores),  # beside Python
           "--config", f"data_dir={data}", f"results_dir={results}",
           f"bootstrap_replicates={replicates}", *extra]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    log_path = results.parent / f"snakemake_{size.name}.log"
    res = RunResult(size=size)
    with open(log_path, "w") as log_fh:
        t0_wall = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log_fh, stderr=subprocess.STDOUT, env=env)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        res.wall_seconds = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
    res.returncode = os.waitstatus_to_exitcode(status)
    text = log_path.read_text()
    res.log_tail = text[-3000:]
    res.peak_sum_mb = sampler.peak_sum_mb
    res.peak_single_mb = usage.ru_maxrss / 1024  # the largest single process of the tree
    res.cpu_seconds = usage.ru_utime + usage.ru_stime
    res.jobs = _jobs(results, text, sampler, t0_wall)
    if not res.jobs.empty:
        res.first_job_seconds = float(res.jobs["start_s"].min())
    return res


def _jobs(results: Path, log_text: str, sampler: TreeSampler, t0_wall: float) -> pd.DataFrame:
    """One row per job: rule, stage, key, start/end (s from launch), seconds, CPU, max RSS."""
    rules = rule_table()
    logged = parse_snakemake_log(log_text)
    bench = read_benchmark_files(results)
    hwm = pd.DataFrame([v for v in sampler.scripts.values() if v["script"] and "last" in v],
                       columns=["script", "hwm_mb", "cpu_s", "first", "last", "log"])
    rows = []
    for rec in logged.itertuples():
        wcs = rec.wildcards.split(", ") if rec.wildcards else []
        key = "/".join(v.split("=", 1)[1] for v in wcs)
        region = dict(v.split("=", 1) for v in wcs if "=" in v).get("region")
        b = bench[(bench["rule"] == rec.rule) & (bench["key"] == key)]
        start = b["start"].iloc[0] if len(b) else rec.log_start.timestamp()
        end = b["end"].iloc[0] if len(b) else (rec.log_end.timestamp()
                                               if pd.notna(rec.log_end) else float("nan"))
        script = rules.set_index("rule")["script"].get(rec.rule)
        # the job's own process: the one writing the job's log file, else the rule's script
        # seen only inside the job's window (1 s slack)
        h = hwm[hwm["log"] == rec.log] if rec.log else hwm.iloc[:0]
        if h.empty:
            h = hwm[(hwm["script"] == script) & (hwm["first"] >= start - 1)
                    & (hwm["last"] <= end + 1)]
        rss = [x for x in (b["bench_rss_mb"].iloc[0] if len(b) else float("nan"),
                           h["hwm_mb"].max() if len(h) else float("nan")) if pd.notna(x)]
        rows.append({"rule": rec.rule, "key": key, "region": region, "start_s": start - t0_wall,
                     "end_s": end - t0_wall, "seconds": end - start,
                     # CPU from the sampler (Snakemake's benchmark cpu_time is only updated
                     # every 30 s once a job has run 15 s)
                     "cpu_seconds": h["cpu_s"].max() if len(h) else float("nan"),
                     "max_rss_mb": max(rss) if rss else float("nan"),
                     "source": "benchmark file" if len(b) else "log (1 s)"})
    jobs = pd.DataFrame(rows, columns=["rule", "key", "region", "start_s", "end_s", "seconds",
                                       "cpu_seconds", "max_rss_mb", "source"])
    jobs = jobs.merge(rules[["rule", "stage"]], on="rule", how="left")
    # a rule not found in workflow/rules (e.g. defined in the Snakefile): by name, else none
    jobs["stage"] = [s if isinstance(s, str) else bench_law.stage_of(r, None)
                     for r, s in zip(jobs["rule"], jobs["stage"], strict=True)]
    return jobs.sort_values("start_s")


# --- the side-by-side alternatives --------------------------------------------------------

# Each stage engineer's script times our implementation and the slow obvious alternative
# (lifelines / statsmodels / pandas) on data it simulates itself. Each times its stage at
# --residents/--homes (the stage size, national by default) and the slow path at the
# comparison size; the extra arguments per script are below.
ALTERNATIVES = {
    "bench_costing": ["--full"],
    "bench_rates": ["--compare-residents", "{residents}", "--compare-homes", "{homes}"],
    "bench_survival": ["--compare-residents", "{residents}", "--compare-homes", "{homes}"],
}
RATIO_LINE = re.compile(r"speed-?up|faster|slower|\bratio\b\s*[:=]|\d\s*x\b|×", re.I)


def run_alternatives(stage: Size, size: Size, timeout_s: float) -> list[dict]:
    """Run each side-by-side script: its stage at ``stage``, the slow-path comparison at
    ``size``; stdout, ratio lines, wall time, status."""
    out = []
    for name, extra in ALTERNATIVES.items():
        script = REPO / "benchmarks" / f"{name}.py"
        if not script.exists():
            out.append({"script": name, "status": "missing", "text": "", "ratios": []})
            continue
        cmd = [PYTHON, str(script), "--residents", str(stage.residents), "--homes",
               str(stage.homes), *(a.format(residents=size.residents, homes=size.homes)
                                   for a in extra)]
        print(f"[alternatives] {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout_s,
                                  env={**os.environ, "MPLBACKEND": "Agg"})
            status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
            text = proc.stdout + ("\n" + proc.stderr[-1500:] if proc.returncode else "")
        except subprocess.TimeoutExpired as e:
            status, text = f"timed out after {timeout_s:.0f} s", (e.stdout or b"").decode()
        out.append({"script": name, "status": status, "seconds": time.perf_counter() - t0,
                    "command": " ".join(["benchmarks/" + script.name, *cmd[2:]]), "text": text,
                    "ratios": [ln.strip() for ln in text.splitlines() if RATIO_LINE.search(ln)]})
    return out


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=DEFAULT_SIZES,
                   help=f"comma-separated, of {', '.join(SIZES)} (default all; five_years "
                        "alone takes about 10 minutes)")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--replicates", type=int, default=1000, help="bootstrap replicates")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results.md")
    p.add_argument("--work-dir", type=Path, default=REPO / "benchmarks" / "work")
    p.add_argument("--keep-data", action="store_true", help="keep datasets and results")
    p.add_argument("--skip-generate", action="store_true",
                   help="reuse datasets already in the work dir")
    p.add_argument("--alternatives-size", default="medium",
                   help="size of the side-by-side comparisons with the slow alternatives "
                        "('none' skips the stage scripts)")
    p.add_argument("--stage-size", default="large",
                   help="size at which the stage scripts time each model and the bootstrap")
    p.add_argument("--alternatives-timeout", type=float, default=900.0, help="seconds per script")
    p.add_argument("--snakemake-args", default="", help="extra Snakemake arguments")
    args = p.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    unknown += [s for s in (args.stage_size, args.alternatives_size)
                if s not in SIZES and s != "none"]
    if unknown:
        p.error(f"unknown sizes {unknown}; choose from {list(SIZES)}")
    work = args.work_dir.resolve()
    t_start = time.perf_counter()
    machine = bench_report.machine_info(REPO)
    runs = []
    for name in sizes:
        size = SIZES[name]
        data, results = work / f"data_{name}", work / f"results_{name}"
        gen_json = work / f"generation_{name}.json"
        if args.skip_generate and data.exists() and gen_json.exists():
            gen = json.loads(gen_json.read_text())  # the timings of the run that made it
        else:
            _rmtree(data)
            print(f"[{name}] generating {size.residents} residents / {size.homes} homes ...",
                  flush=True)
            gen = generate_dataset(size, data)
            gen_json.write_text(json.dumps(gen))
        _rmtree(results)
        print(f"[{name}] running the workflow ...", flush=True)
        run = run_workflow(size, data, results, args.cores, args.replicates,
                           args.snakemake_args.split())
        run.generation = gen
        print(f"[{name}] {run.wall_seconds:.1f} s, exit {run.returncode}, "
              f"peak {run.peak_sum_mb:.0f} MB", flush=True)
        runs.append(run)
        machine["harness_s"] = time.perf_counter() - t_start
        bench_report.write(args.out, machine, runs, TARGETS, args, [])  # after each size
        if not args.keep_data:
            _rmtree(data)
            _rmtree(results)
            gen_json.unlink(missing_ok=True)
    alternatives = []
    if args.alternatives_size != "none":
        alternatives = run_alternatives(SIZES[args.stage_size], SIZES[args.alternatives_size],
                                        args.alternatives_timeout)
        machine["harness_s"] = time.perf_counter() - t_start
        bench_report.write(args.out, machine, runs, TARGETS, args, alternatives)
    print(f"wrote {args.out}")
    return 0 if all(r.returncode == 0 for r in runs) else 1


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
