"""One discovery unit (one neuron of one layer): demix its samples, describe its
clusters, write its folder; and the layer's ``summary.csv``.

A unit folder ``conv<L>/neuron<k>/`` holds

``samples.npz``    ``codes`` (A, RF) int8, ``act`` (A,) float32, ``cluster`` (A,) int16 (leaf id, -1 none)
``clusters.json``  per-cluster tree path, size, activations, indicator, segments
``ppms.meme``      one PPM per cluster (id ``conv<L>-n<k>-c<i>``)
``segments.meme``  motif segments (id ``conv<L>-n<k>-c<i>-s<j>``)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from .. import layout
from ..io import atomic_path, save_npz, write_text
from ..models.anatomy import ConvCut
from ..motifs.formats import consensus, information_content, read_meme
from ..motifs.unit import write_unit_files
from ..sequences import indices_to_one_hot
from .demix import Leaf, demix_many, layer_pool_features
from .ppm import consensus_codes, find_segments, laplace, weighted_ppm
from .sample import NeuronSamples, _forward


@dataclass
class NeuronResult:
    """What :func:`analyse_neuron` finds for one neuron, and :func:`write_neuron` writes.

    ``samples`` are the neuron's :class:`~combmotif.neuronmotif.sample.NeuronSamples`;
    ``leaves`` the demixed leaf clusters; ``clusters`` one ``clusters.json`` record per
    leaf (segments included); ``ppms`` one (RF, 4) PPM per leaf; ``indicator`` the best
    cluster's consensus/max activation ratio (NaN for a dead neuron).
    """

    samples: NeuronSamples
    leaves: list[Leaf]
    clusters: list[dict]
    ppms: list[np.ndarray]
    indicator: float


def _motif_id(layer: int, neuron: int, cluster: int, seg: int | None = None) -> str:
    base = f"conv{layer}-n{neuron}-c{cluster}"
    return base if seg is None else f"{base}-s{seg}"


def analyse_neuron(cut: ConvCut, s: NeuronSamples, pattern_groups: int, cfg,
                   layer: int) -> NeuronResult:
    """Demix one neuron's samples and describe every leaf cluster (PPM, IC, segments).

    Parameters
    ----------
    cut : ConvCut
        The layer's sub-model (one RF-long input -> its channels).
    s : NeuronSamples
        The neuron's samples.
    pattern_groups : int
        The layer's pattern groups (k-means splits per max-pool).
    cfg : combmotif.neuronmotif.stage.DiscoveryConfig
        Its ``demix``, ``ppm``, ``seed`` and ``batch_size`` are used.
    layer : int
        The conv layer (names the motif ids).

    Returns
    -------
    NeuronResult
        Leaves, cluster records, PPMs and the neuron's indicator.
    """
    return analyse_layer(cut, [s], pattern_groups, cfg, layer)[0]


def layer_features(cut: ConvCut, samples: Sequence[NeuronSamples], layer: int,
                   batch_size: int) -> tuple[list, tuple[int, ...]]:
    """What demixing clusters on, for the samples of many neurons, and the pool sizes it splits by.

    Parameters
    ----------
    cut : ConvCut
        The layer's sub-model.
    samples : sequence of NeuronSamples
        The neurons' samples.
    layer : int
        The conv layer.
    batch_size : int
        Sequences per forward pass.

    Returns
    -------
    features : list
        Per pool level, the concatenated features of all samples (on the cut's device).
    sizes : tuple of int
        The pool sizes the tree splits by (shallowest first).
    """
    if cut.pool_sizes:
        return layer_pool_features(cut, [s.codes for s in samples], batch_size), tuple(cut.pool_sizes)
    if layer > 1:
        # No max-pool below this layer, so nothing tells apart the arrangements of
        # the layer-1 patterns it combines; k-means on the samples' one-hot does
        # (2 ** P clusters), or their PPM mixes several patterns into none.
        codes = np.concatenate([s.codes for s in samples]) if samples else np.zeros((0, 1), np.int8)
        onehot = indices_to_one_hot(codes).transpose(0, 2, 1).reshape(len(codes), -1)
        device = next(iter(cut.buffers())).device
        return [torch.as_tensor(np.ascontiguousarray(onehot), dtype=torch.float32, device=device)], (2,)
    return [], ()


def analyse_layer(cut: ConvCut, samples: Sequence[NeuronSamples], pattern_groups: int, cfg, layer: int,
                  features: tuple[list, tuple[int, ...]] | None = None) -> list[NeuronResult]:
    """:func:`analyse_neuron` for many neurons of one layer, demixed together (:func:`.demix.demix_many`).

    Parameters
    ----------
    cut : ConvCut
        The layer's sub-model.
    samples : sequence of NeuronSamples
        The neurons' samples.
    pattern_groups : int
        The layer's pattern groups.
    cfg : combmotif.neuronmotif.stage.DiscoveryConfig
        Its ``demix``, ``ppm``, ``seed`` and ``batch_size`` are used.
    layer : int
        The conv layer.
    features : tuple, optional
        :func:`layer_features` of ``samples`` when the caller keeps them (else computed here).

    Returns
    -------
    list of NeuronResult
        One per neuron, in the order of ``samples``.
    """
    feats, sizes = features if features is not None else layer_features(cut, samples, layer, cfg.batch_size)
    all_leaves = demix_many(feats, [s.act for s in samples], sizes, pattern_groups, cfg.demix, cfg.seed,
                            [s.neuron for s in samples])
    return [_describe(cut, s, leaves, cfg, layer) for s, leaves in zip(samples, all_leaves)]


def _describe(cut: ConvCut, s: NeuronSamples, leaves: list[Leaf], cfg, layer: int) -> NeuronResult:
    """PPMs, cluster records and indicator of one demixed neuron."""
    if len(s.act) == 0:
        return NeuronResult(s, [], [], [], float("nan"))
    ppms = [laplace(weighted_ppm(s.codes[leaf.index], s.act[leaf.index], cfg.ppm.bins), len(leaf.index),
                    cfg.ppm.pseudocount) for leaf in leaves]
    device = next(iter(cut.buffers())).device
    cons = torch.as_tensor(np.stack([consensus_codes(p) for p in ppms]), device=device)
    cons_act = _forward(cut, cons, cfg.batch_size)[:, s.neuron].cpu().numpy().astype(np.float64)
    neuron_max = float(s.act.max())
    clusters = [_cluster_record(i, leaf, ppm, s, float(cons_act[i]), neuron_max, cfg.ppm, layer)
                for i, (leaf, ppm) in enumerate(zip(leaves, ppms))]
    finite = [c["ratio"] for c in clusters if np.isfinite(c["ratio"])]
    indicator = float(max(finite)) if finite else float("nan")
    return NeuronResult(s, leaves, clusters, ppms, indicator)


def _cluster_record(i: int, leaf: Leaf, ppm: np.ndarray, s: NeuronSamples, cons_act: float,
                    neuron_max: float, ppm_cfg, layer: int) -> dict:
    """One cluster's record of ``clusters.json`` (:mod:`combmotif.motifs.unit`), segments included."""
    a = s.act[leaf.index]
    cmax = float(a.max())
    ratio = float(cons_act / cmax) if cmax > 0 else float("nan")
    coverage = cmax / neuron_max
    ic = information_content(ppm)
    seg_dicts = []
    for j, seg in enumerate(find_segments(ic, ppm_cfg)):
        # Quality: sharp (IC contrast) x faithful (consensus reaches the cluster's max)
        # x important (the cluster reaches the neuron's max).
        seg.quality = max(seg.contrast, 0.0) * min(max(ratio, 0.0), 1.0) * coverage
        d = seg.as_dict()
        d.update(motif_id=_motif_id(layer, s.neuron, i, j), consensus=consensus(ppm[seg.start:seg.end]))
        seg_dicts.append(d)
    return {
        "id": i, "motif_id": _motif_id(layer, s.neuron, i), "path": list(leaf.path),
        "size": int(len(leaf.index)), "max_activation": round(cmax, 6),
        "mean_activation": round(float(a.mean()), 6), "consensus": consensus(ppm),
        "consensus_activation": round(cons_act, 6), "ratio": round(ratio, 6),
        "coverage": round(coverage, 6), "ic_mean": round(float(ic.mean()), 4),
        "segments": sorted(seg_dicts, key=lambda d: -d["quality"]),
    }


def _cluster_note(c: dict) -> str:
    return f"n={c['size']},max={c['max_activation']:.4g},cons={c['consensus_activation']:.4g}"


def _segment_note(d: dict) -> str:
    return f"pos={d['start']}-{d['end']},ic={d['ic_mean']:.3g},q={d['quality']:.3g}"


def write_neuron(dirpath: Path, res: NeuronResult, layer: int, rf: int, pattern_groups: int,
                 pool_sizes: Sequence[int]) -> None:
    """Write one unit folder atomically (see the module docstring for its files).

    Parameters
    ----------
    dirpath : Path
        ``conv<L>/neuron<k>``; written under a temporary name and renamed when complete.
    res : NeuronResult
        :func:`analyse_neuron`'s result.
    layer, rf, pattern_groups : int
        The layer, its receptive field and the pattern groups it was demixed with.
    pool_sizes : sequence of int
        The max-pool sizes below the layer.
    """
    s = res.samples
    cluster_of = np.full(len(s.act), -1, dtype=np.int16)
    for i, leaf in enumerate(res.leaves):
        cluster_of[leaf.index] = i
    best = int(np.nanargmax([c["ratio"] for c in res.clusters])) if res.clusters and np.isfinite(res.indicator) \
        else None
    with atomic_path(dirpath) as tmp:
        tmp.mkdir()
        save_npz(tmp / "samples.npz", codes=s.codes.astype(np.int8), act=s.act.astype(np.float32),
                 cluster=cluster_of)
        write_unit_files(tmp, {
            "layer": layer, "neuron": s.neuron, "rf": rf, "method": s.method,
            "generations": s.generations, "evaluations": s.evaluations, "n_samples": int(len(s.act)),
            "max_activation": round(s.max_activation, 6), "pattern_groups": pattern_groups,
            "pool_sizes": list(pool_sizes),
            "indicator": round(res.indicator, 6) if np.isfinite(res.indicator) else None,
            "best_cluster": best, "clusters": res.clusters,
        }, res.ppms, _cluster_note, _segment_note)


SUMMARY_COLUMNS = ["layer", "neuron", "rf", "method", "generations", "evaluations", "n_samples",
                   "max_activation", "pattern_groups", "n_clusters", "indicator", "best_cluster",
                   "best_consensus", "best_segment", "best_segment_consensus", "best_segment_quality"]


def _summary_row(info: dict) -> dict:
    segs = [d for c in info["clusters"] for d in c["segments"]]
    top = max(segs, key=lambda d: d["quality"]) if segs else None
    best = info["best_cluster"]
    return {
        "layer": info["layer"], "neuron": info["neuron"], "rf": info["rf"], "method": info["method"],
        "generations": info["generations"], "evaluations": info["evaluations"],
        "n_samples": info["n_samples"], "max_activation": info["max_activation"],
        "pattern_groups": info["pattern_groups"], "n_clusters": len(info["clusters"]),
        "indicator": info["indicator"], "best_cluster": best,
        "best_consensus": info["clusters"][best]["consensus"] if best is not None else "",
        "best_segment": top["motif_id"] if top else "", "best_segment_consensus": top["consensus"] if top else "",
        "best_segment_quality": top["quality"] if top else None,
    }


def write_summary(layer_dir: Path) -> pd.DataFrame:
    """Rebuild ``summary.csv`` from every finished neuron folder of the layer.

    Rebuilt from the ``clusters.json`` files, so it always matches the neuron
    folders present, however many runs wrote them.

    Parameters
    ----------
    layer_dir : Path
        The layer's ``conv<L>`` folder; the CSV is written into it atomically.

    Returns
    -------
    pandas.DataFrame
        One row per finished neuron, sorted by neuron, with :data:`SUMMARY_COLUMNS`:
        ``layer``, ``neuron``, ``rf``, ``method``, ``generations``, ``evaluations``,
        ``n_samples``, ``max_activation``, ``pattern_groups``, ``n_clusters``, ``indicator``,
        ``best_cluster`` (nullable int, empty for a dead neuron), ``best_consensus``,
        ``best_segment``, ``best_segment_consensus``, ``best_segment_quality``.
    """
    rows = []
    for d in layer_dir.glob("neuron*/clusters.json"):
        rows.append(_summary_row(json.loads(d.read_text())))
    df = pd.DataFrame(rows, columns=SUMMARY_COLUMNS).sort_values("neuron", kind="stable").reset_index(drop=True)
    df["best_cluster"] = df["best_cluster"].astype("Int64")   # empty, not NaN, for a dead neuron
    write_text(layer_dir / "summary.csv", df.to_csv(index=False))
    return df


def previous_layer_ppms(discovery_dir: Path, layer: int) -> list[np.ndarray]:
    """Cluster PPMs of every finished neuron of layer ``layer - 1`` (for GA seeding).

    Parameters
    ----------
    discovery_dir : Path
        The model's ``discovery`` folder.
    layer : int
        The layer being discovered (1-based); its lower neighbour's PPMs are read.

    Returns
    -------
    list of numpy.ndarray
        The (W, 4) PPMs of every ``neuron<k>/ppms.meme`` of layer ``layer - 1``, by neuron
        then cluster; empty when that layer has no finished neuron (or does not exist).
    """
    prev = layout.layer_dir(discovery_dir, layer - 1)
    files = sorted(prev.glob("neuron*/ppms.meme"), key=lambda p: int(p.parent.name[len("neuron"):]))
    return [ppm for f in files for _, _, ppm in read_meme(f)]
