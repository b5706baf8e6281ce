#!/usr/bin/env bash
# Motif-pair mutagenesis and epistasis test for neurons first..last-1 of a conv layer:
#   bash run_pairs.sh <layer> <first-neuron> <last-neuron> <config> [--force] [--scope sequence|both]
#   bash run_pairs.sh 4 0 64 ../configs/interaction/mrl_predictor.yaml   (= combmotif pairs --layers 4 --neurons 0:64)
#   bash run_pairs.sh 4 0 64 ../configs/interaction/mrl_predictor.yaml --scope both   (the quick start: both, one process)
#   bash run_pairs.sh 4 0 64 ../configs/interaction/mrl_predictor.yaml --scope sequence
#       (every candidate family pair of conv4 - syntax rules and co-occurrence in the neurons'
#        fragments - and the neurons' hand-written pairs, over whole sequences
#        -> conv4/candidates.csv, conv4/sequences/motif_pair_stats.csv; untested pairs are listed)
# Writes results/<model>/interaction/conv<L>/motif_pair_stats.csv and interaction_map.svg.
[ $# -ge 4 ] || { echo "error: usage: bash run_pairs.sh <layer> <first-neuron> <last-neuron> <config>" >&2; exit 2; }
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif pairs "$4" --layers "$1" --neurons "$2:$3" "${@:5}"
