"""Train the mRNA half-life predictor described by a training config.

    python train.py --config ../configs/training/hl_predictor.yaml [--epochs N] [--seed S]

All logic lives in :mod:`combmotif.train`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif

from combmotif.train import main  # noqa: E402

if __name__ == "__main__":
    main(default_config=Path(__file__).resolve().parent.parent / "configs" / "training" / "hl_predictor.yaml")
