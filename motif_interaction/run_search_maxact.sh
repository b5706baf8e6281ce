#!/usr/bin/env bash
# Max-activation search over the training set for conv layers first..last (inclusive):
#   bash run_search_maxact.sh <first> <last> <config> [--force]
#   bash run_search_maxact.sh 4 4 ../configs/interaction/mrl_predictor.yaml
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 3 ]; then echo "usage: bash run_search_maxact.sh <first> <last> <config>" >&2; exit 2; fi
source "$HERE/../scripts/setup_env.sh"
python "$HERE/search_maxact.py" "$@"
