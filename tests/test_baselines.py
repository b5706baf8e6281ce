"""Baselines (max-activation seqlets, TF-MoDISco, class optimization) and the method comparison.

A tiny two-layer CNN is trained in the module fixture (about a second) on
random 50-nt sequences where a planted 6-mer raises the label; every
baseline must find that 6-mer.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from combmotif.baselines.class_optimization import (
    ClassOptConfig,
    optimize_inputs,
    project_simplex,
    relaxed_to_ppm,
    run_class_optimization,
)
from combmotif.baselines.common import codes_ppm, output_fn, unit_dir
from combmotif.baselines.compare import Comparison
from combmotif.baselines.compare_config import CompareConfig
from combmotif.baselines.compare_tables import paired_tests
from combmotif.baselines.contributions import gradient_contributions, ism_contributions
from combmotif.baselines.max_seqlet import MaxSeqletConfig, archive_seqlets, dataset_seqlets, run_max_seqlet
from combmotif.baselines.modisco import ModiscoConfig, modisco_sizes, modisco_unit
from combmotif.config import from_dict
from combmotif.data.planting import plant, scan, write_meme
from combmotif.errors import ConfigError
from combmotif.models.anatomy import Anatomy
from combmotif.models.loader import LoadedModel
from combmotif.motifs.formats import consensus
from combmotif.motifs.match import load_neuron
from combmotif.report.compare_page import compare
from combmotif.sequences import indices_to_one_hot
from combmotif.validation.discovery import recovery_wide
from combmotif.validation.recovered import motif_identity

MOTIF = "TGCAGT"
LENGTH = 50


class TwoLayerCNN(nn.Module):
    """conv1 (k5) - relu - maxpool 2 - conv2 (k3) - relu, global max, linear: conv2 RF = 10."""

    def __init__(self, filters: int = 8):
        super().__init__()
        self.body = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv1d(4, filters, 5, padding="same")), ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool1d(2)),
            ("conv2", nn.Conv1d(filters, filters, 3, padding="same")), ("relu2", nn.ReLU())]))
        self.head = nn.Linear(filters, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).amax(-1)).squeeze(-1)


def train_planted(n: int = 2000, seed: int = 0) -> dict:
    """Random 50-nt sequences, MOTIF planted in 40 %, label = presence + noise; the fitted model."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, LENGTH)).astype(np.int8)
    has = rng.random(n) < 0.4
    plant(codes, np.flatnonzero(has), rng.integers(0, LENGTH - len(MOTIF), has.sum()), MOTIF, rng)
    y = scan(codes, MOTIF).any(1) * 1.0 + rng.normal(0, 0.1, n)
    X = indices_to_one_hot(codes)
    torch.manual_seed(seed)
    model = TwoLayerCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    Xt = torch.from_numpy(X)
    zt = torch.from_numpy(((y - y.mean()) / y.std()).astype(np.float32))
    gen = torch.Generator().manual_seed(seed)
    for _ in range(15):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, 128):
            idx = perm[i:i + 128]
            loss = nn.functional.mse_loss(model(Xt[idx]), zt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        pred = model(Xt).numpy()
    return {"X": X, "codes": codes, "y": y, "model": model, "r": float(np.corrcoef(pred, y)[0, 1])}


@pytest.fixture(scope="module")
def planted():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # a tiny model on shared cores: more threads only contend
    try:
        data = train_planted()
        assert data["r"] > 0.9, "the tiny model did not learn the planted motif"
        yield data
    finally:
        torch.set_num_threads(threads)


def _contains(cons: str, motif: str = MOTIF) -> bool:
    return motif in cons


# --------------------------------------------------------------------------- max-activation seqlets


def test_max_seqlet_windows_are_the_neurons_best_and_find_the_motif(planted):
    model, X = planted["model"], planted["X"]
    s = dataset_seqlets(model, X, 2, top_n=50)
    assert s.codes.shape == (8, 50, 10) and s.act.shape == (8, 50)
    assert np.all(np.diff(s.act, axis=1) <= 0), "windows must come strongest first"
    # Each interior window, cut out and fed alone to the conv2 sub-model, gives the recorded value.
    cut = Anatomy(model).cut(2)
    inside = (s.codes < 4).all(-1)
    c, j = np.nonzero(inside)
    with torch.no_grad():
        vals = cut(torch.from_numpy(indices_to_one_hot(s.codes[c, j])))[torch.arange(len(c)), torch.from_numpy(c)]
    np.testing.assert_allclose(vals.numpy(), s.act[c, j], rtol=1e-4, atol=1e-4)
    # The neuron's maximum over the set is the first window's value.
    np.testing.assert_allclose(s.neuron_max, s.act[:, 0])
    cons = [consensus(p.ppm) for p in s.patterns() if p is not None]
    assert any(_contains(cc) for cc in cons), cons


def test_max_seqlet_threshold_and_top_n(planted):
    s = dataset_seqlets(planted["model"], planted["X"], 2, neurons=[0, 3, 5], top_n=40, threshold=0.5)
    assert s.keep.shape == (3, 40)
    for c in range(3):
        kept = s.act[c][s.keep[c]]
        assert len(kept) <= 40
        assert np.all(kept >= 0.5 * s.neuron_max[c]) and np.all(kept > 0)
        # Everything not kept among the top 40 is below the cut.
        dropped = s.act[c][~s.keep[c]]
        assert np.all((dropped < 0.5 * s.neuron_max[c]) | (dropped <= 0))


def test_archive_seqlets_stack_top_sequences(tmp_path):
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 4, (300, 7)).astype(np.int8)
    act = rng.random(300).astype(np.float32)
    s = archive_seqlets(codes, act, layer=3, neuron=2, top_n=20)
    top = np.argsort(-act)[:20]
    np.testing.assert_array_equal(s.codes[0], codes[top])
    pat = s.patterns(pseudocount=1.0)[0]
    counts = np.stack([(codes[top] == b).sum(0) for b in range(4)], 1)
    np.testing.assert_allclose(pat.ppm, (counts + 1) / (20 + 4))
    # From a samples.npz via the driver, into a unit folder the matching step reads.
    disc = tmp_path / "discovery"
    (disc / "conv3" / "neuron2").mkdir(parents=True)
    np.savez(disc / "conv3" / "neuron2" / "samples.npz", codes=codes, act=act)
    rec = run_max_seqlet(None, 3, tmp_path / "max_seqlet", MaxSeqletConfig(source="samples", top_n=20), [2],
                         discovery_dir=disc)
    assert rec["computed"] == 1
    nr = load_neuron(unit_dir(tmp_path / "max_seqlet", 3, 2))
    assert len(nr.ppms) == 1 and nr.ppms[0].nsites == 20
    np.testing.assert_allclose(nr.ppms[0].ppm, pat.ppm, atol=1e-6)


