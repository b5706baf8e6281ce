#!/usr/bin/env bash
# Generate the default synthetic sets into <repo>/data/ (git-ignored):
#   data/synthetic_mrl/        100,000 5'UTRs  (data.csv, truth.json, planted.meme)
#   data/synthetic_mrl_noAUG/  the same without ATG-containing UTRs
#   data/synthetic_halflife/   24,000 transcripts, L = 1024 (data.h5, truth.json, planted.meme)
# Sets that already exist are kept; --force regenerates them. Takes a few seconds.
#   bash generate_dataset/make_default.sh [--force]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    *) echo "usage: bash $0 [--force]" >&2; exit 2 ;;
  esac
done
source "$ROOT/scripts/setup_env.sh"
DATA="$ROOT/data"
made_mrl=0

if [ "$FORCE" = 1 ] || [ ! -f "$DATA/synthetic_mrl/truth.json" ]; then
  python "$HERE/make_synthetic_mrl.py" --out "$DATA/synthetic_mrl" --seed 0
  made_mrl=1
else
  echo "keep $DATA/synthetic_mrl (exists; --force regenerates)"
fi

if [ "$FORCE" = 1 ] || [ "$made_mrl" = 1 ] || [ ! -f "$DATA/synthetic_mrl_noAUG/data.csv" ]; then
  python "$HERE/make_noaug.py" --csv "$DATA/synthetic_mrl/data.csv" --out "$DATA/synthetic_mrl_noAUG"
else
  echo "keep $DATA/synthetic_mrl_noAUG (exists; --force regenerates)"
fi

if [ "$FORCE" = 1 ] || [ ! -f "$DATA/synthetic_halflife/truth.json" ]; then
  python "$HERE/make_synthetic_halflife.py" --out "$DATA/synthetic_halflife" --seed 0
else
  echo "keep $DATA/synthetic_halflife (exists; --force regenerates)"
fi
