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
from ..motifs.unit import write_unit_files
from ..neuronmotif.ppm import PPMConfig, consensus, find_segments, information_content, laplace

OUTPUT = "output"
METHODS = ("neuronmotif", "max_seqlet", "modisco", "class_optimization")
LABELS = {"neuronmotif": "NeuronMotif", "max_seqlet": "max-activation seqlets",
          "modisco": "TF-MoDISco", "class_optimization": "class optimization"}


def layer_folder(layer: int | str) -> str:
    """``conv<L>`` for a conv layer number, ``output`` for the model output."""
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

    ``weights`` (..., n) in {0, 1} (or any non-negative weight) selects windows;
    the Laplace ``n`` is the number of selected windows.
    """
    codes = np.asarray(codes)
    onehot = (codes[..., None] == np.arange(4)).astype(np.float64)   # (..., n, W, 4)
    if weights is None:
        weights = np.ones(codes.shape[:-1])
    weights = np.asarray(weights, dtype=np.float64)
    counts = np.einsum("...n,...nwb->...wb", weights, onehot)
    return counts_to_ppm(counts, weights.sum(-1), pseudocount)


def describe_patterns(patterns: Sequence[Pattern], prefix: str, ppm_cfg: PPMConfig) -> list[dict]:
    """Cluster records (as NeuronMotif's clusters.json) with IC segments for ``patterns``."""
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

    ``npz`` adds array files: file name -> arrays (e.g. TF-MoDISco's seqlet coordinates).

    A unit without patterns (a dead neuron) still gets its folder, with empty
    MEME files, so a rerun knows it is finished.
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
    return Path(method_dir) / layer_folder(layer) / f"neuron{int(neuron)}"


def finished(path: Path) -> bool:
    return (path / "clusters.json").is_file()


# --------------------------------------------------------------------------- targets


def model_device(model: nn.Module) -> torch.device:
    p = next(iter(model.parameters()), None)
    return p.device if p is not None else torch.device("cpu")


def output_fn(model: nn.Module, in_channels: int, index: int | None = None
              ) -> Callable[[torch.Tensor], torch.Tensor]:
    """x (N, 4, L) one-hot -> the model output (N, T).

    Extra input tracks (the half-life model's codon and splice tracks) are
    held at 0 when ``x`` has only A, C, G, T; a full input (N, in_channels, L)
    is passed as it is. ``index`` picks one target of a multi-target model
    (returns (N, 1)).
    """
    def fn(x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 4 < in_channels:
            x = torch.cat([x, x.new_zeros(x.shape[0], in_channels - 4, x.shape[2])], 1)
        out = model(x)
        out = out.reshape(out.shape[0], -1)
        return out[:, index:index + 1] if index is not None else out
    return fn