def test_codes_ppm_ignores_positions_outside_the_sequence():
    codes = np.array([[0, 1, 4], [0, 2, 4]])
    ppm = codes_ppm(codes, pseudocount=0.0)
    np.testing.assert_allclose(ppm, [[1, 0, 0, 0], [0, 0.5, 0.5, 0], [0.25] * 4])


# --------------------------------------------------------------------------- TF-MoDISco


def test_modisco_sizes_follow_the_input_length():
    short, long_ = modisco_sizes(50), modisco_sizes(400)
    assert (long_["sliding_window_size"], long_["flank_size"], long_["trim_to_window_size"]) == (21, 10, 30)
    assert short["sliding_window_size"] + 2 * short["flank_size"] < 50
    assert short["sliding_window_size"] % 2 == 1


def test_contributions_gradient_and_ism(planted):
    model, X = planted["model"], planted["X"][:6]
    fn = output_fn(model, 4)
    f = lambda x: fn(x)[:, 0]  # noqa: E731
    g = gradient_contributions(f, X, batch_size=4)
    assert g.shape == (6, LENGTH, 4)
    np.testing.assert_allclose(g.mean(-1), 0, atol=1e-6)
    h = ism_contributions(f, X[:2], batch_size=64)
    # The same effect of one substitution, computed by hand.
    x = torch.from_numpy(X[:2].copy())
    with torch.no_grad():
        ref = f(x)
        for l, b in ((0, 2), (17, 1), (49, 3)):
            v = x.clone()
            v[:, :, l] = 0
            v[:, b, l] = 1
            delta = f(v) - ref
            # h is centred: differences between bases are what ISM fixes.
            base = x[:, :, l].argmax(1)
            np.testing.assert_allclose(h[[0, 1], l, b] - h[[0, 1], l, base.numpy()], delta.numpy(), atol=1e-5)
    # A position without a base (padding): all four bases are substitutions.
    gap = X[:1].copy()
    gap[:, :, 5] = 0
    h = ism_contributions(f, gap)
    with torch.no_grad():
        ys = []
        for b in range(4):
            v = torch.from_numpy(gap.copy())
            v[:, b, 5] = 1
            ys.append(float(f(v)[0]))
    np.testing.assert_allclose(h[0, 5], np.array(ys) - np.mean(ys), atol=1e-5)


