#!/usr/bin/env bash
# Train the mRNA half-life predictor: bash run_training.sh [config] [--epochs N ...]
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif train "${1:-$(dirname "$0")/../configs/training/hl_predictor.yaml}" "${@:2}"
