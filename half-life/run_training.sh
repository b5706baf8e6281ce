#!/usr/bin/env bash
# Train the mRNA half-life predictor: bash run_training.sh [config] [--epochs N ...]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../scripts/setup_env.sh"
python "$HERE/train.py" --config "${1:-$HERE/../configs/training/hl_predictor.yaml}" "${@:2}"
