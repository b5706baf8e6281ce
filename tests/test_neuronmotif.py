"""NeuronMotif engine: sampling, demixing, PPMs, outputs, resume, determinism, recovery."""

import json
import runpy
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from combmotif.checkpoint import save_checkpoint
from combmotif.config import from_dict
from combmotif.errors import ConfigError
from combmotif.models.anatomy import Anatomy
from combmotif.models.saluki import SalukiModel
from combmotif.motifs.formats import information_content, read_meme
from combmotif.neuronmotif.archive import Archive, cap_bins
from combmotif.neuronmotif.demix import DemixConfig, accept_pattern_groups, demix
from combmotif.neuronmotif.discovery_config import DiscoveryConfig, load_discovery_config
from combmotif.neuronmotif.ppm import PPMConfig, find_segments, format_meme, laplace, smooth, weighted_ppm
from combmotif.neuronmotif.sample import SamplingConfig, enumerate_layer, evolve_layer, screening_pool
from combmotif.neuronmotif.stage import discover_layer
from combmotif.validation.discovery import recovery_table
from combmotif.validation.recovered import find_in, motif_identity

ROOT = Path(__file__).resolve().parents[1]
MOTIF = "TGTAAATA"
DNA = "ACGT"


class PoolCNN(nn.Module):
    """conv k5 -> ReLU -> max-pool 2 -> conv k5 -> ReLU, global max, linear: conv2 has RF 14."""

    def __init__(self, filters: int = 8):
        super().__init__()
        self.body = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv1d(4, filters, 5, padding=2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool1d(2)),
            ("conv2", nn.Conv1d(filters, filters, 5, padding=2)), ("relu2", nn.ReLU()),
        ]))
        self.head = nn.Linear(filters, 1)

    def forward(self, x):
        return self.head(self.body(x).amax(-1)).squeeze(-1)


def _onehot(codes: np.ndarray) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.as_tensor(codes, dtype=torch.long), 4).transpose(1, 2).float()


