#!/usr/bin/env bash
# Compare what two or more interpreted models learned: motif families matched across models by
# Tomtom (shared / model-specific, Venn or UpSet), -log10 q box plots, contribution signs and pair
# classes side by side -> results/compare_models/<name>/ (index.html, groups.csv, ...).
#   bash run_compare_models.sh <config.yaml> [--layers FIRST-LAST] [--debug]   (= combmotif compare-models)
# Each model must have been interpreted first (discovery; contribution and pairs --scope sequence for
# the signs and pair classes). Check against planted truth: combmotif validate compare-models <config>
[ $# -ge 1 ] || { echo "error: usage: bash run_compare_models.sh <config.yaml> [--layers FIRST-LAST]" >&2; exit 2; }
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif compare-models "$1" "${@:2}"
