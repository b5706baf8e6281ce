"""Checkpoints: ``model_weights/<name>-best.pth``.

A checkpoint is a dict with ``model_state_dict``, ``arch`` (the constructor
arguments of the model: ``kind: binding_cnn`` for a
:class:`~combmotif.models.binding.BindingCNN` classifier, absent or ``saluki``
for a :class:`~combmotif.models.saluki.SalukiModel`), ``data`` (the data set,
split, ``task`` -- ``regression`` when absent, or ``classification`` -- and the
regressors' target scaler) and ``metrics``. Interpretation configs name the
checkpoint and never repeat the architecture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .errors import InputError
from .io import atomic_path
from .models.binding import build_binding
from .models.saluki import SequenceModel, build_model
from .paths import recorded_path, relative_path

REQUIRED_KEYS = ("model_state_dict", "arch", "data", "metrics")


MODEL_KINDS = ("saluki", "binding_cnn")


def build_from_arch(arch: dict) -> SequenceModel:
    """The model a checkpoint's ``arch`` describes: ``kind`` picks the class.

    Parameters
    ----------
    arch : dict
        Constructor arguments; ``kind`` is ``binding_cnn`` or ``saluki`` (absent:
        ``saluki``, so checkpoints written before classifiers still load).

    Returns
    -------
    SequenceModel
        A freshly initialised :class:`~combmotif.models.binding.BindingCNN` or
        :class:`~combmotif.models.saluki.SalukiModel` (weights not loaded).

    Raises
    ------
    InputError
        For an unknown ``kind`` or a bad ``arch`` value.
    """
    kind = arch.get("kind", "saluki") if isinstance(arch, dict) else "saluki"
    if kind not in MODEL_KINDS:
        raise InputError(f"'arch.kind' must be one of {', '.join(MODEL_KINDS)}; got {kind!r}")
    if kind == "binding_cnn":
        return build_binding(arch)
    return build_model({k: v for k, v in arch.items() if k != "kind"})


def save_checkpoint(path: str | Path, model: SequenceModel, data: dict, metrics: dict,
                    extra: dict | None = None) -> None:
    """Write a model and its records as a checkpoint that :func:`load_checkpoint` reads back.

    The weights are moved to the CPU and the file is written atomically, so an
    interrupted run never leaves a half-written checkpoint; the same model and
    records give the same bytes from run to run.

    Parameters
    ----------
    path : path-like
        The ``.pth`` file to write (e.g. ``model_weights/<name>-best.pth``); its folder must exist.
    model : SequenceModel
        The trained model; its ``state_dict`` and ``arch`` (constructor arguments) are stored.
    data : dict
        The data record (``set``, ``format``, ``path``, ``split``, ``scaler``, ...);
        ``path`` is stored relative to the checkpoint's folder (:func:`portable_data`).
    metrics : dict
        Evaluation metrics, stored as given.
    extra : dict or None, optional
        Further top-level keys (training history, config, seed, command); default None
        adds none. They may not be needed to load the model.
    """
    ckpt = {"model_state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "arch": dict(model.arch), "data": portable_data(data, Path(path).parent),
            "metrics": metrics}
    if extra:
        ckpt.update(extra)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        # Through a file object: torch names the zip's inner folder after a path's stem,
        # which for the temporary name would differ from run to run.
        torch.save(ckpt, fh)


def portable_data(data: dict, folder: str | Path) -> dict:
    """A checkpoint's ``data`` record with its ``path`` relative to the checkpoint's folder.

    Parameters
    ----------
    data : dict
        ``set``, ``format``, ``path``, ``split``, ... as training records them.
    folder : path-like
        The folder the checkpoint (or its ``.json``) is written to.

    Returns
    -------
    dict
        A copy; ``path`` written e.g. ``../data/synthetic_mrl/data.csv``, so the
        record holds no absolute path and works from a clone at another path
        (:func:`load_checkpoint` resolves it back).
    """
    if not isinstance(data, dict):
        return data
    # ``negatives``: a classification set's second FASTA.
    return dict(data, **{k: relative_path(data[k], folder) for k in ("path", "negatives")
                         if isinstance(data.get(k), str) and data[k]})


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu",
                    expect: dict | None = None) -> tuple[SequenceModel, dict[str, Any]]:
    """Load a checkpoint into an eval-mode model.

    ``expect`` (e.g. ``{"in_channels": 4, "seq_len": 50}``) is checked against the
    stored architecture so a checkpoint that does not fit its config fails with
    one clear message instead of a shape error deep inside torch.

    Parameters
    ----------
    path : path-like
        The checkpoint file written by :func:`save_checkpoint`.
    device : str or torch.device, optional
        Where the model is moved after loading; default ``"cpu"`` (the file is always read onto the CPU first).
    expect : dict or None, optional
        Architecture values the caller needs, ``{arch key: value}``; default None checks nothing.

    Returns
    -------
    model : SequenceModel
        The model with the stored weights, on ``device``, in eval mode.
    ckpt : dict
        The whole checkpoint: ``model_state_dict``, ``arch``, ``data`` (its ``path``
        resolved back to a usable path), ``metrics`` and any extra keys.

    Raises
    ------
    combmotif.errors.InputError
        ``<path>: ...`` when the file is missing, unreadable or lacks a required key,
        when ``arch`` is not a mapping, differs from ``expect`` or cannot build the
        model, or when the weights do not fit the architecture.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise InputError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in REQUIRED_KEYS):
        missing = [k for k in REQUIRED_KEYS if not isinstance(ckpt, dict) or k not in ckpt]
        raise InputError(f"{path}: not a CombMotif checkpoint (missing {', '.join(missing)})")
    for key in ("path", "negatives"):
        recorded = ckpt["data"].get(key) if isinstance(ckpt["data"], dict) else None
        if isinstance(recorded, str) and recorded:  # relative to this file (older records: absolute)
            ckpt["data"][key] = str(recorded_path(recorded, path.parent))
    arch = ckpt["arch"]
    if not isinstance(arch, dict):
        raise InputError(f"{path}: 'arch' must be a mapping of constructor arguments; got "
                         f"{type(arch).__name__}")
    for key, want in (expect or {}).items():
        got = arch.get(key)
        if got != want:
            raise InputError(f"{path}: checkpoint has {key}={got} but the config needs {key}={want}")
    try:
        model = build_from_arch(arch)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    except (TypeError, ValueError, RuntimeError) as exc:
        # torch rejects e.g. filters: -1 or a list where an int belongs deep in a layer.
        bad = ", ".join(f"{k}={v!r}" for k, v in arch.items()
                        if isinstance(v, (list, dict)) or (isinstance(v, (int, float)) and v < 0))
        raise InputError(f"{path}: 'arch' cannot build the model"
                         + (f" ({bad})" if bad else "") + f": {str(exc).splitlines()[0]}") from None
    try:
        model.load_state_dict(ckpt["model_state_dict"])
    except (RuntimeError, TypeError, AttributeError) as exc:  # wrong shapes, or not a mapping
        first = str(exc).splitlines()[1].strip() if "\n" in str(exc) else str(exc)
        raise InputError(f"{path}: weights do not fit the stored architecture ({first})") from None
    return model.to(device).eval(), ckpt


