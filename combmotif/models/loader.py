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

import functools
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
    """The ``model:`` section of an interpretation config: which trained model a stage reads.

    Exactly one of ``checkpoint`` (a CombMotif ``.pth``) or ``keras_hdf5`` (an
    imported Keras model) is given; paths resolve against the config's folder.
    ``alphabet`` and ``pad`` describe a Keras model's input (our checkpoints record
    their own); ``name`` overrides the results folder's name (:func:`model_name`);
    ``molecule`` says whether the model reads DNA (matched on both strands) or RNA
    (:func:`model_molecule`).
    """

    checkpoint: str | None = path_field(None)
    keras_hdf5: str | None = path_field(None)
    alphabet: str = "ACGT"
    pad: Literal["right", "left"] = "right"
    name: str | None = None
    # dna | rna; auto: the checkpoint's record (rna when it has none; a Keras model: rna)
    molecule: Literal["auto", "dna", "rna"] = "auto"

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
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
        """Sequences -> the model's input tensor (extra tracks, if any, are zero).

        Parameters
        ----------
        seqs : list of str
            Sequences over ACGTUN; padded (or cut) to ``seq_len`` as the model was trained:
            on its ``pad`` side (``centre``: both sides, as the binding-site classifiers).
        source : str, default "input"
            Where the sequences came from, for error messages.

        Returns
        -------
        torch.Tensor
            (N, in_channels, seq_len) float32 one-hot input.

        Raises
        ------
        combmotif.errors.InputError
            Naming ``source`` and the first sequence with a letter outside ACGTUN.
        """
        x = one_hot(seqs, length=self.seq_len, source=source, pad=self.pad)
        if self.in_channels > 4:
            x = np.concatenate([x, np.zeros((len(x), self.in_channels - 4, self.seq_len),
                                            np.float32)], axis=1)
        return torch.from_numpy(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor | np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Predictions on the label scale, in batches, eval mode.

        Parameters
        ----------
        x : torch.Tensor or numpy.ndarray
            (N, in_channels, seq_len) inputs.
        batch_size : int, default 2048
            Sequences per forward pass.

        Returns
        -------
        numpy.ndarray
            (N,) or (N, T) predictions, unstandardised with ``scaler``.
        """
        self.module.eval()
        x = torch.as_tensor(x, dtype=torch.float32)
        device = next(self.module.parameters()).device
        outs = [self.module(x[i:i + batch_size].to(device)).float().cpu()
                for i in range(0, len(x), batch_size)]
        out = torch.cat(outs).numpy() if outs else np.zeros(0, np.float32)
        return out * self.scaler["sd"] + self.scaler["mean"]

    @torch.no_grad()
    def predict_windows(self, x: np.ndarray, rows: np.ndarray, start: np.ndarray, window: np.ndarray,
                        batch_size: int = 2048) -> np.ndarray | None:
        """:meth:`predict` of variants that differ from their sequence within one window each.

        Only what each window reaches is recomputed
        (:func:`combmotif.models.substitution.window_outputs`); None when the model's
        trunk does not allow it or the windows are too wide to gain
        (:func:`~combmotif.models.substitution.worth_windows`): then :meth:`predict`
        the variants themselves.

        Parameters
        ----------
        x : numpy.ndarray
            (N, in_channels, seq_len) the sequences.
        rows, start : numpy.ndarray
            (m,) each variant's sequence and window start.
        window : numpy.ndarray
            (m, in_channels, w) each variant's input over its window.
        batch_size : int, default 2048
            Variants per pass.

        Returns
        -------
        numpy.ndarray or None
            (m,) or (m, T) predictions, unstandardised with ``scaler``.
        """
        from .substitution import substitution_plan, window_chunks, worth_windows

        self.module.eval()
        trunk = substitution_plan(self.module)
        if trunk is None or not worth_windows(window.shape[-1], x.shape[-1]):
            return None
        out = window_chunks(self.module, x, rows, start, window, trunk, batch_size)
        return out * self.scaler["sd"] + self.scaler["mean"]


def model_name(spec: ModelSpec, name: str | None = None) -> str:
    """The one model-name rule: it keys ``results/<name>/`` for every stage.

    Parameters
    ----------
    spec : ModelSpec
        The config's ``model:`` section.
    name : str, optional
        The run section's ``name``.

    Returns
    -------
    str
        ``name`` if given, else ``model.name``, else the checkpoint's file name
        without ``.pth`` and ``-best``, else the Keras file's stem.
    """
    if name:
        return name
    if spec.name:
        return spec.name
    if spec.checkpoint is not None:
        return Path(spec.checkpoint).name.removesuffix(".pth").removesuffix("-best")
    return Path(spec.keras_hdf5).stem


def model_molecule(spec: ModelSpec) -> str:
    """The molecule a model reads: ``"dna"`` or ``"rna"``.

    ``model.molecule`` when set; else a checkpoint's ``data["molecule"]`` (training
    records it for classifiers); else ``"rna"``, the molecule of every model trained
    before the record existed (5'UTR and half-life regressors) and of a Keras model
    whose config says nothing.

    Parameters
    ----------
    spec : ModelSpec
        The config's ``model:`` section.

    Returns
    -------
    str
        ``"dna"`` or ``"rna"``.
    """
    if spec.molecule != "auto":
        return spec.molecule
    if spec.checkpoint is None:
        return "rna"
    path = Path(spec.checkpoint).resolve()
    # Keyed by the file's time too: a retrained checkpoint under the same name is read again.
    return _recorded_molecule(str(path), path.stat().st_mtime_ns if path.is_file() else 0)


@functools.lru_cache(maxsize=8)
def _recorded_molecule(path: str, _mtime: int) -> str:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # a missing or broken file: the stage's own load names it
        return "rna"
    data = ckpt.get("data") if isinstance(ckpt, dict) else None
    molecule = str((data or {}).get("molecule", "rna")).lower() if isinstance(data, dict) else "rna"
    return "dna" if molecule == "dna" else "rna"


def load_model(spec: ModelSpec, device: str = "auto") -> LoadedModel:
    """Load the model a ``model:`` section names, ready for interpretation.

    Parameters
    ----------
    spec : ModelSpec
        The config's ``model:`` section.
    device : str, default "auto"
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:<i>"``.

    Returns
    -------
    LoadedModel
        The module on ``device``, its name, input channels and length, the target scaler
        (identity for a Keras model), padding side and, for a checkpoint, the checkpoint dict.

    Raises
    ------
    combmotif.errors.ConfigError
        When neither or both of ``checkpoint`` and ``keras_hdf5`` are given.
    combmotif.errors.InputError
        When the device is unknown or unavailable, or the model file is missing or unreadable.
    """
    dev = resolve_device(device)
    if spec.checkpoint is not None:
        module, ckpt = load_checkpoint(spec.checkpoint, dev)
        name = model_name(spec)
        scaler = (ckpt.get("data") or {}).get("scaler") or {"mean": 0.0, "sd": 1.0}
        return LoadedModel(module, name, ckpt["arch"]["in_channels"], ckpt["arch"]["seq_len"],
                           scaler={"mean": float(scaler["mean"]), "sd": float(scaler["sd"])},
                           pad=(ckpt.get("data") or {}).get("pad") or "right", ckpt=ckpt)
    if spec.keras_hdf5 is not None:
        module = load_keras_hdf5(spec.keras_hdf5, alphabet=spec.alphabet).to(dev)
        name = model_name(spec)
        return LoadedModel(module, name, module.arch["in_channels"], module.arch["seq_len"],
                           pad=spec.pad)
    raise ConfigError("model: give exactly one of 'checkpoint' or 'keras_hdf5'")


def model_fingerprint(model: nn.Module) -> str:
    """SHA-1 of a module's parameters and buffers (names, shapes, values).

    Stages store it beside finished units: a rerun with other weights (a
    retrained checkpoint under the same name) redoes them instead of mixing
    outputs of two models.

    Parameters
    ----------
    model : nn.Module
        The model.

    Returns
    -------
    str
        40-character hex digest; the same for the same weights on any device.
    """
    import hashlib

    h = hashlib.sha1()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(repr(tuple(t.shape)).encode())
        h.update(t.detach().to("cpu", torch.float64).contiguous().numpy().tobytes())
    return h.hexdigest()
