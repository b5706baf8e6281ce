"""Batched k-means (combmotif.neuronmotif.kmeans) and the demixing backends that use it."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from torch import nn

from combmotif.config import from_dict
from combmotif.errors import ConfigError
from combmotif.neuronmotif.demix import DemixConfig, demix, demix_many
from combmotif.neuronmotif.discovery_config import DiscoveryConfig
from combmotif.neuronmotif.kmeans import auto_batch_size, kmeans_batched, memory_budget
from combmotif.neuronmotif.stage import discover_layer


def _blobs(seed: int, n: int, k: int = 3, d: int = 6, spread: float = 8.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, spread, (k, d))
    truth = np.arange(n) % k
    x = centres[truth] + rng.normal(0, 0.5, (n, d))
    return x, rng.uniform(0.2, 1.0, n), truth


def _batch(problems):
    n_max = max(len(x) for x, _, _ in problems)
    d = problems[0][0].shape[1]
    x = torch.zeros(len(problems), n_max, d, dtype=torch.float64)
    w = torch.zeros(len(problems), n_max, dtype=torch.float64)
    for b, (xb, wb, _) in enumerate(problems):
        x[b, :len(xb)] = torch.as_tensor(xb)
        w[b, :len(wb)] = torch.as_tensor(wb)
    return x, w, torch.as_tensor([len(p[0]) for p in problems])


def test_recovers_separated_blobs_exactly_and_agrees_with_sklearn():
    problems = [_blobs(s, n) for s, n in ((0, 120), (1, 300), (2, 75))]
    x, w, n = _batch(problems)
    labels, inertia = kmeans_batched(x, w, n, 3, torch.tensor([11, 12, 13]))
    for b, (xb, wb, truth) in enumerate(problems):
        mine = labels[b, :len(xb)].numpy()
        assert adjusted_rand_score(truth, mine) == 1.0
        assert (labels[b, len(xb):] == -1).all()                 # padding has no cluster
        km = KMeans(3, n_init=3, random_state=0).fit(xb, sample_weight=wb)
        assert adjusted_rand_score(km.labels_, mine) >= 0.9
        assert float(inertia[b]) == pytest.approx(km.inertia_, rel=1e-4)


def test_same_seed_same_labels_and_padding_does_not_change_a_problem():
    problems = [_blobs(s, n, k=4) for s, n in ((3, 90), (4, 200), (5, 140))]
    x, w, n = _batch(problems)
    keys = torch.tensor([7, 8, 9])
    a, _ = kmeans_batched(x, w, n, 4, keys)
    b, _ = kmeans_batched(x, w, n, 4, keys)
    assert torch.equal(a, b)
    for i, (xb, wb, _) in enumerate(problems):                  # each problem alone, unpadded
        alone, _ = kmeans_batched(*_batch([problems[i]]), 4, keys[i:i + 1])
        assert torch.equal(alone[0], a[i, :len(xb)])


def test_weights_pull_the_centre_and_zero_weight_rows_never_seed():
    # Two tight groups and a heavy point: with weights the heavy point takes a cluster
    # of its own; with it weightless it joins the nearer group.
    x = np.concatenate([np.zeros((50, 2)), np.full((50, 2), 10.0), [[5.0, 40.0]]])
    heavy = np.r_[np.full(100, 1.0), 1e4]
    lab, _ = kmeans_batched(*_batch([(x, heavy, None)]), 2, torch.tensor([1]))
    assert len(set(lab[0, :100].tolist())) == 1 and lab[0, 100] != lab[0, 0]
    light = np.r_[np.full(100, 1.0), 0.0]
    lab, _ = kmeans_batched(*_batch([(x, light, None)]), 2, torch.tensor([1]))
    assert lab[0, 0] != lab[0, 50]                                # the two groups split


def test_demix_backends_agree_on_separable_features():
    acts, feats, neurons = [], [], [3, 8]
    for j in range(2):
        x, w, _ = _blobs(10 + j, 240, k=2, d=8)
        feats.append(x.astype(np.float32))
        acts.append(w)
    f = [np.concatenate(feats)]
    batched = demix_many(f, acts, [2], 1, DemixConfig(min_cluster_size=20), 0, neurons)
    old = demix_many(f, acts, [2], 1, DemixConfig(min_cluster_size=20, backend="sklearn"), 0, neurons)
    for a, b in zip(batched, old):
        assert [leaf.path for leaf in a] == [leaf.path for leaf in b] == [(0,), (1,)]
        for la, lb in zip(a, b):
            assert np.array_equal(la.index, lb.index)
    # one neuron demixed alone = the same neuron demixed with others
    alone = demix([feats[1]], acts[1], [2], 1, DemixConfig(min_cluster_size=20), 0, neurons[1])
    assert all(np.array_equal(p.index, q.index) for p, q in zip(alone, batched[1]))


def test_config_keys_are_validated():
    base = {"model": {"checkpoint": "m.pth"}}
    cfg = from_dict({**base, "batch_size": "auto", "demix": {"backend": "sklearn"}}, DiscoveryConfig)
    assert cfg.batch_size == "auto" and cfg.demix.backend == "sklearn" and cfg.report.png is False
    assert from_dict(base, DiscoveryConfig).demix.backend == "batched"
    with pytest.raises(ConfigError, match="demix.backend"):
        from_dict({**base, "demix": {"backend": "faiss"}}, DiscoveryConfig)
    with pytest.raises(ConfigError, match="batch_size"):
        from_dict({**base, "batch_size": "big"}, DiscoveryConfig)
    with pytest.raises(ConfigError, match="batch_size"):
        from_dict({**base, "batch_size": 0}, DiscoveryConfig)
    assert auto_batch_size("cpu", 288, 448) == 2048 and memory_budget("cpu") > 0


class _PoolNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv1d(4, 6, 5, padding=2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool1d(2)),
            ("conv2", nn.Conv1d(6, 6, 5, padding=2)), ("relu2", nn.ReLU()),
        ]))
        self.head = nn.Linear(6, 1)

    def forward(self, x):
        return self.head(self.body(x).amax(-1)).squeeze(-1)


@pytest.mark.parametrize("backend", ["batched", "sklearn"])
def test_a_tiny_discovery_runs_with_either_backend(tmp_path, backend):
    torch.manual_seed(0)
    model = _PoolNet().eval()
    cfg = from_dict({"model": {"checkpoint": "unused.pth"}, "name": "tiny", "batch_size": "auto",
                     "layers": {"ind": "0-3"},
                     "sampling": {"population": 16, "max_generations": 4, "patience": 2, "screen": 1024,
                                  "bin_cap": 20},
                     "demix": {"min_cluster_size": 10, "max_pattern_groups": 1, "backend": backend}},
                    DiscoveryConfig)
    summary = discover_layer(model, 2, cfg, tmp_path / "d", progress=False, log=lambda m: None)
    assert list(summary["neuron"]) == [0, 1, 2]
    assert (summary["n_clusters"] >= 1).all()
    discover_layer(model, 2, cfg, tmp_path / "e", progress=False, log=lambda m: None)
    for k in range(3):
        a = (tmp_path / "d" / "conv2" / f"neuron{k}" / "samples.npz").read_bytes()
        assert a == (tmp_path / "e" / "conv2" / f"neuron{k}" / "samples.npz").read_bytes()


def test_png_logos_are_off_by_default_and_drawn_in_the_background(tmp_path):
    from combmotif.report.logos import wait_logo_pngs, write_logo_pngs

    assert DiscoveryConfig.__dataclass_fields__["report"].default_factory().png is False
    ppm = np.full((6, 4), 0.1)
    ppm[np.arange(6), np.arange(6) % 4] = 0.7
    jobs = [(tmp_path / f"l{i}.png", ppm, True, [(1, 3)]) for i in range(8)]
    write_logo_pngs(jobs, workers=2, wait=False)      # returns before the PNGs exist
    assert wait_logo_pngs() == 8
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p, *_ in jobs)
    assert wait_logo_pngs() == 0
