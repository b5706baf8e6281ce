#!/usr/bin/env bash
# Set up the environment and run the main job on the embedded default:
# synthetic data sets with planted ground truth + the small shipped weights.
set -euo pipefail
cd "$(dirname "$0")"
t0=$SECONDS
source scripts/setup_env.sh
setup_s=$((SECONDS - t0))
ROOT="$PWD"
step() { printf '\n== %s (%ds)\n' "$1" "$((SECONDS - t0))"; }

step "1/5 generate the default synthetic data sets (data/)"
bash generate_dataset/make_default.sh

step "2/5 evaluate the shipped predictors on their test splits"
combmotif evaluate configs/training/mrl_predictor.yaml --test-only
combmotif evaluate configs/training/hl_predictor.yaml --test-only

step "3/5 contribution: which way does each conv neuron push the predicted MRL?"
(cd motif_contribution && bash run_contribution.sh 1 4 ../configs/contribution/mrl_predictor.yaml)

step "4/5 NeuronMotif on conv1-conv4 of the shipped MRL predictor, Tomtom matching, pages"
(cd motif_discovery && bash main.sh 1 4 ../configs/interpreting/mrl_predictor.yaml)

step "5/5 interaction: epistasis of the motif pairs that conv4 neurons combine (per neuron, then every candidate family pair over whole sequences)"
(cd motif_interaction && bash run_fragment_location.sh 4 ../configs/interaction/mrl_predictor.yaml \
  && bash run_scr.sh 4 0 64 ../configs/interaction/mrl_predictor.yaml \
  && bash run_pairs.sh 4 0 64 ../configs/interaction/mrl_predictor.yaml --scope sequence)

step "done"
echo "open $ROOT/results/mrl_predictor/index.html"
secs=$((SECONDS - t0))
cores="$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')"
echo "quick start: $((secs / 60)) min $((secs % 60)) s on $cores cores (set-up of .venv: ${setup_s} s)"
