#!/usr/bin/env bash
# Set up the environment and run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
# Lint first: a lint error fails the run like a failing test (config in pyproject.toml).
python -m ruff check combmotif tests bench
python -m pytest -q -p no:cacheprovider "$@" tests
