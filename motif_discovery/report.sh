#!/usr/bin/env bash
# Rewrite a model's pages from every stage's outputs (after motif_contribution, say).
#   bash report.sh <config.yaml> [--layers FIRST-LAST] [--debug]   (= combmotif report)
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif report "$@"
