"""What the baseline methods share: targets, PPMs, and the per-unit output folder.

Every baseline writes what NeuronMotif writes for a neuron, so the same
matching (:func:`combmotif.motifs.match.match_layer`), recovery and pages read
both::

    results/<model>/baselines/<method>/<layer>/neuron<k>/
        clusters.json   one entry per PPM ("cluster"): size, score, consensus, segments
        ppms.meme       one PPM per cluster      (id ``<method>-<layer>-n<k>-c<i>``)
        segments.meme   its motif segments       (id ``<method>-<layer>-n<k>-c<i>-s<j>``)

``<layer>`` is ``conv<L>`` for a neuron of conv layer L and ``output`` for the
model output (``neuron<k>`` then names output target k). Segments are cut from
every method's PPMs by the same rule NeuronMotif uses
(:func:`combmotif.neuronmotif.ppm.find_segments`: 3-position-smoothed
information content above a threshold), so the matching step compares like
with like: a long, mostly flat max-activation PPM is not penalised for its
flanks, and a sharp one is not rewarded for its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..io import atomic_path, save_npz
from ..motifs.formats import consensus, information_content
from ..motifs.unit import write_unit_files
from ..neuronmotif.ppm import PPMConfig, find_segments, laplace

OUTPUT = "output"
METHODS = ("neuronmotif", "max_seqlet", "modisco", "class_optimization")
LABELS = {"neuronmotif": "NeuronMotif", "max_seqlet": "max-activation seqlets",
          "modisco": "TF-MoDISco", "class_optimization": "class optimization"}


def layer_folder(layer: int | str) -> str:
    """The folder name of a layer in a baseline's output tree.

    Parameters
    ----------
    layer : int or str
        A conv layer number (1-based) or ``"output"`` for the model output.

    Returns
    -------
    str
        ``conv<L>`` for a conv layer number, ``output`` for the model output.

    Raises
    ------
    combmotif.errors.InputError
        When ``layer`` is a string other than ``"output"``.
    """
    if isinstance(layer, str):
        if layer != OUTPUT:
            raise InputError(f"layer {layer!r}: expected a conv layer number or {OUTPUT!r}")
        return OUTPUT
    return f"conv{int(layer)}"


@dataclass
class Pattern:
    """One PPM a baseline produced for one unit (neuron or output target).

    Attributes
    ----------
    ppm : numpy.ndarray
        (W, 4) over A, C, G, T, rows summing to 1 (already smoothed).
    size : int
        Sequences, seqlets or restarts behind it.
    score : float
        The method's strength measure (activation, objective, contribution);
        larger is stronger. Written as ``max_activation`` too, so readers of
        NeuronMotif's clusters.json rank baseline clusters the same way.
    info : dict
        Method-specific scalars (sign of a TF-MoDISco pattern, ...).
    """

    ppm: np.ndarray
    size: int
    score: float
    info: dict = field(default_factory=dict)


def counts_to_ppm(counts: np.ndarray, n: np.ndarray | int, pseudocount: float = 1.0) -> np.ndarray:
    """Base counts (..., W, 4) of ``n`` sequences -> Laplace-smoothed PPM (..., W, 4).

    Positions without any base (windows overhanging a sequence end) become
    uniform. Same smoothing as NeuronMotif's cluster PPMs: (count + pc) / (n + 4 pc).

    Parameters
    ----------
    counts : numpy.ndarray
        (..., W, 4) base counts over A, C, G, T.
    n : numpy.ndarray or int
        Number of sequences behind each PPM: a scalar, or one per leading index (shape ``...``).
    pseudocount : float
        Added to each base count (default 1.0).

    Returns
    -------
    numpy.ndarray
        (..., W, 4) float64 PPM, rows summing to 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(-1, keepdims=True)
    freq = np.divide(counts, total, out=np.full_like(counts, 0.25), where=total > 0)
    n = np.asarray(n, dtype=np.float64)
    n = n.reshape(n.shape + (1,) * (counts.ndim - n.ndim)) if n.ndim else n
    return laplace(freq, n, pseudocount)


