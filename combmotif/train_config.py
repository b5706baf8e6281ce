"""The training config (``configs/training/*.yaml``) and its command-line overrides.

Training (:mod:`combmotif.train`) and evaluation (:mod:`combmotif.evaluate`)
both read it; the data section (:class:`~combmotif.data.tasks.DataConfig`)
lives with the data readers so the interpretation stages can rebuild a split
without a training config.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .config import load_config, path_field, require
from .data.tasks import CLASSIFICATION_FORMATS, DataConfig
from .layout import model_dir
from .run import check_run_values


@dataclass
class ModelConfig:
    """Architecture of the model; input channels and length come from the data.

    ``kind: saluki`` (default): :class:`~combmotif.models.saluki.SalukiModel`
    (``num_layers``, ``filters``, ``kernel_size``, ``padding``, ``dropout``,
    ``gru_units``, ``dense_units``). ``kind: binding_cnn``:
    :class:`~combmotif.models.binding.BindingCNN`, a conv stack with a small head
    (``conv_filters``, ``conv_kernels``, ``pools``: one entry per conv layer;
    ``batch_norm``, ``head`` global_max | dense, ``dense_units``, ``padding``,
    ``dropout``): the binding-site classifier (format fasta or class_csv), or a
    regressor on an MRL CSV. With the ``global_max`` head nothing above the
    convolutions sees positions, so any arrangement of motifs the model uses is held
    by conv neurons (the grammar benchmark's model).
    """

    kind: Literal["saluki", "binding_cnn"] = "saluki"
    num_layers: int = 3
    filters: int = 64
    kernel_size: int = 5
    padding: Literal["same", "valid"] = "same"
    dropout: float = 0.3
    gru_units: int = 64
    dense_units: int = 64
    conv_filters: list[int] = field(default_factory=lambda: [128, 128, 128])
    conv_kernels: list[int] = field(default_factory=lambda: [9, 7, 5])
    pools: list[int] = field(default_factory=lambda: [2, 2, 2])
    batch_norm: bool = True
    head: Literal["global_max", "dense"] = "global_max"

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        require(self.num_layers >= 0, "model.num_layers", self.num_layers, "an integer >= 0")
        for key in ("filters", "kernel_size", "gru_units", "dense_units"):
            require(getattr(self, key) >= 1, f"model.{key}", getattr(self, key), "an integer >= 1")
        require(0 <= self.dropout < 1, "model.dropout", self.dropout, "in [0, 1)")
        for key in ("conv_filters", "conv_kernels", "pools"):
            value = getattr(self, key)
            require(len(value) >= 1 and min(value) >= 1, f"model.{key}", value,
                    "a non-empty list of integers >= 1")
        n = len(self.conv_filters)
        require(len(self.conv_kernels) == n and len(self.pools) == n, "model.conv_kernels/pools",
                [self.conv_kernels, self.pools], f"lists of {n} entries (one per conv_filters entry)")
        if self.padding == "same":
            require(all(k % 2 for k in self.conv_kernels), "model.conv_kernels", self.conv_kernels,
                    "odd with padding 'same'")


@dataclass
class OptimConfig:
    """Adam + MSE on standardised targets; early stopping on validation loss.

    ``lr_patience``: epochs without a new best validation loss before the
    learning rate is multiplied by ``lr_factor`` (``null``: constant rate).
    ``max_minutes``: stop after this much training time and keep the best epoch.
    ``clip_norm``: clip the gradient's global L2 norm to this before each step
    (``null``: no clipping); a GRU over 1 kb can take steps that undo an epoch.

    Training stops on its own when the validation loss stops falling: after
    ``patience`` epochs in a row none of which beats the last counted gain by
    more than ``min_delta`` (on the standardised scale, where 1.0 is the loss
    of predicting the mean), so ``epochs`` can be a generous cap. The weights
    of the lowest validation loss are kept either way.

    Classifiers (``model.kind: binding_cnn``) train with binary cross-entropy on
    the logit and stop early on the validation AUPRC (higher is better; the
    scheduler and ``min_delta`` read 1 - AUPRC); ``rc_augment`` (DNA only) replaces
    each training sequence by its reverse complement with probability 1/2 per epoch.
    """

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5
    min_delta: float = 0.0
    lr_patience: int | None = 2
    lr_factor: float = 0.5
    max_minutes: float | None = None
    clip_norm: float | None = None
    rc_augment: bool = False

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.clip_norm is not None:
            require(0 < self.clip_norm < math.inf, "train.clip_norm", self.clip_norm, "> 0 or null")
        require(self.epochs >= 1, "train.epochs", self.epochs, ">= 1")
        require(self.patience >= 1, "train.patience", self.patience, ">= 1")
        require(self.batch_size >= 2, "train.batch_size", self.batch_size,
                 ">= 2 (the head has batch norm)")
        require(0 < self.lr < math.inf, "train.lr", self.lr, "a number > 0")
        require(0 <= self.weight_decay < math.inf, "train.weight_decay", self.weight_decay, ">= 0")
        require(0 < self.lr_factor <= 1, "train.lr_factor", self.lr_factor, "in (0, 1]")
        if self.lr_patience is not None:
            require(self.lr_patience >= 1, "train.lr_patience", self.lr_patience, ">= 1 or null")
        if self.max_minutes is not None:
            require(self.max_minutes > 0, "train.max_minutes", self.max_minutes, "> 0 or null")
        if not 0 <= self.min_delta < 1:
            raise ValueError(f"'train.min_delta' must be in [0, 1) (standardised loss); got {self.min_delta}")


@dataclass
class OutputConfig:
    """``<weights_dir>/<name>-best.pth``; ``name`` defaults to the config's ``name``.
    (The results root is the run section's top-level ``results_dir``.)"""

    weights_dir: str = path_field()
    name: str | None = None

    _renamed_keys = {"results_dir": "results_dir"}   # moved to the top level (the shared run section)


@dataclass
class TrainConfig:
    """A training config (``configs/training/*.yaml``): the model ``name`` keys the
    checkpoint and ``results/<name>/``; ``seed`` seeds initialisation, dropout and
    shuffling (the split has its own ``data.split_seed``).

    ``name``, ``results_dir``, ``seed`` and ``device`` are the shared run section's
    keys (:mod:`combmotif.run`) with its defaults; ``model`` is the architecture to
    train and ``data`` the data set, and the batch size is the optimiser's
    (``train.batch_size``)."""

    name: str
    data: DataConfig
    output: OutputConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    train: OptimConfig = field(default_factory=OptimConfig)
    results_dir: str | None = path_field(None)
    seed: int = 0
    device: str = "auto"

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.output.name is None:
            self.output.name = self.name
        classify = self.data.format in CLASSIFICATION_FORMATS
        if classify and self.model.kind != "binding_cnn":
            raise ValueError(f"'model.kind' {self.model.kind!r} does not fit 'data.format' "
                             f"{self.data.format!r}: a classifier (fasta, class_csv) is a binding_cnn; "
                             "saluki regresses (mrl_csv, saluki_h5)")
        if self.train.rc_augment and not classify:
            raise ValueError("'train.rc_augment' applies to classifiers on DNA (data.format fasta or class_csv)")
        if self.train.rc_augment and self.data.molecule == "rna":
            raise ValueError("'train.rc_augment' is for DNA; data.molecule is rna (RNA has one strand)")
        check_run_values(self.name, self.seed, self.device, None)
        value = self.output.name
        if not value or "/" in value or "\\" in value or value.startswith("."):
            raise ValueError(f"'output.name' must be a plain file name; got {value!r}")

    @property
    def checkpoint_path(self) -> Path:
        """The best checkpoint ``<output.weights_dir>/<output.name>-best.pth`` (its JSON sits beside it)."""
        return Path(self.output.weights_dir) / f"{self.output.name}-best.pth"

    @property
    def model_results_dir(self) -> Path:
        """``<results_dir>/<name>/`` (:func:`combmotif.layout.model_dir`)."""
        return model_dir(self.results_dir, self.name)


def load_train_config(path: str | Path, args: argparse.Namespace | None = None) -> TrainConfig:
    """Read a training config, with the command-line overrides in ``args``.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    args : argparse.Namespace, optional
        Parsed flags of :func:`add_override_flags`; ``None`` values are not overrides.

    Returns
    -------
    TrainConfig
        The validated config.
    """
    over: dict = {}
    for flag, (section, key) in _OVERRIDES.items():
        value = getattr(args, flag, None) if args is not None else None
        if value is None:
            continue
        if section:
            over.setdefault(section, {})[key] = value
        else:
            over[key] = value
    return load_config(path, TrainConfig, overrides=over or None)


# flag attribute -> (config section, key); section "" is top level.
_OVERRIDES = {"epochs": ("train", "epochs"), "patience": ("train", "patience"),
              "batch_size": ("train", "batch_size"),
              "lr": ("train", "lr"), "max_minutes": ("train", "max_minutes"),
              "seed": ("", "seed"), "device": ("", "device")}


def add_override_flags(parser: argparse.ArgumentParser) -> None:
    """Add the ``--epochs``, ``--lr``, ... flags that :func:`load_train_config` reads.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser to extend in place.
    """
    parser.add_argument("--epochs", type=int, help="override train.epochs")
    parser.add_argument("--patience", type=int, help="override train.patience")
    parser.add_argument("--batch-size", dest="batch_size", type=int, help="override train.batch_size")
    parser.add_argument("--lr", type=float, help="override train.lr")
    parser.add_argument("--max-minutes", dest="max_minutes", type=float, help="override train.max_minutes")
    parser.add_argument("--seed", type=int, help="override seed")
    parser.add_argument("--device", help="override device (auto, cpu, cuda, cuda:1)")
