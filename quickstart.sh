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

# Stages that need only the model and the data run beside the ones before them, the
# cores shared out among the processes of a step (torch's threads wait for each other at
# every op, so processes that each take every core run slower together than one after
# the other). A job's output is printed, whole, once it ends; a failed job stops the
# quick start.
cores="$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
threads=$cores
share_among() { threads=$(( cores / $1 > 0 ? cores / $1 : 1 )); }
logs="$(mktemp -d)"
start_epoch=$(( $(date +%s) - (SECONDS - t0) ))   # the epoch second t0 stands for
# Each job in a process group of its own (setsid), so that a failed step stops the jobs
# beside it with every process they started (a background job of a script is no group
# leader, so setsid makes the new group in that very process: $! is its id).
own_group=""; command -v setsid >/dev/null 2>&1 && own_group=setsid
job_names=(); job_pids=()
stop_jobs() {
  local pid
  for pid in "${job_pids[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  rm -rf "$logs"
}
trap stop_jobs EXIT
beside() {   # beside <name> <command...>: start it in the background (output in $logs/<i>.log)
  local i=${#job_pids[@]}
  job_names+=("$1"); shift
  OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads END="$logs/$i.end" T0="$start_epoch" \
    $own_group bash -c '"$@"; s=$?; echo $(( $(date +%s) - T0 )) > "$END"; exit $s' _ "$@" \
    > "$logs/$i.log" 2>&1 &
  job_pids+=("$!")
}
shared() {   # shared <command...>: run it in the foreground on its share of the cores
  OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads "$@"
}
join() {     # wait for every job started beside, print its output, stop at the first failure
  local i status
  for i in "${!job_pids[@]}"; do
    status=0; wait "${job_pids[$i]}" || status=$?
    printf '\n-- %s (ran beside; done at %ss)\n' "${job_names[$i]}" "$(cat "$logs/$i.end" 2>/dev/null || echo '?')"
    cat "$logs/$i.log"
    [ "$status" -eq 0 ] || { echo "error: ${job_names[$i]} failed (exit $status)" >&2; exit "$status"; }
  done
  job_names=(); job_pids=()
  threads=$cores
}

step "1/5 generate the synthetic sets the quick start reads (data/; bash generate_dataset/make_default.sh makes the others)"
bash generate_dataset/make_default.sh --sets mrl halflife

share_among 2
step "2/5 evaluate the shipped predictors on their test splits (the half-life one, then step 3, beside this and step 4)"
beside "2/5 (half-life predictor) and 3/5 contribution: which way does each conv neuron push the predicted MRL? Then the conv4 windows and the output's TF-MoDISco patterns of step 5" bash -c \
  'combmotif evaluate configs/training/hl_predictor.yaml --test-only \
   && cd motif_contribution && bash run_contribution.sh 1 4 ../configs/contribution/mrl_predictor.yaml \
   && cd ../motif_interaction && bash run_fragment_location.sh 4 ../configs/interaction/mrl_predictor.yaml --attribution'
shared combmotif evaluate configs/training/mrl_predictor.yaml --test-only

step "4/5 NeuronMotif on conv1-conv4 of the shipped MRL predictor, Tomtom matching, pages"
(cd motif_discovery && shared bash main.sh 1 4 ../configs/interpreting/mrl_predictor.yaml)
printf '(4/5 done at %ss)\n' "$((SECONDS - t0))"
join

step "5/5 interaction: epistasis of the motif pairs that conv4 neurons combine (per neuron, then every candidate family pair over whole sequences)"
(cd motif_interaction && bash run_pairs.sh 4 0 64 ../configs/interaction/mrl_predictor.yaml --scope both)

step "done"
echo "open $ROOT/results/mrl_predictor/index.html"
secs=$((SECONDS - t0))
echo "quick start: $((secs / 60)) min $((secs % 60)) s on $cores cores (set-up of .venv: ${setup_s} s)"
