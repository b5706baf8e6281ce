#!/usr/bin/env bash
# Alias of run_pairs.sh (the seeds' name): bash run_scr.sh <layer> <first-neuron> <last-neuron> <config> [--force]
exec bash "$(dirname "$0")/run_pairs.sh" "$@"
