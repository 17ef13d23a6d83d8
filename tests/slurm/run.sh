#!/usr/bin/env bash
# make test-slurm: run the workflow through a real SLURM cluster and check it
# gives the same results as a local run, byte for byte.
#
#   1. install SLURM and MUNGE from the Debian packages (slurm-wlm, munge) if
#      missing, and the Snakemake SLURM executor plugin (pinned by
#      requirements/lock.txt) into the project's environment if missing;
#   2. start a single-node cluster on this machine: munged, slurmctld and
#      slurmd as plain daemons (no systemd), with a key, slurm.conf, state,
#      spool and logs in a fresh temporary folder, on their own ports;
#   3. run the workflow on the bundled synthetic data with
#      --profile workflow/profiles/slurm: every job is a SLURM job (sbatch),
#      scheduled by memory and CPUs;
#   4. stop the daemons it started (always: also on failure or Ctrl-C);
#   5. run the same workflow locally (--cores 2);
#   6. compare the two results folders file by file.
#
# Needs root (to install packages and run slurmd) and apt-get. Never touches
# an existing SLURM installation: it writes nothing under /etc, and stops
# with a message if a SLURM daemon is already running or /etc/slurm/slurm.conf
# exists. Its slurm.conf is in the temporary folder (SLURM_CONF for the commands
# it runs), and /run/slurm/conf links to that folder while the cluster runs:
# the srun inside every job looks there (the job-step plugin drops SLURM_CONF
# from the job's environment), as on a cluster whose slurmd runs "configless".
# The test removes that link at the end.
#
# Environment: VENV (default .venv), KEEP=1 keeps the temporary folder,
# DATA_DIR (default data/synthetic).
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
SNAKEMAKE="$VENV/bin/snakemake"
DATA_DIR=${DATA_DIR:-data/synthetic}
KEEP=${KEEP:-0}
# Both runs, and every SLURM job (sbatch passes the environment on), import
# this checkout's package, even from an environment installed for another one.
export PYTHONPATH="$REPO/src${PYTHONPATH:+:$PYTHONPATH}"
# Ports of this test's slurmctld and slurmd (not SLURM's defaults 6817/6818).
CTLD_PORT=${CTLD_PORT:-16817}
SLURMD_PORT=${SLURMD_PORT:-16818}
DAEMON_NAMES=(slurmctld slurmd slurmstepd slurmscriptd slurmdbd)

# Results files that legitimately differ between two runs of the same
# workflow on the same data, excluded from the comparison:
#   benchmarks/  per-job wall time, memory and CPU (Snakemake's benchmark files)
#   logs/        every line starts with a timestamp
# Two files embed the run's results_dir (an absolute path) and are compared
# after replacing it with a placeholder; every other byte must match:
#   config.yaml  the effective configuration of the run (results_dir: ...)
#   report.html  the report's configuration section and published-file paths
EXCLUDED_DIRS=(benchmarks logs)
PATH_NORMALISED=(config.yaml report.html)

