"""Max-activation seqlets: a neuron's most activating windows stacked into one PPM.

The first-layer filter interpretation of DeepBind (Alipanahi et al. 2015) and
Basset (Kelley et al. 2016), applied to any conv layer: collect the input
windows (one receptive field long) where the neuron fires most, align them
(they are aligned by construction: each is the receptive field of the output
position that fired) and count bases.

Two sources of windows:

``data``
    the data set's sequences: one batched pass of the body prefix gives every
    neuron's value at every position (:func:`combmotif.maxact.search_maxact`);
    each sequence contributes its best window (where the neuron peaks in it),
    so one strong occurrence is not counted several times through overlapping
    windows. Windows overhanging a sequence end ('same' padding) are counted
    only where they cover sequence.
``samples``
    NeuronMotif's sample archive of the neuron (``samples.npz``: RF-long
    integer-encoded sequences and their activations).

Selection: the ``top_n`` strongest windows (DeepBind), optionally only those
at or above ``threshold`` x the neuron's maximum (Basset used 0.5 x max), and
always only windows with a positive value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
from torch import nn

from ..errors import InputError
from ..maxact import search_maxact, sequence_codes
from ..neuronmotif.ppm import PPMConfig
from .common import Pattern, codes_ppm, finished, unit_dir, write_unit

METHOD = "max_seqlet"


@dataclass
class MaxSeqletConfig:
    """Settings of the max-activation seqlet baseline (``methods.max_seqlet`` of the compare config)."""

    source: Literal["data", "samples"] = "data"
    top_n: int = 100                  # windows stacked per neuron at most
    threshold: float | None = None    # also require >= threshold x neuron max (Basset: 0.5)
    pseudocount: float = 1.0          # Laplace pseudocount per base (as NeuronMotif's PPMs)
    batch_size: int = 1024

    def validate(self) -> None:
        if self.top_n < 1:
            raise ValueError("max_seqlet.top_n must be >= 1")
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise ValueError("max_seqlet.threshold must be in [0, 1] (a fraction of the neuron's max)")


@dataclass
class Seqlets:
    """Windows selected for a set of neurons of one layer.

    ``codes`` (C, n, RF) int8 (0-3 = ACGT, 4 = outside the sequence),
    ``act`` (C, n) activations (strongest first), ``keep`` (C, n) the windows
    that pass the selection, ``neuron_max`` (C,) the neuron's maximum over
    the whole source; ``rows`` (C, n) source sequence (-1 for archives) and
    ``starts`` (C, n) window start in it.
    """

    layer: int
    neurons: np.ndarray
    codes: np.ndarray
    act: np.ndarray
    keep: np.ndarray
    neuron_max: np.ndarray
    rows: np.ndarray
    starts: np.ndarray

    def patterns(self, pseudocount: float = 1.0) -> list[Pattern | None]:
        """One PPM per neuron (None where no window passed)."""
        ppms = codes_ppm(self.codes, self.keep, pseudocount)
        n_keep = self.keep.sum(1)
        out: list[Pattern | None] = []
        for c in range(len(self.neurons)):
            if n_keep[c] == 0:
                out.append(None)
                continue
            a = self.act[c][self.keep[c]]
            out.append(Pattern(ppms[c], int(n_keep[c]), float(self.neuron_max[c]),
                               {"mean_activation": float(a.mean()),
                                "min_activation": float(a.min())}))
        return out


def select(act: np.ndarray, neuron_max: np.ndarray, top_n: int, threshold: float | None) -> np.ndarray:
    """Keep mask for activations (C, n) sorted strongest first."""
    keep = act > 0
    keep[:, top_n:] = False
    if threshold is not None:
        keep &= act >= threshold * neuron_max[:, None]
    return keep


def window_codes(codes: np.ndarray, rows: np.ndarray, starts: np.ndarray, rf: int) -> np.ndarray:
    """Windows ``codes[rows, starts:starts+rf]`` as (..., rf) int8, 4 beyond the sequence ends."""
    n, length = codes.shape
    padded = np.full((n, length + 2 * rf), 4, dtype=np.int8)
    padded[:, rf:rf + length] = codes
    cols = np.asarray(starts)[..., None] + rf + np.arange(rf)
    if cols.size and (cols.min() < 0 or cols.max() >= padded.shape[1]):
        raise InputError("window starts lie more than one receptive field outside the sequences")
    return padded[np.asarray(rows)[..., None], cols]


def dataset_seqlets(model: nn.Module, X: np.ndarray, layer: int, neurons: Sequence[int] | None = None,
                    top_n: int = 100, threshold: float | None = None, batch_size: int = 1024,
                    device="cpu", zero_extra_tracks: bool = True) -> Seqlets:
    """Each neuron's ``top_n`` best sequences of ``X`` (N, C_in, L), one window per sequence."""
    if len(X) == 0:
        raise InputError("max-activation seqlets: the data set is empty")
    res = search_maxact(model, X, [layer], batch_size, device, zero_extra_tracks)[layer]
    n_channels = res.seq_max.shape[1]
    neurons = np.arange(n_channels) if neurons is None else np.asarray(list(neurons), dtype=np.int64)
    if len(neurons) and (neurons.min() < 0 or neurons.max() >= n_channels):
        raise InputError(f"conv{layer} has {n_channels} neurons; asked for {neurons.tolist()}")
    sm = res.seq_max[:, neurons]                                        # (N, C)
    k = min(top_n, len(sm))
    idx = np.argsort(-sm, axis=0, kind="stable")[:k].T                  # (C, k) sequence rows
    act = np.take_along_axis(sm.T, idx, 1)
    pos = res.seq_pos[idx, neurons[:, None]]
    starts = res.offset + pos.astype(np.int64) * res.stride
    codes = window_codes(sequence_codes(X), idx, starts, res.rf)
    neuron_max = sm.max(0)
    keep = select(act, neuron_max, top_n, threshold)
    return Seqlets(layer, neurons, codes, act.astype(np.float32), keep, neuron_max, idx, starts)


