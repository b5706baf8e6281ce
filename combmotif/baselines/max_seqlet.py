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
from ..layout import neuron_dir
from ..maxact import search_maxact
from ..neuronmotif.ppm import PPMConfig
from ..sequences import onehot_to_codes
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
        """Reject settings out of range (the config loader turns the error into one line)."""
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
        """One PPM per neuron from its kept windows (None where no window passed).

        Parameters
        ----------
        pseudocount : float
            Laplace pseudocount per base (default 1.0).

        Returns
        -------
        list of Pattern or None
            In the order of ``neurons``: the PPM of the kept windows, size = windows
            kept, score = the neuron's maximum, info ``mean_activation`` and
            ``min_activation`` of the kept windows; None for a neuron without any.
        """
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
    """Keep mask for activations (C, n) sorted strongest first.

    A window is kept when it is among the first ``top_n``, its activation is
    positive and, with a ``threshold``, at least ``threshold`` x the neuron's maximum.

    Parameters
    ----------
    act : numpy.ndarray
        (C, n) activations, each row sorted strongest first.
    neuron_max : numpy.ndarray
        (C,) each neuron's maximum over the whole source.
    top_n : int
        Windows kept per neuron at most.
    threshold : float or None
        Fraction of the neuron's maximum a window must reach (Basset: 0.5); None: no such bound.

    Returns
    -------
    numpy.ndarray
        (C, n) bool mask of the kept windows.
    """
    keep = act > 0
    keep[:, top_n:] = False
    if threshold is not None:
        keep &= act >= threshold * neuron_max[:, None]
    return keep


def window_codes(codes: np.ndarray, rows: np.ndarray, starts: np.ndarray, rf: int) -> np.ndarray:
    """Windows ``codes[rows, starts:starts+rf]`` as (..., rf) int8, 4 beyond the sequence ends.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) integer-encoded sequences (0-3 = ACGT, 4 = none).
    rows : numpy.ndarray
        (...) sequence row of each window.
    starts : numpy.ndarray
        (...) start of each window in its sequence; may lie up to ``rf`` before
        the start or after the end ('same' padding).
    rf : int
        Window length (the receptive field).

    Returns
    -------
    numpy.ndarray
        (..., rf) int8 codes, 4 where a window overhangs its sequence.

    Raises
    ------
    combmotif.errors.InputError
        When a window lies more than one receptive field outside its sequence.
    """
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
    """Each neuron's ``top_n`` best sequences of ``X`` (N, C_in, L), one window per sequence.

    One batched pass (:func:`combmotif.maxact.search_maxact`) gives every neuron's
    peak in every sequence; a sequence contributes the window at that peak.

    Parameters
    ----------
    model : nn.Module
        The model.
    X : numpy.ndarray
        (N, C_in, L) one-hot inputs (extra tracks beyond ACGT allowed).
    layer : int
        1-based conv layer.
    neurons : sequence of int, optional
        Channels of the layer to collect for; default all.
    top_n : int
        Windows stacked per neuron at most (default 100).
    threshold : float, optional
        Also require >= ``threshold`` x the neuron's maximum (see :func:`select`).
    batch_size : int
        Sequences per forward pass (default 1024).
    device : str or torch.device
        Where the model runs (default ``"cpu"``).
    zero_extra_tracks : bool
        Hold input tracks beyond ACGT at 0, as NeuronMotif's neurons see them (default True).

    Returns
    -------
    Seqlets
        The neurons' best windows (``rows`` = sequence rows of ``X``), strongest first.

    Raises
    ------
    combmotif.errors.InputError
        When ``X`` is empty or a neuron is not a channel of the layer.
    """
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
    codes = window_codes(onehot_to_codes(X), idx, starts, res.rf)
    neuron_max = sm.max(0)
    keep = select(act, neuron_max, top_n, threshold)
    return Seqlets(layer, neurons, codes, act.astype(np.float32), keep, neuron_max, idx, starts)


def archive_seqlets(codes: np.ndarray, act: np.ndarray, layer: int, neuron: int, top_n: int = 100,
                    threshold: float | None = None) -> Seqlets:
    """One neuron's ``top_n`` best sequences from its sampler archive (codes (A, RF), act (A,)).

    Parameters
    ----------
    codes : numpy.ndarray
        (A, RF) integer-encoded RF-long samples (NeuronMotif's ``samples.npz``).
    act : numpy.ndarray
        (A,) their activations.
    layer : int
        1-based conv layer of the neuron.
    neuron : int
        The neuron (channel).
    top_n : int
        Samples stacked at most (default 100).
    threshold : float, optional
        Also require >= ``threshold`` x the archive's maximum (see :func:`select`).

    Returns
    -------
    Seqlets
        One neuron (C = 1); ``rows`` are -1 and ``starts`` 0 (a sample is its own window).

    Raises
    ------
    combmotif.errors.InputError
        When ``codes`` is not (A, RF) or ``act`` does not have one value per sample.
    """
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
    """Read a neuron's NeuronMotif sample archive (the ``samples`` source of windows).

    Parameters
    ----------
    path : str or Path
        The archive, ``<discovery>/conv<L>/neuron<k>/samples.npz``.

    Returns
    -------
    codes : numpy.ndarray
        (A, RF) integer-encoded samples.
    act : numpy.ndarray
        (A,) their activations.

    Raises
    ------
    combmotif.errors.InputError
        When the archive does not exist (motif discovery has not run for the layer).
    """
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

    Finished neurons are skipped unless ``force``; a neuron without any kept
    window gets a unit folder without patterns.

    Parameters
    ----------
    model : nn.Module
        The model.
    layer : int
        1-based conv layer.
    out_dir : str or Path
        The method's folder, ``results/<model>/baselines/max_seqlet``.
    cfg : MaxSeqletConfig
        The method's settings (source, top_n, threshold, pseudocount, batch_size).
    neurons : sequence of int
        Channels of the layer to run.
    X : numpy.ndarray, optional
        (N, C_in, L) the data set's inputs; needed for ``source: data``.
    discovery_dir : str or Path, optional
        NeuronMotif's folder (``results/<model>/discovery``); needed for ``source: samples``.
    device : str or torch.device
        Where the model runs (default ``"cpu"``).
    ppm_cfg : PPMConfig, optional
        Segment rule of the unit files; default ``PPMConfig()``.
    force : bool
        Recompute finished neurons (default False).

    Returns
    -------
    dict
        Run record: ``method``, ``layer``, ``units`` (neurons asked for),
        ``computed`` (not skipped) and ``seconds`` (None when nothing was computed).

    Raises
    ------
    combmotif.errors.InputError
        When the source's input (``X`` or ``discovery_dir``, or a neuron's
        archive) is missing, or as :func:`dataset_seqlets`.
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
                codes, act = load_archive(neuron_dir(discovery_dir, layer, k) / "samples.npz")
                s = archive_seqlets(codes, act, layer, k, cfg.top_n, cfg.threshold)
                per_neuron.append((k, s.patterns(cfg.pseudocount)[0]))
                n_windows.append(int(s.keep.sum()))
        for (k, pat), n in zip(per_neuron, n_windows):
            write_unit(unit_dir(out_dir, layer, k), METHOD, layer, k, [pat] if pat else [], ppm_cfg,
                       {"source": cfg.source, "top_n": cfg.top_n, "threshold": cfg.threshold,
                        "n_windows": int(n)})
    return {"method": METHOD, "layer": layer, "units": len(neurons), "computed": len(todo),
            "seconds": time.perf_counter() - t0 if todo else None}
