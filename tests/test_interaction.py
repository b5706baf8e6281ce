"""Fragment location, combination labels, mutagenesis and the epistasis test
(combmotif.maxact, combmotif.interaction)."""

from __future__ import annotations

import textwrap
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from combmotif import interaction as I
from combmotif import maxact as MA
from combmotif import perturb as P
from combmotif import stats
from combmotif.__main__ import main as combmotif_main
from combmotif.data.planting import plant, scan
from combmotif.errors import InputError
from combmotif.interaction.epistasis import fallback_line
from combmotif.models.trunk import layer_outputs
from combmotif.sequences import decode, indices_to_one_hot
from combmotif.validation import interaction as VI

from tiny_cnn import PARTNER, POS, predictor, trained_default, write_toy_checkpoint

# --------------------------------------------------------------------------- epistasis on known f values


def _observations(rng, n, e_a, e_b, gamma, noise=0.1):
    mu = rng.normal(0, 1, n)  # each sequence has its own baseline
    f = lambda shift: mu + shift + rng.normal(0, noise, n)  # noqa: E731
    return I.Observations(seq=np.arange(n), f_orig=f(e_a + e_b + gamma), f_scrA=f(e_b), f_scrB=f(e_a),
                          f_scrAB=f(0.0), replicates=1)


def test_epistasis_classes_from_known_values():
    rng = np.random.default_rng(0)
    cases = [(1.0, 0.8, 0.8, "synergistic", "positive"), (1.0, 0.8, -0.8, "antagonistic", "positive"),
             (1.0, 0.8, 0.0, "additive", "positive"), (-1.0, -0.8, -0.8, "synergistic", "negative"),
             (-1.0, -0.8, 0.8, "antagonistic", "negative"), (-1.0, -0.8, 0.0, "additive", "negative")]
    rows = [I.pair_statistics(_observations(rng, 40, a, b, g), seed=i) for i, (a, b, g, _, _) in enumerate(cases)]
    df = I.classify(pd.DataFrame(rows))
    assert df["interaction"].tolist() == [c[3] for c in cases]
    assert df["direction"].tolist() == [c[4] for c in cases]
    for row, (a, b, g, _, _) in zip(df.itertuples(), cases):
        assert row.epsilon == pytest.approx(g, abs=0.1)
        assert row.ci_low < g < row.ci_high or (g == 0 and row.ci_low < 0.1 and row.ci_high > -0.1)
        assert row.effect_A == pytest.approx(a, abs=0.1) and row.effect_B == pytest.approx(b, abs=0.1)
    # The seeds' signed p: destroying a positive motif lowers the prediction -> positive 'a-o'.
    assert df.loc[0, "a-o"] > 0 and df.loc[3, "a-o"] < 0
    # BH over every tested row.
    np.testing.assert_allclose(df["q"], stats.bh_qvalues(df["interaction-p"].to_numpy()))


def test_pair_summary_takes_the_majority_over_neurons():
    df = pd.DataFrame({"motifA_name": ["a", "b", "a", "a"], "motifB_name": ["b", "a", "b", "c"],
                       "interaction": ["synergistic", "synergistic", "additive", "untested"],
                       "epsilon": [0.4, 0.2, 0.0, np.nan], "n": [10, 30, 100, 3]})
    s = I.pair_summary(df).set_index("motifB_name")
    assert s.loc["b", "interaction"] == "synergistic" and s.loc["b", "tested"] == 3
    assert s.loc["b", "agreeing"] == 2 and s.loc["b", "epsilon"] == pytest.approx((4 + 6) / 140)
    assert s.loc["c", "interaction"] == "untested" and s.loc["c", "rows"] == 1


