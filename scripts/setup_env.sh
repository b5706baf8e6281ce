#!/usr/bin/env bash
# Create or reuse .venv and install requirements.txt into it. Sourced by
# quickstart.sh, test.sh and the stage wrappers so a fresh Python 3.11 machine
# needs nothing else; a user may source it in an interactive shell too.
# It sets no shell option (no set -e / -u / pipefail) and no variable of the
# caller's other than the exports below: a sourced `set -e` would stay in a
# user's shell and close it at their next failing command. Each step checks
# its own status instead, and a failure makes `source` return non-zero.
_combmotif_setup() {
  local root venv py stamp want launcher
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
  venv="${COMBMOTIF_VENV:-$root/.venv}"
  py="${PYTHON:-python3}"
  if [ ! -x "$venv/bin/python" ]; then
    echo "setting up $venv (first run only)" >&2
    "$py" -m venv "$venv" || return 1
  fi
  # Re-install only when requirements.txt changed since the last successful install.
  stamp="$venv/.requirements.sha"
  want="$(sha256sum "$root/requirements.txt" | cut -d' ' -f1)" || return 1
  [ -n "$want" ] || return 1
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 || return 1
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/requirements.txt" >&2 \
      || return 1
    echo "compiling Tomtom's numba kernels (once per environment; about 2 min on 2 cores)" >&2
    PYTHONPATH="$root" "$venv/bin/python" -W ignore -c \
      "from combmotif.motifs.tomtom import warm_up; warm_up()" >&2 || return 1
    echo "$want" > "$stamp" || return 1
  fi
  # `combmotif` on PATH without building the package (pip install . would need build
  # isolation): a launcher running the package that PYTHONPATH below points at, so
  # one venv shared by several clones runs each clone's own code.
  launcher="$venv/bin/combmotif"
  want='#!/bin/sh
exec "$(dirname "$0")/python" -m combmotif "$@"'
  if [ ! -x "$launcher" ] || [ "$(cat "$launcher")" != "$want" ]; then
    printf '%s\n' "$want" > "$launcher" && chmod +x "$launcher" || return 1
  fi
  export PATH="$venv/bin:$PATH"
  export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
  export MPLBACKEND=Agg
  # Idle OpenMP threads sleep instead of spinning: on a small shared CPU, spinning
  # threads of one torch process steal most of the time of another (an MRL epoch
  # went from ~20 s to ~500 s beside three other jobs).
  export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
}
if _combmotif_setup; then
  unset -f _combmotif_setup
else
  unset -f _combmotif_setup
  echo "error: scripts/setup_env.sh: setting up the Python environment failed (see above)" >&2
  # `return` when sourced (the caller decides), `exit` when run as a script.
  return 1 2>/dev/null || exit 1
fi
