"""Motif-pair mutagenesis and epistasis test for neurons first..last-1 of a conv layer.

    python motif_pair_scr.py <layer> <first-neuron> <last-neuron> <config>

All logic lives in :mod:`combmotif.interaction`.
"""

from combmotif.interaction import main_scr

if __name__ == "__main__":
    main_scr()
