#!/usr/bin/env bash
# Run the smoke workflow through SLURM on this one machine: a single-node "loopback"
# cluster (slurmctld + slurmd on localhost), submitting with snakemake-executor-plugin-slurm
# and workflow/profiles/slurm. For CI on a throwaway Debian machine or container, as root.
#
#   .ci/slurm_loopback.sh                      the whole smoke workflow (config/smoke.yaml)
#   .ci/slurm_loopback.sh TARGET...            only these targets, e.g.
#       .ci/slurm_loopback.sh results/models/one_to_one/aed/seed0/metrics.json
#
# Environment:
#   VENV      a virtualenv with envs/requirements.txt (+ requirements-slurm.txt, installed
#             here if missing); default: a fresh one in $WORK/venv
#   WORK      scratch directory (default: a new /tmp/attend-slurm.XXXXXX); the workflow runs
#             in a copy of the repository there, so the checkout's results/ is untouched
#   CPUS      CPUs the node offers (default: nproc)
#   STOP_SLURM=1  stop slurmctld/slurmd/munged again at the end (default: leave them up)
#   CORPUS    a local fra.txt (default: ../shared/data/fra-eng/fra.txt if present)
#
# Installs slurm-wlm and munge with apt and overwrites /etc/slurm/slurm.conf: do not run
# it on a machine that is part of a real SLURM cluster.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/attend-slurm.XXXXXX)}
CPUS=${CPUS:-$(nproc)}
T0=$(date +%s)
say() { echo "[slurm-loopback +$(( $(date +%s) - T0 ))s] $*"; }
die() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (installs packages, starts daemons)"
command -v apt-get >/dev/null || die "needs a Debian/Ubuntu system (apt-get)"

# 1. Packages ---------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null
fi
say "$(slurmctld -V), $(munged --version 2>&1 | head -1)"

stop_slurm() {
    say "stopping slurmd, slurmctld, munged"
    for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
        if [ -s "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
    done
}
if [ "${STOP_SLURM:-0}" = 1 ]; then trap stop_slurm EXIT; fi

# 2. Munge (authentication between the SLURM daemons and clients) -----------------------
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then mungekey --create --force; else create-munge-key -f; fi
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge && chown munge:munge /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
    munge -n | unmunge >/dev/null || die "munged does not answer"
fi

# 3. A one-node cluster on localhost ----------------------------------------------------
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<EOF
# Written by attend's .ci/slurm_loopback.sh: one node, this machine, for CI only.
ClusterName=loopback
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# no cgroups in a container: track processes by parent pid, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
# keep finished jobs visible to squeue (the executor's status query) for 5 minutes
MinJobAge=300
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
if ! scontrol ping 2>/dev/null | grep -q UP; then
    say "starting slurmctld"
    slurmctld -i   # -i: ignore state left by an earlier run
fi
if ! pgrep -x slurmd >/dev/null; then
    say "starting slurmd"
    slurmd -N localhost
fi
scontrol reconfigure 2>/dev/null || true
scontrol update nodename=localhost state=resume 2>/dev/null || true
for _ in $(seq 60); do
    state=$(sinfo -h -N -n localhost -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
sinfo
[ "$state" = idle ] || { tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log; die "node is '$state', not idle"; }
say "node localhost idle ($CPUS CPUs, ${MEM_MB} MB)"

# 4. A scratch copy of the repository (tracked files and new ones git does not ignore) --
mkdir -p "$WORK/repo"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done \
    | tar --null -T - -cf -) | tar -xf - -C "$WORK/repo"  # (skips deleted files)
say "copied the working tree to $WORK/repo"

# 5. Python environment -----------------------------------------------------------------
if [ -z "${VENV:-}" ]; then
    VENV=$WORK/venv
    say "creating $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$REPO/envs/requirements.txt" -c "$REPO/envs/constraints.txt"
fi
if ! "$VENV/bin/python" -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
    say "installing the SLURM executor plugin into $VENV"
    "$VENV/bin/pip" install -q -r "$REPO/envs/requirements-slurm.txt" -c "$REPO/envs/constraints.txt"
fi
# attend from the copy, whatever the venv has installed (exported to the jobs by sbatch)
export PYTHONPATH=$WORK/repo/src${PYTHONPATH:+:$PYTHONPATH}
export PATH=$VENV/bin:$PATH

# 6. The workflow, every job through sbatch ---------------------------------------------
# Training on the node's CPUs: no GPU here, so no `sbatch --gpus`.
export ATTEND_SLURM_TRAIN_GPUS=0
cd "$WORK/repo"
# The translation corpus: a local copy if there is one (CORPUS=...), else the download.
CORPUS=${CORPUS:-$REPO/../shared/data/fra-eng/fra.txt}
CONFIGS=(config/smoke.yaml)
if [ -f "$CORPUS" ]; then
    printf 'data:\n  translation:\n    corpus:\n      local: %s\n' "$(realpath "$CORPUS")" > corpus.yaml
    CONFIGS+=(corpus.yaml)
fi
say "snakemake $(snakemake --version), targets: ${*:-(the smoke workflow)}"
CTLD_LOG=/var/log/slurm/slurmctld.log
LOG_FROM=$(( $(wc -l < "$CTLD_LOG") + 1 ))
set +e
snakemake --workflow-profile workflow/profiles/slurm --configfile "${CONFIGS[@]}" \
    --slurm-status-command squeue \
    --slurm-init-seconds-before-status-checks 10 --slurm-keep-successful-logs \
    -- "$@"
rc=$?
set -e
say "snakemake exited with $rc"
echo "--- sbatch jobs (sacct is off: from slurmctld.log)"
tail -n +"$LOG_FROM" "$CTLD_LOG" | grep -E "_slurm_rpc_submit_batch_job|_job_complete" | tail -n 60 || true
echo "--- per-job SLURM logs: $WORK/repo/.snakemake/slurm_logs"
find .snakemake/slurm_logs -name '*.log' 2>/dev/null | sort | head -n 60 || true

exit $rc
