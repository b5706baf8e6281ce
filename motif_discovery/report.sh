#!/usr/bin/env bash
# Rewrite a model's pages from every stage's outputs (after motif_contribution, say).
#   bash report.sh <config.yaml> [--layers FIRST LAST] [--debug]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../scripts/setup_env.sh"
python "$HERE/report.py" "$@"