def test_small_or_empty_pairs_are_untested_and_outside_bh():
    rng = np.random.default_rng(1)
    rows = [I.pair_statistics(_observations(rng, 3, 1, 1, 1)), I.pair_statistics(_observations(rng, 0, 1, 1, 1)),
            I.pair_statistics(_observations(rng, 30, 1, 1, 1))]
    df = I.classify(pd.DataFrame(rows))
    assert df["interaction"].tolist() == ["untested", "untested", "synergistic"]
    assert "only 3 sequences" in df.loc[0, "reason"] and "no sequence" in df.loc[1, "reason"]
    assert df.loc[2, "q"] == pytest.approx(df.loc[2, "interaction-p"])  # a family of one


def test_min_relative_epsilon_keeps_tiny_interactions_additive():
    rng = np.random.default_rng(2)
    df = pd.DataFrame([I.pair_statistics(_observations(rng, 200, 2.0, 2.0, 0.1, noise=0.01))])
    assert I.classify(df)["interaction"][0] == "synergistic"
    assert I.classify(df, min_relative=0.1)["interaction"][0] == "additive"


# --------------------------------------------------------------------------- sites and destruction


def test_choose_pair_skips_overlaps_and_counts_homotypic_pairs_once():
    a = [(0, 6), (20, 26)]
    b = [(3, 9), (30, 36)]
    # (0,6)-(3,9) overlap; the closest non-overlapping pair is (20,26)-(30,36).
    assert I.choose_pair(a, b) == ((20, 26), (30, 36))
    assert I.choose_pair([(0, 6)], [(2, 8)]) is None
    sites = [(0, 6), (10, 16)]
    assert I.choose_pair(sites, sites, homotypic=True) == ((0, 6), (10, 16))
    # Heterotypic pairs keep their roles: B may lie left of A.
    assert I.choose_pair([(10, 16)], [(0, 6)]) == ((10, 16), (0, 6))


def test_plan_sites_takes_one_observation_per_sequence():
    combo = I.Combination("c", ["AAAA"], ["CCCC"])
    # Sequence 0 has two fragments: the strongest lacks a pair, the next one has one;
    # sequence 1 has two overlapping fragments that both hold the same pair.
    texts = ["TTTTTTTTTT", "GGAAAATCCCCG", "AAAATCCCCT", "TAAAATCCCC", "AAAACCCC"]
    seq = np.array([0, 0, 1, 1, 2])
    offset = np.array([0, 3, 5, 4, 0])
    plan = I.plan_sites(texts, seq, offset, combo)
    assert plan.seq.tolist() == [0, 1, 2]
    assert plan.a.tolist() == [[5, 9], [5, 9], [0, 4]] and plan.b.tolist() == [[10, 14], [10, 14], [4, 8]]
    assert plan.n_candidates == 3
    assert len(I.plan_sites(texts, seq, offset, combo, max_sequences=2).seq) == 2


def test_destroy_span_removes_the_motif_and_counts_fallbacks():
    finder = I.finder(["TGTAAATA"])
    seq = "CCGGTGTAAATAGGCC"
    rng = np.random.default_rng(0)
    out, fell = P.shuffle_span(seq, 4, 12, rng, avoid=finder)
    assert not fell and sorted(out) == sorted("TGTAAATA") and out != "TGTAAATA"
    assert not I.find_spans(seq[:4] + out + seq[12:], finder)
    # TATATA has one dinucleotide-preserving order: it must fall back to random bases.
    finder = I.finder(["TATATA"])
    out, fell = P.shuffle_span("GGTATATAGG", 2, 8, rng, avoid=finder)
    assert fell and not I.find_spans("GG" + out + "GG", finder)
    a = P.shuffle_span(seq, 4, 12, np.random.default_rng(5), avoid=I.finder(["TGTAAATA"]))
    assert a == P.shuffle_span(seq, 4, 12, np.random.default_rng(5), avoid=I.finder(["TGTAAATA"]))