def test_modisco_finds_the_planted_motif_on_50nt(planted):
    cfg = ModiscoConfig(min_metacluster_size=20, n_leiden_runs=1, nearest_neighbors=50, max_seqlets=300)
    model = planted["model"]
    fn = output_fn(model, 4)
    pats, info = modisco_unit(lambda x: fn(x)[:, 0], planted["X"][:500], cfg)
    assert info["n_positive_patterns"] >= 1
    pos = [p for p in pats if p.sign > 0]
    assert pos, "no positive pattern exported"
    for p in pats:
        np.testing.assert_allclose(p.pattern.ppm.sum(1), 1)
        assert p.pattern.size == len(p.example) and not p.revcomp.any()
    assert any(_contains(consensus(p.pattern.ppm)) for p in pos), [consensus(p.pattern.ppm) for p in pos]
    # modisco-lite seeds its own random steps: a second run gives the same patterns and seqlets.
    again, _ = modisco_unit(lambda x: fn(x)[:, 0], planted["X"][:500], cfg)
    assert len(again) == len(pats)
    for a, b in zip(pats, again):
        np.testing.assert_array_equal(a.pattern.ppm, b.pattern.ppm)
        np.testing.assert_array_equal(a.start, b.start)


# --------------------------------------------------------------------------- class optimization


def test_project_simplex():
    S = torch.tensor([[[0.2], [0.9], [-0.3], [0.5]], [[5.0], [0.0], [0.0], [0.0]]])
    P = project_simplex(S)
    np.testing.assert_allclose(P.sum(1).numpy(), 1, atol=1e-6)
    assert (P >= 0).all()
    # Known projection: shift by tau = 0.2 for [0.2, 0.9, -0.3, 0.5] (0.7 + 0.3 = 1).
    np.testing.assert_allclose(P[0, :, 0].numpy(), [0.0, 0.7, 0.0, 0.3], atol=1e-6)
    np.testing.assert_allclose(P[1, :, 0].numpy(), [1, 0, 0, 0])


