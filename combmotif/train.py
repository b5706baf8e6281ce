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

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .checkpoint import portable_data, resolve_device, save_checkpoint
from .config import to_dict
from .data.tasks import TaskData, load_task_data
from .errors import InputError
from .evaluate import evaluate_splits, json_safe, predict
from .io import check_output_dir, write_json
from .models.saluki import SalukiModel
from .paths import portable_command
from .train_config import TrainConfig


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
    check_output_dir(cfg.model_results_dir, str(source), "results_dir")
    for target in (cfg.checkpoint_path, cfg.checkpoint_path.with_suffix(".json")):
        if target.is_dir():
            raise InputError(f"{source}: 'output.name' = {cfg.output.name!r}: {target} is a folder; "
                             "the checkpoint must be a file")
    data = load_task_data(cfg.data)
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
    """A freshly initialised model (seeded by ``cfg.seed``) that fits ``data``.

    Also used by :func:`check_training_inputs` to refuse, before any work, an
    architecture the data is too short for.

    Parameters
    ----------
    cfg : TrainConfig
        The training config: ``seed`` and the ``model`` section's architecture.
    data : TaskData
        The data set: its input channels and sequence length.

    Returns
    -------
    SalukiModel
        The untrained model, on the CPU.

    Raises
    ------
    combmotif.errors.InputError
        When the architecture does not fit the data (e.g. sequences too short for its layers).
    """
    torch.manual_seed(cfg.seed)
    m = cfg.model
    return SalukiModel(in_channels=data.in_channels, seq_len=data.seq_len, num_layers=m.num_layers,
                       filters=m.filters, kernel_size=m.kernel_size, padding=m.padding,
                       dropout=m.dropout, gru_units=m.gru_units, dense_units=m.dense_units)



# --------------------------------------------------------------------------- fit


def fit_scaler(y: torch.Tensor | np.ndarray) -> dict[str, float]:
    """Mean and standard deviation of the training labels.

    Targets are standardised with the training split's scaler only, so nothing
    about the test labels leaks into the model; the checkpoint stores it.

    Parameters
    ----------
    y : torch.Tensor or numpy.ndarray
        (N,) training labels.

    Returns
    -------
    dict of str to float
        ``mean`` and ``sd`` (population standard deviation, > 0).

    Raises
    ------
    combmotif.errors.InputError
        When the labels are constant (or their sd is not finite): nothing to learn.
    """
    y = np.asarray(y, dtype=np.float64)
    sd = float(y.std())
    if not np.isfinite(sd) or sd <= 0:
        raise InputError("training labels are constant; nothing to learn")
    return {"mean": float(y.mean()), "sd": sd}


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model and how training went."""

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

    Parameters
    ----------
    model : SalukiModel
        A freshly built model (:func:`build_from_config`), trained in place.
    splits : dict
        ``{"train": (X, y), "valid": (X, y), ...}`` tensors on the label scale.
    cfg : TrainConfig
        Seed, device and the ``train`` section (optimiser, stopping rules).
    device : torch.device or str, optional
        Overrides ``cfg.device``.

    Returns
    -------
    FitResult
        The model with its best weights, the scaler, the history and why training stopped.
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
    optim, sched = _optimiser(model, opt_cfg)
    deadline = time.monotonic() + opt_cfg.max_minutes * 60 if opt_cfg.max_minutes else None
    start = time.monotonic()
    stopper = _Stopper(opt_cfg.patience, opt_cfg.min_delta, model)
    history: list[dict] = []
    epochs = tqdm(range(1, opt_cfg.epochs + 1), desc="epochs", disable=None, unit="epoch")
    for epoch in epochs:
        batches = _epoch_batches(len(X_tr), opt_cfg.batch_size, gen, model)
        train_loss, timed_out = _train_epoch(model, optim, X_tr, z_tr, batches, device,
                                             opt_cfg.clip_norm, deadline, epoch)
        valid = _valid_loss(model, X_va, z_va, opt_cfg.batch_size)
        history.append({"epoch": epoch, "train_loss": train_loss, "valid_loss": valid,
                        "lr": optim.param_groups[0]["lr"], "seconds": round(time.monotonic() - start, 2)})
        if sched is not None:
            sched.step(valid)
        _report_epoch(epochs, history[-1], opt_cfg.epochs)
        patience_out = stopper.update(valid, epoch, model)
        if timed_out or patience_out:
            stopper.stopped = "max_minutes" if timed_out else "early_stopping"
            break
    epochs.close()
    model.load_state_dict(stopper.best_state)
    model.eval()
    return FitResult(model, scaler, history, stopper.best_epoch, time.monotonic() - start, stopper.stopped)


def _optimiser(model: nn.Module, opt_cfg) -> tuple[torch.optim.Optimizer, object | None]:
    """Adam, and the plateau scheduler unless ``lr_patience`` is null."""
    optim = torch.optim.Adam(model.parameters(), lr=opt_cfg.lr, weight_decay=opt_cfg.weight_decay)
    sched = (torch.optim.lr_scheduler.ReduceLROnPlateau(optim, factor=opt_cfg.lr_factor,
                                                        patience=opt_cfg.lr_patience - 1)
             if opt_cfg.lr_patience else None)
    return optim, sched


def _epoch_batches(n: int, batch_size: int, gen: torch.Generator, model: nn.Module) -> list[torch.Tensor]:
    """One epoch's shuffled index batches (the model is put in training mode first)."""
    model.train()
    perm = torch.randperm(n, generator=gen)
    # Batch norm in the head cannot train on a batch of one: fold a lone
    # trailing sample into the previous batch instead of dropping it.
    batches = list(perm.split(batch_size))
    if len(batches) > 1 and len(batches[-1]) < 2:
        batches[-2] = torch.cat(batches[-2:])
        batches.pop()
    return batches


