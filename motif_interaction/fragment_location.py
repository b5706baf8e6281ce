"""Locate the windows (fragments) that drive each neuron of a conv layer.

    python fragment_location.py <layer> <config>

All logic lives in :mod:`combmotif.interaction.stage`.
"""

from combmotif.interaction.stage import main_fragment_location

if __name__ == "__main__":
    main_fragment_location()