def test_span_variants_share_draws_and_write_only_the_base_channels():
    rng = np.random.default_rng(0)
    texts = ["ACGTACGTNNACGTTGCA", "TTGCAACGTAGCTAGCAA"]
    X = np.zeros((2, 5, 18), np.float32)
    X[:, :4] = indices_to_one_hot(np.array([["ACGTN".index(c) for c in t] for t in texts]))
    X[:, 4] = 0.5                                   # an extra track the shuffles must leave alone
    spans = [[(0, 6), (10, 16)], [(2, 8), (9, 15)]]
    draws, fell = P.shuffle_spans(texts, spans, 2, rng)
    out = P.span_variants(X, np.arange(2), spans, draws, [(0,), (1,), (0, 1)]).reshape(2, 7, 5, 18)
    assert fell == 0 and np.all(out[:, :, 4] == 0.5) and np.array_equal(out[:, 0], X)
    got = [[decode(out[j, 1 + 3 * r + s][None, :4])[0] for s in range(3) for r in range(2)] for j in range(2)]
    for j, (text, (a, b)) in enumerate(zip(texts, spans)):
        for r in range(2):
            ra, rb = draws[j][r]
            only_a = text[:a[0]] + ra + text[a[1]:]
            both = only_a[:b[0]] + rb + only_a[b[1]:]
            # common random numbers: the "both" variant reuses the draws of the single ones
            assert got[j][r] == only_a and got[j][2 + r] == text[:b[0]] + rb + text[b[1]:]
            assert got[j][4 + r] == both and sorted(ra) == sorted(text[a[0]:a[1]])
    # the same seed draws the same variants
    assert P.shuffle_spans(texts, spans, 2, np.random.default_rng(0))[0] == draws


# --------------------------------------------------------------------------- mutagenesis


