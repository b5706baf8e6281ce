"""Planted motifs of a synthetic set -> the layer, neuron and cluster that found them.

    python bench/recovery_table.py [--config configs/interpreting/mrl_predictor.yaml]
                                   [--truth data/synthetic_mrl/truth.json] [--layers 1-5] [--per-layer]

An alias of ``python -m combmotif.validation discovery`` (same arguments and
output); see combmotif/validation/discovery.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from combmotif.validation.discovery import main  # noqa: E402

if __name__ == "__main__":
    main()
