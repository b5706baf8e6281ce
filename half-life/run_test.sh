#!/usr/bin/env bash
# Evaluate the trained mRNA half-life predictor: bash run_test.sh [config] [--checkpoint P] [--out DIR]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../scripts/setup_env.sh"
python "$HERE/evaluate.py" --config "${1:-$HERE/../configs/training/hl_predictor.yaml}" "${@:2}"