START=$(date +%s)
STEP=0
say() { printf '[test-slurm %4ss] %s\n' "$(($(date +%s) - START))" "$*"; }
step() { STEP=$((STEP + 1)); say "step $STEP/6: $*"; }
die() { printf '\n[test-slurm] FAILED: %s\n' "$*" >&2; exit 1; }
slurm_processes() {  # pid and command line of every SLURM daemon on the machine
    local name
    for name in "${DAEMON_NAMES[@]}"; do pgrep -a -x "$name" || true; done
}
job_steps_in() {  # pids of the slurmstepd processes (running jobs) of clusters in folders $1*
    local pid
    for pid in $(pgrep -x slurmstepd || true); do
        [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$1"* ]] && echo "$pid"
    done
    return 0
}

# ---------------------------------------------------------------- checks
[ "$(id -u)" -eq 0 ] || die "this test installs packages and starts slurmd, which needs root.
  Run it as root: sudo make test-slurm   (or: sudo bash tests/slurm/run.sh)"
[ -x "$SNAKEMAKE" ] || die "$SNAKEMAKE not found: run make test-slurm (it sets up $VENV), or set VENV=..."
[ -d "$DATA_DIR" ] || die "data folder $DATA_DIR not found"

# Daemons left by an earlier run of this test that was killed (kill -9, a lost
# terminal) name its folder /tmp/test-slurm.* on their command line: stop them.
stale=$( { slurm_processes; pgrep -a -x munged || true; } | grep '/tmp/test-slurm\.' || true)
if [ -n "$stale" ]; then
    echo "[test-slurm] stopping daemons left by an earlier, interrupted run of this test:"
    echo "$stale"
    # cancel that cluster's jobs while its slurmctld still runs, then stop it
    while IFS= read -r conf; do
        SLURM_CONF=$conf timeout 10 scancel --full --quiet --user=root 2>/dev/null || true
    done < <(grep -o '/tmp/test-slurm\.[^/ ]*/etc/slurm.conf' <<<"$stale" | sort -u)
    sleep 2
    # shellcheck disable=SC2046
    kill -TERM $(awk '{print $1}' <<<"$stale") $(job_steps_in /tmp/test-slurm.) 2>/dev/null || true
    sleep 2
    # shellcheck disable=SC2046
    kill -KILL $(awk '{print $1}' <<<"$stale") $(job_steps_in /tmp/test-slurm.) 2>/dev/null || true
fi
if [ -L /run/slurm/conf ] && [[ "$(readlink /run/slurm/conf)" == /tmp/test-slurm.* ]]; then
    rm -f /run/slurm/conf                # its link to the configuration, left the same way
    rmdir /run/slurm 2>/dev/null || true # and the folder it made for it, if now empty
fi
running=$(slurm_processes)
if [ -n "$running" ]; then
    die "a SLURM daemon is already running on this machine:
$running
  This test starts its own single-node cluster and does not touch an existing
  one. Stop those daemons (or run the test on another machine), then rerun;
  to run the workflow on an existing cluster instead, see docs/scaling.md."
fi
for f in /etc/slurm/slurm.conf /run/slurm/conf; do
    if [ -e "$f" ] || [ -L "$f" ]; then
        die "$f exists: this machine has a SLURM configuration of its own. The srun
  inside every job would read it instead of the test cluster's, so the test
  does not run here (it leaves that configuration alone). Run it on a machine
  without SLURM configured, or run the workflow on that cluster (docs/scaling.md)."
    fi
done

# ---------------------------------------------------------------- 1. install
step "SLURM and MUNGE packages, the Snakemake SLURM plugin"
T0=$(date +%s)
missing=()
for cmd in munged slurmctld slurmd sbatch srun squeue sinfo scontrol scancel; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "SLURM commands missing (${missing[*]}) and apt-get is not available.
  On Debian/Ubuntu this test installs them itself; elsewhere install SLURM
  (slurmctld, slurmd, the client commands) and MUNGE with your package manager and rerun."
    say "installing slurm-wlm and munge with apt-get (missing: ${missing[*]})"
    # The packages must not start their services: the test starts its own daemons.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    apt_log=$(mktemp /tmp/test-slurm-apt.XXXXXX)
    apt_ok=1
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends slurm-wlm munge; } >"$apt_log" 2>&1 || apt_ok=0
    if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    if [ "$apt_ok" = 0 ]; then
        tail -n 30 "$apt_log" >&2
        die "apt-get could not install slurm-wlm and munge (full log: $apt_log)"
    fi
    rm -f "$apt_log"
else
    say "SLURM and MUNGE already installed"
fi
say "$(slurmctld -V), munge $(dpkg-query -W -f='${Version}' munge 2>/dev/null || echo '?')"
if ! "$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
    say "installing snakemake-executor-plugin-slurm (pinned by requirements/lock.txt)"
    "$PY" -m pip install --quiet -c requirements/lock.txt snakemake-executor-plugin-slurm \
        || die "pip could not install snakemake-executor-plugin-slurm"
fi
say "snakemake $("$SNAKEMAKE" --version), snakemake-executor-plugin-slurm $("$PY" -c \
    'import importlib.metadata as m; print(m.version("snakemake-executor-plugin-slurm"))')"
say "done in $(($(date +%s) - T0)) s"

# ---------------------------------------------------------------- temp folder, cleanup
T=$(mktemp -d /tmp/test-slurm.XXXXXX)
chmod 755 "$T"                       # munged needs every folder above its socket searchable
mkdir -p "$T"/{etc,munge,state,spool,log,slurm_logs}
chmod 755 "$T/munge"
export SLURM_CONF="$T/etc/slurm.conf"    # client commands (sbatch, squeue, ...) read this one
RUN_SLURM_EXISTED=0
if [ -d /run/slurm ]; then RUN_SLURM_EXISTED=1; fi
DAEMONS_STARTED=0

