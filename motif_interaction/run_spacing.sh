#!/usr/bin/env bash
# Spacing scans of a conv layer's pairs: each pair inserted at every gap and order into shuffled backgrounds:
#   bash run_spacing.sh <layer> <config> [--pair PATTERN_A PATTERN_B] [--force]
#   bash run_spacing.sh 4 ../configs/interaction/mrl_predictor.yaml   (= combmotif spacing --layers 4)
# Writes results/<model>/interaction/conv<L>/spacing/ (<pair>.csv, <pair>.png, summary.csv, index.html).
[ $# -ge 2 ] || { echo "error: usage: bash run_spacing.sh <layer> <config> [--pair A B]" >&2; exit 2; }
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif spacing "$2" --layers "$1" "${@:3}"