def archive_seqlets(codes: np.ndarray, act: np.ndarray, layer: int, neuron: int, top_n: int = 100,
                    threshold: float | None = None) -> Seqlets:
    """One neuron's ``top_n`` best sequences from its sampler archive (codes (A, RF), act (A,))."""
    codes = np.asarray(codes, dtype=np.int8)
    act = np.asarray(act, dtype=np.float32)
    if codes.ndim != 2 or len(codes) != len(act):
        raise InputError("sample archive: expected codes (A, RF) and act (A,)")
    order = np.argsort(-act, kind="stable")[:top_n]
    a = act[order][None]
    mx = np.array([act.max() if len(act) else 0.0], dtype=np.float32)
    keep = select(a, mx, top_n, threshold)
    return Seqlets(layer, np.array([neuron]), codes[order][None], a, keep, mx,
                   np.full((1, len(order)), -1), np.zeros((1, len(order)), np.int64))


def load_archive(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no NeuronMotif sample archive (run motif_discovery/main.sh "
                         "for this layer first, or use max_seqlet.source: data)")
    with np.load(path) as z:
        return z["codes"], z["act"]


def run_max_seqlet(model: nn.Module, layer: int, out_dir: str | Path, cfg: MaxSeqletConfig,
                   neurons: Sequence[int], X: np.ndarray | None = None,
                   discovery_dir: str | Path | None = None, device="cpu",
                   ppm_cfg: PPMConfig | None = None, force: bool = False) -> dict:
    """Write ``<out_dir>/conv<layer>/neuron<k>/`` for every neuron; returns a run record.

    ``out_dir`` is ``results/<model>/baselines/max_seqlet``. ``X`` is needed for
    ``source: data``, ``discovery_dir`` (``results/<model>/discovery``) for
    ``source: samples``. Finished neurons are skipped unless ``force``.
    """
    t0 = time.perf_counter()
    todo = [k for k in neurons if force or not finished(unit_dir(out_dir, layer, k))]
    if todo:
        if cfg.source == "data":
            if X is None:
                raise InputError("max_seqlet.source 'data' needs the data set's sequences")
            found = dataset_seqlets(model, X, layer, todo, cfg.top_n, cfg.threshold, cfg.batch_size, device)
            per_neuron = list(zip(todo, found.patterns(cfg.pseudocount)))
            n_windows = found.keep.sum(1)
        else:
            if discovery_dir is None:
                raise InputError("max_seqlet.source 'samples' needs NeuronMotif's discovery folder")
            per_neuron, n_windows = [], []
            for k in todo:
                codes, act = load_archive(Path(discovery_dir) / f"conv{layer}" / f"neuron{k}" / "samples.npz")
                s = archive_seqlets(codes, act, layer, k, cfg.top_n, cfg.threshold)
                per_neuron.append((k, s.patterns(cfg.pseudocount)[0]))
                n_windows.append(int(s.keep.sum()))
        for (k, pat), n in zip(per_neuron, n_windows):
            write_unit(unit_dir(out_dir, layer, k), METHOD, layer, k, [pat] if pat else [], ppm_cfg,
                       {"source": cfg.source, "top_n": cfg.top_n, "threshold": cfg.threshold,
                        "n_windows": int(n)})
    return {"method": METHOD, "layer": layer, "units": len(neurons), "computed": len(todo),
            "seconds": time.perf_counter() - t0 if todo else None}