def _oracle_set(n=60, length=60, seed=0):
    """Sequences with one copy of A (5' half) and B (3' half), codon/splice-like extra tracks."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, length)).astype(np.int8)
    plant(codes, np.arange(n), rng.integers(0, 20, n), "GATTACAG", rng)
    plant(codes, np.arange(n), rng.integers(32, 50, n), "CCTTGGCA", rng)
    X = indices_to_one_hot(codes)
    tracks = rng.integers(0, 2, (n, 2, length)).astype(np.float32)
    return np.concatenate([X, tracks], 1), codes


def test_mutagenesis_recovers_an_exact_interaction_and_keeps_extra_tracks():
    X, codes = _oracle_set()
    seen = []

    def oracle(x):  # f = 1*A + 2*B - 1.5*A*B + 0.1 * (extra tracks), from the sequence itself
        seen.append(x[:, 4:].copy())
        c = x[:, :4].argmax(1)
        a, b = scan(c, "GATTACAG").any(1), scan(c, "CCTTGGCA").any(1)
        return 1.0 * a + 2.0 * b - 1.5 * (a & b) + 0.1 * x[:, 4:].sum((1, 2))

    texts = decode(codes)
    combo = I.Combination("c", ["GATTACAG"], ["CCTTGGCA"])
    plan = I.plan_sites(texts, np.arange(len(texts)), np.zeros(len(texts), np.int64), combo)
    obs = I.mutagenesis(oracle, X, texts, plan, combo, replicates=3, rng=np.random.default_rng(0), max_rows=50)
    assert len(obs) == len(X)
    # Every variant of sequence i kept sequence i's extra tracks.
    passed = np.concatenate(seen)
    np.testing.assert_array_equal(passed, np.repeat(X[plan.seq, 4:], 1 + 3 * 3, axis=0))
    np.testing.assert_allclose(obs.epsilon, -1.5, atol=1e-9)
    np.testing.assert_allclose(obs.f_scrB - obs.f_scrAB, 1.0, atol=1e-9)
    np.testing.assert_allclose(obs.f_scrA - obs.f_scrAB, 2.0, atol=1e-9)
    row = I.classify(pd.DataFrame([I.pair_statistics(obs)])).iloc[0]
    assert row["interaction"] == "antagonistic" and row["direction"] == "positive"


def test_homotypic_pair_is_one_observation_per_sequence():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 4, (20, 40)).astype(np.int8)
    plant(codes, np.arange(20), np.full(20, 2), "GATTACAG", rng)
    plant(codes, np.arange(20), np.full(20, 25), "GATTACAG", rng)
    texts = decode(codes)
    combo = I.Combination("h", ["GATTACAG"], ["GATTACAG"])
    assert combo.homotypic
    plan = I.plan_sites(texts, np.arange(20), np.zeros(20, np.int64), combo)
    assert len(plan.seq) == 20 and (plan.a[:, 0] < plan.b[:, 0]).all()

    def count(x):  # f = number of copies squared: two copies interact
        c = x[:, :4].argmax(1)
        return scan(c, "GATTACAG").sum(1).astype(float) ** 2

    obs = I.mutagenesis(count, indices_to_one_hot(codes), texts, plan, combo, 2, np.random.default_rng(0))
    np.testing.assert_allclose(obs.epsilon, 4 - 1 - 1 + 0)


def test_mutagenesis_on_a_trained_model_finds_the_planted_synergy():
    X, y, codes, model, scaler = trained_default()
    texts = decode(codes)
    predict = predictor(model, scaler)
    combo = I.Combination("c1", [POS], [PARTNER], "POS", "PARTNER")
    plan = I.plan_sites(texts, np.arange(len(X)), np.zeros(len(X), np.int64), combo, max_sequences=150)
    obs = I.mutagenesis(predict, X, texts, plan, combo, 5, np.random.default_rng(0))
    row = I.classify(pd.DataFrame([I.pair_statistics(obs)])).iloc[0]
    assert row["interaction"] == "synergistic" and row["q"] < 1e-6, row
    assert row["effect_A"] > 0 and row["effect_B"] > 0 and row["ci_low"] > 0


# --------------------------------------------------------------------------- fragments and labels


def test_fragment_yaml_lists_every_window_above_the_threshold():
    X, y, codes, model, scaler = trained_default()
    res = MA.search_maxact(model, X, [1])[1]
    frags = I.locate_fragments(model, X, res, 0.9, batch_size=300)
    full = next(layer_outputs(model, X, [1], batch_size=len(X)))[1][1].numpy()
    above = full > 0.9 * res.neuron_max[None, :, None]
    above &= (res.neuron_max > 0)[None, :, None]
    assert len(frags) == above.sum()
    k = int(np.bincount(frags.neuron).argmax())
    mine = frags.of(k)
    data = yaml.safe_load(I.fragment_yaml(mine))
    assert len(data) == len(mine)
    for key, start in data.items():
        i, j = (int(v) for v in key.removeprefix("Seq").split("_"))
        positions = np.flatnonzero(above[i, k])
        assert j < len(positions) and start in res.wmap.windows(positions, X.shape[2])[0]
    # Rank 0 is each sequence's strongest window.
    firsts = [(s, st) for s, j, st in I.read_fragment_yaml_text(I.fragment_yaml(mine)) if j == 0]
    for s, st in firsts:
        assert st == res.wmap.windows(np.array([full[s, k].argmax()]), X.shape[2])[0][0]
    capped = I.locate_fragments(model, X, res, 0.9, max_sequences=5)
    assert all(len(np.unique(capped.of(n).seq)) <= 5 for n in range(8))
    assert I.fragment_yaml(frags.of(99)) == "{}\n"


SEED_LABELS = """\
combination1:
  motifA:
    - TATATA 
  motifB:
    - TGTATA #hsa-let-7b-3p

combination2:
  motifA:
    - TGTANA
  motifB: [UUUUUU, "T{5,}"]
