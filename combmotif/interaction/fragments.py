"""Fragments: the windows that drive each neuron above a fraction of its maximum.

:func:`locate_fragments` finds every such window in one batched pass of the
conv trunk; :func:`fragment_yaml` / :func:`read_fragment_yaml` write and read
the seeds' ``Seq{i}_{j}: start`` layout, :func:`fragment_codes` cuts the
fragments' sequences out of the scanned set.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import yaml
from torch import nn

from ..errors import InputError
from ..io import load_npz_fields, save_npz
from ..maxact import MaxAct, window_map
from ..models.trunk import layer_outputs


@dataclass
class Fragments:
    """Windows that drive neurons above ``threshold`` x their maximum.

    Parallel arrays, one row per (neuron, sequence, window), sorted by neuron,
    then sequence, then activation (strongest first). ``start``/``end`` are
    clipped to the sequence; ``raw_start`` is the unclipped window start (it is
    negative for a 'same'-padded window reaching past the 5' end).
    """

    layer: int
    threshold: float
    rf: int
    neuron: np.ndarray
    seq: np.ndarray
    pos: np.ndarray
    raw_start: np.ndarray
    start: np.ndarray
    end: np.ndarray
    activation: np.ndarray

    _ROWS = ("neuron", "seq", "pos", "raw_start", "start", "end", "activation")

    def of(self, neuron: int) -> "Fragments":
        """The fragments of one neuron.

        Parameters
        ----------
        neuron : int
            0-based neuron.

        Returns
        -------
        Fragments
            Its rows only.
        """
        keep = self.neuron == neuron
        return dataclasses.replace(self, **{k: getattr(self, k)[keep] for k in self._ROWS})

    def __len__(self) -> int:
        return len(self.seq)

    def save(self, path: str | Path, codes: np.ndarray | None = None) -> None:
        """Write an npz of the arrays, plus ``codes`` (M, rf) int8 fragment sequences (4 = outside).

        Parameters
        ----------
        path : str or Path
            The npz file.
        codes : numpy.ndarray, optional
            The fragments' sequences.
        """
        arrays = {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if codes is not None:
            arrays["codes"] = codes
        save_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Fragments":
        """Read fragments written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            The npz file.

        Returns
        -------
        Fragments
        """
        kw = load_npz_fields(path, cls, "no fragments found; run run_fragment_location.sh first")
        kw["layer"], kw["rf"], kw["threshold"] = int(kw["layer"]), int(kw["rf"]), float(kw["threshold"])
        return cls(**kw)


def _concatenate_hits(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    if parts:
        return tuple(np.concatenate(a) for a in zip(*parts))
    empty = np.zeros(0, np.int64)
    return empty, empty, empty, np.zeros(0, np.float32)


def locate_fragments(model: nn.Module, X: np.ndarray, maxact: MaxAct, threshold: float = 0.9,
                     neurons: Sequence[int] | None = None, max_sequences: int | None = None,
                     batch_size: int = 1024, device: str | torch.device = "cpu",
                     zero_extra_tracks: bool = True, progress: bool = False) -> Fragments:
    """Every window whose activation exceeds ``threshold`` x the neuron's maximum.

    Neurons whose maximum is not positive have no fragments (a fraction of a
    negative maximum is not "strong"). ``max_sequences`` keeps, per neuron, the
    sequences with the strongest windows (ties by index) so a very promiscuous
    neuron cannot flood the interaction stage.

    Parameters
    ----------
    model : nn.Module
        The model.
    X : numpy.ndarray
        (N, C, L) scanned sequences.
    maxact : MaxAct
        The layer's max-activation search.
    threshold : float
        Fraction of each neuron's maximum.
    neurons : sequence of int, optional
        Which neurons (default all).
    max_sequences : int, optional
        Per neuron, keep the sequences with the strongest windows.
    batch_size, device, zero_extra_tracks, progress
        As :func:`combmotif.models.trunk.layer_outputs`.

    Returns
    -------
    Fragments
    """
    L = maxact.layer
    cols = np.arange(len(maxact.neuron_max)) if neurons is None else np.asarray(list(neurons), dtype=np.int64)
    cut_np = (threshold * maxact.neuron_max[cols]).astype(np.float32)
    live = maxact.neuron_max[cols] > 0
    # Only sequences whose own maximum passes the cut can hold a fragment.
    cand = np.flatnonzero(((maxact.seq_max[:, cols] > cut_np[None, :]) & live[None, :]).any(1))
    cut = torch.as_tensor(cut_np)[None, :, None]
    live_t = torch.as_tensor(live)[None, :, None]
    col_t = torch.as_tensor(cols)
    parts: list[tuple[np.ndarray, ...]] = []
    if len(cand):
        for start, outs in layer_outputs(model, X, [L], batch_size, device, zero_extra_tracks,
                                         progress, rows=cand):
            h = outs[L][:, col_t].float().cpu()
            r, c, p = (t.numpy() for t in torch.nonzero((h > cut) & live_t, as_tuple=True))
            parts.append((cols[c], cand[start + r], p, h[r, c, p].numpy()))
    neuron, seq, pos, act = _concatenate_hits(parts)
    order = np.lexsort((pos, -act, seq, neuron))
    neuron, seq, pos, act = neuron[order], seq[order], pos[order], act[order]
    if max_sequences is not None and len(seq):
        keep = _strongest_sequences(neuron, seq, act, max_sequences)
        neuron, seq, pos, act = neuron[keep], seq[keep], pos[keep], act[keep]
    wm = window_map(model, L)
    start_, end_ = wm.windows(pos, maxact.length)
    return Fragments(layer=L, threshold=float(threshold), rf=maxact.rf, neuron=neuron.astype(np.int64),
                     seq=seq.astype(np.int64), pos=pos.astype(np.int64),
                     raw_start=(wm.offset + pos * wm.stride).astype(np.int64), start=start_, end=end_,
                     activation=act.astype(np.float32))


def _groups(*keys: np.ndarray) -> np.ndarray:
    """Group id per row of arrays already sorted by ``keys`` (0, 0, 1, 2, 2, ...)."""
    new = np.ones(len(keys[0]), bool)
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    return np.cumsum(new) - 1


def _rank_in_group(gid: np.ndarray) -> np.ndarray:
    """0, 1, 2 ... within each run of equal group ids."""
    idx = np.arange(len(gid))
    first = np.ones(len(gid), bool)
    first[1:] = gid[1:] != gid[:-1]
    return idx - np.maximum.accumulate(np.where(first, idx, 0))


def _strongest_sequences(neuron: np.ndarray, seq: np.ndarray, act: np.ndarray, cap: int) -> np.ndarray:
    """Row mask keeping, per neuron, the ``cap`` sequences with the strongest windows.

    Rows must be sorted by neuron, sequence, activation descending.
    """
    gid = _groups(neuron, seq)                       # one group per (neuron, sequence)
    first = np.flatnonzero(_rank_in_group(gid) == 0)  # its strongest window
    o = np.lexsort((seq[first], -act[first], neuron[first]))
    ranked = first[o]
    rank = _rank_in_group(neuron[ranked])
    keep_group = np.zeros(gid[-1] + 1, bool)
    keep_group[gid[ranked[rank < cap]]] = True
    return keep_group[gid]


def fragment_codes(codes: np.ndarray, frags: Fragments) -> np.ndarray:
    """(M, rf) int8 sequences of the fragments; 4 marks positions outside the sequence.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) codes of the scanned sequences.
    frags : Fragments
        The fragments.

    Returns
    -------
    numpy.ndarray
    """
    length = codes.shape[1]
    cols = frags.raw_start[:, None] + np.arange(frags.rf)[None, :]
    inside = (cols >= 0) & (cols < length)
    out = np.full(cols.shape, 4, dtype=np.int8)
    out[inside] = codes[np.broadcast_to(frags.seq[:, None], cols.shape)[inside], cols[inside]]
    return out


def fragment_yaml(frags: Fragments) -> str:
    """The seeds' fragment-location YAML for one neuron: ``Seq{i}_{j}: start``.

    One key per window, ``i`` the sequence index in the searched set and ``j``
    the window's rank within that sequence (0 = strongest).

    Parameters
    ----------
    frags : Fragments
        One neuron's fragments.

    Returns
    -------
    str
    """
    rank = _rank_in_group(frags.seq)
    lines = [f"Seq{s}_{j}: {st}" for s, j, st in
             zip(frags.seq.tolist(), rank.tolist(), frags.start.tolist())]
    return "\n".join(lines) + "\n" if lines else "{}\n"


def read_fragment_yaml(path: str | Path) -> list[tuple[int, int, int]]:
    """``[(sequence index, rank, start)]`` from a fragment-location YAML (ours or the seeds').

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    list of (int, int, int)
    """
    path = Path(path)
    try:
        return read_fragment_yaml_text(path.read_text(), str(path))
    except OSError as exc:
        raise InputError(f"{path}: not readable ({type(exc).__name__})") from None


def read_fragment_yaml_text(text: str, path: str = "fragment YAML") -> list[tuple[int, int, int]]:
    """``[(sequence index, rank, start)]`` from the text of a fragment-location YAML.

    Parameters
    ----------
    text : str
        The YAML text.
    path : str
        Named in errors.

    Returns
    -------
    list of (int, int, int)
    """
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not a readable fragment-location YAML ({type(exc).__name__})") from None
    out = []
    for key, start in data.items():
        parts = str(key).removeprefix("Seq").split("_")
        if not str(key).startswith("Seq") or len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise InputError(f"{path}: key {key!r} is not of the form Seq<i>_<j>")
        out.append((int(parts[0]), int(parts[1]), int(start)))
    return out
