"""Alias of ``python -m combmotif.validation interaction``: test a synthetic set's planted pairs
and compare the calls with their planted classes.

    python check_truth.py <config> [--layer L] [--truth truth.json]
"""

from combmotif.validation.interaction import main

if __name__ == "__main__":
    main()
