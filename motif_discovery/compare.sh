#!/usr/bin/env bash
# NeuronMotif against the baselines (max-activation seqlets, TF-MoDISco, class optimization).
#   bash compare.sh <config.yaml> [--force] [--no-run] [--device DEV] [--debug]
# Runs every method named in the config on the same layers and neurons (finished
# units are skipped), matches all of them against one motif database and writes
# results/<model>/compare/index.html.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: bash compare.sh <config.yaml> [--force] [--no-run] [--device DEV]" >&2
  exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../scripts/setup_env.sh"
python "$HERE/compare.py" "$@"