show_logs() {
    local f
    for f in "$T"/log/*.log; do
        [ -s "$f" ] || continue
        printf '\n----- %s (last 25 lines) -----\n' "$f" >&2
        tail -n 25 "$f" >&2
    done
    while IFS= read -r f; do
        printf '\n----- SLURM job log %s (last 15 lines) -----\n' "$f" >&2
        tail -n 15 "$f" >&2
    done < <(find "$T/slurm_logs" -name '*.log' -size +0 2>/dev/null | sort | tail -n 4)
}

stop_pidfile() {  # stop_pidfile NAME FILE: TERM, wait up to 10 s, then KILL
    local name=$1 file=$2 pid
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name (pid $pid) did not stop in 10 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

stop_cluster() {
    [ "$DAEMONS_STARTED" = 1 ] || return 0
    DAEMONS_STARTED=0
    say "stopping the test cluster (jobs, slurmd, slurmctld, munged)"
    scancel --full --quiet --user=root 2>/dev/null || true
    local steps left
    for _ in $(seq 25); do
        [ -z "$(squeue --noheader --states=PENDING,RUNNING,COMPLETING 2>/dev/null)" ] && break
        sleep 0.2
    done
    stop_pidfile slurmd "$T/slurmd.pid"
    stop_pidfile slurmctld "$T/slurmctld.pid"
    # job steps of this cluster still running (none after a normal run)
    steps=$(job_steps_in "$T")
    # shellcheck disable=SC2086
    if [ -n "$steps" ]; then kill -KILL $steps 2>/dev/null || true; fi
    stop_pidfile munged "$T/munge/munged.pid"
    # the link to this cluster's configuration for the jobs' srun
    if [ -L /run/slurm/conf ] && [ "$(readlink /run/slurm/conf)" = "$T/etc" ]; then
        rm -f /run/slurm/conf
    fi
    if [ "$RUN_SLURM_EXISTED" = 0 ]; then rmdir /run/slurm 2>/dev/null || true; fi
    left=$(slurm_processes)
    [ -z "$left" ] || say "WARNING: still running after the stop: $left"
}

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$rc" -ne 0 ]; then show_logs; fi
    stop_cluster
    if [ "$rc" -ne 0 ] || [ "$KEEP" = 1 ]; then
        say "kept the test folder for inspection: $T"
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'say "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- 2. the cluster
step "a single-node SLURM cluster in $T"
T0=$(date +%s)
# The key of this run's munged only (1 KiB of random bytes, readable by root only).
head -c 1024 /dev/urandom > "$T/munge/munge.key"
chmod 400 "$T/munge/munge.key"
DAEMONS_STARTED=1
munged --key-file="$T/munge/munge.key" --socket="$T/munge/munge.sock" \
    --pid-file="$T/munge/munged.pid" --log-file="$T/log/munged.log" \
    --seed-file="$T/munge/munged.seed" || die "munged did not start"
NODE=$(slurmd -C | head -n 1)        # NodeName=<host> CPUs=... RealMemory=...
[[ "$NODE" == NodeName=* ]] || die "slurmd -C did not describe this machine: $NODE"
[[ "$NODE" =~ ^NodeName=([^ ]+).*CPUs=([0-9]+).*RealMemory=([0-9]+) ]] \
    || die "could not read the host name, CPUs and memory from: $NODE"
HOST=${BASH_REMATCH[1]} CPUS=${BASH_REMATCH[2]} MEM=${BASH_REMATCH[3]}
cat > "$SLURM_CONF" <<SLURMCONF
# Single-node test cluster of make test-slurm (generated; deleted after the run).
ClusterName=optimaltest
SlurmctldHost=$HOST
SlurmUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
# No cgroups needed (works in a container without systemd).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
# CPUs and memory are consumable: a job's --mem counts against the node's memory.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
# No accounting database (slurmdbd): sacct does not work, so the run polls job
# states with squeue, which shows finished jobs for MinJobAge seconds.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/filetxt
JobCompLoc=$T/log/jobcomp.txt
MinJobAge=600
ReturnToService=2
$NODE
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
SLURMCONF
slurmctld -f "$SLURM_CONF" || die "slurmctld did not start"
slurmd -f "$SLURM_CONF" || die "slurmd did not start"
# Where a job's srun finds the configuration without SLURM_CONF (see the top).
mkdir -p /run/slurm
ln -s "$T/etc" /run/slurm/conf
idle=0
for _ in $(seq 60); do
    if sinfo --noheader -o '%t' 2>/dev/null | grep -qx idle; then idle=1; break; fi
    sleep 1
done
[ "$idle" = 1 ] || die "the node did not become idle in 60 s: $(sinfo 2>&1 || true)"
env -u SLURM_CONF sinfo >/dev/null 2>&1 \
    || die "SLURM commands do not find the configuration through /run/slurm/conf"
say "node $HOST idle ($CPUS CPUs, $MEM MB) in partition 'test' after $(($(date +%s) - T0)) s"

# ---------------------------------------------------------------- 3. SLURM run
step "the workflow through SLURM (--profile workflow/profiles/slurm) -> $T/slurm"
# A job asking for more memory than this node has would never start: on a
# machine with less than the largest request (10 GB), pass the profile's
# set-resources again with mem_mb capped at the node's memory (a command-line
# --set-resources replaces the profile's whole block).
CAPS=$("$PY" - "$MEM" <<'PYEOF'
import sys, yaml
mem = int(sys.argv[1])
profile = yaml.safe_load(open("workflow/profiles/slurm/config.yaml"))
rules = profile.get("set-resources") or {}
if any(int(res.get("mem_mb", 0)) > mem for res in rules.values()):
    print(" ".join(f"{rule}:{key}={min(int(value), mem) if key == 'mem_mb' else value}"
                   for rule, res in rules.items() for key, value in res.items()))
PYEOF
)
CAP_ARGS=()
if [ -n "$CAPS" ]; then
    say "this node has $MEM MB: the profile's memory requests capped at it ($CAPS)"
    read -r -a CAP_ARGS <<<"--set-resources $CAPS"
fi
# What differs from the profile, and why (everything else is the profile's):
#   --slurm-status-command squeue   no slurmdbd here, so sacct cannot answer;
#   --slurm-init-seconds-before-status-checks 5 / --seconds-between-status-checks 5
#                                   poll every few seconds (the plugin's 40 s
#                                   suits a real cluster; here each job takes seconds);
#   --slurm-logdir                  SLURM job logs in the test folder.
T0=$(date +%s)
MPLBACKEND=Agg timeout --foreground -s INT 1200 "$SNAKEMAKE" --profile workflow/profiles/slurm \
    --slurm-status-command squeue \
    --slurm-init-seconds-before-status-checks 5 --seconds-between-status-checks 5 \
    --slurm-logdir "$T/slurm_logs" \
    "${CAP_ARGS[@]}" \
    --config data_dir="$DATA_DIR" results_dir="$T/slurm" >"$T/log/slurm_run.log" 2>&1 || {
    tail -n 60 "$T/log/slurm_run.log" >&2
    die "the SLURM run failed (log: $T/log/slurm_run.log)"
}
SLURM_S=$(($(date +%s) - T0))
ncomp=$(grep -c 'JobState=COMPLETED' "$T/log/jobcomp.txt" || true)
say "SLURM run done in $SLURM_S s: $ncomp SLURM jobs completed (slurmctld's job record)"
[ "$ncomp" -gt 0 ] || die "no SLURM job completed: the run did not go through the cluster"

# ---------------------------------------------------------------- 4. stop
step "stop the cluster"
stop_cluster

# ---------------------------------------------------------------- 5. local run
step "the workflow locally (--cores 2) -> $T/local"
T0=$(date +%s)
MPLBACKEND=Agg "$SNAKEMAKE" --cores 2 --config data_dir="$DATA_DIR" \
    results_dir="$T/local" >"$T/log/local_run.log" 2>&1 || {
    tail -n 40 "$T/log/local_run.log" >&2
    die "the local run failed (log: $T/log/local_run.log)"
}
LOCAL_S=$(($(date +%s) - T0))
say "local run done in $LOCAL_S s"

# ---------------------------------------------------------------- 6. compare
step "compare $T/slurm with $T/local"
files() {
    (cd "$1" && find . -type f | sed 's|^\./||' \
        | grep -Ev "^($(IFS='|'; echo "${EXCLUDED_DIRS[*]}"))/" | sort)
}
files "$T/local" > "$T/files_local"
files "$T/slurm" > "$T/files_slurm"
only_local=$(comm -23 "$T/files_local" "$T/files_slurm")
only_slurm=$(comm -13 "$T/files_local" "$T/files_slurm")
differ=()
same=0
while IFS= read -r f; do
    a="$T/local/$f" b="$T/slurm/$f"
    if printf '%s\n' "${PATH_NORMALISED[@]}" | grep -qxF "$f"; then
        if cmp -s <(sed "s|$T/local|@RESULTS@|g" "$a") <(sed "s|$T/slurm|@RESULTS@|g" "$b"); then
            same=$((same + 1)); else differ+=("$f"); fi
    elif cmp -s "$a" "$b"; then
        same=$((same + 1))
    else
        differ+=("$f")
    fi
done < <(comm -12 "$T/files_local" "$T/files_slurm")
for d in tables data_quality published figures interim; do
    say "  $d/: $(grep -c "^$d/" "$T/files_local" || true) files"
done
say "  not compared: ${EXCLUDED_DIRS[*]/%//} (timings, timestamps); compared with results_dir replaced: ${PATH_NORMALISED[*]}"
if [ -n "$only_local" ] || [ -n "$only_slurm" ] || [ ${#differ[@]} -gt 0 ]; then
    if [ -n "$only_local" ]; then printf 'only in the local run:\n%s\n' "$only_local" >&2; fi
    if [ -n "$only_slurm" ]; then printf 'only in the SLURM run:\n%s\n' "$only_slurm" >&2; fi
    if [ ${#differ[@]} -gt 0 ]; then printf 'differ:\n%s\n' "${differ[@]}" >&2; fi
    die "the SLURM run's results differ from the local run's (both kept in $T)"
fi
say "PASS: all $same files identical (SLURM run $SLURM_S s, local run $LOCAL_S s, total $(($(date +%s) - START)) s)"
