#!/usr/bin/env bash
# NeuronMotif discovery for conv layers <first>..<last> of the model named in a config.
#   bash main.sh <first-layer> <last-layer> <config.yaml> [--force] [--device cpu] [--debug]
# Layers run in order, shallow first: a deeper layer seeds its sampler with the
# PPMs of the layer before it. Finished neurons are skipped; --force redoes them.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: bash main.sh <first-layer> <last-layer> <config.yaml> [--force] [--device DEV]" >&2
  exit 2
fi
first=$1; last=$2; config=$3; shift 3
case "$first$last" in *[!0-9]*|'') echo "error: layers must be positive integers; got '$first' '$last'" >&2; exit 2;; esac
if [ "$first" -lt 1 ] || [ "$last" -lt "$first" ]; then
  echo "error: need 1 <= first-layer <= last-layer; got $first $last" >&2; exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../scripts/setup_env.sh"   # .venv, PYTHONPATH, OMP_WAIT_POLICY=PASSIVE
# One process for the whole range: every layer is checked against the model
# before the first is sampled, and the model is loaded once.
python "$HERE/discover.py" "$config" --layers "$first" "$last" "$@"
