#!/usr/bin/env bash
# Windows that drive each neuron of a conv layer above fragment_threshold x its maximum:
#   bash run_fragment_location.sh <layer> <config> [--force] [--attribution]
#   (--attribution: also the output's TF-MoDISco patterns that run_pairs.sh --scope sequence uses)
#   bash run_fragment_location.sh 4 ../configs/interaction/mrl_predictor.yaml   (= combmotif fragments)
[ $# -ge 2 ] || { echo "error: usage: bash run_fragment_location.sh <layer> <config>" >&2; exit 2; }
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif fragments "$2" --layers "$1" "${@:3}"