def check_device(spec: str) -> str:
    """Check a ``device`` setting before any work: ``auto``, ``cpu``, ``cuda`` or ``cuda:<n>``.

    Parameters
    ----------
    spec : str
        The configured device.

    Returns
    -------
    str
        ``spec`` unchanged.

    Raises
    ------
    ValueError
        ``'device' must be ...; got ...`` for an unknown device, or CUDA asked
        for on a machine without it (configs' ``validate`` add the file).
    """
    try:
        dev = torch.device(spec) if spec != "auto" else None
    except (RuntimeError, TypeError):
        dev = None
        spec_ok = False
    else:
        spec_ok = dev is None or dev.type in ("cpu", "cuda")
    if not spec_ok:
        raise ValueError(f"'device' must be auto, cpu, cuda or cuda:<n>; got {spec!r}")
    if dev is not None and dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"'device' = {spec!r} but CUDA is not available on this machine "
                             f"(use auto or cpu)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"'device' = {spec!r} but this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s)")
    return spec


def resolve_device(spec: str = "auto") -> torch.device:
    """Turn a ``device`` setting into the torch device to run on.

    Parameters
    ----------
    spec : str, optional
        ``auto``, ``cpu``, ``cuda`` or ``cuda:<n>``; default ``"auto"`` picks CUDA when
        available, else the CPU.

    Returns
    -------
    torch.device
        The device to use.

    Raises
    ------
    combmotif.errors.InputError
        The :func:`check_device` message for an unknown device or CUDA asked for
        where it is not available.
    """
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        check_device(spec)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return torch.device(spec)
