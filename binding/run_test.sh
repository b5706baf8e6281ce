#!/usr/bin/env bash
# Evaluate a binding-site classifier (AUROC, AUPRC, accuracy; ROC/PR curves): bash run_test.sh [config] [--checkpoint P] [--out DIR]
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif evaluate "${1:-$(dirname "$0")/../configs/training/pum2_classifier.yaml}" "${@:2}"