@pytest.fixture(scope="module")
def trained():
    """PoolCNN trained (a few seconds) to detect MOTIF planted in half of 2,000 random 50-mers."""
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    codes = rng.integers(0, 4, (2000, 50))
    y = rng.random(2000) < 0.5
    starts = rng.integers(0, 42, 2000)
    motif = np.array([DNA.index(c) for c in MOTIF])
    rows = np.flatnonzero(y)
    codes[rows[:, None], starts[rows, None] + np.arange(8)] = motif
    x, t = _onehot(codes), torch.as_tensor(y, dtype=torch.float32)
    model = PoolCNN()
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(12):
        for b in torch.randperm(2000).split(100):
            opt.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(model(x[b]), t[b]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = ((model(x) > 0) == t.bool()).float().mean().item()
    assert acc > 0.95, acc
    return model


def _cfg(**sampling) -> DiscoveryConfig:
    s = dict(population=32, max_generations=25, patience=5, screen=4096, bin_cap=40)
    s.update(sampling)
    return from_dict({"model": {"checkpoint": "unused.pth"}, "name": "tiny", "sampling": s,
                      "demix": {"min_cluster_size": 30, "max_pattern_groups": 2}}, DiscoveryConfig)


# --------------------------------------------------------------------------- sampling


def test_enumeration_finds_the_best_kmer_of_a_layer1_filter():
    torch.manual_seed(0)
    model = SalukiModel(4, 50, 1, filters=8).eval()
    cut = Anatomy(model).cut(1)
    out = enumerate_layer(cut, [0, 3], SamplingConfig(bin_cap=10), seed=0)
    w = model.body.conv1.weight.detach().numpy()                # (8, 4, 5), no bias
    for s in out:
        best = w[s.neuron].argmax(0)
        assert np.array_equal(s.codes[0], best)                 # archive is best first
        assert s.act[0] == pytest.approx(w[s.neuron].max(0).sum(), rel=1e-5)
        assert (s.act > 0).all() and len(s.act) <= 20 * 10
        assert len({r.tobytes() for r in s.codes}) == len(s.codes)   # unique


def test_batched_sampler_equals_one_neuron_at_a_time(trained):
    cut = Anatomy(trained).cut(2)
    cfg = _cfg().sampling
    batched = evolve_layer(cut, list(range(8)), cfg, seed=3, layer=2)
    for k in (1, 6):
        alone = evolve_layer(cut, [k], cfg, seed=3, layer=2)[0]
        assert alone.generations == batched[k].generations
        assert np.array_equal(alone.codes, batched[k].codes)
        np.testing.assert_array_equal(alone.act, batched[k].act)


def test_ga_reaches_the_planted_optimum(trained):
    """The best sequence the GA finds for the motif neuron contains the motif."""
    cut = Anatomy(trained).cut(2)
    out = evolve_layer(cut, list(range(8)), _cfg().sampling, seed=0, layer=2)
    best = ["".join(DNA[c] for c in s.codes[0]) for s in out if len(s.act)]
    assert any(MOTIF in b for b in best), best
    for s in out:
        assert s.method == "ga" and s.generations >= 1 and (s.act > 0).all()
        assert np.all(np.diff(s.act) <= 0)                    # best first


def test_archive_dedupes_and_caps_per_bin():
    arch = Archive(n_owners=2, rf=6, bins=4, cap=2, salt=0)
    codes = np.tile(np.arange(6, dtype=np.int8) % 4, (10, 1))
    codes[:, 0] = np.arange(10) % 4                              # 4 distinct sequences, repeated
    arch.add(codes, np.linspace(0.1, 1.0, 10), np.zeros(10, np.int64))
    c, a = arch.of(0)
    assert len({r.tobytes() for r in c}) == len(c) == 4
    arch.add(codes[:1], np.array([-1.0]), np.array([1]))        # non-positive: ignored
    assert len(arch.of(1)[1]) == 0
    # cap: 100 entries in one bin -> 2 kept by priority, plus the best one
    act = np.linspace(0.8, 1.0, 100)
    keep = cap_bins(np.zeros(100, np.int64), act, np.arange(100), 1, 4, 2)
    assert np.flatnonzero(keep).tolist() == [0, 1, 99]
    keep = cap_bins(np.r_[np.zeros(50), np.ones(50)].astype(np.int64), act, np.arange(100), 2, 4, 3)
    assert np.flatnonzero(keep).tolist() == [0, 1, 2, 49, 50, 51, 52, 99]   # bins are per owner


def test_screening_pool_carries_seed_ppms():
    ppm = np.full((5, 4), 0.001)
    ppm[np.arange(5), [0, 1, 2, 3, 0]] = 0.997                  # ACGTA
    pool = screening_pool(20, 400, seed=0, layer=2, device=torch.device("cpu"), ppms=[ppm], seeded_fraction=0.5)
    seqs = ["".join(DNA[c] for c in r) for r in pool.numpy()]
    assert sum("ACGTA" in s for s in seqs[:200]) >= 190
    assert sum("ACGTA" in s for s in seqs[200:]) < 40


def test_sampling_config_validation():
    with pytest.raises(ConfigError, match="sum to 1"):
        from_dict({"model": {"checkpoint": "m.pth"}, "sampling": {"elite": 0.5}}, DiscoveryConfig)
    with pytest.raises(ConfigError, match="unknown key 'sampling.pop'"):
        from_dict({"model": {"checkpoint": "m.pth"}, "sampling": {"pop": 5}}, DiscoveryConfig)


# --------------------------------------------------------------------------- demixing


def test_demix_splits_two_planted_motifs():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, (300, 14))
    a, b = np.array([0, 0, 0, 0, 3, 3]), np.array([2, 1, 2, 1, 2, 1])
    group = np.arange(300) % 2
    codes[group == 0, 2:8] = a
    codes[group == 1, 6:12] = b
    feats = [_onehot(codes).reshape(300, -1).numpy()]          # stand-in for a pool input
    act = rng.uniform(0.5, 1.0, 300)
    leaves = demix(feats, act, [2], 1, DemixConfig(min_cluster_size=50), seed=0, neuron=0)
    assert len(leaves) == 2
    for leaf in leaves:
        assert len(set(group[leaf.index])) == 1                # each cluster is one motif
        ppm = weighted_ppm(codes[leaf.index], act[leaf.index])
        cons = "".join(DNA[i] for i in ppm.argmax(1))
        assert "AAAATT" in cons or "GCGCGC" in cons
    # a cluster below min_cluster_size is not split
    assert len(demix(feats, act, [2], 1, DemixConfig(min_cluster_size=400), seed=0, neuron=0)) == 1


def test_adaptive_pattern_groups_rule():
    cfg = DemixConfig()
    ok, info = accept_pattern_groups(list(np.linspace(0.97, 1.0, 12)), cfg)
    assert ok and info["test"].startswith("one-sided") and info["p"] < 0.1
    ok, _ = accept_pattern_groups(list(np.linspace(0.80, 1.0, 12)), cfg)
    assert not ok
    ok, info = accept_pattern_groups([0.99, 0.97, 1.0], cfg)   # < 10 neurons: plain mean
    assert ok and info["test"] == "mean"


