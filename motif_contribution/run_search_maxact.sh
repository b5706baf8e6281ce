#!/usr/bin/env bash
# Max-activation search over the training set for conv layers first..last (inclusive):
#   bash run_search_maxact.sh <first> <last> <config> [--force]
#   bash run_search_maxact.sh 1 4 ../configs/contribution/mrl_predictor.yaml   (= combmotif search)
[ $# -ge 3 ] || { echo "error: usage: bash run_search_maxact.sh <first> <last> <config>" >&2; exit 2; }
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif search "$3" --layers "$1-$2" "${@:4}"
