"""Alias of ``combmotif generate mrl``: ``python make_synthetic_mrl.py --out DIR [--n 100000] [--seed 0]``."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif
from combmotif.__main__ import legacy  # noqa: E402

if __name__ == "__main__":
    legacy("generate:mrl")
