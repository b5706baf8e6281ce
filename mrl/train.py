"""Alias of ``combmotif train``: ``python train.py [--config CFG] [--epochs N ...]`` (default: the MRL config)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif
from combmotif.__main__ import legacy  # noqa: E402

if __name__ == "__main__":
    legacy("train", str(Path(__file__).resolve().parents[1] / "configs/training/mrl_predictor.yaml"))