def test_class_optimization_recovers_the_motif_and_is_deterministic(planted, tmp_path):
    model = planted["model"]
    cfg = ClassOptConfig(restarts=8, steps=300, lr=0.05, l2=0.0, constraint="simplex", init_noise=0.25,
                         output=False)
    recs = run_class_optimization(model, tmp_path / "a", cfg, [2], lambda L, n: range(n), 4, LENGTH, seed=3)
    assert recs[0]["computed"] == 8
    found = []
    for k in range(8):
        nr = load_neuron(unit_dir(tmp_path / "a", 2, k))
        ppm = nr.ppms[0].ppm
        assert ppm.shape == (10, 4)
        np.testing.assert_allclose(ppm.sum(1), 1, atol=1e-5)
        assert (ppm > 0).all() and (ppm < 1).all()
        found.append(nr.ppms[0].consensus)
    # The neurons whose best data windows carry the motif (max-activation seqlets) ...
    s = dataset_seqlets(model, planted["X"], 2, top_n=50)
    detectors = [k for k, p in enumerate(s.patterns()) if p is not None and _contains(consensus(p.ppm))]
    assert detectors
    # ... are optimised to the motif (at least five of its six bases in a row: a relaxed optimum
    # may shift it by one, as a pooled neuron sees it in two phases).
    hits = [k for k in detectors if MOTIF[1:] in found[k] or MOTIF[:-1] in found[k]]
    assert hits and all(motif_identity(MOTIF, found[k])[0] >= 5 / 6 for k in hits), (found, detectors)
    # Same seed -> same files; another neuron subset does not change a neuron's result.
    run_class_optimization(model, tmp_path / "b", cfg, [2], lambda L, n: [3, 5], 4, LENGTH, seed=3)
    for k in (3, 5):
        for f in ("clusters.json", "ppms.meme", "segments.meme"):
            a, b = (unit_dir(tmp_path / d, 2, k) / f for d in ("a", "b"))
            assert a.read_bytes() == b.read_bytes()
    S1 = optimize_inputs(output_fn(model, 4), [0], LENGTH, ClassOptConfig(restarts=2, steps=5), seed=1)[0]
    S2 = optimize_inputs(output_fn(model, 4), [0], LENGTH, ClassOptConfig(restarts=2, steps=5), seed=2)[0]
    assert not np.allclose(S1, S2)


def test_class_optimization_reaches_the_best_kmer_of_a_linear_filter(planted):
    # conv1 before its ReLU is linear in the input: on the simplex its maximum is the best 5-mer.
    cut = Anatomy(planted["model"]).cut(1)
    S, _, score = optimize_inputs(cut, range(8), 5, ClassOptConfig(restarts=4, steps=200, constraint="simplex",
                                                                   l2=0.0, init_noise=0.25), seed=0)
    every = torch.from_numpy(indices_to_one_hot(np.indices((4,) * 5).reshape(5, -1).T.astype(np.int8)))
    with torch.no_grad():
        best = cut(every).max(0).values.numpy()
    assert np.all(score.max(1) >= 0.98 * best) and np.all(score.max(1) <= best + 1e-5)
    # The consensus of the optimum is (within 2 %) the best 5-mer itself.
    cons = S[np.arange(8), score.argmax(1)].argmax(1)                       # (8, 5) base codes
    with torch.no_grad():
        at = cut(torch.from_numpy(indices_to_one_hot(cons.astype(np.int8))))[torch.arange(8), torch.arange(8)]
    assert np.all(at.numpy() >= 0.98 * best)


def test_class_optimization_clip_stays_in_unit_box(planted):
    model = planted["model"]
    cut = Anatomy(model).cut(2)
    S, obj, score = optimize_inputs(cut, [0, 1], 10, ClassOptConfig(restarts=3, steps=30, l2=0.05), seed=0)
    assert S.shape == (2, 3, 4, 10) and S.min() >= 0 and S.max() <= 1
    np.testing.assert_allclose(obj, score - 0.05 * (S ** 2).sum((2, 3)), rtol=1e-4, atol=1e-4)
    ppm = relaxed_to_ppm(S, 0.05)
    np.testing.assert_allclose(ppm.sum(-1), 1)


# --------------------------------------------------------------------------- comparison


def test_paired_tests_need_five_pairs():
    best = pd.DataFrame({"method": ["neuronmotif"] * 6 + ["max_seqlet"] * 6,
                         "group": list(range(6)) * 2,
                         "neglog10_q": [5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5, 6.5]})
    t = paired_tests(best, ["neuronmotif", "max_seqlet"])
    both = t[t["set"] == "both"].iloc[0]
    assert both["n"] == 6 and both["median_difference"] == pytest.approx(4.0) and both["p"] < 0.05
    t3 = paired_tests(best[best["group"] < 4], ["neuronmotif", "max_seqlet"])
    assert np.isnan(t3["p"]).all()


