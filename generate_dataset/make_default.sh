#!/usr/bin/env bash
# Generate the default synthetic sets into <repo>/data/ (git-ignored):
#   data/synthetic_mrl/        100,000 5'UTRs  (data.csv, truth.json, planted.meme)
#   data/synthetic_mrl_noAUG/  the same without ATG-containing UTRs
#   data/synthetic_halflife/   24,000 transcripts, L = 1024 (data.h5, truth.json, planted.meme)
#   data/synthetic_halflife_mouse/  16,000 transcripts, L = 1024, mouse rules partly shared with human (seed 1)
#   data/synthetic_grammar/    60,000 5'UTRs with syntax rules (hard, soft, order-only, OR; specs/grammar.yaml)
#   data/synthetic_dna/        40,000 DNA sequences of 101 bp with JASPAR motifs planted (FASTA, truth.json, ...)
# Sets that already exist are kept; --force regenerates them. Takes a few seconds.
#   bash generate_dataset/make_default.sh [--force]
#   (= combmotif generate default [--data DIR] [--force])
source "$(dirname "$0")/../scripts/setup_env.sh" && exec combmotif generate default "$@"
