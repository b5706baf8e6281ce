#!/usr/bin/env bash
# Motif-pair mutagenesis and epistasis test for neurons first..last-1 of a conv layer:
#   bash run_pairs.sh <layer> <first-neuron> <last-neuron> <config> [--force]
#   bash run_pairs.sh 4 0 64 ../configs/interaction/mrl_predictor.yaml
# Writes results/<model>/interaction/conv<L>/motif_pair_stats.csv and interaction_map.png.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 4 ]; then echo "usage: bash run_pairs.sh <layer> <first-neuron> <last-neuron> <config>" >&2; exit 2; fi
source "$HERE/../scripts/setup_env.sh"
python "$HERE/motif_pairs.py" "$@"