def codes_ppm(codes: np.ndarray, weights: np.ndarray | None = None, pseudocount: float = 1.0
              ) -> np.ndarray:
    """Stack windows (..., n, W) int codes (0-3 = ACGT, 4 = none) into a PPM (..., W, 4).

    Parameters
    ----------
    codes : numpy.ndarray
        (..., n, W) integer codes: 0-3 = A, C, G, T, 4 = no base (outside the sequence).
    weights : numpy.ndarray, optional
        (..., n) in {0, 1} (or any non-negative weight) selects windows; the
        Laplace ``n`` is the sum of the weights. Default: every window, weight 1.
    pseudocount : float
        Laplace pseudocount per base (default 1.0), as in :func:`counts_to_ppm`.

    Returns
    -------
    numpy.ndarray
        (..., W, 4) float64 PPM; positions where no selected window has a base are uniform.
    """
    codes = np.asarray(codes)
    onehot = (codes[..., None] == np.arange(4)).astype(np.float64)   # (..., n, W, 4)
    if weights is None:
        weights = np.ones(codes.shape[:-1])
    weights = np.asarray(weights, dtype=np.float64)
    counts = np.einsum("...n,...nwb->...wb", weights, onehot)
    return counts_to_ppm(counts, weights.sum(-1), pseudocount)


def describe_patterns(patterns: Sequence[Pattern], prefix: str, ppm_cfg: PPMConfig) -> list[dict]:
    """Cluster records (as NeuronMotif's clusters.json) with IC segments for ``patterns``.

    A baseline has no activation ratio, so a segment's ``quality`` is its IC
    contrast (at least 0); segments are listed best quality first.

    Parameters
    ----------
    patterns : sequence of Pattern
        The unit's PPMs, in cluster order.
    prefix : str
        Motif id prefix, ``<method>-<layer>-n<k>``.
    ppm_cfg : PPMConfig
        Segment rule (:func:`combmotif.neuronmotif.ppm.find_segments`).

    Returns
    -------
    list of dict
        One per pattern, with keys ``id``, ``motif_id`` (``<prefix>-c<i>``), ``size``,
        ``max_activation`` and ``score`` (both the pattern's score), ``consensus``,
        ``ic_mean``, the pattern's ``info`` entries, and ``segments``: dicts with
        ``start``, ``end``, ``ic_mean``, ``contrast``, ``quality``, ``motif_id``
        (``<prefix>-c<i>-s<j>``) and ``consensus``.
    """
    records = []
    for i, p in enumerate(patterns):
        ppm = np.asarray(p.ppm, dtype=np.float64)
        ic = information_content(ppm)
        segs = []
        for j, s in enumerate(find_segments(ic, ppm_cfg)):
            # No activation ratio for a baseline: a segment's quality is its IC contrast.
            s.quality = max(s.contrast, 0.0)
            d = s.as_dict()
            d.update(motif_id=f"{prefix}-c{i}-s{j}", consensus=consensus(ppm[s.start:s.end]))
            segs.append(d)
        records.append({
            "id": i, "motif_id": f"{prefix}-c{i}", "size": int(p.size),
            "max_activation": round(float(p.score), 6), "score": round(float(p.score), 6),
            "consensus": consensus(ppm), "ic_mean": round(float(ic.mean()), 4),
            **{k: (round(v, 6) if isinstance(v, float) else v) for k, v in p.info.items()},
            "segments": sorted(segs, key=lambda d: -d["quality"]),
        })
    return records


