"""Motif-pair mutagenesis and epistasis test for neurons first..last-1 of a conv layer.

    python motif_pairs.py <layer> <first-neuron> <last-neuron> <config>

All logic lives in :mod:`combmotif.interaction`.
"""

from combmotif.interaction.stage import main_pairs

if __name__ == "__main__":
    main_pairs()