# --------------------------------------------------------------------------- PPMs


def test_weighted_ppm_ic_and_segments_by_hand():
    ppm = weighted_ppm(np.array([[0], [1]]), np.array([1.0, 0.5]), bins=2)
    np.testing.assert_allclose(ppm, [[2 / 3, 1 / 3, 0, 0]])    # bins weighted by mean activation
    m = np.full((10, 4), 0.25)
    m[3:7] = np.eye(4)[[0, 2, 1, 3]]
    ic = information_content(m)
    np.testing.assert_allclose(ic, [0, 0, 0, 2, 2, 2, 2, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(smooth(ic)[[0, 2, 3, 9]], [0, 2 / 3, 4 / 3, 0])
    segs = find_segments(ic, PPMConfig())
    assert [(s.start, s.end) for s in segs] == [(2, 8)]         # run 3..6 plus one flank each side
    assert segs[0].contrast == pytest.approx(8 / 6 - 0)
    sm = laplace(m, 100, 1.0)
    np.testing.assert_allclose(sm.sum(1), 1)
    assert sm.min() > 0


def test_short_rf_still_gives_a_segment():
    m = laplace(np.eye(4)[[0, 1, 2, 3, 0]], 200)               # RF-5 layer-1 PPM, strong
    segs = find_segments(information_content(m), PPMConfig())
    assert [(s.start, s.end) for s in segs] == [(0, 5)]
    weak = np.full((5, 4), 0.25)
    assert find_segments(information_content(weak), PPMConfig()) == []


def test_meme_roundtrip(tmp_path):
    m = laplace(np.eye(4)[[0, 1, 2]], 10)
    (tmp_path / "a.meme").write_text(format_meme([("conv1-n0-c0", "n=10,max=1", m, 10)]))
    [(mid, alt, back)] = read_meme(tmp_path / "a.meme")
    assert mid == "conv1-n0-c0" and alt == "n=10,max=1"
    np.testing.assert_allclose(back, m, atol=1e-6)


# --------------------------------------------------------------------------- driver, files, recovery


@pytest.fixture(scope="module")
def discovered(trained, tmp_path_factory):
    root = tmp_path_factory.mktemp("disc")
    cfg = _cfg()
    for layer in (1, 2):
        discover_layer(trained, layer, cfg, root / "a", progress=False, log=lambda m: None)
    return root, cfg


def _files(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_outputs_and_planted_motif_recovery(discovered):
    root, _ = discovered
    d = root / "a"
    assert (d / "anatomy.csv").read_text().splitlines()[0].startswith("layer,name")
    for layer, rf in ((1, 5), (2, 14)):
        n = d / f"conv{layer}" / "neuron0"
        npz = np.load(n / "samples.npz")
        assert npz["codes"].dtype == np.int8 and npz["codes"].shape[1] == rf
        assert len(npz["act"]) == len(npz["cluster"])
        info = json.loads((n / "clusters.json").read_text())
        assert info["rf"] == rf and info["clusters"][0]["path"] is not None
        assert len(read_meme(n / "ppms.meme")) == len(info["clusters"])
        assert len(read_meme(n / "segments.meme")) == sum(len(c["segments"]) for c in info["clusters"])
        summary = (d / f"conv{layer}" / "summary.csv").read_text().splitlines()
        assert len(summary) == 1 + 8
    segs1 = sum(len(read_meme(p)) for p in (d / "conv1").glob("neuron*/segments.meme"))
    assert segs1 > 0                                            # RF 5 layer still gives segments
    table = recovery_table(d, {"motifs": [{"name": "planted", "consensus": MOTIF}]}, layers=[2])
    assert table.loc[0, "found"], table.to_string()


def test_resume_force_and_determinism(discovered, trained):
    root, cfg = discovered
    a, b = root / "a", root / "b"
    discover_layer(trained, 1, cfg, b, progress=False, log=lambda m: None)
    discover_layer(trained, 2, cfg, b, progress=False, log=lambda m: None)
    assert _files(a) == _files(b)                               # same seed -> identical files
    stamp = (a / "conv2" / "neuron3" / "samples.npz").stat().st_mtime_ns
    msgs = []
    discover_layer(trained, 2, cfg, a, progress=False, log=msgs.append)
    assert "already done" in msgs[0]
    assert (a / "conv2" / "neuron3" / "samples.npz").stat().st_mtime_ns == stamp
    # A killed run: one neuron folder missing -> only it is redone, identically.
    import shutil
    shutil.rmtree(b / "conv2" / "neuron5")
    discover_layer(trained, 2, cfg, b, progress=False, log=lambda m: None)
    assert _files(a) == _files(b)
    discover_layer(trained, 2, cfg, a, force=True, progress=False, log=lambda m: None)
    assert (a / "conv2" / "neuron3" / "samples.npz").stat().st_mtime_ns != stamp
    assert _files(a) == _files(b)


def test_other_weights_redo_a_finished_layer(discovered, trained, tmp_path):
    import copy
    import shutil
    root, cfg = discovered
    shutil.copytree(root / "a" / "conv1", tmp_path / "conv1")
    retrained = copy.deepcopy(trained)
    with torch.no_grad():
        retrained.body.conv1.weight.mul_(1.5)
    msgs = []
    discover_layer(retrained, 1, cfg, tmp_path, progress=False, log=msgs.append)
    assert "redoing the layer" in msgs[0]
    fresh = tmp_path / "fresh"
    discover_layer(retrained, 1, cfg, fresh, progress=False, log=lambda m: None)
    assert _files(tmp_path / "conv1") == _files(fresh / "conv1")
    msgs.clear()
    discover_layer(retrained, 1, cfg, tmp_path, progress=False, log=msgs.append)
    assert "already done" in msgs[0]


def test_dead_neuron_gets_an_empty_but_valid_unit(trained, tmp_path):
    import copy
    model = copy.deepcopy(trained)
    with torch.no_grad():
        model.body.conv1.bias[2] = -100.0                      # never positive
    cfg = _cfg()
    cfg.layers.ind = "2-4"
    df = discover_layer(model, 1, cfg, tmp_path, progress=False, log=lambda m: None)
    info = json.loads((tmp_path / "conv1" / "neuron2" / "clusters.json").read_text())
    assert info["n_samples"] == 0 and info["clusters"] == [] and info["indicator"] is None
    assert read_meme(tmp_path / "conv1" / "neuron2" / "ppms.meme") == []
    assert df["neuron"].tolist() == [2, 3] and df.loc[df.neuron == 3, "n_clusters"].item() == 1


def test_recovery_matching_rules():
    assert find_in("GCCRCC", "TTGCCACCTT") == 2 and find_in("GCCRCC", "GCCTCC") == -1
    assert motif_identity("ACGTACGT", "ACGTACGA") == (7 / 8, 0)
    ident, off = motif_identity("ACGTAC", "GTAC")                # overhang counts as mismatch
    assert ident == pytest.approx(4 / 6) and off == -2


def test_shipped_configs_load():
    for name in ("mrl_predictor", "hl_predictor", "hl_predictor_quick_start"):
        cfg = load_discovery_config(ROOT / "configs" / "interpreting" / f"{name}.yaml")
        assert cfg.model.checkpoint.endswith(f"{name.removesuffix('_quick_start')}-best.pth")
        assert cfg.motif_db == "planted+curated" and Path(cfg.data_dir).name.startswith("synthetic_")
        assert cfg.discovery_dir() == ROOT / "results" / cfg.model_name / "discovery"
    quick = load_discovery_config(ROOT / "configs" / "interpreting" / "hl_predictor_quick_start.yaml")
    assert quick.layers.neurons(2, 64) == [0, 1, 2, 3] and quick.sampling.extra_tracks == [0.0, 0.0]


def test_cli_runs_a_checkpoint_and_reports_user_errors(tmp_path, monkeypatch, capsys):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "toy-best.pth", SalukiModel(4, 50, 1, filters=4), {}, {})
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {checkpoint: toy-best.pth}\nresults_dir: out\nsampling: {bin_cap: 5}\n"
                   "report: {png: false}\n")
    script = ROOT / "motif_discovery" / "discover.py"
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_WAIT_POLICY": "PASSIVE"}
    ok = subprocess.run([sys.executable, str(script), str(cfg), "--layer", "1"], capture_output=True, text=True,
                        env=env)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "out" / "toy" / "discovery" / "conv1" / "neuron3" / "ppms.meme").is_file()
    # matching and pages follow sampling: Tomtom table per neuron, layer index, model front page
    assert (tmp_path / "out" / "toy" / "discovery" / "conv1" / "neuron3" / "tomtom.tsv").is_file()
    assert (tmp_path / "out" / "toy" / "discovery" / "conv1" / "index.html").is_file()
    assert (tmp_path / "out" / "toy" / "index.html").is_file()

    def cli(*argv):  # in-process: the same entry point without another interpreter start
        monkeypatch.setattr(sys, "argv", [str(script), *argv])
        with pytest.raises(SystemExit) as exc:
            runpy.run_path(str(script), run_name="__main__")
        return exc.value.code, capsys.readouterr().err

    code, err = cli(str(cfg), "--layer", "5")
    assert code == 2 and err.strip().splitlines()[-1].startswith("error: layer 5 does not exist")
    cfg.write_text("model: {checkpoint: missing.pth}\n")
    code, err = cli(str(cfg), "--layer", "1")
    assert code == 2 and "checkpoint not found" in err
    cfg.write_text("model: {checkpoint: toy-best.pth}\nsampling: {populaton: 3}\n")
    code, err = cli(str(cfg), "--layer", "1")
    assert code == 2 and "unknown key 'sampling.populaton'" in err


