"""Train a Saluki-style predictor on an MRL CSV or a Saluki half-life H5.

One config (:class:`TrainConfig`) describes the data, the architecture and the
optimiser; :func:`train_from_config` turns it into
``<weights_dir>/<name>-best.pth`` (see :mod:`combmotif.checkpoint`) plus a
human-readable ``<name>-best.json`` with the metrics and the exact command.

Targets are standardised with the mean and standard deviation of the *training*
split only (so nothing about the test labels leaks into the model); the scaler
is stored in the checkpoint's ``data`` dict and :func:`predict` maps back to
the label scale. Same seed + same data -> same weights on CPU.

``mrl/train.py`` and ``half-life/train.py`` are both thin wrappers around
:func:`main`; they differ only in the default config.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from .checkpoint import check_device, portable_data, resolve_device, save_checkpoint
from .config import load_config, path_field, to_dict
from .errors import InputError
from .io import check_output_dir, write_json
from .models.saluki import SalukiModel
from .paths import portable_command, repo_root

SPLITS = ("train", "valid", "test")


# --------------------------------------------------------------------------- config


def _require(ok: bool, key: str, value, rule: str) -> None:
    """Raise the one config error line for ``key``: ``'key' must be RULE; got VALUE``."""
    if not ok:
        raise ValueError(f"'{key}' must be {rule}; got {value!r}")


@dataclass
class DataConfig:
    """Where the labelled sequences are and how they are split.

    ``split``: ``reference`` (MRL: the ``top_n`` best-covered UTRs, the
    ``test_n`` best of them held out, ``valid_frac`` of the rest for early
    stopping), ``random`` (shuffled ``fractions`` of train/valid/test; for
    small sets without read counts), ``file`` (the H5's own train/valid/test
    groups) or ``auto`` (``reference`` for ``mrl_csv``, ``file`` for
    ``saluki_h5``). ``split_seed`` is separate from the training seed so that a
    new training seed never changes which sequences are in the test set.
    """

    format: Literal["mrl_csv", "saluki_h5"]
    path: str = path_field()
    split: Literal["auto", "reference", "random", "file"] = "auto"
    label: str = "rl"
    top_n: int = 280_000
    test_n: int = 20_000
    valid_frac: float = 0.1
    fractions: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    split_seed: int = 0
    seq_len: int | None = None

    def validate(self) -> None:
        if self.split == "auto":
            self.split = "reference" if self.format == "mrl_csv" else "file"
        if self.format == "saluki_h5" and self.split != "file":
            raise ValueError("'data.split' must be 'file' (or auto) for format saluki_h5: "
                             "the H5 holds its own train/valid/test groups")
        if self.format == "mrl_csv" and self.split == "file":
            raise ValueError("'data.split' 'file' needs format saluki_h5; use reference or random")
        if self.format == "saluki_h5" and self.label != "rl":
            raise ValueError("'data.label' applies to mrl_csv only (an H5 has one target)")
        if self.split == "reference" and self.label != "rl":
            raise ValueError("'data.split' reference ranks rows by read count and needs label rl; "
                             "use split random for another label column")
        if len(self.fractions) != 3 or min(self.fractions) <= 0 or abs(sum(self.fractions) - 1) > 1e-6:
            raise ValueError(f"'data.fractions' must be three positive numbers summing to 1; "
                             f"got {self.fractions}")
        if not 0 <= self.valid_frac < 1:
            raise ValueError(f"'data.valid_frac' must be in [0, 1); got {self.valid_frac}")
        _require(self.top_n >= 2, "data.top_n", self.top_n, ">= 2")
        _require(1 <= self.test_n < self.top_n, "data.test_n", self.test_n,
                 f">= 1 and below data.top_n ({self.top_n})")
        if self.seq_len is not None and self.seq_len < 1:
            raise ValueError(f"'data.seq_len' must be positive; got {self.seq_len}")
        _require(self.split_seed >= 0, "data.split_seed", self.split_seed, "an integer >= 0")
        _require(bool(str(self.label).strip()), "data.label", self.label, "a column name")


@dataclass
class ModelConfig:
    """Architecture of :class:`~combmotif.models.saluki.SalukiModel`; input
    channels and length come from the data."""

    num_layers: int = 3
    filters: int = 64
    kernel_size: int = 5
    padding: Literal["same", "valid"] = "same"
    dropout: float = 0.3
    gru_units: int = 64
    dense_units: int = 64

    def validate(self) -> None:
        _require(self.num_layers >= 0, "model.num_layers", self.num_layers, "an integer >= 0")
        for key in ("filters", "kernel_size", "gru_units", "dense_units"):
            _require(getattr(self, key) >= 1, f"model.{key}", getattr(self, key), "an integer >= 1")
        _require(0 <= self.dropout < 1, "model.dropout", self.dropout, "in [0, 1)")


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

    def validate(self) -> None:
        if self.clip_norm is not None:
            _require(0 < self.clip_norm < math.inf, "train.clip_norm", self.clip_norm, "> 0 or null")
        _require(self.epochs >= 1, "train.epochs", self.epochs, ">= 1")
        _require(self.patience >= 1, "train.patience", self.patience, ">= 1")
        _require(self.batch_size >= 2, "train.batch_size", self.batch_size,
                 ">= 2 (the head has batch norm)")
        _require(0 < self.lr < math.inf, "train.lr", self.lr, "a number > 0")
        _require(0 <= self.weight_decay < math.inf, "train.weight_decay", self.weight_decay, ">= 0")
        _require(0 < self.lr_factor <= 1, "train.lr_factor", self.lr_factor, "in (0, 1]")
        if self.lr_patience is not None:
            _require(self.lr_patience >= 1, "train.lr_patience", self.lr_patience, ">= 1 or null")
        if self.max_minutes is not None:
            _require(self.max_minutes > 0, "train.max_minutes", self.max_minutes, "> 0 or null")
        if not 0 <= self.min_delta < 1:
            raise ValueError(f"'train.min_delta' must be in [0, 1) (standardised loss); got {self.min_delta}")


@dataclass
class OutputConfig:
    """``<weights_dir>/<name>-best.pth``; ``name`` defaults to the config's ``name``.
    ``results_dir`` (default ``<repo>/results``) receives ``<name>/evaluation/``."""

    weights_dir: str = path_field()
    name: str | None = None
    results_dir: str | None = path_field(None)


@dataclass
class TrainConfig:
    """A training config (``configs/training/*.yaml``): the model ``name`` keys the
    checkpoint and ``results/<name>/``; ``seed`` seeds initialisation, dropout and
    shuffling (the split has its own ``data.split_seed``)."""

    name: str
    data: DataConfig
    output: OutputConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    train: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0
    device: str = "auto"

    def validate(self) -> None:
        if self.output.name is None:
            self.output.name = self.name
        for label, value in (("name", self.name), ("output.name", self.output.name)):
            if not value or "/" in value or "\\" in value or value.startswith("."):
                raise ValueError(f"'{label}' must be a plain file name; got {value!r}")
        _require(self.seed >= 0, "seed", self.seed, "an integer >= 0")
        check_device(self.device)

    @property
    def checkpoint_path(self) -> Path:
        return Path(self.output.weights_dir) / f"{self.output.name}-best.pth"

    @property
    def results_dir(self) -> Path:
        base = Path(self.output.results_dir) if self.output.results_dir else repo_root() / "results"
        return base / self.name


# --------------------------------------------------------------------------- data


@dataclass
class TaskData:
    """Tensors per split plus what the checkpoint records about the data.

    ``splits[name] = (X, y)`` with X (N, C, L) float32 and y (N,) float32 on CPU.
    """

    splits: dict[str, tuple[torch.Tensor, torch.Tensor]]
    in_channels: int
    seq_len: int
    info: dict
    task: Literal["mrl", "halflife"]

    @property
    def truth_path(self) -> Path:
        return Path(self.info["path"]).parent / "truth.json"


def read_labelled_csv(path: str | Path, label: str) -> pd.DataFrame:
    """Read a CSV with a ``utr`` column and a numeric ``label`` column
    (e.g. ``hrl`` of the human 5'UTR SNV set); drops nothing silently."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: data file not found")
    try:
        head = pd.read_csv(path, nrows=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({type(exc).__name__})") from None
    missing = [c for c in ("utr", label) if c not in head.columns]
    if missing:
        raise InputError(f"{path}: missing column {', '.join(repr(c) for c in missing)} "
                         f"(label column is set by data.label)")
    try:
        df = pd.read_csv(path, usecols=["utr", label], dtype={"utr": str}, keep_default_na=False,
                         na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if df.empty:
        raise InputError(f"{path}: no data rows (only a header)")
    y = pd.to_numeric(df[label], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(y.to_numpy(dtype=float)))
    if bad.size:
        row = int(bad[0])
        raise InputError(f"{path}: row {row + 1} (line {row + 2}): column {label!r} is not a number "
                         f"({df[label].iloc[row]!r})")
    if df["utr"].isna().any():
        row = int(np.flatnonzero(df["utr"].isna().to_numpy())[0])
        raise InputError(f"{path}: row {row + 1} (line {row + 2}): empty utr")
    return pd.DataFrame({"utr": df["utr"].astype(str), label: y.astype(np.float64)})


def random_split(n: int, fractions: list[float], seed: int) -> dict[str, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it by ``fractions`` (train, valid, test)."""
    perm = np.random.default_rng(seed).permutation(n)
    cuts = np.round(np.cumsum(fractions)[:2] * n).astype(int)
    parts = np.split(perm, cuts)
    if min(len(p) for p in parts) < 2:
        raise InputError(f"{n} rows are too few to split by {fractions}")
    return dict(zip(SPLITS, (np.sort(p) for p in parts)))


def check_utrs(utrs: pd.Series, seq_len: int, path: str | Path) -> None:
    """Refuse UTRs longer than ``seq_len`` (rather than silently cutting them) or
    with letters outside ACGTUN; rows are counted as in :mod:`combmotif.data.mrl`
    (1-based data row; the file line is row + 1)."""
    lengths = utrs.str.len().to_numpy()
    if (lengths > seq_len).any():
        row = int(np.argmax(lengths > seq_len))
        raise InputError(f"{path}: row {row + 1} (line {row + 2}): utr is {lengths[row]} nt, longer than "
                         f"data.seq_len={seq_len} ({int((lengths > seq_len).sum())} such rows)")
    bad = utrs.str.contains(r"[^ACGTUNacgtun]", regex=True).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        col = next(i for i, c in enumerate(utrs.iloc[row]) if c not in "ACGTUNacgtun")
        raise InputError(f"{path}: row {row + 1} (line {row + 2}): utr has invalid character "
                         f"{utrs.iloc[row][col]!r} at position {col} (allowed: A, C, G, T, U, N)")


def _mrl_splits(cfg: DataConfig) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    from .data import mrl as mrl_data

    seq_len = cfg.seq_len or 50
    # Only the reference split ranks by read counts: a user's own CSV with a random
    # split needs just ``utr`` and the label column.
    df = (mrl_data.read_mrl_csv(cfg.path) if cfg.split == "reference"
          else read_labelled_csv(cfg.path, cfg.label))
    check_utrs(df["utr"], seq_len, cfg.path)
    if cfg.split == "reference":
        if min(len(df), cfg.top_n) <= cfg.test_n:
            raise InputError(f"{cfg.path}: {len(df)} rows, too few for 'data.test_n' = {cfg.test_n} "
                             f"(the reference split tests on the test_n best-read of the "
                             f"data.top_n = {cfg.top_n} best-read rows and trains on the rest)")
        parts = mrl_data.reference_split(df, top_n=cfg.top_n, test_n=cfg.test_n,
                                         valid_frac=cfg.valid_frac, seed=cfg.split_seed)
        split_info = {"kind": "reference", "top_n": cfg.top_n, "test_n": cfg.test_n,
                      "valid_frac": cfg.valid_frac, "seed": cfg.split_seed}
    else:
        try:
            idx = random_split(len(df), cfg.fractions, cfg.split_seed)
        except InputError as exc:
            raise InputError(f"{cfg.path}: {exc} ('data.fractions')") from None
        parts = {k: df.iloc[v] for k, v in idx.items()}
        split_info = {"kind": "random", "fractions": list(cfg.fractions), "seed": cfg.split_seed}
    arrays = {k: (mrl_data.encode_utrs(p["utr"].tolist(), length=seq_len, source=str(cfg.path)),
                  p[cfg.label].to_numpy(dtype=np.float32)) for k, p in parts.items()}
    return arrays, split_info


def _h5_splits(cfg: DataConfig) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    from .data import halflife as hl_data

    # read_h5 checks the layout: (N, 6, L) sequences and (N,) labels per split.
    arrays = hl_data.read_h5(cfg.path, splits=SPLITS)
    return arrays, {"kind": "file"}


def check_arrays(arrays: dict[str, tuple[np.ndarray, np.ndarray]], path: str,
                 seq_len: int | None) -> tuple[int, int]:
    """Check shapes and values of every split; return (in_channels, seq_len)."""
    shapes = set()
    for name in SPLITS:
        if name not in arrays:
            raise InputError(f"{path}: no {name!r} split")
        X, y = arrays[name]
        if X.ndim != 3:
            raise InputError(f"{path}: split {name!r} sequences have shape {X.shape}; expected (N, C, L)")
        if y.ndim != 1 or len(y) != len(X):
            raise InputError(f"{path}: split {name!r} has {len(X)} sequences but labels of shape {y.shape}")
        if len(X) < 2:
            raise InputError(f"{path}: split {name!r} has {len(X)} sequences; need at least 2")
        if not np.isfinite(y).all():
            raise InputError(f"{path}: split {name!r} has non-finite labels")
        shapes.add(tuple(X.shape[1:]))
    if len(shapes) != 1:
        raise InputError(f"{path}: splits have different sequence shapes {sorted(shapes)}")
    channels, length = shapes.pop()
    if seq_len is not None and length != seq_len:
        raise InputError(f"{path}: sequences are {length} long but the config says data.seq_len={seq_len}")
    return channels, length


def load_task_data(cfg: TrainConfig) -> TaskData:
    """Read, split, encode and check the data set a config names.

    Raises :class:`InputError` (naming the file) for anything that does not fit:
    missing columns, invalid letters, wrong H5 shapes, a length other than
    ``data.seq_len``.
    """
    d = cfg.data
    if Path(d.path).is_dir():
        raise InputError(f"{d.path}: is a folder, not a data file ('data.path')")
    if not Path(d.path).is_file():
        hint = (" (make the synthetic sets with: bash generate_dataset/make_default.sh)"
                if Path(d.path).parent.name.startswith("synthetic") else "")
        raise InputError(f"{d.path}: data file not found{hint}")
    arrays, split_info = _mrl_splits(d) if d.format == "mrl_csv" else _h5_splits(d)
    arrays = {k: (np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32))
              for k, (X, y) in arrays.items()}
    channels, length = check_arrays(arrays, d.path, d.seq_len)
    split_info["sizes"] = {k: int(len(arrays[k][1])) for k in SPLITS}
    info = {"set": Path(d.path).parent.name, "format": d.format, "path": str(d.path),
            "split": split_info, "label": d.label if d.format == "mrl_csv" else "halflife"}
    splits = {k: (torch.from_numpy(X), torch.from_numpy(y)) for k, (X, y) in arrays.items()}
    return TaskData(splits, channels, length, info, "mrl" if d.format == "mrl_csv" else "halflife")


def check_training_inputs(cfg: TrainConfig, source: str | Path) -> TaskData:
    """Check everything a training run needs before the first epoch; return its data.

    Parameters
    ----------
    cfg : TrainConfig
        A loaded (hence key- and range-checked) training config.
    source : str or Path
        The config file, named in every message.

    Returns
    -------
    TaskData
        The data set, read, split and encoded (pass it on to :func:`train_from_config`).

    Raises
    ------
    InputError
        An output location that cannot become a folder, a checkpoint name taken by a
        folder, unusable data, constant training labels, or a model the data is too
        short for. A refused run writes nothing.
    """
    check_output_dir(cfg.output.weights_dir, str(source), "output.weights_dir")
    check_output_dir(cfg.results_dir, str(source), "output.results_dir")
    for target in (cfg.checkpoint_path, cfg.checkpoint_path.with_suffix(".json")):
        if target.is_dir():
            raise InputError(f"{source}: 'output.name' = {cfg.output.name!r}: {target} is a folder; "
                             "the checkpoint must be a file")
    data = load_task_data(cfg)
    y = data.splits["train"][1].numpy()
    if np.ptp(y) == 0:
        raise InputError(f"{cfg.data.path}: the {len(y)} training labels are all {float(y[0]):g}; "
                         "nothing to learn")
    try:
        build_from_config(cfg, data)
    except InputError as exc:
        raise InputError(f"{source}: 'model' does not fit the data: {exc}") from None
    return data


def build_from_config(cfg: TrainConfig, data: TaskData) -> SalukiModel:
    """A freshly initialised model (seeded by ``cfg.seed``) that fits ``data``."""
    torch.manual_seed(cfg.seed)
    m = cfg.model
    return SalukiModel(in_channels=data.in_channels, seq_len=data.seq_len, num_layers=m.num_layers,
                       filters=m.filters, kernel_size=m.kernel_size, padding=m.padding,
                       dropout=m.dropout, gru_units=m.gru_units, dense_units=m.dense_units)


# --------------------------------------------------------------------------- fit / predict


def fit_scaler(y: torch.Tensor | np.ndarray) -> dict[str, float]:
    """Mean and standard deviation of the training labels."""
    y = np.asarray(y, dtype=np.float64)
    sd = float(y.std())
    if not np.isfinite(sd) or sd <= 0:
        raise InputError("training labels are constant; nothing to learn")
    return {"mean": float(y.mean()), "sd": sd}


@torch.no_grad()
def predict(model: nn.Module, X: torch.Tensor | np.ndarray, scaler: dict | None = None,
            batch_size: int = 1024) -> np.ndarray:
    """Predictions on the label scale, in batches, in eval mode, without gradients.

    ``scaler`` is the checkpoint's ``{"mean", "sd"}``; ``None`` returns the raw
    (standardised) output. The model's train/eval mode is restored afterwards.
    """
    X = torch.as_tensor(X, dtype=torch.float32)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        out = [model(X[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    pred = torch.cat(out).numpy() if out else np.zeros(0, np.float32)
    if scaler is not None:
        pred = pred * scaler["sd"] + scaler["mean"]
    return pred.astype(np.float32)


@dataclass
class FitResult:
    model: SalukiModel
    scaler: dict[str, float]
    history: list[dict]
    best_epoch: int
    seconds: float
    stopped: str


def _valid_loss(model: nn.Module, X: torch.Tensor, z: torch.Tensor, batch_size: int) -> float:
    pred = predict(model, X, None, batch_size=max(batch_size, 512))
    return float(np.mean((pred - z.numpy()) ** 2))


def fit(model: SalukiModel, splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
        cfg: TrainConfig, device: torch.device | str | None = None) -> FitResult:
    """Adam + MSE on standardised targets with early stopping on validation loss.

    The scaler is fitted on ``splits['train']`` only. Shuffling uses a generator
    seeded from ``cfg.seed`` (and dropout the global seed set here), so a rerun
    with the same seed on CPU gives identical weights. The weights of the best
    validation epoch are restored before returning.
    """
    opt_cfg = cfg.train
    device = torch.device(device) if device is not None else resolve_device(cfg.device)
    X_tr, y_tr = splits["train"]
    X_va, y_va = splits["valid"]
    model.check_input(X_tr[:1])
    scaler = fit_scaler(y_tr)
    z_tr = (y_tr - scaler["mean"]) / scaler["sd"]
    z_va = (y_va - scaler["mean"]) / scaler["sd"]

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model.to(device)
    optim = torch.optim.Adam(model.parameters(), lr=opt_cfg.lr, weight_decay=opt_cfg.weight_decay)
    sched = (torch.optim.lr_scheduler.ReduceLROnPlateau(optim, factor=opt_cfg.lr_factor,
                                                        patience=opt_cfg.lr_patience - 1)
             if opt_cfg.lr_patience else None)
    loss_fn = nn.MSELoss()
    deadline = time.monotonic() + opt_cfg.max_minutes * 60 if opt_cfg.max_minutes else None
    start = time.monotonic()

    best = (float("inf"), 0, _state_copy(model))
    ref_loss = float("inf")
    history: list[dict] = []
    stopped = "epochs"
    bad_epochs = 0
    epochs = tqdm(range(1, opt_cfg.epochs + 1), desc="epochs", disable=None, unit="epoch")
    for epoch in epochs:
        model.train()
        perm = torch.randperm(len(X_tr), generator=gen)
        # Batch norm in the head cannot train on a batch of one: fold a lone
        # trailing sample into the previous batch instead of dropping it.
        batches = list(perm.split(opt_cfg.batch_size))
        if len(batches) > 1 and len(batches[-1]) < 2:
            batches[-2] = torch.cat(batches[-2:])
            batches.pop()
        total, seen = 0.0, 0
        for idx in tqdm(batches, desc=f"epoch {epoch}", leave=False, disable=None, unit="batch"):
            xb, zb = X_tr[idx].to(device), z_tr[idx].to(device)
            optim.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), zb)
            loss.backward()
            if opt_cfg.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), opt_cfg.clip_norm)
            optim.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
            if deadline is not None and time.monotonic() > deadline:
                stopped = "max_minutes"
                break
        valid = _valid_loss(model, X_va, z_va, opt_cfg.batch_size)
        history.append({"epoch": epoch, "train_loss": total / max(seen, 1), "valid_loss": valid,
                        "lr": optim.param_groups[0]["lr"], "seconds": round(time.monotonic() - start, 2)})
        if sched is not None:
            sched.step(valid)
        epochs.set_postfix(train=f"{total / max(seen, 1):.4f}", valid=f"{valid:.4f}")
        if epochs.disable:  # no bar off a terminal (CI, nohup): one line per epoch instead
            print(f"epoch {epoch}/{opt_cfg.epochs}: train loss {total / max(seen, 1):.4f}, "
                  f"valid loss {valid:.4f} ({history[-1]['seconds']:.0f} s)", file=sys.stderr,
                  flush=True)
        if valid < best[0]:
            best = (valid, epoch, _state_copy(model))
        # Patience counts from the last gain larger than min_delta, so a loss that
        # creeps down by less than that still ends the run.
        if valid < ref_loss - opt_cfg.min_delta:
            ref_loss = valid
            bad_epochs = 0
        else:
            bad_epochs += 1
        if stopped == "max_minutes":
            break
        if bad_epochs >= opt_cfg.patience:
            stopped = "early_stopping"
            break
    epochs.close()
    model.load_state_dict(best[2])
    model.eval()
    return FitResult(model, scaler, history, best[1], time.monotonic() - start, stopped)


def _state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------- the whole run


def train_from_config(cfg: TrainConfig, command: str | None = None,
                      data: TaskData | None = None) -> dict:
    """Load data, fit, evaluate every split and write the checkpoint and its JSON.

    Returns the record written to ``<name>-best.json``. Nothing is written
    until training has finished.
    """
    from .evaluate import evaluate_splits, json_safe

    data = data if data is not None else load_task_data(cfg)
    device = resolve_device(cfg.device)
    model = build_from_config(cfg, data)
    result = fit(model, data.splits, cfg, device=device)
    metrics = evaluate_splits(result.model, data, result.scaler, batch_size=cfg.train.batch_size)
    data_info = dict(data.info, scaler=result.scaler)
    # Paths are written relative to the checkpoint's folder and the command as run
    # from the repository's root: the record must work from a clone at another path.
    folder = cfg.checkpoint_path.parent
    record = {
        "name": cfg.output.name,
        "command": command if command is not None else portable_command(),
        "seed": cfg.seed,
        "device": str(device),
        "torch": torch.__version__,
        "checkpoint": cfg.checkpoint_path.name,
        "data": portable_data(data_info, folder),
        "arch": dict(result.model.arch),
        "metrics": metrics,
        "training": {"best_epoch": result.best_epoch, "epochs_run": len(result.history),
                     "stopped": result.stopped, "seconds": round(result.seconds, 1),
                     "history": result.history},
        "config": to_dict(cfg, relative_to=folder),
    }
    save_checkpoint(cfg.checkpoint_path, result.model, data_info, metrics,
                    extra={"training": record["training"], "config": record["config"],
                           "seed": cfg.seed, "command": record["command"]})
    write_json(cfg.checkpoint_path.with_suffix(".json"), json_safe(record))
    return record


def load_train_config(path: str | Path, args: argparse.Namespace | None = None) -> TrainConfig:
    """Read a training config, with the command-line overrides in ``args``."""
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
    parser.add_argument("--epochs", type=int, help="override train.epochs")
    parser.add_argument("--patience", type=int, help="override train.patience")
    parser.add_argument("--batch-size", dest="batch_size", type=int, help="override train.batch_size")
    parser.add_argument("--lr", type=float, help="override train.lr")
    parser.add_argument("--max-minutes", dest="max_minutes", type=float, help="override train.max_minutes")
    parser.add_argument("--seed", type=int, help="override seed")
    parser.add_argument("--device", help="override device (auto, cpu, cuda, cuda:1)")


def build_parser(default_config: str | Path | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train a Saluki-style predictor from a training config.")
    p.add_argument("--config", default=str(default_config) if default_config else None,
                   required=default_config is None, help="training config (YAML)")
    add_override_flags(p)
    return p


def _main(args: argparse.Namespace) -> int:
    cfg = load_train_config(args.config, args)
    record = train_from_config(cfg, data=check_training_inputs(cfg, args.config))
    test = record["metrics"]["test"]
    print(f"{cfg.output.name}: best epoch {record['training']['best_epoch']} of "
          f"{record['training']['epochs_run']} ({record['training']['seconds']:.0f} s); "
          f"test r={test['pearson_r']:.3f} r2={test['r2']:.3f} n={test['n']}")
    ceiling = record["metrics"].get("ceiling")
    if ceiling:
        print(f"noise ceiling on test: r={ceiling['r']:.3f} r2={ceiling['r2']:.3f}; "
              f"ratio {ceiling['target']}={ceiling['ratio']:.3f}")
    print(f"wrote {cfg.checkpoint_path}")
    return 0


def main(argv: list[str] | None = None, default_config: str | Path | None = None) -> None:
    """Command-line entry point shared by ``mrl/train.py`` and ``half-life/train.py``."""
    from .cli import run_cli

    run_cli(_main, build_parser(default_config), argv)


if __name__ == "__main__":
    main()
