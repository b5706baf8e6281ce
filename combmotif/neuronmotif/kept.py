"""A layer's work kept on disk while it is unfinished, so a killed run resumes
without sampling again and recomputes no written neuron."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..config import to_dict
from ..io import atomic_path
from ..stamps import make_stamp, read_stamp, stamp_digest
from .sample import NeuronSamples

#: Files kept in ``conv<L>/`` while a layer is unfinished (removed when it is).
SAMPLES_KEPT = ".samples.npz"
DEMIX_KEPT = ".demixed.json"


def sampling_key(cfg, layer: int, weights: str, seed_ppms, device) -> str:
    """Hash of everything that shapes a layer's samples: weights, layer, sampler settings,
    seed, batch size, device and the previous layer's PPMs that seed the GA.

    Parameters
    ----------
    cfg : DiscoveryConfig
        Its ``sampling``, ``seed`` and ``batch_size``.
    layer : int
        The conv layer.
    weights : str
        The model's fingerprint.
    seed_ppms : list of arrays, optional
        The previous layer's PPMs that seed the GA.
    device : torch.device
        Where the layer is sampled.

    Returns
    -------
    str
        A SHA-1 hex digest.
    """
    import hashlib

    ppms = hashlib.sha1()
    for p in seed_ppms or []:
        ppms.update(np.ascontiguousarray(p, dtype=np.float64).tobytes())
    settings = {"layer": layer, "sampling": to_dict(cfg.sampling), "seed": cfg.seed,
                "batch_size": cfg.batch_size, "device": str(device)}
    return stamp_digest(make_stamp(weights, settings, seed_ppms=ppms.hexdigest()))


def save_kept_samples(path: Path, key: str, samples: Sequence[NeuronSamples]) -> None:
    """Keep a layer's samples (atomically) until its neurons are written.

    Parameters
    ----------
    path : Path
        ``conv<L>/.samples.npz``.
    key : str
        :func:`sampling_key` of the run.
    samples : sequence of NeuronSamples
        The layer's samples.
    """
    arrays = {"key": np.array(key), "neurons": np.array([s.neuron for s in samples], dtype=np.int64),
              "method": np.array([s.method for s in samples]),
              "generations": np.array([s.generations for s in samples], dtype=np.int64),
              "evaluations": np.array([s.evaluations for s in samples], dtype=np.int64)}
    for s in samples:
        arrays[f"codes{s.neuron}"] = s.codes
        arrays[f"act{s.neuron}"] = s.act
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)         # uncompressed: written once, read at most once


def load_kept_samples(path: Path, key: str, neurons: Sequence[int]) -> list[NeuronSamples] | None:
    """The kept samples of ``neurons`` when ``path`` was made under ``key`` and holds them all.

    A neuron's samples do not depend on which others shared its batch (the
    sampler's randomness is per neuron), so a subset of a kept layer is exact.

    Parameters
    ----------
    path : Path
        ``conv<L>/.samples.npz``.
    key : str
        :func:`sampling_key` of this run.
    neurons : sequence of int
        The neurons wanted.

    Returns
    -------
    list of NeuronSamples or None
        None when the file is missing, unreadable, made under another key or lacks a neuron.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            if str(z["key"]) != key:
                return None
            index = {int(k): i for i, k in enumerate(z["neurons"])}
            if any(k not in index for k in neurons):
                return None
            return [NeuronSamples(int(k), z[f"codes{k}"], z[f"act{k}"], str(z["method"][index[k]]),
                                  int(z["generations"][index[k]]), int(z["evaluations"][index[k]]))
                    for k in neurons]
    except (OSError, ValueError, KeyError):  # unreadable: sample again
        return None


def kept_indicators(path: Path, key: str, groups: int) -> dict[int, float]:
    """Exact indicators of the neurons an unfinished run wrote under the same sampling and groups.

    Parameters
    ----------
    path : Path
        ``conv<L>/.demixed.json``.
    key : str
        :func:`sampling_key` of this run.
    groups : int
        The layer's pattern groups.

    Returns
    -------
    dict of int to float
        Neuron -> indicator (empty when the record does not apply).
    """
    kept = read_stamp(path) or {}
    if kept.get("key") != key or kept.get("pattern_groups") != groups:
        return {}
    return {int(k): float(v) for k, v in kept.get("indicators", {}).items()}
