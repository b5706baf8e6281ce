"""Alias of ``combmotif generate noaug``: ``python make_noaug.py --csv IN --out DIR [--no-truth]``."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif
from combmotif.__main__ import legacy  # noqa: E402

if __name__ == "__main__":
    legacy("generate:noaug")
