#!/usr/bin/env bash
# Train the mean ribosome load (MRL) predictor: bash run_training.sh [config] [--epochs N ...]
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif train "${1:-$(dirname "$0")/../configs/training/mrl_predictor.yaml}" "${@:2}"
