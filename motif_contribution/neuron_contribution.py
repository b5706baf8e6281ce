"""Contribution sign of every neuron of conv layers first..last.

    python neuron_contribution.py <first> <last> <config>

All logic lives in :mod:`combmotif.contribution.stage`.
"""

from combmotif.contribution.stage import main_contribution

if __name__ == "__main__":
    main_contribution()
