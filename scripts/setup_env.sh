#!/usr/bin/env bash
# Create or reuse .venv and install requirements.txt into it. Sourced by
# quickstart.sh and test.sh so a fresh Python 3.11 machine needs nothing else.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${COMBMOTIF_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setting up $VENV (first run only)" >&2
  "$PY" -m venv "$VENV"
fi
# Re-install only when requirements.txt changed since the last successful install.
STAMP="$VENV/.requirements.sha"
WANT="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements.txt" >&2
  echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
# Idle OpenMP threads sleep instead of spinning: on a small shared CPU, spinning
# threads of one torch process steal most of the time of another (an MRL epoch
# went from ~20 s to ~500 s beside three other jobs).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