def test_tomtom_table_picks_best_q_per_planted_motif(tmp_path):
    from combmotif.validation.discovery import tomtom_table

    cols = ["neuron", "cluster", "segment", "rank", "target", "q", "segment_consensus"]
    for layer, rows in {2: [(1, 0, "conv2-n1-c0-s0", 1, "enhA", 0.2, "ACTTCC")],
                        3: [(7, 0, "conv3-n7-c0-s0", 1, "enhA", 0.004, "TACTTCCGG"),
                            (9, 1, "conv3-n9-c1-s0", 1, "uORF", 0.001, "ATGA")]}.items():
        (tmp_path / f"conv{layer}").mkdir()
        pd.DataFrame(rows, columns=cols).to_csv(tmp_path / f"conv{layer}" / "matches.csv", index=False)
    truth = {"motifs": [{"name": "enhA", "consensus": "ACTTCCG"}, {"name": "repC", "consensus": "CGGTCGA"}]}
    t = tomtom_table(tmp_path, truth).set_index("motif")
    assert (t.loc["enhA", "layer"], t.loc["enhA", "neuron"], t.loc["enhA", "q"]) == (3, 7, 0.004)
    assert t.loc["enhA", "matched"] and not t.loc["repC", "matched"] and np.isnan(t.loc["repC", "q"])
    assert len(tomtom_table(tmp_path, truth, layers=[2])) == 2
    # with the database: the planted PPM's own q as a query, the best any segment can reach
    from combmotif.motifs.formats import Motif

    sharp = lambda name, codes: Motif(name, np.eye(4)[codes] * 0.996 + 0.001)  # noqa: E731
    rng = np.random.default_rng(1)
    targets = [sharp(f"t{i}", rng.integers(0, 4, 7)) for i in range(40)]
    targets += [sharp("enhA", [0, 1, 3, 3, 1, 1, 2]), sharp("repC", [1, 2, 2, 3, 1, 2, 0])]
    c = tomtom_table(tmp_path, truth, targets=targets).set_index("motif")["ceiling_q"]
    assert (c < 0.01).all()
    assert "ceiling_q" not in tomtom_table(tmp_path, truth).columns


