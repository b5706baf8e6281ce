#!/usr/bin/env bash
# Contribution sign (positive / negative / neutral) of every neuron of conv layers first..last:
#   bash run_contribution.sh <first> <last> <config> [--force]
#   bash run_contribution.sh 1 4 ../configs/contribution/mrl_predictor.yaml
# Writes results/<model>/contribution/conv<L>/neuron_contribution.{csv,png}.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 3 ]; then echo "usage: bash run_contribution.sh <first> <last> <config>" >&2; exit 2; fi
source "$HERE/../scripts/setup_env.sh"
python "$HERE/neuron_contribution.py" "$@"