def write_unit(dirpath: str | Path, method: str, layer: int | str, neuron: int,
               patterns: Sequence[Pattern], ppm_cfg: PPMConfig | None = None,
               info: dict | None = None, npz: dict[str, dict[str, np.ndarray]] | None = None) -> Path:
    """Write one unit's folder atomically, in the schema NeuronMotif writes
    (:mod:`combmotif.motifs.unit`: clusters.json, ppms.meme, segments.meme).

    A unit without patterns (a dead neuron) still gets its folder, with empty
    MEME files, so a rerun knows it is finished.

    Parameters
    ----------
    dirpath : str or Path
        The unit folder (:func:`unit_dir`); replaced as a whole if it exists.
    method : str
        Baseline name (one of :data:`METHODS`), in motif ids and the header.
    layer : int or str
        Conv layer number or ``"output"``.
    neuron : int
        Neuron (channel) or output target index.
    patterns : sequence of Pattern
        The unit's PPMs, one cluster each (empty for a dead neuron).
    ppm_cfg : PPMConfig, optional
        Segment rule; default ``PPMConfig()``.
    info : dict, optional
        Extra header fields of clusters.json (the method's settings and counts).
    npz : dict, optional
        Extra array files: file name -> arrays (e.g. TF-MoDISco's seqlet coordinates).

    Returns
    -------
    pathlib.Path
        ``dirpath``.

    Raises
    ------
    combmotif.errors.InputError
        When ``layer`` is neither a conv layer number nor ``"output"``.
    """
    ppm_cfg = ppm_cfg or PPMConfig()
    dirpath = Path(dirpath)
    prefix = f"{method}-{layer_folder(layer)}-n{neuron}"
    clusters = describe_patterns(patterns, prefix, ppm_cfg)
    with atomic_path(dirpath) as tmp:
        tmp.mkdir()
        write_unit_files(tmp, {"method": method, "layer": layer, "neuron": int(neuron),
                               "n_clusters": len(clusters), **(info or {}), "clusters": clusters},
                         [p.ppm for p in patterns], lambda c: f"n={c['size']},score={c['score']:.4g}",
                         lambda d: f"pos={d['start']}-{d['end']},ic={d['ic_mean']:.3g}")
        for name, arrays in (npz or {}).items():
            save_npz(tmp / name, **arrays)
    return dirpath


def unit_dir(method_dir: str | Path, layer: int | str, neuron: int) -> Path:
    """The folder one unit's results go to: ``<method_dir>/<layer folder>/neuron<k>``.

    Parameters
    ----------
    method_dir : str or Path
        The method's folder, ``results/<model>/baselines/<method>``.
    layer : int or str
        Conv layer number or ``"output"`` (see :func:`layer_folder`).
    neuron : int
        Neuron (channel) or output target index.

    Returns
    -------
    pathlib.Path
        The unit folder (not created here).

    Raises
    ------
    combmotif.errors.InputError
        When ``layer`` is neither a conv layer number nor ``"output"``.
    """
    return Path(method_dir) / layer_folder(layer) / f"neuron{int(neuron)}"


def finished(path: Path) -> bool:
    """Whether a unit folder is complete, so a rerun can skip it.

    :func:`write_unit` renames the folder into place only when it is whole, so
    its ``clusters.json`` marks a finished unit.

    Parameters
    ----------
    path : Path
        The unit folder (:func:`unit_dir`).

    Returns
    -------
    bool
        True when ``path/clusters.json`` exists.
    """
    return (path / "clusters.json").is_file()


# --------------------------------------------------------------------------- targets


def model_device(model: nn.Module) -> torch.device:
    """The device a model's parameters live on, so inputs can be built there.

    Parameters
    ----------
    model : nn.Module
        The model.

    Returns
    -------
    torch.device
        Its first parameter's device; CPU for a model without parameters.
    """
    p = next(iter(model.parameters()), None)
    return p.device if p is not None else torch.device("cpu")


def output_fn(model: nn.Module, in_channels: int, index: int | None = None
              ) -> Callable[[torch.Tensor], torch.Tensor]:
    """x (N, 4, L) one-hot -> the model output (N, T).

    Extra input tracks (the half-life model's codon and splice tracks) are
    held at 0 when ``x`` has only A, C, G, T; a full input (N, in_channels, L)
    is passed as it is.

    Parameters
    ----------
    model : nn.Module
        The model (its mode is left as it is).
    in_channels : int
        Input tracks of the model; tracks beyond A, C, G, T are filled with 0.
    index : int, optional
        One target of a multi-target model; default: all targets.

    Returns
    -------
    callable
        ``x`` (N, 4 or in_channels, L) -> (N, T) model output flattened per
        sequence, or (N, 1) when ``index`` is given. Differentiable.
    """
    def fn(x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 4 < in_channels:
            x = torch.cat([x, x.new_zeros(x.shape[0], in_channels - 4, x.shape[2])], 1)
        out = model(x)
        out = out.reshape(out.shape[0], -1)
        return out[:, index:index + 1] if index is not None else out
    return fn
