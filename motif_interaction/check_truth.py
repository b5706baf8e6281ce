"""Test a synthetic set's planted pairs and compare the calls with their planted classes.

    python check_truth.py <config> [--layer L] [--truth truth.json]

All logic lives in :mod:`combmotif.interaction`.
"""

from combmotif.interaction import main_check_truth

if __name__ == "__main__":
    main_check_truth()
