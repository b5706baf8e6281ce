#!/usr/bin/env bash
# Train a binding-site classifier (default: PUM2 PAR-CLIP sites, needs ../shared): bash run_training.sh [config] [--epochs N ...]
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif train "${1:-$(dirname "$0")/../configs/training/pum2_classifier.yaml}" "${@:2}"