def test_a_layer_without_pool_inputs_demixes_its_samples_on_the_sequence():
    # conv2 of a Saluki-style trunk has no max-pool below it: samples of two
    # different 9-mers must still end in two clusters with clean PPMs, not one
    # PPM that averages them into nothing.
    from combmotif.neuronmotif.sample import NeuronSamples
    from combmotif.neuronmotif.units import analyse_neuron

    torch.manual_seed(0)
    cut = Anatomy(SalukiModel(4, 50, 1, filters=8).eval()).cut(2)
    assert not cut.pool_sizes
    rng = np.random.default_rng(0)
    pats = ["AAGCAGCGA", "GATGTATAT"]
    codes = np.array([[DNA.index(ch) for ch in pats[i % 2]] for i in range(400)], np.int8)
    noisy = rng.random(codes.shape) < 0.05
    codes[noisy] = rng.integers(0, 4, int(noisy.sum()))
    s = NeuronSamples(neuron=0, codes=codes, act=np.linspace(2.0, 1.0, 400).astype(np.float32),
                      method="enumerate", generations=0, evaluations=400)
    res = analyse_neuron(cut, s, 1, _cfg(), layer=2)
    assert len(res.leaves) == 2
    consensus = sorted("".join(DNA[i] for i in p.argmax(1)) for p in res.ppms)
    assert consensus == sorted(pats)
