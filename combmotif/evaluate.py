"""Evaluate a trained predictor: metrics per split, noise ceiling.

Metrics (per split, on the label scale):

``pearson_r``, ``r2`` (squared Pearson r, the figure the MRL literature quotes),
``r2_score`` (coefficient of determination, 1 - SS_res / SS_tot, which also
penalises bias and scale errors), ``spearman``, ``mse``, ``n``.

For a synthetic data set (``truth.json`` beside the data file) the test split
also gets its noise ceiling: how well the noiseless planted function itself
correlates with the noisy labels. A model cannot beat it on average, so the
ratio test/ceiling (``r2`` for MRL, ``r`` for half-life) says how much of the
learnable signal the model found.

A classifier (``data.task: classification``) gets, per split, ``auroc``,
``auprc`` (average precision), ``accuracy`` (logit > 0, i.e. probability > 0.5),
``n``, ``n_pos`` and ``n_neg`` (:func:`classification_metrics`), and its figure
is ``roc_pr.png`` (ROC and precision-recall curves of the test split).

``mrl/evaluate.py`` and ``half-life/evaluate.py`` are thin wrappers around
:func:`main`, which writes ``results/<name>/evaluation/{metrics.json,
scatter_test.png}`` as one atomic unit; the scatter plot is drawn by
:func:`combmotif.report.plots.scatter_plot`, passed in by the command.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from scipy import stats
from torch import nn

from .checkpoint import load_checkpoint, portable_data, resolve_device
from .data.tasks import SPLITS, load_task_data
from .errors import InputError
from .io import atomic_path
from .layout import model_stage_dir
from .paths import portable_command, relative_path

# Which figure of merit the ceiling ratio uses, per task.
CEILING_TARGET = {"mrl": "r2", "halflife": "r"}
SYNTHETIC_MODULES = {"mrl": "combmotif.data.synthetic_mrl", "halflife": "combmotif.data.synthetic_halflife",
                     "binding": "combmotif.data.synthetic_dna"}


@torch.no_grad()
def predict(model: nn.Module, X: torch.Tensor | np.ndarray, scaler: dict | None = None,
            batch_size: int = 1024) -> np.ndarray:
    """Predictions on the label scale, in batches, in eval mode, without gradients.

    Parameters
    ----------
    model : nn.Module
        A predictor (its train/eval mode is restored afterwards).
    X : torch.Tensor or numpy.ndarray
        (N, C, L) inputs.
    scaler : dict, optional
        The checkpoint's ``{"mean", "sd"}``; ``None`` returns the raw
        (standardised) output.
    batch_size : int
        Sequences per forward pass.

    Returns
    -------
    numpy.ndarray
        (N,) or (N, T) float32 predictions.
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


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Pearson r, r2 = r^2, r2_score (coefficient of determination), Spearman rho, MSE, n.

    The figures every split of :func:`evaluate_splits` and the scatter plot's title
    report. A constant prediction or label, or fewer than two values, gives NaN
    correlations (a collapsed model has no correlation) rather than an error.

    Parameters
    ----------
    y_true : numpy.ndarray
        (N,) observed labels.
    y_pred : numpy.ndarray
        (N,) predictions on the same scale.

    Returns
    -------
    dict of str to float
        ``pearson_r``, ``r2`` (``pearson_r`` squared), ``r2_score`` (1 - SS_res / SS_tot,
        NaN when the labels are constant), ``spearman``, ``mse`` (NaN when empty) and
        ``n`` (an int, the number of values).
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    n = len(y_true)
    mse = float(np.mean((y_true - y_pred) ** 2)) if n else float("nan")
    # A constant prediction (an untrained or collapsed model) has no correlation.
    if n < 2 or np.ptp(y_pred) == 0 or np.ptp(y_true) == 0:
        r = rho = float("nan")
    else:
        r = float(stats.pearsonr(y_true, y_pred)[0])
        rho = float(stats.spearmanr(y_true, y_pred)[0])
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2)) if n else 0.0
    r2_score = 1.0 - float(np.sum((y_true - y_pred) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    return {"pearson_r": r, "r2": r * r, "r2_score": r2_score, "spearman": rho, "mse": mse, "n": n}


def classification_metrics(y_true: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """AUROC, AUPRC (average precision), accuracy at probability 0.5, and the class counts.

    Parameters
    ----------
    y_true : numpy.ndarray
        (N,) labels, 0 or 1.
    logits : numpy.ndarray
        (N,) the classifier's logits (any monotone score gives the same AUROC / AUPRC;
        accuracy thresholds the logit at 0).

    Returns
    -------
    dict
        ``auroc``, ``auprc`` (NaN when a split has one class only), ``accuracy``,
        ``n``, ``n_pos``, ``n_neg``.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y_true, dtype=np.float64)
    score = np.asarray(logits, dtype=np.float64)
    n_pos = int((y == 1).sum())
    both = 0 < n_pos < len(y)
    return {"auroc": float(roc_auc_score(y, score)) if both else float("nan"),
            "auprc": float(average_precision_score(y, score)) if both else float("nan"),
            "accuracy": float(np.mean((score > 0) == (y == 1))) if len(y) else float("nan"),
            "n": int(len(y)), "n_pos": n_pos, "n_neg": int(len(y) - n_pos)}


def load_truth_if_any(truth_path: str | Path) -> dict | None:
    """The planted ground truth of a synthetic set (schema-checked), or None for a real set.

    A real set has no file, or a hand-written truth, which has no planted rule to
    give a noise ceiling; only a planted truth lets :func:`noise_ceiling` run.

    Parameters
    ----------
    truth_path : str or Path
        The ``truth.json`` beside the data file; it need not exist.

    Returns
    -------
    dict or None
        The checked truth (as :func:`combmotif.data.truth.load_truth` returns it) when
        the file exists and is planted, else ``None``.

    Raises
    ------
    combmotif.errors.InputError
        When the file exists but is not a valid truth file.
    """
    from .data.truth import is_planted, load_truth

    truth_path = Path(truth_path)
    truth = load_truth(truth_path) if truth_path.is_file() else None
    return truth if truth is not None and is_planted(truth) else None


def noise_ceiling(task: str, X: np.ndarray, y: np.ndarray, truth: dict) -> dict:
    """Ceiling r / r2 of ``(X, y)``: the noiseless planted function vs the noisy labels.

    Computed on exactly the given sequences (the test split) with the data
    generator's own ``noiseless``; falls back to the whole-set ceiling stored in
    ``truth.json`` only if that generator module is not importable.

    Parameters
    ----------
    task : str
        ``"mrl"`` or ``"halflife"``: picks the synthetic generator module.
    X : numpy.ndarray
        (N, C, L) one-hot sequences of the split.
    y : numpy.ndarray
        (N,) noisy labels of the same sequences.
    truth : dict
        The planted ground truth (:func:`load_truth_if_any`).

    Returns
    -------
    dict
        ``r``, ``r2`` (the ceiling), ``n`` (sequences used; ``None`` for the stored
        whole-set value) and ``source`` (how it was computed); ``{}`` when the generator
        is not importable and ``truth.json`` stores no ceiling.

    Raises
    ------
    combmotif.errors.InputError
        When the generator's ``noiseless`` does not give one value per sequence, or
        fewer than two sequences are given.
    """
    from .data.truth import noise_ceiling as ceiling_of

    try:
        synth = importlib.import_module(SYNTHETIC_MODULES[task])
    except ModuleNotFoundError:
        stored = truth.get("ceiling")
        if not stored:
            return {}
        return {"r": float(stored["r"]), "r2": float(stored["r2"]), "n": None,
                "source": "truth.json (stored; generator module not importable)"}
    clean = np.asarray(synth.noiseless(X, truth), dtype=np.float64)
    if clean.shape != (len(y),):
        raise InputError(f"noiseless() gave shape {clean.shape} for {len(y)} test sequences")
    got = ceiling_of(clean, np.asarray(y, dtype=np.float64))
    return {"r": float(got["r"]), "r2": float(got["r2"]), "n": int(len(y)),
            "source": "noiseless() on the test split"}


def with_ratio(ceiling: dict, test: dict, task: str) -> dict:
    """Add test/ceiling ratios; ``ratio`` is the task's target figure (r2 MRL, r half-life).

    The ratio says how much of the learnable signal the model found.

    Parameters
    ----------
    ceiling : dict
        :func:`noise_ceiling`'s ``{"r", "r2", ...}``; may be empty.
    test : dict
        The test split's :func:`regression_metrics`.
    task : str
        ``"mrl"`` or ``"halflife"`` (a key of ``CEILING_TARGET``).

    Returns
    -------
    dict
        A copy of ``ceiling`` plus ``ratio_r2``, ``ratio_r`` (NaN where the ceiling is not
        positive), ``target`` (``"r2"`` or ``"r"``) and ``ratio`` (the target's ratio);
        an empty ``ceiling`` is returned unchanged.
    """
    if not ceiling:
        return ceiling
    out = dict(ceiling)
    out["ratio_r2"] = test["r2"] / ceiling["r2"] if ceiling["r2"] > 0 else float("nan")
    out["ratio_r"] = test["pearson_r"] / ceiling["r"] if ceiling["r"] > 0 else float("nan")
    out["target"] = CEILING_TARGET[task]
    out["ratio"] = out["ratio_r2"] if out["target"] == "r2" else out["ratio_r"]
    return out


def inference_batch(batch_size: int, sample_shape, model: nn.Module) -> int:
    """Sequences per forward pass when predicting a whole split.

    On a GPU at least 512 (throughput). On a CPU as many as keep one pass's input
    near 2**18 values (a power of two, 16 to 4096): the activations of long inputs
    then stay in cache, and the half-life model (6 x 1,024 per sequence) predicts
    2.4 times faster 32 at a time than 512 at a time; 50-nt UTRs go 1,024 at a time.

    Parameters
    ----------
    batch_size : int
        The training batch size (a GPU uses at least this).
    sample_shape : tuple of int
        One input's shape, (C, L).
    model : nn.Module
        The predictor (its parameters' device decides).

    Returns
    -------
    int
    """
    if next(model.parameters()).device.type == "cuda":
        return max(batch_size, 512)
    per = max(1, int(np.prod(sample_shape)))
    fit = max(1, (1 << 18) // per)
    return int(min(4096, max(16, 1 << (fit.bit_length() - 1))))


def evaluate_splits(model, data, scaler: dict | None, batch_size: int = 1024,
                    return_predictions: bool = False, splits: Sequence[str] = SPLITS):
    """Metrics for every split of ``data`` (a :class:`~combmotif.data.tasks.TaskData`).

    Adds ``metrics["ceiling"]`` for a synthetic regression set. A classification set
    (``data.task == "classification"``) gets :func:`classification_metrics` of the
    logits instead. With ``return_predictions`` also returns
    ``{split: (observed, predicted)}``.

    Parameters
    ----------
    model : nn.Module
        The trained predictor.
    data : combmotif.data.tasks.TaskData
        The splits, and the data file whose ``truth.json`` gives the ceiling.
    scaler : dict or None
        The checkpoint's ``{"mean", "sd"}``, to bring predictions to the label scale
        (``None`` for a classifier: its logits are scored as they are).
    batch_size : int, default 1024
        The training batch size (:func:`inference_batch` sizes the forward passes).
    return_predictions : bool, default False
        Also return the observed and predicted values per split.
    splits : sequence of str, default all three
        The splits scored (the ceiling needs ``test``).

    Returns
    -------
    dict or tuple of (dict, dict)
        ``metrics``: ``{split: regression_metrics}`` (or ``classification_metrics``) for
        each of ``splits``,
        plus ``"ceiling"`` (:func:`with_ratio`) for a synthetic set; with
        ``return_predictions``, ``(metrics, {split: (observed, predicted)})`` of numpy arrays.

    Raises
    ------
    combmotif.errors.InputError
        When a ``truth.json`` beside the data is invalid, or its ceiling cannot be computed.
    """
    metrics: dict = {}
    preds = {}
    for name in [s for s in SPLITS if s in splits]:
        X, y = data.splits[name]
        yhat = predict(model, X, scaler, batch_size=inference_batch(batch_size, X.shape[1:], model))
        preds[name] = (y.numpy(), yhat)
        score = classification_metrics if data.task == "classification" else regression_metrics
        metrics[name] = score(y.numpy(), yhat)
    truth = load_truth_if_any(data.truth_path) if data.task != "classification" else None
    if truth is not None and "test" in metrics:
        X, y = data.splits["test"]
        metrics["ceiling"] = with_ratio(noise_ceiling(data.task, X.numpy(), y.numpy(), truth),
                                        metrics["test"], data.task)
    return (metrics, preds) if return_predictions else metrics


def evaluate_checkpoint(cfg, checkpoint: str | Path | None = None, out_dir: str | Path | None = None,
                        command: str | None = None, draw=None, splits: Sequence[str] = SPLITS) -> dict:
    """Evaluate ``checkpoint`` (default: the config's) on the config's data.

    Writes ``out_dir`` (default ``results/<name>/evaluation``) as one unit:
    ``metrics.json`` and the figures ``draw`` writes into it (the command passes
    :func:`combmotif.report.plots.draw_evaluation`: ``scatter_test.png``, or a
    classifier's ``roc_pr.png``; this module draws nothing). Everything is read and checked before anything is written.

    Parameters
    ----------
    cfg : combmotif.train_config.TrainConfig
        The training config: data, device, batch size, name and result folders.
    checkpoint : str or Path, optional
        The checkpoint file; ``None`` uses ``cfg.checkpoint_path``.
    out_dir : str or Path, optional
        The evaluation folder; ``None`` uses ``<cfg.model_results_dir>/evaluation``.
    command : str, optional
        The command recorded in ``metrics.json``; ``None`` records the running one.
    draw : callable, optional
        ``draw(folder, observed, predicted, title, label, task=...)``: writes the figures
        of the test split into the unit's (temporary) folder before it is renamed into
        place (``task``: ``"regression"`` or ``"classification"``, whose ``predicted`` are logits);
        ``None`` writes ``metrics.json`` alone.
    splits : sequence of str, default all three
        The splits scored (:func:`evaluate_splits`); ``test`` is always among them.

    Returns
    -------
    dict
        The record written to ``metrics.json``: ``name``, ``checkpoint`` (relative to
        ``out_dir``), ``command``, ``data``, ``metrics`` (:func:`evaluate_splits`) and
        ``trained_on``, plus ``out_dir`` (str, the folder written).

    Raises
    ------
    combmotif.errors.InputError
        When the checkpoint is a folder or missing, does not match the data's channels
        or length, or has no finite target scaler with a positive sd; or when the data
        cannot be loaded.
    """
    ckpt_path = Path(checkpoint) if checkpoint else cfg.checkpoint_path
    if ckpt_path.is_dir():
        raise InputError(f"{ckpt_path}: is a folder, not a checkpoint file")
    if not ckpt_path.is_file():  # before the (slower) data loading
        raise InputError(f"{ckpt_path}: checkpoint not found (train it first, or pass --checkpoint)")
    data = load_task_data(cfg.data)
    model, ckpt = load_checkpoint(ckpt_path, resolve_device(cfg.device),
                                  expect={"in_channels": data.in_channels, "seq_len": data.seq_len})
    scaler = _checked_scaler(ckpt, ckpt_path, data.task == "classification")
    metrics, preds = evaluate_splits(model, data, scaler, batch_size=cfg.train.batch_size,
                                     return_predictions=True, splits={"test", *splits})
    out_dir = Path(out_dir) if out_dir else model_stage_dir(cfg.model_results_dir, "evaluation")
    # Paths relative to metrics.json's folder, the command as run from the repository's
    # root: the record holds no absolute path of this machine.
    record = {"name": cfg.name, "checkpoint": relative_path(ckpt_path, out_dir),
              "command": command if command is not None else portable_command(),
              "data": portable_data(dict(data.info) if scaler is None else dict(data.info, scaler=scaler),
                                    out_dir), "metrics": metrics,
              # A checkpoint may be evaluated on another set than it was trained on
              # (e.g. synthetic-trained on measured UTRs): keep what it was trained on.
              "trained_on": portable_data({k: v for k, v in ckpt["data"].items() if k != "scaler"},
                                          out_dir)}
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        (tmp / "metrics.json").write_text(json.dumps(json_safe(record), indent=2, allow_nan=False) + "\n")
        if draw is not None:
            observed, predicted = preds["test"]
            draw(tmp, observed, predicted, f"{cfg.name}: test split", data.info["label"],
                 task="classification" if data.task == "classification" else "regression")
    record["out_dir"] = str(out_dir)
    return record


def _checked_scaler(ckpt: dict, ckpt_path: Path, classify: bool) -> dict | None:
    """The checkpoint's target scaler, checked (``None`` for a classifier, which has none)."""
    if classify:
        task = ckpt["data"].get("task", "regression") if isinstance(ckpt["data"], dict) else "regression"
        if task != "classification":
            raise InputError(f"{ckpt_path}: a regression model (data.task {task}) cannot be "
                             f"evaluated on a classification set")
        return None
    scaler = ckpt["data"].get("scaler") if isinstance(ckpt["data"], dict) else None
    if not isinstance(scaler, dict) or not {"mean", "sd"} <= set(scaler):
        raise InputError(f"{ckpt_path}: checkpoint has no target scaler (data.scaler)")
    if not all(isinstance(scaler[k], (int, float)) and np.isfinite(scaler[k]) for k in ("mean", "sd")) \
            or scaler["sd"] <= 0:
        raise InputError(f"{ckpt_path}: checkpoint's target scaler (data.scaler) is not a finite "
                         f"mean and a positive sd; got {scaler!r}")
    return scaler


def json_safe(obj):
    """``obj`` with NaN/inf floats as None and numpy scalars as Python numbers.

    Strict JSON has no NaN, and a collapsed model gives an undefined correlation:
    this lets ``json.dumps(..., allow_nan=False)`` write any metrics record.

    Parameters
    ----------
    obj : object
        A JSON-like value: dicts, lists, tuples, numbers (Python or numpy), strings.

    Returns
    -------
    object
        A copy with dicts kept, lists and tuples as lists, numpy scalars as Python
        scalars and non-finite floats as ``None``; other values unchanged.
    """
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def format_metrics(metrics: dict) -> str:
    """The metrics as a fixed-width text table, for the terminal.

    Parameters
    ----------
    metrics : dict
        :func:`evaluate_splits`'s metrics: an entry per split scored, and an optional ``ceiling``.

    Returns
    -------
    str
        One header line (``split n r r2 R2 rho mse``; a classifier's
        ``split n pos neg AUROC AUPRC acc``), one line per split, and a noise
        ceiling line when ``metrics`` has a ceiling; no trailing newline.
    """
    names = [k for k in SPLITS if k in metrics]
    if "auroc" in metrics[names[0]]:
        lines = [f"{'split':<6} {'n':>7} {'pos':>6} {'neg':>6} {'AUROC':>7} {'AUPRC':>7} {'acc':>7}"]
        lines += [f"{name:<6} {m['n']:>7d} {m['n_pos']:>6d} {m['n_neg']:>6d} {m['auroc']:>7.3f} "
                  f"{m['auprc']:>7.3f} {m['accuracy']:>7.3f}"
                  for name, m in ((k, metrics[k]) for k in names)]
        return "\n".join(lines)
    lines = [f"{'split':<6} {'n':>7} {'r':>7} {'r2':>7} {'R2':>7} {'rho':>7} {'mse':>9}"]
    for name in names:
        m = metrics[name]
        lines.append(f"{name:<6} {m['n']:>7d} {m['pearson_r']:>7.3f} {m['r2']:>7.3f} "
                     f"{m['r2_score']:>7.3f} {m['spearman']:>7.3f} {m['mse']:>9.4f}")
    c = metrics.get("ceiling")
    if c:
        lines.append(f"noise ceiling (test): r={c['r']:.3f} r2={c['r2']:.3f}  "
                     f"test/ceiling {c['target']} = {c['ratio']:.3f}")
    return "\n".join(lines)
