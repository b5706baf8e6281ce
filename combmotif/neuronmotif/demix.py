"""Backward demixing of a neuron's samples over its max-pool inputs (NeuronMotif, step 2).

A neuron of layer L pools over shifted copies of shallower patterns, so its
samples mix several arrangements. The deepest max-pool input below L tells
them apart: k-means (scikit-learn, seeded) on the flattened pool input of the
cluster's sequences, weighted by activation, with k = pool size ** P; then
each cluster again on the next shallower pool input, down to the first. A
cluster smaller than ``min_cluster_size`` (or than k) is not split further.

``P`` (pattern groups) is chosen per layer by :func:`accept_pattern_groups`:
start at 1; a neuron's *indicator* is the activation of its best cluster's
PPM consensus over that cluster's max activation; raise P while the layer's
mean indicator is not significantly above 0.95 (one-sided one-sample t-test,
p < 0.1, with >= 10 neurons; the plain mean otherwise).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from scipy import stats

from ..sequences import codes_to_onehot
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
    kmeans_n_init: int = 3
    kmeans_max_iter: int = 100

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.pattern_groups < 1 or self.max_pattern_groups < self.pattern_groups:
            raise ValueError("demix.pattern_groups must be >= 1 and <= demix.max_pattern_groups")
        if self.min_cluster_size < 1 or self.kmeans_n_init < 1:
            raise ValueError("demix.min_cluster_size and demix.kmeans_n_init must be >= 1")


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
    device = next(iter(cut.buffers())).device
    n_pools = len(cut.pool_sizes)
    chunks: list[list[np.ndarray]] = [[] for _ in range(n_pools)]
    t = torch.as_tensor(codes, device=device)
    with torch.no_grad():
        for s in range(0, len(t), batch_size):
            _, pools = cut(codes_to_onehot(t[s:s + batch_size]), return_pool_inputs=True)
            for i, p in enumerate(pools):
                chunks[i].append(p.reshape(len(p), -1).cpu().numpy())
    return [np.concatenate(c) if c else np.zeros((0, 0), np.float32) for c in chunks]


def demix(features: Sequence[np.ndarray], act: np.ndarray, pool_sizes: Sequence[int], pattern_groups: int,
          cfg: DemixConfig, seed: int, neuron: int) -> list[Leaf]:
    """Split samples into leaf clusters, deepest pool first (see module doc).

    Children of a split are ordered by their best activation, so path (0, 0, ...)
    always follows the strongest branch.

    Parameters
    ----------
    features : sequence of numpy.ndarray
        :func:`pool_features` of the samples.
    act : numpy.ndarray
        (A,) activations, the k-means sample weights.
    pool_sizes : sequence of int
        Pool size of each pooling layer, shallowest first.
    pattern_groups : int
        Exponent of the number of clusters per split (``pool_size ** pattern_groups``).
    cfg : DemixConfig
        Minimum cluster size and k-means settings.
    seed : int
        Run seed.
    neuron : int
        The neuron (part of each split's seed).

    Returns
    -------
    list of Leaf
        The leaf clusters, strongest branch first.
    """
    from sklearn.cluster import KMeans  # import here: sklearn is slow to import
    from threadpoolctl import threadpool_limits

    act = np.asarray(act, dtype=np.float64)
    levels = list(range(len(pool_sizes) - 1, -1, -1))

    def split(index: np.ndarray, depth: int, path: tuple[int, ...]) -> list[Leaf]:
        if depth == len(levels):
            return [Leaf(path, index)]
        lvl = levels[depth]
        k = int(pool_sizes[lvl]) ** pattern_groups
        if k < 2:
            return split(index, depth + 1, path)
        if len(index) < max(cfg.min_cluster_size, k):
            return [Leaf(path, index)]
        x = features[lvl][index]
        rs = stream_key(seed, neuron, len(path), *path) & 0x7FFFFFFF
        km = KMeans(n_clusters=k, n_init=cfg.kmeans_n_init, max_iter=cfg.kmeans_max_iter, random_state=rs)
        # One thread: k-means on a few thousand points gains nothing from more, and
        # sklearn's OpenMP pool fighting torch's for two cores made it 10x slower.
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")  # duplicate points -> fewer distinct clusters: fine
            labels = km.fit_predict(x, sample_weight=act[index])
        best = np.full(k, -np.inf)
        np.maximum.at(best, labels, act[index])
        order = [c for c in np.argsort(-best, kind="stable") if np.isfinite(best[c])]
        leaves: list[Leaf] = []
        for rank, c in enumerate(order):
            leaves.extend(split(index[labels == c], depth + 1, path + (rank,)))
        return leaves

    if len(act) == 0:
        return []
    return split(np.arange(len(act)), 0, ())


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
