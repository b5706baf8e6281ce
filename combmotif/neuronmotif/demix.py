"""Backward demixing of a neuron's samples over its max-pool inputs (NeuronMotif, step 2).

A neuron of layer L pools over shifted copies of shallower patterns, so its
samples mix several arrangements. The deepest max-pool input below L tells
them apart: k-means (seeded) on the flattened pool input of the cluster's
sequences, weighted by activation, with k = pool size ** P; then each cluster
again on the next shallower pool input, down to the first. A cluster smaller
than ``min_cluster_size`` (or than k) is not split further.

:func:`demix_many` does this for all neurons of a layer together, one pool
level at a time: every cluster of every neuron being split at that level is
one problem of one batched k-means (:mod:`.kmeans`, ``demix.backend:
batched``, on the features' device), or one scikit-learn ``KMeans`` after
another (``demix.backend: sklearn``, the former engine, kept for comparison).

``P`` (pattern groups) is chosen per layer by :func:`accept_pattern_groups`:
start at 1; a neuron's *indicator* is the activation of its best cluster's
PPM consensus over that cluster's max activation; raise P while the layer's
mean indicator is not significantly above 0.95 (one-sided one-sample t-test,
p < 0.1, with >= 10 neurons; the plain mean otherwise).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import torch
from scipy import stats

from ..sequences import codes_to_onehot
from .kmeans import kmeans_batched, memory_budget
from .randomness import stream_key


@dataclass
class DemixConfig:
    """Demixing settings (the ``demix:`` section of a discovery config)."""

    min_cluster_size: int = 50
    adaptive: bool = True
    pattern_groups: int = 1
    max_pattern_groups: int = 3
    indicator_target: float = 0.95
    p_value: float = 0.1
    min_neurons: int = 10
    kmeans_n_init: int = 10
    kmeans_max_iter: int = 100
    backend: Literal["batched", "sklearn"] = "batched"   # k-means engine (see the module doc)

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.pattern_groups < 1 or self.max_pattern_groups < self.pattern_groups:
            raise ValueError("demix.pattern_groups must be >= 1 and <= demix.max_pattern_groups")
        if self.min_cluster_size < 1 or self.kmeans_n_init < 1:
            raise ValueError("demix.min_cluster_size and demix.kmeans_n_init must be >= 1")
        if self.kmeans_max_iter < 1:
            raise ValueError(f"'demix.kmeans_max_iter' must be >= 1; got {self.kmeans_max_iter}")
        if self.backend not in ("batched", "sklearn"):
            raise ValueError(f"'demix.backend' must be batched or sklearn; got {self.backend!r}")


@dataclass
class Leaf:
    """One leaf cluster of a neuron's samples: its branch path and its rows."""

    path: tuple[int, ...]      # branch taken at each pool level, deepest first
    index: np.ndarray          # rows of the neuron's samples


def pool_features(cut: torch.nn.Module, codes: np.ndarray, batch_size: int = 4096) -> list[np.ndarray]:
    """Flattened inputs (A, C_i * L_i) of every pooling layer of ``cut``, shallowest first.

    Parameters
    ----------
    cut : torch.nn.Module
        The model cut at the neuron's layer (:class:`combmotif.models.anatomy.ConvCut`).
    codes : numpy.ndarray
        (A, RF) integer codes of the samples.
    batch_size : int
        Samples per forward pass.

    Returns
    -------
    list of numpy.ndarray
        One (A, C_i * L_i) array per pooling layer.
    """
    return [f.cpu().numpy() for f in layer_pool_features(cut, [codes], batch_size)]


def layer_pool_features(cut: torch.nn.Module, codes: Sequence[np.ndarray],
                        batch_size: int = 4096) -> list[torch.Tensor]:
    """Pool inputs of the samples of many neurons, concatenated, on the cut's device.

    Each neuron's samples are passed in their own chunks (as for one neuron alone),
    so a neuron's features do not depend on which neurons share the call.

    Parameters
    ----------
    cut : torch.nn.Module
        The model cut at the layer (:class:`combmotif.models.anatomy.ConvCut`).
    codes : sequence of numpy.ndarray
        (A_j, RF) integer codes of each neuron's samples.
    batch_size : int
        Samples per forward pass.

    Returns
    -------
    list of torch.Tensor
        One (sum A_j, C_i * L_i) float tensor per pooling layer, shallowest first; the
        rows of neuron j follow those of neurons 0..j-1.
    """
    device = next(iter(cut.buffers())).device
    total = sum(len(c) for c in codes)
    out: list[torch.Tensor] = []
    row = 0
    with torch.no_grad():
        for c in codes:
            t = torch.as_tensor(np.asarray(c), device=device)
            for s in range(0, len(t), batch_size):
                _, pools = cut(codes_to_onehot(t[s:s + batch_size]), return_pool_inputs=True)
                if not out:
                    # Written in place, chunk by chunk: a concatenation at the end would
                    # hold the layer's features twice (gigabytes for a deep layer).
                    out = [torch.empty((total, p[0].numel()), dtype=p.dtype, device=device) for p in pools]
                for o, p in zip(out, pools):
                    o[row:row + len(p)] = p.reshape(len(p), -1)
                row += len(pools[0]) if pools else 0
    return out or [torch.zeros((0, 0), device=device) for _ in cut.pool_sizes]


