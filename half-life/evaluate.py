"""Evaluate the mRNA half-life predictor: metrics per split, noise ceiling, scatter plot.

    python evaluate.py --config ../configs/training/hl_predictor.yaml [--checkpoint P] [--out DIR]

Writes results/<name>/evaluation/{metrics.json,scatter_test.png}. All logic
lives in :mod:`combmotif.evaluate`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif

from combmotif.evaluate import main  # noqa: E402

if __name__ == "__main__":
    main(default_config=Path(__file__).resolve().parent.parent / "configs" / "training" / "hl_predictor.yaml")
