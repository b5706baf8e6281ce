"""Alias of ``combmotif evaluate``: ``python evaluate.py [--config CFG] [--checkpoint P] [--out DIR]``."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif
from combmotif.__main__ import legacy  # noqa: E402

if __name__ == "__main__":
    legacy("evaluate", str(Path(__file__).resolve().parents[1] / "configs/training/hl_predictor.yaml"))
