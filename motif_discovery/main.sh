#!/usr/bin/env bash
# NeuronMotif discovery for conv layers <first>..<last> of the model named in a config.
#   bash main.sh <first-layer> <last-layer> <config.yaml> [--force] [--device cpu] [--debug]
# Layers run in order, shallow first, in one process: every layer is checked against the model
# before the first is sampled, and a deeper layer seeds its sampler with the PPMs of the layer
# before it. Finished neurons are skipped; --force redoes them. = combmotif discovery <config> --layers F-L
[ $# -ge 3 ] || { echo "error: usage: bash main.sh <first-layer> <last-layer> <config.yaml> [--force] [--device DEV]" >&2; exit 2; }
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif discovery "$3" --layers "$1-$2" "${@:4}"
