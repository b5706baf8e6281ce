#!/usr/bin/env bash
# A single-node SLURM cluster on this machine for trying the workflow's SLURM profile:
# slurmctld + slurmd with a slurm.conf generated in a fresh folder (no system config is read
# or written), no accounting daemon (job records go to a jobcomp text file; the executor polls
# squeue). Needs Debian's slurm-wlm (slurmctld, slurmd, sbatch, squeue).
#   eval "$(bash scripts/slurm_up.sh)"     # prints: export SLURM_CONF=<folder>/slurm.conf
#   ... sbatch / snakemake --profile workflow/profiles/slurm --slurm-status-command squeue ...
#   bash scripts/slurm_down.sh "$SLURM_CONF"
# Exit status 3 (and nothing on stdout) when the daemons are missing or do not start.
set -u
for bin in slurmctld slurmd sbatch squeue scontrol; do
  command -v "$bin" > /dev/null 2>&1 || { echo "slurm_up: $bin not found (apt-get install slurm-wlm)" >&2; exit 3; }
done
dir="$(mktemp -d "${TMPDIR:-/tmp}/combmotif-slurm.XXXXXX")" || exit 3
host="$(hostname -s)"
cpus="$(nproc)"
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
user="$(id -un)"
# Ports: two free ones above 20000 picked from this folder's name, so two clusters can coexist.
port=$(( 20000 + $(printf '%s' "$dir" | cksum | cut -d' ' -f1) % 20000 ))
mkdir -p "$dir/state" "$dir/spool"
cat > "$dir/slurm.conf" <<CONF
ClusterName=combmotif
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MinJobAge=3600
DefMemPerCPU=1024
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
# Client commands inside jobs: the executor's job steps drop SLURM_CONF, and SLURM then reads
# /run/slurm/conf/slurm.conf (where a configless node keeps its copy). Linked to this folder
# only when nothing is there (/etc/slurm is never touched); slurm_down.sh removes the link.
if [ ! -e /run/slurm/conf ] && [ ! -L /run/slurm/conf ]; then
  mkdir -p /run/slurm 2> /dev/null && ln -s "$dir" /run/slurm/conf 2> /dev/null \
    || echo "slurm_up: could not link /run/slurm/conf; jobs of the SLURM executor will not find the config" >&2
fi
slurmctld -f "$SLURM_CONF" >> "$dir/start.log" 2>&1 || { echo "slurm_up: slurmctld did not start (see $dir)" >&2; exit 3; }
slurmd -f "$SLURM_CONF" >> "$dir/start.log" 2>&1 || { echo "slurm_up: slurmd did not start (see $dir)" >&2;
                                                       bash "$(dirname "$0")/slurm_down.sh" "$SLURM_CONF" keep; exit 3; }
# Up when the node answers idle (at most 30 s).
for _ in $(seq 60); do
  if sinfo -h -o %T 2> /dev/null | grep -q idle; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "slurm_up: the node did not become idle in 30 s (see $dir/*.log)" >&2
bash "$(dirname "$0")/slurm_down.sh" "$SLURM_CONF" keep
exit 3
