#!/usr/bin/env bash
# Set up the environment and run the main job on the embedded default:
# synthetic data sets with planted ground truth + the small shipped weights.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
ROOT="$PWD"
t0=$SECONDS
step() { printf '\n== %s (%ds)\n' "$1" "$((SECONDS - t0))"; }

step "1/3 generate the default synthetic data sets (data/)"
bash generate_dataset/make_default.sh

step "2/3 evaluate the shipped predictors on their test splits"
python mrl/evaluate.py --config configs/training/mrl_predictor.yaml
python half-life/evaluate.py --config configs/training/hl_predictor.yaml

step "3/3 NeuronMotif on conv1-conv4 of the shipped MRL predictor"
(cd motif_discovery && bash main.sh 1 4 ../configs/interpreting/mrl_predictor.yaml)

step "done"
echo "results: $ROOT/results/"
