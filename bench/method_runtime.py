"""Run time of NeuronMotif and each baseline on the same layer, in one run, side by side.

    python bench/method_runtime.py [--config configs/others/method_compare.yaml] [--layer 2]
                                   [--neurons all] [--device cpu]

Takes the model, data and method settings of a comparison config and runs,
into a temporary folder (nothing under results/ is touched, nothing is
skipped as finished):

- NeuronMotif: sampling + demixing + PPMs of the layer's selected neurons;
- max-activation seqlets from the data set's windows, same neurons;
- class optimization of the same neurons (the output target is left out);
- TF-MoDISco: it has no per-layer mode; it runs once on the model output and
  once on the layer's first selected neuron (its maximum over positions),
  with the config's sequences and settings.

Prints one row per method: units, wall-clock seconds, seconds per unit and
the ratio to NeuronMotif's time for the whole layer. The timings include
everything each method needs from the model (data passes, gradients) but not
loading the model or the data. Wall-clock on this machine, whatever else runs
on it: compare ratios from one run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: idle OpenMP threads would spin

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif.baselines.class_optimization import run_class_optimization  # noqa: E402
from combmotif.baselines.common import LABELS  # noqa: E402
from combmotif.baselines.compare import Comparison  # noqa: E402
from combmotif.baselines.compare_config import load_compare_config  # noqa: E402
from combmotif.baselines.max_seqlet import run_max_seqlet  # noqa: E402
from combmotif.baselines.modisco import run_modisco  # noqa: E402
from combmotif.neuronmotif.stage import discover_layer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs/others/method_compare.yaml"))
    ap.add_argument("--layer", type=int, default=2)
    ap.add_argument("--neurons", default=None, help="override the config's neuron selection")
    ap.add_argument("--device", default=None, help="override the config's device")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="method-runtime-") as tmp:
        over: dict = {"results_dir": tmp, "layers": [args.layer]}
        if args.neurons:
            over["neurons"] = args.neurons
        if args.device:
            over["device"] = args.device
        cfg = load_compare_config(args.config, over)
        weights = cfg.model.checkpoint or cfg.model.keras_hdf5
        if not Path(weights).is_file():
            sys.exit(f"error: {weights} not found (train the model first, or pass "
                     "--config configs/others/method_compare_optimus.yaml)")
        comp = Comparison(cfg, log=lambda m: None)
        comp.discovery_config.results_dir = tmp     # NeuronMotif into the temporary folder too
        comp.discovery_config.name = comp.name
        module, L = comp.loaded.module, args.layer
        device = next(module.parameters()).device
        neurons = comp.neurons(L)
        X = comp.data
        print(f"model {comp.name}, conv{L} (RF {comp.anatomy.layer(L).rf}), {len(neurons)} neurons, "
              f"{len(X):,} sequences, device {device}, torch threads {torch.get_num_threads()}")
        rows = []

        def timed(label: str, target: str, units: int, fn) -> None:
            t0 = time.perf_counter()
            fn()
            rows.append((label, target, units, time.perf_counter() - t0))
            print(f"  {label}: {rows[-1][3]:.1f} s", file=sys.stderr)

        out = Path(tmp)
        timed(LABELS["neuronmotif"], f"conv{L}", len(neurons),
              lambda: discover_layer(module, L, comp.discovery_config, comp.discovery_dir, progress=False,
                                     log=lambda m: None))
        ms = dataclasses.replace(cfg.methods.max_seqlet, source="data")
        timed(LABELS["max_seqlet"], f"conv{L}", len(neurons),
              lambda: run_max_seqlet(module, L, out / "max_seqlet", ms, neurons, X=X, device=device))
        co = dataclasses.replace(cfg.methods.class_optimization, output=False)
        timed(LABELS["class_optimization"], f"conv{L}", len(neurons),
              lambda: run_class_optimization(module, out / "class_optimization", co, [L],
                                             lambda layer, n: neurons, comp.loaded.in_channels,
                                             comp.loaded.seq_len, cfg.seed))
        md = cfg.methods.modisco
        timed(LABELS["modisco"], "output", 1,
              lambda: run_modisco(module, out / "modisco", md, X, comp.loaded.in_channels, cfg.seed,
                                  targets=["output"]))
        timed(LABELS["modisco"], f"conv{L}:{neurons[0]}", 1,
              lambda: run_modisco(module, out / "modisco", md, X, comp.loaded.in_channels, cfg.seed,
                                  targets=[f"conv{L}:{neurons[0]}"]))

    ref = rows[0][3]
    print(f"\n{'method':<26}{'target':<14}{'units':>6}{'seconds':>10}{'s / unit':>10}{'x NeuronMotif':>15}")
    for label, target, units, sec in rows:
        print(f"{label:<26}{target:<14}{units:>6}{sec:>10.2f}{sec / units:>10.3f}{sec / ref:>15.2f}")
    print("\nx NeuronMotif: seconds / NeuronMotif's seconds for the whole layer (TF-MoDISco: one target).")


if __name__ == "__main__":
    main()