def demix(features: Sequence[np.ndarray], act: np.ndarray, pool_sizes: Sequence[int], pattern_groups: int,
          cfg: DemixConfig, seed: int, neuron: int) -> list[Leaf]:
    """Split one neuron's samples into leaf clusters, deepest pool first (see module doc).

    Children of a split are ordered by their best activation, so path (0, 0, ...)
    always follows the strongest branch.

    Parameters
    ----------
    features : sequence of numpy.ndarray or torch.Tensor
        :func:`pool_features` of the samples.
    act : numpy.ndarray
        (A,) activations, the k-means sample weights.
    pool_sizes : sequence of int
        Pool size of each pooling layer, shallowest first.
    pattern_groups : int
        Exponent of the number of clusters per split (``pool_size ** pattern_groups``).
    cfg : DemixConfig
        Minimum cluster size, k-means settings and backend.
    seed : int
        Run seed.
    neuron : int
        The neuron (part of each split's seed).

    Returns
    -------
    list of Leaf
        The leaf clusters, strongest branch first.
    """
    return demix_many(list(features), [act], pool_sizes, pattern_groups, cfg, seed, [neuron])[0]


def demix_many(features: Sequence, acts: Sequence[np.ndarray], pool_sizes: Sequence[int], pattern_groups: int,
               cfg: DemixConfig, seed: int, neurons: Sequence[int]) -> list[list[Leaf]]:
    """Demix many neurons at once, one pool level at a time (deepest first).

    The tree is :func:`demix`'s; each pool level's splits of all neurons are one
    batched k-means (``cfg.backend``). A split's random stream depends only on the
    seed, the neuron and the branch path, so a neuron's leaves do not depend on
    the other neurons of the call.

    Parameters
    ----------
    features : sequence of numpy.ndarray or torch.Tensor
        Per pool level (shallowest first), the (sum A_j, F) features of all neurons'
        samples, neuron after neuron (:func:`layer_pool_features`).
    acts : sequence of numpy.ndarray
        (A_j,) activations of each neuron's samples (the weights).
    pool_sizes : sequence of int
        Pool size of each pooling layer, shallowest first.
    pattern_groups : int
        Exponent of the clusters per split.
    cfg : DemixConfig
        Minimum cluster size, k-means settings and backend.
    seed : int
        Run seed.
    neurons : sequence of int
        The neuron of each ``acts`` entry.

    Returns
    -------
    list of list of Leaf
        Each neuron's leaves, strongest branch first (depth-first order of the tree).
    """
    acts = [np.asarray(a, dtype=np.float64) for a in acts]
    offsets = np.concatenate([[0], np.cumsum([len(a) for a in acts])]).astype(np.int64)
    frontier = [(j, np.arange(len(a)), ()) for j, a in enumerate(acts) if len(a)]
    leaves: list[list[Leaf]] = [[] for _ in acts]
    for lvl in range(len(pool_sizes) - 1, -1, -1):
        k = int(pool_sizes[lvl]) ** pattern_groups
        if k < 2:
            continue
        todo = []
        for j, index, path in frontier:
            if len(index) < max(cfg.min_cluster_size, k):
                leaves[j].append(Leaf(path, index))
            else:
                todo.append((j, index, path))
        keys = [stream_key(seed, neurons[j], len(path), *path) for j, _, path in todo]
        rows = [offsets[j] + index for j, index, _ in todo]
        weights = [acts[j][index] for j, index, _ in todo]
        labels = _split_level(features[lvl], rows, weights, keys, k, cfg)
        frontier = []
        for (j, index, path), lab, w in zip(todo, labels, weights):
            best = np.full(k, -np.inf)
            np.maximum.at(best, lab, w)
            order = [c for c in np.argsort(-best, kind="stable") if np.isfinite(best[c])]
            frontier.extend((j, index[lab == c], path + (rank,)) for rank, c in enumerate(order))
    for j, index, path in frontier:
        leaves[j].append(Leaf(path, index))
    # Depth-first order of the recursive tree = lexicographic order of the paths.
    return [sorted(ls, key=lambda leaf: leaf.path) for ls in leaves]


