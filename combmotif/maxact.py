"""Max-activation search over a data set, in batches.

A neuron is channel ``k`` of conv layer ``L``'s output, taken before the
following norm/activation (the NeuronMotif convention). Running the model's
conv trunk (:func:`combmotif.models.trunk.layer_outputs`, the one trunk
forward) up to and including that conv over whole sequences gives, in one
pass, the neuron's value at every window of every sequence; output position
``j`` sees the input window ``[offset + j*stride, offset + j*stride + rf)``
(clipped at the sequence ends where 'same' padding reaches past them). At
interior positions the value equals NeuronMotif's neuron evaluated on that
window alone.

This module provides

- :func:`window_map`: how a conv layer's output positions map back to input
  windows (receptive field, stride and offset from the anatomy);
- :func:`search_maxact`: per sequence and neuron the maximum over positions
  and where it is reached, and per neuron the overall maximum
  (:class:`MaxAct`, saved as npz).

The stage around it (data, results folder, caching) is :mod:`combmotif.stage`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .errors import InputError
from .io import atomic_path, load_npz_fields
from .models.anatomy import Anatomy
from .models.trunk import layer_outputs

__all__ = ["WindowMap", "window_map", "MaxAct", "search_maxact"]


@dataclass(frozen=True)
class WindowMap:
    """How output positions of a conv layer map to input windows.

    Output position ``j`` depends on inputs ``[offset + j*stride, offset + j*stride + rf)``;
    ``offset`` is negative where 'same' padding lets the first windows start before
    the sequence.
    """

    rf: int
    stride: int
    offset: int

    def windows(self, positions: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) of the windows of ``positions``, clipped to ``[0, length)``.

        Parameters
        ----------
        positions : numpy.ndarray
            Output positions of the layer.
        length : int
            Input length.

        Returns
        -------
        tuple of numpy.ndarray
            Window starts and ends (end exclusive).
        """
        start = self.offset + np.asarray(positions, dtype=np.int64) * self.stride
        return np.clip(start, 0, length), np.clip(start + self.rf, 0, length)


def window_map(model: nn.Module, layer: int) -> WindowMap:
    """Receptive field, stride and offset of conv ``layer`` (from :mod:`combmotif.models.anatomy`).

    Parameters
    ----------
    model : nn.Module
        The model.
    layer : int
        1-based conv layer.

    Returns
    -------
    WindowMap
        How the layer's output positions map to input windows.
    """
    info = Anatomy(model).layer(layer)
    return WindowMap(rf=info.rf, stride=info.jump, offset=info.offset)


@dataclass
class MaxAct:
    """Result of the max-activation search for one conv layer.

    ``seq_max``/``seq_pos`` are (N, C): each sequence's maximum over positions and
    the output position reaching it; ``neuron_max`` (C,) the maximum over the set,
    reached in sequence ``best_seq`` at window ``[best_start, best_end)``.
    """

    layer: int
    neuron_max: np.ndarray
    best_seq: np.ndarray
    best_pos: np.ndarray
    best_start: np.ndarray
    best_end: np.ndarray
    seq_max: np.ndarray
    seq_pos: np.ndarray
    rf: int
    stride: int
    offset: int
    length: int

    @property
    def wmap(self) -> WindowMap:
        """The layer's window map (receptive field, stride, offset)."""
        return WindowMap(self.rf, self.stride, self.offset)

    def save(self, path: str | Path, fingerprint: str = "") -> None:
        """Write the search as an npz file, atomically.

        Parameters
        ----------
        path : str or Path
            The npz file.
        fingerprint : str
            What the search was made from (weights and data), stored beside it.
        """
        arrays = {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if self.seq_pos.size and int(self.seq_pos.max()) < 2 ** 16:
            arrays["seq_pos"] = self.seq_pos.astype(np.uint16)
        # Uncompressed: activations are random-looking floats that zlib barely
        # shrinks, and compressing them cost more time than the search itself.
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, fingerprint=np.array(fingerprint), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "MaxAct":
        """Read a search written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            The npz file.

        Returns
        -------
        MaxAct
        """
        kw = load_npz_fields(path, cls, "no max-activation search found; run run_search_maxact.sh first")
        for key in ("layer", "rf", "stride", "offset", "length"):
            kw[key] = int(kw[key])
        kw["seq_pos"] = kw["seq_pos"].astype(np.int32)
        return cls(**kw)


def search_maxact(model: nn.Module, X: np.ndarray | torch.Tensor, layers: Sequence[int],
                  batch_size: int = 1024, device: str | torch.device = "cpu",
                  zero_extra_tracks: bool = True, progress: bool = False) -> dict[int, MaxAct]:
    """Maximum of every neuron of every layer over every window of every sequence.

    One batched pass over ``X``; per chunk the conv output's max and argmax
    over positions are taken with one tensor op each.

    Parameters
    ----------
    model : nn.Module
        The model.
    X : numpy.ndarray or torch.Tensor
        (N, C_in, L) inputs.
    layers : sequence of int
        1-based conv layers (one pass serves them all).
    batch_size, device, zero_extra_tracks, progress
        As for :func:`combmotif.models.trunk.layer_outputs`.

    Returns
    -------
    dict
        Layer -> :class:`MaxAct`.
    """
    layers = sorted(set(int(L) for L in layers))
    n, length = len(X), int(X.shape[-1])
    if n == 0:
        raise InputError("max-activation search: the data set is empty")
    seq_max: dict[int, np.ndarray] = {}
    seq_pos: dict[int, np.ndarray] = {}
    for start, outs in layer_outputs(model, X, layers, batch_size, device, zero_extra_tracks, progress):
        for L, h in outs.items():
            if L not in seq_max:
                seq_max[L] = np.empty((n, h.shape[1]), np.float32)
                seq_pos[L] = np.empty((n, h.shape[1]), np.int32)
            v, p = h.max(dim=2)
            seq_max[L][start:start + len(h)] = v.float().cpu().numpy()
            seq_pos[L][start:start + len(h)] = p.cpu().numpy()
    result = {}
    for L in layers:
        wm = window_map(model, L)
        best_seq = seq_max[L].argmax(0)
        cols = np.arange(seq_max[L].shape[1])
        best_pos = seq_pos[L][best_seq, cols]
        bstart, bend = wm.windows(best_pos, length)
        result[L] = MaxAct(layer=L, neuron_max=seq_max[L][best_seq, cols], best_seq=best_seq.astype(np.int64),
                           best_pos=best_pos.astype(np.int64), best_start=bstart, best_end=bend,
                           seq_max=seq_max[L], seq_pos=seq_pos[L], rf=wm.rf, stride=wm.stride,
                           offset=wm.offset, length=length)
    return result
