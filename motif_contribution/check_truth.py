"""Alias of ``python -m combmotif.validation contribution``: compare contribution signs with a
synthetic set's planted motif signs.

    python check_truth.py <first> <last> <config> [--truth truth.json]
"""

from combmotif.validation.contribution import main

if __name__ == "__main__":
    main()
