#!/usr/bin/env bash
# Contribution sign (positive / negative / neutral) of every neuron of conv layers first..last:
#   bash run_contribution.sh <first> <last> <config> [--force]
#   bash run_contribution.sh 1 4 ../configs/contribution/mrl_predictor.yaml
# Writes results/<model>/contribution/conv<L>/neuron_contribution.{csv,png}. = combmotif contribution
[ $# -ge 3 ] || { echo "error: usage: bash run_contribution.sh <first> <last> <config>" >&2; exit 2; }
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif contribution "$3" --layers "$1-$2" "${@:4}"
