"""Train a Saluki-style predictor (MRL CSV, half-life H5) or a binding-site classifier (FASTA).

One config (:class:`TrainConfig`) describes the data, the architecture and the
optimiser; :func:`train_from_config` turns it into
``<weights_dir>/<name>-best.pth`` (see :mod:`combmotif.checkpoint`) plus a
human-readable ``<name>-best.json`` with the metrics and the exact command.

Targets are standardised with the mean and standard deviation of the *training*
split only (so nothing about the test labels leaks into the model); the scaler
is stored in the checkpoint's ``data`` dict and :func:`predict` maps back to
the label scale. Same seed + same data -> same weights on CPU.

A classifier (``model.kind: binding_cnn`` on ``data.format`` fasta or
class_csv) has no scaler (``None``): it trains with binary cross-entropy on its
logit, stops early on the validation AUPRC and, with ``train.rc_augment`` (DNA
only), sees each training sequence's reverse complement half of the time. A
``binding_cnn`` on an MRL CSV is a regressor, trained as the Saluki model.

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
from sklearn.metrics import average_precision_score
from torch import nn
from tqdm import tqdm

from .checkpoint import portable_data, resolve_device, save_checkpoint
from .config import to_dict
from .data.tasks import CLASSIFICATION_FORMATS, TaskData, load_task_data
from .errors import InputError
from .evaluate import evaluate_splits, json_safe, predict
from .io import check_output_dir, write_json
from .models.binding import BindingCNN
from .models.saluki import SalukiModel, SequenceModel
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
    if cfg.train.rc_augment and data.info.get("molecule") != "dna":
        raise InputError(f"{source}: 'train.rc_augment' is for DNA, but {cfg.data.path} is "
                         f"{data.info.get('molecule')} (any U reads as RNA; data.molecule overrides)")
    if cfg.train.rc_augment and data.in_channels != 4:
        raise InputError(f"{source}: 'train.rc_augment' needs 4 input tracks; the data has {data.in_channels}")
    if np.ptp(y) == 0:
        raise InputError(f"{cfg.data.path}: the {len(y)} training labels are all {float(y[0]):g}; "
                         "nothing to learn")
    try:
        build_from_config(cfg, data)
    except InputError as exc:
        raise InputError(f"{source}: 'model' does not fit the data: {exc}") from None
    return data


def build_from_config(cfg: TrainConfig, data: TaskData) -> SequenceModel:
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
    SequenceModel
        The untrained :class:`SalukiModel` or :class:`BindingCNN` (``model.kind``), on the CPU.

    Raises
    ------
    combmotif.errors.InputError
        When the architecture does not fit the data (e.g. sequences too short for its layers).
    """
    torch.manual_seed(cfg.seed)
    m = cfg.model
    if m.kind == "binding_cnn":
        return BindingCNN(in_channels=data.in_channels, seq_len=data.seq_len, conv_filters=m.conv_filters,
                          conv_kernels=m.conv_kernels, pools=m.pools, padding=m.padding,
                          batch_norm=m.batch_norm, head=m.head, dense_units=m.dense_units,
                          dropout=m.dropout)
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

    model: SequenceModel
    scaler: dict[str, float] | None
    history: list[dict]
    best_epoch: int
    seconds: float
    stopped: str


def _valid_loss(model: nn.Module, X: torch.Tensor, z: torch.Tensor, batch_size: int,
                classify: bool = False) -> tuple[float, dict]:
    """Validation figure to minimise (MSE; classifiers: 1 - AUPRC) and what the history adds."""
    pred = predict(model, X, None, batch_size=max(batch_size, 512))
    if not classify:
        return float(np.mean((pred - z.numpy()) ** 2)), {}
    logits = torch.from_numpy(pred).double()
    bce = float(nn.functional.binary_cross_entropy_with_logits(logits, z.double()))
    auprc = float(average_precision_score(z.numpy(), pred))
    return 1.0 - auprc, {"valid_bce": bce, "valid_auprc": auprc}


