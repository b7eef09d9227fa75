#!/usr/bin/env bash
# The job-array scripts against a real single-node Slurm: install Debian's slurmctld, slurmd and
# munge if missing, start them with a throwaway configuration, submit sweep.sbatch as an array of
# 3 tasks and merge.sbatch after it, and compare the merged CSV with an unsharded run of the same
# sweep, byte for byte. Exit 0: equal; 1: different or a job failed; 77: Slurm could not be
# started here (the reason is printed; nothing was checked).
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
work=$(mktemp -d /tmp/collapse-slurm.XXXXXX)
chmod 755 "$work"
skip() { echo "slurm check SKIPPED: $*"; exit 77; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends slurmd slurmctld slurm-client munge >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends slurmd slurmctld slurm-client munge >/dev/null 2>&1; } \
    || skip "apt-get could not install slurmd, slurmctld and munge"
fi

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/spool/ctld" "$work/spool/d" "$work/log"
cat > "$work/slurm.conf" <<CONF
ClusterName=collapse-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ReturnToService=2
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf

munge_socket=$work/munge.socket
munged --force --socket="$munge_socket" --pid-file="$work/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge.seed" \
  || skip "munged did not start ($(tail -n 2 "$work/log/munged.log" 2>/dev/null))"
# Slurm's munge plugin finds the socket through the configuration.
echo "AuthInfo=socket=$munge_socket" >> "$work/slurm.conf"
cleanup() {
  for pid in slurmd slurmctld munged; do [ -f "$work/$pid.pid" ] && kill "$(cat "$work/$pid.pid")" 2>/dev/null; done
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT
slurmctld -f "$work/slurm.conf" || skip "slurmctld did not start ($(tail -n 3 "$work/log/slurmctld.log"))"
slurmd -f "$work/slurm.conf" || skip "slurmd did not start ($(tail -n 3 "$work/log/slurmd.log"))"
for _ in $(seq 60); do sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break; sleep 1; done
sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)' || skip "the node never became idle: $(sinfo 2>&1 | tail -n 2)"

dotnet build src/Collapse.Cli -c Release -v q -nologo >/dev/null || { echo "build failed"; exit 1; }
export COLLAPSE="dotnet $repo/src/Collapse.Cli/bin/Release/net10.0/collapse.dll"
export SHARDS_DIR=$work/shards MERGED_DIR=$work/merged
sweep=(kde --datasets moons,swiss-roll --bandwidths 0.5 --samples 8,30 --seeds 3 --iterations 4 --test-size 40 --no-figures)
array=$(sbatch --parsable --array=0-2 --cpus-per-task=1 --chdir="$repo" --output="$work/log/task-%a.out" scripts/slurm/sweep.sbatch "${sweep[@]}") \
  || { echo "sbatch of the array failed"; exit 1; }
merge=$(sbatch --parsable --dependency=afterok:"$array" --chdir="$repo" --output="$work/log/merge.out" scripts/slurm/merge.sbatch kde) \
  || { echo "sbatch of the merge failed"; exit 1; }
echo "submitted array job $array (3 tasks) and merge job $merge"
for _ in $(seq 300); do squeue -h -j "$array,$merge" 2>/dev/null | grep -q . || break; sleep 1; done

$COLLAPSE run "${sweep[@]}" --out "$work/whole" >/dev/null || { echo "the unsharded run failed"; exit 1; }
if cmp -s "$work/whole/kde.csv" "$work/merged/kde.csv"; then
  echo "slurm check: 3 array tasks + merge job give the unsharded kde.csv byte for byte ($(wc -l < "$work/merged/kde.csv") lines)"
  exit 0
fi
echo "slurm check FAILED: merged CSV differs or is missing"
sacct -j "$array,$merge" 2>/dev/null | tail -n 6
tail -n 5 "$work"/log/*.out "$work/log/slurmctld.log" 2>/dev/null
exit 1