"""


def test_labels_read_the_seeds_layout_and_round_trip(tmp_path):
    path = tmp_path / "conv5_neuron11.yaml"
    path.write_text(SEED_LABELS)
    combos = I.read_labels(path)
    assert [c.motifA for c in combos] == [["TATATA"], ["TGTANA"]]
    assert combos[1].motifB == ["TTTTTT", "T{5,}"]
    path2 = tmp_path / "again.yaml"
    path2.write_text(I.labels_yaml(combos, "written back"))
    assert I.read_labels(path2) == combos
    path.write_text("combination1:\n  motifA: [ACGT]\n")
    with pytest.raises(InputError, match="motifA and motifB"):
        I.read_labels(path)
    path.write_text("combination1:\n  motifA: ['AC[G']\n  motifB: [AC]\n")
    with pytest.raises(InputError, match="not IUPAC or a valid regex"):
        I.read_labels(path)
    # (A, B) and (B, A) are one test.
    assert len(I.dedupe([I.Combination("x", ["AC"], ["GT"]), I.Combination("y", ["GT"], ["AC"])])) == 1


MEME = """MEME version 4

ALPHABET= ACGT

strands: +

Background letter frequencies
A 0.25 C 0.25 G 0.25 T 0.25

MOTIF seg1
letter-probability matrix: alength= 4 w= 7 nsites= 20 E= 0
0.25 0.25 0.25 0.25
0.01 0.01 0.01 0.97
0.01 0.01 0.97 0.01
0.01 0.01 0.01 0.97
0.97 0.01 0.01 0.01
0.49 0.02 0.02 0.47
0.97 0.01 0.01 0.01

