"""Checkpoints: ``model_weights/<name>-best.pth``.

A checkpoint is a dict with ``model_state_dict``, ``arch`` (the constructor
arguments of :class:`~combmotif.models.saluki.SalukiModel`), ``data`` (the data
set, split and target scaler) and ``metrics``. Interpretation configs name the
checkpoint and never repeat the architecture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .errors import InputError
from .io import atomic_path
from .models.saluki import SalukiModel, build_model

REQUIRED_KEYS = ("model_state_dict", "arch", "data", "metrics")


def save_checkpoint(path: str | Path, model: SalukiModel, data: dict, metrics: dict,
                    extra: dict | None = None) -> None:
    ckpt = {"model_state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "arch": dict(model.arch), "data": data, "metrics": metrics}
    if extra:
        ckpt.update(extra)
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu",
                    expect: dict | None = None) -> tuple[SalukiModel, dict[str, Any]]:
    """Load a checkpoint into an eval-mode model.

    ``expect`` (e.g. ``{"in_channels": 4, "seq_len": 50}``) is checked against the
    stored architecture so a checkpoint that does not fit its config fails with
    one clear message instead of a shape error deep inside torch.
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
    for key, want in (expect or {}).items():
        got = ckpt["arch"].get(key)
        if got != want:
            raise InputError(f"{path}: checkpoint has {key}={got} but the config needs {key}={want}")
    model = build_model(ckpt["arch"])
    try:
        model.load_state_dict(ckpt["model_state_dict"])
    except RuntimeError as exc:
        first = str(exc).splitlines()[1].strip() if "\n" in str(exc) else str(exc)
        raise InputError(f"{path}: weights do not fit the stored architecture ({first})") from None
    return model.to(device).eval(), ckpt


def resolve_device(spec: str = "auto") -> torch.device:
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device '{spec}' requested but CUDA is not available")
    return torch.device(spec)