def _train_epoch(model: nn.Module, optim: torch.optim.Optimizer, X: torch.Tensor, z: torch.Tensor,
                 batches: list[torch.Tensor], device: torch.device, clip_norm: float | None,
                 deadline: float | None, epoch: int) -> tuple[float, bool]:
    """One pass over ``batches``; returns (mean training loss, whether the deadline passed)."""
    loss_fn = nn.MSELoss()
    total, seen = 0.0, 0
    for idx in tqdm(batches, desc=f"epoch {epoch}", leave=False, disable=None, unit="batch"):
        xb, zb = X[idx].to(device), z[idx].to(device)
        optim.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), zb)
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optim.step()
        total += float(loss.detach()) * len(idx)
        seen += len(idx)
        if deadline is not None and time.monotonic() > deadline:
            return total / max(seen, 1), True
    return total / max(seen, 1), False


def _report_epoch(epochs: tqdm, row: dict, n_epochs: int) -> None:
    epochs.set_postfix(train=f"{row['train_loss']:.4f}", valid=f"{row['valid_loss']:.4f}")
    if epochs.disable:  # no bar off a terminal (CI, nohup): one line per epoch instead
        print(f"epoch {row['epoch']}/{n_epochs}: train loss {row['train_loss']:.4f}, "
              f"valid loss {row['valid_loss']:.4f} ({row['seconds']:.0f} s)", file=sys.stderr, flush=True)


class _Stopper:
    """Best weights so far and the early-stopping count."""

    def __init__(self, patience: int, min_delta: float, model: nn.Module):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.best_state = float("inf"), 0, _state_copy(model)
        self.ref_loss = float("inf")
        self.bad_epochs = 0
        self.stopped = "epochs"

    def update(self, valid: float, epoch: int, model: nn.Module) -> bool:
        """Record one epoch's validation loss; True when patience has run out."""
        if valid < self.best_loss:
            self.best_loss, self.best_epoch, self.best_state = valid, epoch, _state_copy(model)
        # Patience counts from the last gain larger than min_delta, so a loss that
        # creeps down by less than that still ends the run.
        if valid < self.ref_loss - self.min_delta:
            self.ref_loss = valid
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience


def _state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------- the whole run


def train_from_config(cfg: TrainConfig, command: str | None = None,
                      data: TaskData | None = None) -> dict:
    """Load data, fit, evaluate every split and write the checkpoint and its JSON.

    Returns the record written to ``<name>-best.json``. Nothing is written
    until training has finished.

    Parameters
    ----------
    cfg : TrainConfig
        The training config.
    command : str, optional
        The command recorded; ``None`` records the running one.
    data : TaskData, optional
        The data set already read (:func:`check_training_inputs`); ``None`` reads ``cfg.data``.

    Returns
    -------
    dict
        The record written to ``<name>-best.json``: ``name``, ``command``, ``seed``,
        ``device``, ``torch``, ``checkpoint``, ``data`` (with the ``scaler``), ``arch``,
        ``metrics`` (:func:`~combmotif.evaluate.evaluate_splits`), ``training``
        (``best_epoch``, ``epochs_run``, ``stopped``, ``seconds``, ``history``) and ``config``.

    Raises
    ------
    combmotif.errors.InputError
        When the data cannot be read, the device is unavailable, the model does not fit
        the data, or the training labels are constant.
    """
    data = data if data is not None else load_task_data(cfg.data)
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
