#!/usr/bin/env bash
# Stop the cluster scripts/slurm_up.sh started and remove its folder.
#   bash scripts/slurm_down.sh <folder>/slurm.conf [keep]     # keep: leave the folder (logs)
set -u
conf="${1:-${SLURM_CONF:-}}"
[ -n "$conf" ] && [ -f "$conf" ] || { echo "slurm_down: usage: slurm_down.sh <folder>/slurm.conf" >&2; exit 2; }
dir="$(dirname "$conf")"
case "$(basename "$dir")" in combmotif-slurm.*) ;; *) echo "slurm_down: $dir is not slurm_up.sh's" >&2; exit 2;; esac
SLURM_CONF="$conf" scancel --full --user "$(id -un)" 2> /dev/null
# Only the two daemons this cluster started: their pid files are in its folder.
for name in slurmd slurmctld; do
  pid="$(cat "$dir/$name.pid" 2> /dev/null)"
  [ -n "$pid" ] || continue
  kill "$pid" 2> /dev/null
  for _ in $(seq 20); do kill -0 "$pid" 2> /dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2> /dev/null && kill -9 "$pid" 2> /dev/null
done
# The link slurm_up.sh made, when it still points here.
[ "$(readlink /run/slurm/conf 2> /dev/null)" = "$dir" ] && rm -f /run/slurm/conf && rmdir /run/slurm 2> /dev/null
[ "${2:-}" = keep ] || rm -rf "$dir"
exit 0
