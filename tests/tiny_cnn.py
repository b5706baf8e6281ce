"""A tiny CNN trained in seconds on planted motifs, shared by the contribution and
interaction tests.

Its ``body`` is a flat ``nn.Sequential`` like the Saluki model's, so the
max-activation search, fragment location and mutagenesis run on it unchanged;
the head (global max over positions, then a small MLP) is cheap to train on
two CPU cores, unlike a GRU.
"""

from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from combmotif.data.planting import plant, scan
from combmotif.sequences import indices_to_one_hot

POS, NEG, PARTNER = "TGTAAATA", "CATTACGA", "GGGCCCAG"


class TinyCNN(nn.Module):
    def __init__(self, filters: int = 8, hidden: int = 16):
        super().__init__()
        self.body = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv1d(4, filters, 9, padding=4)), ("relu1", nn.ReLU()),
        ]))
        self.head = nn.Sequential(nn.Linear(filters, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).amax(-1)).squeeze(-1)


def planted_set(n: int = 2000, length: int = 40, interaction: float = 1.5, seed: int = 0):
    """Random sequences with a positive motif (POS, 5' half), a negative one (NEG,
    5' half, never with POS) and POS's partner (3' half); label = +1 POS - 1 NEG +
    0.8 PARTNER + ``interaction`` when POS and PARTNER are both present, + noise."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, length)).astype(np.int8)
    has_pos, has_partner, has_neg = (rng.random(n) < p for p in (0.35, 0.35, 0.3))
    has_neg &= ~has_pos
    half = length // 2
    plant(codes, np.flatnonzero(has_pos), rng.integers(0, half - 8, has_pos.sum()), POS, rng)
    plant(codes, np.flatnonzero(has_neg), rng.integers(0, half - 8, has_neg.sum()), NEG, rng)
    plant(codes, np.flatnonzero(has_partner), rng.integers(half, length - 8, has_partner.sum()), PARTNER, rng)
    a, b, c = (scan(codes, m).any(1) for m in (POS, PARTNER, NEG))
    y = 1.0 * a + 0.8 * b - 1.0 * c + interaction * (a & b) + rng.normal(0, 0.1, n)
    return indices_to_one_hot(codes), y.astype(np.float32), codes


def train_tiny(X: np.ndarray, y: np.ndarray, epochs: int = 10, seed: int = 0) -> tuple[TinyCNN, dict]:
    torch.manual_seed(seed)
    model = TinyCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    scaler = {"mean": float(y.mean()), "sd": float(y.std())}
    Xt = torch.from_numpy(X)
    zt = torch.from_numpy((y - scaler["mean"]) / scaler["sd"])
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=gen)
        for i in range(0, len(X), 256):
            idx = perm[i:i + 256]
            loss = nn.functional.mse_loss(model(Xt[idx]), zt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval(), scaler


def predictor(model: nn.Module, scaler: dict):
    @torch.no_grad()
    def predict(x: np.ndarray) -> np.ndarray:
        out = torch.cat([model(torch.as_tensor(x[i:i + 4096])) for i in range(0, len(x), 4096)])
        return out.numpy() * scaler["sd"] + scaler["mean"]
    return predict


@functools.lru_cache(maxsize=1)
def trained_default():
    """``(X, y, codes, model, scaler)`` of the default planted set, trained once per session."""
    X, y, codes = planted_set()
    model, scaler = train_tiny(X, y)
    return X, y, codes, model, scaler


def write_toy_checkpoint(tmp_path, n: int, filters: int) -> None:
    """``tmp_path/data.csv`` (n random 50-nt UTRs, GSM3130435 layout) and an untrained
    two-block Saluki model trained "on" it, ``tmp_path/toy-best.pth``: a stage's inputs."""
    import pandas as pd

    from combmotif.checkpoint import save_checkpoint
    from combmotif.models.saluki import SalukiModel

    rng = np.random.default_rng(0)
    utrs = ["".join(rng.choice(list("ACGT"), 50)) for _ in range(n)]
    data = tmp_path / "data.csv"
    pd.DataFrame({"utr": utrs, "rl": rng.normal(5, 1, n),
                  "total_reads": rng.integers(100, 1000, n)}).to_csv(data, index=False)
    torch.manual_seed(0)
    model = SalukiModel(in_channels=4, seq_len=50, num_layers=2, filters=filters, gru_units=8,
                        dense_units=8)
    info = {"set": "toy", "format": "mrl_csv", "path": str(data), "label": "rl",
            "split": {"kind": "random", "fractions": [0.8, 0.1, 0.1], "seed": 0},
            "scaler": {"mean": 5.0, "sd": 1.0}}
    save_checkpoint(tmp_path / "toy-best.pth", model.eval(), info, {})


def random_onehot(n, length, channels=4, seed=0):
    """``n`` random one-hot sequences (n, channels, length); channels past 4 get random 0/1 tracks."""
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, length))].transpose(0, 2, 1)
    if channels > 4:
        x = np.concatenate([x, rng.integers(0, 2, (n, channels - 4, length)).astype(np.float32)], 1)
    return np.ascontiguousarray(x)
