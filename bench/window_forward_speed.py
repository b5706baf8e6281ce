"""The windowed forward of single-window variants against the full forward, side by side.

    python bench/window_forward_speed.py [--sequences 300] [--threads 1]

Two uses of :mod:`combmotif.models.substitution`, on the shipped weights, in one run:

1. In-silico mutagenesis (:func:`combmotif.baselines.contributions.ism_contributions`) of
   ``--sequences`` random sequences of each model's input length: the output target with
   its windowed forward (``target_fn``'s ``substitutions``) against the same target as a
   plain function (every variant through the whole model). Printed: seconds of each, the
   ratio, and the largest difference of the contributions.
2. The contribution knockout's neuron maximum (:func:`combmotif.models.trunk.neuron_max_windows`)
   of 3 x 200 variants whose receptive-field window around position 40 % of the sequence is
   rewritten with random bases, per conv layer, the half-life model (1,024 nt) included:
   windowed against :func:`neuron_max_over_positions` of the variants (``-`` where the window
   is over half the sequence and the stage takes the full forward).

Why: issue 16 (the quick start on 2 cores); the attribution step of the quick start runs
ISM on 1,000 UTRs of the MRL model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif.baselines.contributions import ism_contributions, target_fn  # noqa: E402
from combmotif.models.anatomy import Anatomy  # noqa: E402
from combmotif.models.loader import ModelSpec, load_model  # noqa: E402
from combmotif.models.trunk import neuron_max_over_positions, neuron_max_windows  # noqa: E402

MODELS = ("mrl_predictor", "grammar_predictor", "dna_classifier")
KNOCKOUT_MODELS = (*MODELS, "hl_predictor")       # ISM of 1,024-nt inputs is not what the stages run


def _onehot(n: int, channels: int, length: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, channels, length), np.float32)
    x[np.arange(n)[:, None], rng.integers(0, 4, (n, length)), np.arange(length)] = 1
    return x


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sequences", type=int, default=300, help="sequences of the ISM part (default 300)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: one side of the quick start)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# ISM of {args.sequences} random sequences, {args.threads} thread(s)")
    print(f"{'model':<20}{'length':>7}{'variants':>10}{'full s':>9}{'windowed s':>12}{'ratio':>7}{'max |diff|':>12}")
    for name in MODELS:
        module = load_model(ModelSpec(checkpoint=str(ROOT / "model_weights" / f"{name}-best.pth")), "cpu").module.eval()
        channels, length = module.arch["in_channels"], module.arch["seq_len"]
        x = _onehot(args.sequences, channels, length, 0)
        fn = target_fn(module, ("output", 0), channels)
        fast, t_fast = _timed(lambda: ism_contributions(fn, x))
        full, t_full = _timed(lambda: ism_contributions(lambda v: fn(v), x))
        print(f"{name:<20}{length:>7}{3 * length * len(x):>10,}{t_full:>9.2f}{t_fast:>12.2f}"
              f"{t_full / t_fast:>7.2f}{np.abs(fast - full).max():>12.2e}")
    print("\n# knockout neuron maximum: 3 x 200 variants, the layer's receptive field shuffled")
    print(f"{'model':<20}{'layer':>6}{'RF':>5}{'full s':>9}{'windowed s':>12}{'ratio':>7}{'max |diff|':>12}")
    for name in KNOCKOUT_MODELS:
        module = load_model(ModelSpec(checkpoint=str(ROOT / "model_weights" / f"{name}-best.pth")), "cpu").module.eval()
        channels, length = module.arch["in_channels"], module.arch["seq_len"]
        base = _onehot(200, channels, length, 2)
        for info in Anatomy(module).layers:
            width = min(info.rf, length)
            start = np.full(600, min(int(0.4 * length), length - width))
            rows = np.tile(np.arange(200), 3)
            window = _onehot(600, channels, width, 3)
            variants = base[rows].copy()
            variants[:, :, start[0]:start[0] + width] = window
            full, t_full = _timed(lambda: neuron_max_over_positions(module, variants, info.layer, 0, 4096))
            got, t_fast = _timed(lambda: neuron_max_windows(module, base, rows, start, window, info.layer, 0))
            if got is None:
                print(f"{name:<20}{info.layer:>6}{info.rf:>5}{t_full:>9.2f}{'-':>12}{'-':>7}{'-':>12}")
                continue
            print(f"{name:<20}{info.layer:>6}{info.rf:>5}{t_full:>9.2f}{t_fast:>12.2f}{t_full / t_fast:>7.2f}"
                  f"{np.abs(got - full).max():>12.2e}")


if __name__ == "__main__":
    main()
