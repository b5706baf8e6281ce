#!/usr/bin/env bash
# Windows that drive each neuron of a conv layer above fragment_threshold x its maximum:
#   bash run_fragment_location.sh <layer> <config> [--force]
#   bash run_fragment_location.sh 4 ../configs/interaction/mrl_predictor.yaml
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 2 ]; then echo "usage: bash run_fragment_location.sh <layer> <config>" >&2; exit 2; fi
source "$HERE/../scripts/setup_env.sh"
python "$HERE/fragment_location.py" "$@"