def _split_level(feats, rows: list[np.ndarray], weights: list[np.ndarray], keys: list[int], k: int,
                 cfg: DemixConfig) -> list[np.ndarray]:
    """Labels of each problem's rows: one k-means per problem (sklearn) or batched chunks."""
    if not rows:
        return []
    if cfg.backend == "sklearn":
        return [_sklearn_labels(_rows_numpy(feats, r), w, k, key, cfg) for r, w, key in zip(rows, weights, keys)]
    feats = torch.as_tensor(feats) if isinstance(feats, np.ndarray) else feats
    device = feats.device
    width = max(1, feats.shape[1])
    item = 4   # float32
    budget = memory_budget(device)
    out: list[np.ndarray | None] = [None] * len(rows)
    by_size = sorted(range(len(rows)), key=lambda i: -len(rows[i]))   # little padding per chunk
    start = 0
    while start < len(by_size):
        n_max = len(rows[by_size[start]])
        # the points, their gathered copy, and the distances of all restarts
        per = n_max * (2 * width + 3 * cfg.kmeans_n_init * k * 4) * item
        chunk = by_size[start:start + max(1, budget // per)]
        start += len(chunk)
        index = torch.zeros(len(chunk), n_max, dtype=torch.int64)
        w = torch.zeros(len(chunk), n_max, dtype=torch.float64)
        for b, i in enumerate(chunk):
            index[b, :len(rows[i])] = torch.as_tensor(rows[i])
            w[b, :len(rows[i])] = torch.as_tensor(weights[i])
        n = torch.as_tensor([len(rows[i]) for i in chunk], device=device)
        key = torch.as_tensor([keys[i] for i in chunk], dtype=torch.int64, device=device)
        labels, _ = kmeans_batched(feats[index.to(device)], w.to(device), n, k, key,
                                   cfg.kmeans_n_init, cfg.kmeans_max_iter)
        labels = labels.cpu().numpy()
        for b, i in enumerate(chunk):
            out[i] = labels[b, :len(rows[i])]
    return out


def _rows_numpy(feats, rows: np.ndarray) -> np.ndarray:
    if isinstance(feats, torch.Tensor):
        return feats[torch.as_tensor(rows, device=feats.device)].cpu().numpy()
    return np.asarray(feats)[rows]


def _sklearn_labels(x: np.ndarray, w: np.ndarray, k: int, key: int, cfg: DemixConfig) -> np.ndarray:
    """scikit-learn's KMeans on one problem (the former engine)."""
    from sklearn.cluster import KMeans  # import here: sklearn is slow to import
    from threadpoolctl import threadpool_limits

    km = KMeans(n_clusters=k, n_init=cfg.kmeans_n_init, max_iter=cfg.kmeans_max_iter,
                random_state=key & 0x7FFFFFFF)
    # One thread: k-means on a few thousand points gains nothing from more, and
    # sklearn's OpenMP pool fighting torch's for two cores made it 10x slower.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # duplicate points -> fewer distinct clusters: fine
        return km.fit_predict(x, sample_weight=w)


def accept_pattern_groups(indicators: Sequence[float], cfg: DemixConfig) -> tuple[bool, dict]:
    """Is the layer's mean indicator significantly above ``indicator_target``?

    One-sided one-sample t-test over neurons (the unit of replication) when at
    least ``min_neurons`` neurons have an indicator; the plain mean otherwise.

    Parameters
    ----------
    indicators : sequence of float
        One indicator per neuron (non-finite ones are ignored).
    cfg : DemixConfig
        Target, p-value threshold and minimum number of neurons.

    Returns
    -------
    tuple
        Whether to accept, and a dict describing the test (``n``, ``mean``, ``test``,
        ``statistic``, ``p``).
    """
    x = np.asarray([v for v in indicators if np.isfinite(v)], dtype=np.float64)
    info = {"n": int(len(x)), "mean": float(x.mean()) if len(x) else float("nan"),
            "test": None, "statistic": None, "p": None}
    if len(x) == 0:
        return True, info
    if len(x) >= cfg.min_neurons and np.ptp(x) > 0:
        res = stats.ttest_1samp(x, cfg.indicator_target, alternative="greater")
        info.update(test="one-sided one-sample t-test", statistic=float(res.statistic), p=float(res.pvalue))
        return bool(res.pvalue < cfg.p_value), info
    info["test"] = "mean"
    return bool(x.mean() > cfg.indicator_target), info
