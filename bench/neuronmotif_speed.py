"""NeuronMotif speed: batched layer sampler vs the same sampler one neuron at a time.

    python bench/neuronmotif_speed.py [--config configs/interpreting/mrl_predictor.yaml]
                                      [--single 64] [--no-whole]

1. Whole model: discovery of conv1..conv4 (sampling, demixing, PPMs, files)
   into a temporary folder, timed per layer and in total.
2. Sampler: conv3 (64 neurons), all neurons as one batched population vs the
   same sampler called once per neuron (same settings, same seed, screening
   pool seeded from the conv2 PPMs of step 1), in one run: neurons per minute
   of each and their ratio. Because randomness is counter-based per neuron,
   both runs must produce identical archives; the script checks it.

Uses the shipped checkpoint when it exists, else a randomly initialised model
of the same architecture (and says so). Timings are wall-clock on this
machine, whatever else is running on it; compare ratios measured in one run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see motif_discovery/README.md

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif.checkpoint import load_checkpoint  # noqa: E402
from combmotif.models.anatomy import Anatomy  # noqa: E402
from combmotif.models.saluki import SalukiModel  # noqa: E402
from combmotif.neuronmotif.discovery_config import load_discovery_config  # noqa: E402
from combmotif.neuronmotif.sample import evolve_layer  # noqa: E402
from combmotif.neuronmotif.stage import discover_layer  # noqa: E402
from combmotif.neuronmotif.units import previous_layer_ppms  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs/interpreting/mrl_predictor.yaml"))
    ap.add_argument("--layer", type=int, default=3, help="layer of the batched-vs-single comparison")
    ap.add_argument("--single", type=int, default=64, help="neurons to run one at a time (first N)")
    ap.add_argument("--no-whole", action="store_true", help="skip the whole-model timing")
    ap.add_argument("--out", help="keep the whole-model discovery outputs in this folder")
    args = ap.parse_args()

    cfg = load_discovery_config(args.config, {"device": "cpu"})
    if cfg.model_file.is_file():
        model, _ = load_checkpoint(cfg.model_file, "cpu")
        print(f"model: {cfg.model_file.relative_to(ROOT) if ROOT in cfg.model_file.parents else cfg.model_file}")
    else:
        torch.manual_seed(cfg.seed)
        model = SalukiModel(in_channels=4, seq_len=50, num_layers=3).eval()
        print(f"model: {cfg.model_file} not found -> a RANDOMLY INITIALISED SalukiModel(4, 50, num_layers=3)")
    anatomy = Anatomy(model)
    n_layers = len(anatomy)
    print(f"torch threads: {torch.get_num_threads()}, CPU cores: {os.cpu_count()}, "
          f"load average: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    s = cfg.sampling
    print(f"settings: population {s.population}, max generations {s.max_generations}, patience {s.patience}, "
          f"screen {s.screen}, bin cap {s.bin_cap}, batch {cfg.batch_size}")

    with tempfile.TemporaryDirectory() as tmp:
        ddir = Path(args.out) if args.out else Path(tmp) / "discovery"
        layers = range(1, min(4, n_layers) + 1) if not args.no_whole else range(1, args.layer)
        total = 0.0
        for L in layers:
            t = time.perf_counter()
            df = discover_layer(model, L, cfg, ddir, force=True, progress=False, log=lambda m: None)
            dt = time.perf_counter() - t
            total += dt
            print(f"conv{L}: RF {anatomy.layer(L).rf:3d}, {len(df)} neurons, {dt:6.1f} s "
                  f"(mean generations {df['generations'].mean():.1f}, mean indicator {df['indicator'].mean():.3f})")
        if not args.no_whole:
            print(f"WHOLE MODEL conv1-conv{max(layers)}: {total:.1f} s = {total / 60:.2f} min")

        L = args.layer
        cut = anatomy.cut(L, s.after_activation, s.extra_tracks)
        neurons = cfg.layers.neurons(L, cut.out_channels)
        seeds = previous_layer_ppms(ddir, L) if s.seed_from_previous else None
        marks = {}
        t = time.perf_counter()
        batched = evolve_layer(cut, neurons, s, cfg.seed, L, cfg.batch_size, seeds,
                               lambda p: marks.setdefault(p["stage"], time.perf_counter()))
        tb = time.perf_counter() - t
        t_screen = marks["screened"] - t
        single_n = neurons[: args.single]
        single, ts_screen = [], 0.0
        t = time.perf_counter()
        for k in single_n:
            mk = {}
            t1 = time.perf_counter()
            single.append(evolve_layer(cut, [k], s, cfg.seed, L, cfg.batch_size, seeds,
                                       lambda p: mk.setdefault(p["stage"], time.perf_counter()))[0])
            ts_screen += mk["screened"] - t1
        ts = time.perf_counter() - t
    same = sum(np.array_equal(a.codes, b.codes) and np.array_equal(a.act, b.act)
               for a, b in zip(batched, single))
    rate_b = len(neurons) / tb * 60
    rate_s = len(single_n) / ts * 60
    gens = np.mean([x.generations for x in batched])
    print(f"conv{L} sampler, {len(neurons)} neurons batched: {tb:.1f} s -> {rate_b:.0f} neurons/min "
          f"(mean {gens:.1f} generations; shared screening pool of {s.screen} sequences {t_screen:.1f} s, "
          f"GA {tb - t_screen:.1f} s)")
    print(f"conv{L} sampler, {len(single_n)} neurons one at a time: {ts:.1f} s -> {rate_s:.0f} neurons/min "
          f"(screening {ts_screen:.1f} s, GA {ts - ts_screen:.1f} s)")
    print(f"RATIO batched / one-at-a-time: {rate_b / rate_s:.1f}x  "
          f"(identical archives: {same}/{len(single_n)}; GA part alone: "
          f"{(ts - ts_screen) / len(single_n) / ((tb - t_screen) / len(neurons)):.1f}x)")


if __name__ == "__main__":
    main()
