#!/usr/bin/env bash
# Evaluate the trained mRNA half-life predictor: bash run_test.sh [config] [--checkpoint P] [--out DIR]
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif evaluate "${1:-$(dirname "$0")/../configs/training/hl_predictor.yaml}" "${@:2}"