def fit(model: SequenceModel, splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
        cfg: TrainConfig, device: torch.device | str | None = None) -> FitResult:
    """Adam + MSE on standardised targets with early stopping on validation loss.

    A classifier (``cfg.data.format`` fasta or class_csv, a :class:`BindingCNN`)
    instead trains with binary cross-entropy on its logit and stops on 1 - validation
    AUPRC; it has no scaler. The scaler is fitted on ``splits["train"]`` only. Shuffling uses a generator
    seeded from ``cfg.seed`` (and dropout the global seed set here), so a rerun
    with the same seed on CPU gives identical weights. The weights of the best
    validation epoch are restored before returning.

    Parameters
    ----------
    model : SequenceModel
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
    classify = cfg.data.format in CLASSIFICATION_FORMATS
    scaler = None if classify else fit_scaler(y_tr)
    z_tr = y_tr if classify else (y_tr - scaler["mean"]) / scaler["sd"]
    z_va = y_va if classify else (y_va - scaler["mean"]) / scaler["sd"]
    step = _Step(nn.BCEWithLogitsLoss() if classify else nn.MSELoss(), opt_cfg.clip_norm,
                 opt_cfg.rc_augment, deadline=None)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model.to(device)
    optim, sched = _optimiser(model, opt_cfg)
    step.deadline = time.monotonic() + opt_cfg.max_minutes * 60 if opt_cfg.max_minutes else None
    start = time.monotonic()
    stopper = _Stopper(opt_cfg.patience, opt_cfg.min_delta, model)
    history: list[dict] = []
    epochs = tqdm(range(1, opt_cfg.epochs + 1), desc="epochs", disable=None, unit="epoch")
    for epoch in epochs:
        batches = _epoch_batches(len(X_tr), opt_cfg.batch_size, gen, model)
        train_loss, timed_out = _train_epoch(model, optim, X_tr, z_tr, batches, device, step, gen, epoch)
        valid, more = _valid_loss(model, X_va, z_va, opt_cfg.batch_size, classify)
        history.append({"epoch": epoch, "train_loss": train_loss, "valid_loss": valid, **more,
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


@dataclass
class _Step:
    """How one batch is trained: loss, gradient clipping, reverse-complement augmentation, deadline."""

    loss_fn: nn.Module
    clip_norm: float | None
    rc_augment: bool
    deadline: float | None


def reverse_complement_batch(x: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """``x`` with the rows where ``flip`` is true reverse-complemented.

    With channels A, C, G, T, reversing the channel axis complements (A<->T, C<->G)
    and reversing the position axis reverses.

    Parameters
    ----------
    x : torch.Tensor
        (N, 4, L) one-hot.
    flip : torch.Tensor
        (N,) bool.

    Returns
    -------
    torch.Tensor
        (N, 4, L): a copy, rows with ``flip`` replaced by their reverse complement.
    """
    return torch.where(flip.view(-1, 1, 1), x.flip(1).flip(2), x)


def _train_epoch(model: nn.Module, optim: torch.optim.Optimizer, X: torch.Tensor, z: torch.Tensor,
                 batches: list[torch.Tensor], device: torch.device, step: _Step,
                 gen: torch.Generator, epoch: int) -> tuple[float, bool]:
    """One pass over ``batches``; returns (mean training loss, whether the deadline passed)."""
    total, seen = 0.0, 0
    for idx in tqdm(batches, desc=f"epoch {epoch}", leave=False, disable=None, unit="batch"):
        xb, zb = X[idx], z[idx]
        if step.rc_augment:  # drawn from the seeded generator: same seed, same flips
            xb = reverse_complement_batch(xb, torch.rand(len(idx), generator=gen) < 0.5)
        xb, zb = xb.to(device), zb.to(device)
        optim.zero_grad(set_to_none=True)
        loss = step.loss_fn(model(xb), zb)
        loss.backward()
        if step.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), step.clip_norm)
        optim.step()
        total += float(loss.detach()) * len(idx)
        seen += len(idx)
        if step.deadline is not None and time.monotonic() > step.deadline:
            return total / max(seen, 1), True
    return total / max(seen, 1), False


def _report_epoch(epochs: tqdm, row: dict, n_epochs: int) -> None:
    name, value = (("AUPRC", row["valid_auprc"]) if "valid_auprc" in row else ("loss", row["valid_loss"]))
    epochs.set_postfix(train=f"{row['train_loss']:.4f}", valid=f"{value:.4f}")
    if epochs.disable:  # no bar off a terminal (CI, nohup): one line per epoch instead
        print(f"epoch {row['epoch']}/{n_epochs}: train loss {row['train_loss']:.4f}, "
              f"valid {name} {value:.4f} ({row['seconds']:.0f} s)", file=sys.stderr, flush=True)


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
    data_info = dict(data.info) if result.scaler is None else dict(data.info, scaler=result.scaler)
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
