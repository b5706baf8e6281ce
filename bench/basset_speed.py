"""A Basset-shaped DNA CNN interpreted by NeuronMotif discovery: seconds per layer.

    python bench/basset_speed.py [--layers 1-3] [--device cpu|cuda] [--neurons 0:300]
                                 [--results /tmp/basset_speed] [--seed 0]

The model (random weights; speed does not depend on training) is Basset's trunk:
conv 300 x 19 + BN + ReLU + max-pool 3, conv 200 x 11 + BN + ReLU + max-pool 4,
conv 200 x 7 + BN + ReLU + max-pool 4 on a 600-bp one-hot input (RF 19, 49, 121), and
a linear head. The module is passed to :func:`combmotif.neuronmotif.stage.run_discovery`
directly (no checkpoint), with the discovery config's defaults, ``batch_size: auto`` and
no pages (there is no motif database for random weights). All 700 neurons of conv1-conv3
are the issue's scale check; ``--neurons`` takes a subset of every layer (half-open).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Basset(nn.Module):
    """Basset's convolutional trunk (``body``) and a linear head over its flattened output."""

    def __init__(self, length: int = 600, outputs: int = 164):
        super().__init__()
        self.body = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv1d(4, 300, 19)), ("bn1", nn.BatchNorm1d(300)), ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool1d(3)),
            ("conv2", nn.Conv1d(300, 200, 11)), ("bn2", nn.BatchNorm1d(200)), ("relu2", nn.ReLU()),
            ("pool2", nn.MaxPool1d(4)),
            ("conv3", nn.Conv1d(200, 200, 7)), ("bn3", nn.BatchNorm1d(200)), ("relu3", nn.ReLU()),
            ("pool3", nn.MaxPool1d(4)),
        ]))
        with torch.no_grad():
            width = self.body(torch.zeros(1, 4, length)).numel()
        self.head = nn.Linear(width, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (N, outputs) of one-hot inputs (N, 4, length).

        Parameters
        ----------
        x : torch.Tensor
            One-hot DNA.

        Returns
        -------
        torch.Tensor
        """
        return self.head(self.body(x).flatten(1))


def basset_model(seed: int = 0, device: str = "cpu") -> nn.Module:
    """A Basset-shaped model with random weights (seeded) and non-trivial BN statistics, in eval mode.

    Parameters
    ----------
    seed : int
        Weight seed.
    device : str
        Where to put it.

    Returns
    -------
    nn.Module
    """
    torch.manual_seed(seed)
    model = Basset()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval().to(device)


def basset_config(results: Path, device: str, neurons: str, seed: int = 0):
    """The discovery config of the bench (defaults, ``batch_size: auto``, no pages).

    Parameters
    ----------
    results : Path
        ``results_dir``.
    device : str
        ``device``.
    neurons : str
        ``layers.ind`` (half-open range or ``all``).
    seed : int
        Run seed.

    Returns
    -------
    combmotif.neuronmotif.discovery_config.DiscoveryConfig
    """
    from combmotif.config import from_dict
    from combmotif.neuronmotif.discovery_config import DiscoveryConfig

    return from_dict({"model": {"checkpoint": "basset.pth"}, "name": "basset", "results_dir": str(results),
                      "device": device, "seed": seed, "batch_size": "auto", "motif_db": "curated",
                      "layers": {"ind": neurons.replace(":", "-")}, "report": {"enabled": False}},
                     DiscoveryConfig)


def run_basset(layers: list[int], device: str, results: Path, neurons: str = "all",
               seed: int = 0) -> dict[int, float]:
    """Discover ``layers`` of the Basset-shaped model; seconds per layer (sampling to unit files).

    Parameters
    ----------
    layers : list of int
        Conv layers, shallow first.
    device : str
        ``cpu`` or ``cuda``.
    results : Path
        Results folder (redone from scratch).
    neurons : str
        Neurons of every layer (half-open ``a:b`` or ``all``).
    seed : int
        Weight and run seed.

    Returns
    -------
    dict of int to float
    """
    from combmotif.neuronmotif.stage import discover_layer

    cfg = basset_config(results, device, neurons, seed)
    model = basset_model(seed, device)
    torch.manual_seed(seed)
    out = {}
    for layer in layers:
        t0 = time.perf_counter()
        discover_layer(model, layer, cfg, force=True, progress=False)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        out[layer] = time.perf_counter() - t0
    return out


def main(argv: list[str] | None = None) -> int:
    """Print seconds per layer; see the module doc.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments.

    Returns
    -------
    int
        0.
    """
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--layers", default="1-3")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--neurons", default="all", help="half-open a:b of every layer, or all")
    ap.add_argument("--results", type=Path, default=Path("/tmp/basset_speed"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    first, _, last = args.layers.partition("-")
    layers = list(range(int(first), int(last or first) + 1))
    secs = run_basset(layers, args.device, args.results, args.neurons, args.seed)
    print(f"Basset-shaped model on {args.device} ({os.cpu_count()} CPUs, torch threads "
          f"{torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}), neurons {args.neurons}:")
    for layer, s in secs.items():
        print(f"conv{layer}: {s:.1f} s")
    print(f"total: {sum(secs.values()):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
