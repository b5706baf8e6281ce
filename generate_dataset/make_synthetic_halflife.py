"""Alias of ``combmotif generate halflife``: ``python make_synthetic_halflife.py --out DIR [--n N] [--length L]``."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif
from combmotif.__main__ import legacy  # noqa: E402

if __name__ == "__main__":
    legacy("generate:halflife")
