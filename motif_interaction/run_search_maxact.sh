#!/usr/bin/env bash
# Max-activation search over the training set for conv layers first..last (inclusive):
#   bash run_search_maxact.sh <first> <last> <config> [--force]
#   bash run_search_maxact.sh 4 4 ../configs/interaction/mrl_predictor.yaml   (= combmotif search --stage interaction)
[ $# -ge 3 ] || { echo "error: usage: bash run_search_maxact.sh <first> <last> <config>" >&2; exit 2; }
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif search "$3" --layers "$1-$2" --stage interaction "${@:4}"
