"""Compare contribution signs with the planted motif signs of a synthetic set.

    python check_truth.py <first> <last> <config> [--truth truth.json]

All logic lives in :mod:`combmotif.contribution`.
"""

from combmotif.contribution import main_check_truth

if __name__ == "__main__":
    main_check_truth()
