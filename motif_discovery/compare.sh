#!/usr/bin/env bash
# NeuronMotif against the baselines (max-activation seqlets, TF-MoDISco, class optimization).
#   bash compare.sh <config.yaml> [--force] [--no-run] [--device DEV] [--debug]
# Runs every method named in the config on the same layers and neurons (finished
# units are skipped), matches all of them against one motif database and writes
# results/<model>/compare/index.html. = combmotif compare <config>
[ $# -ge 1 ] || { echo "error: usage: bash compare.sh <config.yaml> [--force] [--no-run] [--device DEV]" >&2; exit 2; }
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif compare "$1" "${@:2}"
