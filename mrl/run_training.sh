#!/usr/bin/env bash
# Train the mean ribosome load (MRL) predictor: bash run_training.sh [config] [--epochs N ...]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../scripts/setup_env.sh"
python "$HERE/train.py" --config "${1:-$HERE/../configs/training/mrl_predictor.yaml}" "${@:2}"