def test_compare_end_to_end(planted, tmp_path):
    truth_dir = tmp_path / "set"
    truth_dir.mkdir()
    motif = {"name": "plantedA", "consensus": MOTIF}
    (truth_dir / "truth.json").write_text(json.dumps({"motifs": [motif]}))
    write_meme(truth_dir / "planted.meme", [motif])
    cfg = from_dict({
        "model": {"checkpoint": str(tmp_path / "unused.pth")}, "name": "tiny", "results_dir": str(tmp_path / "res"),
        "layers": [2], "truth": str(truth_dir / "truth.json"), "motif_db": "planted+curated",
        "match": {"tomtom_backend": "memelite", "n_jobs": 1},
        "methods": {"modisco": {"enabled": False},
                    "neuronmotif": {"run": True},
                    "max_seqlet": {"top_n": 100},
                    "class_optimization": {"restarts": 8, "steps": 150, "l2": 0.0, "constraint": "simplex",
                                           "init_noise": 0.25}},
    }, CompareConfig)
    loaded = LoadedModel(planted["model"], "tiny", 4, LENGTH)
    comp = Comparison(cfg, log=lambda m: None, loaded=loaded, data=planted["X"])
    records = comp.run()
    assert {r["method"] for r in records} == {"neuronmotif", "max_seqlet", "class_optimization"}
    tables = compare(comp, records)
    out = tmp_path / "res" / "tiny" / "compare"
    for f in ("index.html", "best_q.png", "overlap.png", "counts.csv", "recovery.csv", "runtime.csv"):
        assert (out / f).is_file(), f
    rec = tables["recovery"].set_index("method")
    assert rec.loc["neuronmotif", "recovered"] and rec.loc["max_seqlet", "recovered"]
    counts = tables["counts"].set_index("method")
    assert list(counts.index) == ["neuronmotif", "max_seqlet", "class_optimization"]
    # A method that recovered the planted motif through Tomtom counts its group as matched.
    for m in rec.index[(rec["by"].str.contains("tomtom")).to_numpy()]:
        if rec.loc[m, "best_q"] < cfg.significance:
            assert counts.loc[m, "all layers"] >= 1
    page = (out / "index.html").read_text()
    assert "Planted motifs recovered" in page and "best_q.png" in page and "plantedA" in page
    assert recovery_wide(tables["recovery"]).loc["recovered"].str.endswith("/ 1").all()
    rt = tables["runtime"].set_index(["method", "layer"])
    assert rt.loc[("max_seqlet", "conv2"), "seconds"] > 0
    # Re-running the comparison on the same folders gives the same tables.
    before = (out / "recovery.csv").read_text(), (out / "counts.csv").read_text()
    compare(Comparison(cfg, log=lambda m: None, loaded=loaded, data=planted["X"]))
    assert ((out / "recovery.csv").read_text(), (out / "counts.csv").read_text()) == before
    # A rerun with the same weights reuses every unit; other weights redo them.
    again = Comparison(cfg, log=lambda m: None, loaded=loaded, data=planted["X"]).run()
    assert all(r["computed"] == 0 for r in again), again
    import copy
    other = copy.deepcopy(planted["model"])
    with torch.no_grad():
        next(other.parameters()).mul_(1.1)
    msgs = []
    redone = Comparison(cfg, log=msgs.append, loaded=LoadedModel(other, "tiny", 4, LENGTH),
                        data=planted["X"]).run()
    assert {r["method"] for r in redone if r["computed"]} == {"neuronmotif", "max_seqlet",
                                                              "class_optimization"}
    assert any("redoing them" in m for m in msgs)


def test_compare_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="layers"):
        from_dict({"model": {"checkpoint": "x.pth"}, "layers": []}, CompareConfig)
    with pytest.raises(ConfigError, match="modisco target"):
        from_dict({"model": {"checkpoint": "x.pth"}, "layers": [1],
                   "methods": {"modisco": {"targets": ["conv"]}}}, CompareConfig)
    with pytest.raises(ConfigError, match="unknown key 'methods.max_seqlet.topn'"):
        from_dict({"model": {"checkpoint": "x.pth"}, "layers": [1],
                   "methods": {"max_seqlet": {"topn": 5}}}, CompareConfig)
