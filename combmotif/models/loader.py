"""One way for every stage to get a model: our checkpoint or a Keras HDF5 file.

Interpretation configs carry a ``model:`` section parsed into :class:`ModelSpec`::

    model:
      checkpoint: ../../model_weights/mrl_predictor-best.pth
    # or
    model:
      keras_hdf5: ../../../shared/data/optimus5prime/retrained_evolution_model.hdf5
      alphabet: ACGT          # the model's channel order (AGCT for DeepSEA-style models)
      pad: right              # the sequence sits at the start of the input, zeros after it
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from ..checkpoint import load_checkpoint, resolve_device
from ..config import path_field
from ..errors import ConfigError
from ..sequences import one_hot
from .keras import load_keras_hdf5


@dataclass
class ModelSpec:
    checkpoint: str | None = path_field(None)
    keras_hdf5: str | None = path_field(None)
    alphabet: str = "ACGT"
    pad: Literal["right", "left"] = "right"
    name: str | None = None

    def validate(self) -> None:
        if (self.checkpoint is None) == (self.keras_hdf5 is None):
            raise ValueError("model: give exactly one of 'checkpoint' or 'keras_hdf5'")


@dataclass
class LoadedModel:
    """A model ready for interpretation, with what is needed to feed and read it."""

    module: nn.Module
    name: str
    in_channels: int
    seq_len: int
    scaler: dict = field(default_factory=lambda: {"mean": 0.0, "sd": 1.0})
    pad: str = "right"
    ckpt: dict | None = None

    def encode(self, seqs: list[str], source: str = "input") -> torch.Tensor:
        """Sequences -> the model's input tensor (extra tracks, if any, are zero)."""
        x = one_hot(seqs, length=self.seq_len, source=source, pad=self.pad)
        if self.in_channels > 4:
            x = np.concatenate([x, np.zeros((len(x), self.in_channels - 4, self.seq_len),
                                            np.float32)], axis=1)
        return torch.from_numpy(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor | np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Predictions on the label scale, in batches, eval mode."""
        self.module.eval()
        x = torch.as_tensor(x, dtype=torch.float32)
        device = next(self.module.parameters()).device
        outs = [self.module(x[i:i + batch_size].to(device)).float().cpu()
                for i in range(0, len(x), batch_size)]
        out = torch.cat(outs).numpy() if outs else np.zeros(0, np.float32)
        return out * self.scaler["sd"] + self.scaler["mean"]


def load_model(spec: ModelSpec, device: str = "auto") -> LoadedModel:
    dev = resolve_device(device)
    if spec.checkpoint is not None:
        module, ckpt = load_checkpoint(spec.checkpoint, dev)
        name = spec.name or Path(spec.checkpoint).name.removesuffix(".pth").removesuffix("-best")
        scaler = (ckpt.get("data") or {}).get("scaler") or {"mean": 0.0, "sd": 1.0}
        return LoadedModel(module, name, ckpt["arch"]["in_channels"], ckpt["arch"]["seq_len"],
                           scaler={"mean": float(scaler["mean"]), "sd": float(scaler["sd"])},
                           pad="right", ckpt=ckpt)
    if spec.keras_hdf5 is not None:
        module = load_keras_hdf5(spec.keras_hdf5, alphabet=spec.alphabet).to(dev)
        name = spec.name or Path(spec.keras_hdf5).stem
        return LoadedModel(module, name, module.arch["in_channels"], module.arch["seq_len"],
                           pad=spec.pad)
    raise ConfigError("model: give exactly one of 'checkpoint' or 'keras_hdf5'")


def model_fingerprint(model: nn.Module) -> str:
    """SHA-1 of a module's parameters and buffers (names, shapes, values).

    Stages store it beside finished units: a rerun with other weights (a
    retrained checkpoint under the same name) redoes them instead of mixing
    outputs of two models.
    """
    import hashlib

    h = hashlib.sha1()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(repr(tuple(t.shape)).encode())
        h.update(t.detach().to("cpu", torch.float64).contiguous().numpy().tobytes())
    return h.hexdigest()
