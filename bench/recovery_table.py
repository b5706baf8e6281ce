"""Planted motifs of a synthetic set -> the layer, neuron and cluster that found them.

    python bench/recovery_table.py [--config configs/interpreting/mrl_predictor.yaml]
                                   [--truth data/synthetic_mrl/truth.json] [--layers 1-5] [--per-layer]

An alias of ``combmotif validate discovery <config> [--layers 1-4]`` (same output);
here ``--layers`` is half-open (``1-5`` = conv1..conv4) or a list (``1,2,3,4``), and
the config and truth default to the repository's MRL set.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from combmotif.__main__ import legacy  # noqa: E402

if __name__ == "__main__":
    legacy("validate:discovery")