MOTIF seg2
letter-probability matrix: alength= 4 w= 5 nsites= 20 E= 0
0.01 0.01 0.97 0.01
0.01 0.01 0.97 0.01
0.01 0.97 0.01 0.01
0.01 0.97 0.01 0.01
0.01 0.01 0.97 0.01
"""


def test_labels_are_proposed_from_segments_and_tomtom(tmp_path):
    (tmp_path / "segments.meme").write_text(MEME)
    (tmp_path / "tomtom.tsv").write_text(
        "Query_ID\tTarget_ID\tOptimal_offset\tp-value\tE-value\tq-value\tOverlap\tQuery_consensus\t"
        "Target_consensus\tOrientation\n"
        "seg1\tPUM\t0\t1e-5\t1e-3\t0.001\t6\tTGTAAA\tTGTAHATA\t+\n"
        "seg1\tOTHER\t0\t1e-3\t1e-1\t0.04\t6\tTGTAAA\tTGTA\t+\n"
        "seg2\tWEAK\t0\t0.1\t10\t0.5\t5\tGGCCG\tGGCC\t+\n"
        "# Tomtom command line\n")
    combos = I.propose_labels(tmp_path / "segments.meme", tmp_path / "tomtom.tsv")
    assert len(combos) == 1
    c = combos[0]
    assert c.motifA == ["TGTAWA"] and c.motifB == ["GGCCG"]  # N-trimmed, W = A/T column
    assert (c.nameA, c.nameB) == ("PUM", "seg2")  # best Tomtom hit with q <= 0.05, else the segment id
    assert I.ppm_iupac(np.full((3, 4), 0.25)) == ""
    # Ranked by NeuronMotif's segment quality (q= in the MEME description): the best one first.
    ranked = MEME.replace("MOTIF seg1", "MOTIF seg1 pos=0-7,ic=1.5,q=0.2").replace(
        "MOTIF seg2", "MOTIF seg2 pos=2-7,ic=1.8,q=0.9")
    (tmp_path / "ranked.meme").write_text(ranked)
    assert I.propose_labels(tmp_path / "ranked.meme", max_segments=1) == []  # one motif, no pair
    # The same motif in two clusters pairs with itself.
    twice = MEME + MEME.split("\n\n", 4)[-1].replace("MOTIF seg1", "MOTIF seg3").split("MOTIF seg2")[0]
    (tmp_path / "twice.meme").write_text(twice)
    pats = {(c.motifA[0], c.motifB[0]) for c in I.propose_labels(tmp_path / "twice.meme")}
    assert ("TGTAWA", "TGTAWA") in pats and ("TGTAWA", "GGCCG") in pats


def test_hand_written_labels_win_over_proposals_and_template(tmp_path):
    hand = tmp_path / "hand"
    hand.mkdir()
    (hand / "conv2_neuron3.yaml").write_text(SEED_LABELS)
    disc = tmp_path / "disc" / "conv2" / "neuron3"
    disc.mkdir(parents=True)
    (disc / "segments.meme").write_text(MEME)
    (tmp_path / "template.yaml").write_text("c:\n  motifA: [AAAA]\n  motifB: [CCCC]\n")
    cfg = I.InteractionConfig(model=None, labels_dir=str(hand), discovery_dir=str(tmp_path / "disc"),
                              template=str(tmp_path / "template.yaml"))
    out = tmp_path / "results" / "m" / "interaction"
    stage = types.SimpleNamespace(cfg=cfg, out=out, layer_dir=lambda layer: out / f"conv{layer}")
    combos, source = I.resolve_labels(stage, 2, 3)
    assert source.startswith("hand-written") and len(combos) == 2
    # named relative to the neuron's folder, where labels.yaml records it
    assert source == "hand-written ../../../../../hand/conv2_neuron3.yaml"
    combos, source = I.resolve_labels(stage, 2, 4)  # no hand file, no segments -> template
    assert source.startswith("template") and combos[0].motifA == ["AAAA"]
    (hand / "conv2_neuron3.yaml").unlink()
    combos, source = I.resolve_labels(stage, 2, 3)
    assert source.startswith("proposed") and combos[0].nameA == "seg1"
    cfg.label_sources = ["template"]
    assert I.resolve_labels(stage, 2, 3)[1].startswith("template")


# --------------------------------------------------------------------------- the stage, end to end


def _write_stage(tmp_path: Path, n: int = 150) -> Path:
    write_toy_checkpoint(tmp_path, n, filters=6)
    (tmp_path / "template.yaml").write_text("combination1:\n  motifA: [ACG]\n  motifB: [TTA]\n"
                                            "combination2:\n  motifA: [CC]\n  motifB: [CC]\n")
    cfg = tmp_path / "interaction.yaml"
    cfg.write_text(textwrap.dedent("""
        model: {checkpoint: toy-best.pth}
        results_dir: results
        template: template.yaml
        fragment_threshold: 0.5
        replicates: 2
        max_pair_sequences: 20
        n_boot: 200
        device: cpu
        seed: 3
    """))
    return cfg


def test_stage_cli_writes_deterministic_pair_statistics(tmp_path, capsys):
    cfg = _write_stage(tmp_path)
    out = tmp_path / "results/toy/interaction/conv3"
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["fragments", str(cfg), "--layers", "3"])
    assert ex.value.code == 0
    frags = I.Fragments.load(out / "fragments.npz")
    with np.load(out / "fragments.npz") as z:
        assert z["codes"].shape == (len(frags), frags.rf)
    assert len(list(out.glob("neuron*/fragment_location.yaml"))) == 6
    results = []
    for _ in range(2):
        with pytest.raises(SystemExit) as ex:
            combmotif_main(["pairs", str(cfg), "--layers", "3", "--neurons", "0:3", "--force"])
        assert ex.value.code == 0
        results.append((out / "motif_pair_stats.csv").read_bytes())
    assert results[0] == results[1]
    df = pd.read_csv(out / "motif_pair_stats.csv")
    assert list(df.columns[:10]) == I.REFERENCE_COLUMNS
    assert {"q", "epsilon", "ci_low", "ci_high", "n"} <= set(df.columns)
    assert len(df) == 2 * len(np.unique(frags.neuron[frags.neuron < 3])) and (df["n"] > 0).any()
    assert df["n"].max() <= 20
    assert set(df["interaction"]) <= set(I.CLASSES)
    assert (out / "interaction_map.svg").stat().st_size > 1000
    summary = pd.read_csv(out / "motif_pair_summary.csv")
    assert len(summary) == 2 and (summary["rows"] == len(np.unique(frags.neuron[frags.neuron < 3]))).all()
    labels = yaml.safe_load((out / f"neuron{int(frags.neuron[0])}" / "labels.yaml").read_text())
    assert labels["combination1"] == {"motifA": ["ACG"], "motifB": ["TTA"]}
    assert "motif pairs" not in capsys.readouterr().err


def test_fragments_with_attribution_caches_the_patterns_pairs_will_use(tmp_path, capsys, monkeypatch):
    # The quick start makes the output's TF-MoDISco patterns beside discovery (they need the
    # model and the data only); the sequence scope must then find them fresh, not redo them.
    from combmotif.config import load_config
    from combmotif.interaction import attribution as A
    from combmotif.stage import Stage

    cfg = _write_stage(tmp_path)
    out = tmp_path / "results/toy/interaction"
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["fragments", str(cfg), "--layers", "3", "--attribution"])
    assert ex.value.code == 0
    printed = capsys.readouterr().out
    assert "TF-MoDISco patterns of the output" in printed, printed
    assert (out / "conv3" / "fragments.npz").is_file()
    assert (out / "attribution" / "stamp.json").is_file() and (out / "attribution" / "patterns.meme").is_file()
    made = (out / "attribution" / "patterns.meme").read_bytes()

    def fail(*a, **k):
        raise AssertionError("recomputed although fragments --attribution made them")

    monkeypatch.setattr(A, "attribution_patterns", fail)
    stage = Stage(load_config(cfg, I.InteractionConfig), cfg, "interaction")
    # The toy's contributions give TF-MoDISco no pattern: an empty cache must read back too
    # (it raised "no motifs found" before); test_candidates covers a cache with patterns.
    assert len(A.stage_attribution_patterns(stage, log=lambda m: None)) == made.count(b"MOTIF")
    assert (out / "attribution" / "patterns.meme").read_bytes() == made
    off = tmp_path / "off.yaml"
    off.write_text(cfg.read_text() + "attribution_sequences: 0\n")
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["fragments", str(off), "--layers", "3", "--attribution"])
    assert ex.value.code == 0 and "attribution: off" in capsys.readouterr().out


def test_planted_function_gives_the_planted_epsilon_on_the_same_variants():
    # The synthetic checks print, beside the model's epsilon, what the planted
    # rule itself gives on the very same variants: a sequence whose only copy of
    # each motif is destroyed shows the planted interaction exactly.
    from combmotif.data.mrl import encode_utrs
    from combmotif.data.synthetic_mrl import make_mrl

    df, truth = make_mrl(n=3000, seed=5)
    X = encode_utrs(df["utr"].tolist())
    texts = df["utr"].tolist()
    pair = next(p for p in truth["pairs"] if p["class"] == "synergistic")
    combo = next(c for c in VI.truth_labels(truth) if c.name == pair["name"])
    plan = I.plan_sites(texts, np.arange(len(X)), np.zeros(len(X), np.int64), combo, max_sequences=60)
    assert len(plan.seq) >= 30
    ref = VI.planted_function(truth)
    runs = [I.mutagenesis(ref, X, texts, plan, combo, 3, np.random.default_rng(7)) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].epsilon, runs[1].epsilon)  # same seed, same variants
    eps = runs[0].epsilon
    assert np.mean(np.isclose(eps, pair["interaction"])) > 0.8, eps
    assert abs(eps.mean() - pair["interaction"]) < 0.15


def test_fallbacks_are_reported_when_the_shuffle_cannot_destroy_a_motif():
    # A dinucleotide shuffle of ACACAC is ACACAC again: every A span falls back
    # to random bases, and the table says so; a normal pair reports none.
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 4, (30, 60)).astype(np.int8)
    plant(codes, np.arange(30), rng.integers(0, 20, 30), "ACACAC", rng)
    plant(codes, np.arange(30), rng.integers(32, 50, 30), "GATTACAG", rng)
    plant(codes, np.arange(30), np.full(30, 22), "CCTTGGCA", rng)
    texts = decode(codes)
    X = indices_to_one_hot(codes)

    def oracle(x):
        c = x[:, :4].argmax(1)
        return 1.0 * scan(c, "ACACAC").any(1) + 2.0 * scan(c, "GATTACAG").any(1)

    rows = []
    for combo in (I.Combination("ac", ["ACACAC"], ["GATTACAG"]), I.Combination("ok", ["CCTTGGCA"], ["GATTACAG"])):
        plan = I.plan_sites(texts, np.arange(30), np.zeros(30, np.int64), combo)
        obs = I.mutagenesis(oracle, X, texts, plan, combo, 2, np.random.default_rng(0))
        rows.append(I.pair_statistics(obs))
    df = I.classify(pd.DataFrame(rows))
    bad, good = df.iloc[0], df.iloc[1]
    spans = 2 * 2 * int(bad["n"])
    assert bad["fallbacks"] >= spans // 2 and bad["fallback_share"] == pytest.approx(bad["fallbacks"] / spans)
    assert bad["fallback_share"] > 0
    assert (f"dinucleotide shuffle could not destroy the motif in {int(bad['fallbacks'])} of {spans} spans; "
            "random bases used") in bad["reason"]
    assert good["fallbacks"] == 0 and good["fallback_share"] == 0 and "random bases" not in good["reason"]
    assert fallback_line(df, "conv1").startswith("conv1: 1 of 2 pairs: the dinucleotide shuffle could not")
    assert fallback_line(df.iloc[1:], "conv1") == ""


def test_sequence_scope_tests_the_layers_pairs_over_whole_sequences(tmp_path, capsys):
    cfg = _write_stage(tmp_path)
    (tmp_path / "template.yaml").write_text("combination1:\n  motifA: [ACG]\n  motifB: [TTA]\n"
                                            "combination2:\n  motifA: [CC]\n  motifB: [CC]\n"
                                            "combination3:\n  motifA: [GGGGGGGGGGGGGGGG]\n  motifB: [TTA]\n")
    out = tmp_path / "results/toy/interaction/conv3/sequences"
    results = []
    for _ in range(2):
        with pytest.raises(SystemExit) as ex:
            combmotif_main(["pairs", str(cfg), "--layers", "3", "--neurons", "0:3", "--scope", "sequence"])
        assert ex.value.code == 0
        results.append((out / "motif_pair_stats.csv").read_bytes())
    assert results[0] == results[1]
    printed = capsys.readouterr().out
    df = pd.read_csv(out / "motif_pair_stats.csv", keep_default_na=False, na_values=[""])
    # The union of the three neurons' labels, one row per motif pair, same columns as the neuron scope.
    assert list(df.columns) == I.STATS_COLUMNS and len(df) == 3
    assert list(df["combination"]) == ["combination1", "combination2", "combination3"]
    assert (df["n"].iloc[:2] > 0).all() and df["n"].iloc[:2].max() <= 20
    assert df["interaction"].iloc[2] == "untested"
    assert "untested: GGGGGGGGGGGGGGGG x TTA: no sequence holds both motifs (0 sequences hold both)" in printed
    assert (out / "interaction_map.svg").stat().st_size > 1000
    assert not (out.parent / "motif_pair_stats.csv").exists()   # the neuron scope's table is not written
    # --scope both: the neuron scope, then the same sequence-scope table, in one process.
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["pairs", str(cfg), "--layers", "3", "--neurons", "0:3", "--scope", "both", "--force"])
    assert ex.value.code == 0
    assert (out / "motif_pair_stats.csv").read_bytes() == results[0]
    assert (out.parent / "motif_pair_stats.csv").is_file() and (out.parent / "interaction_map.svg").is_file()
