"""Model-wide motif families, pair candidates and the whole-sequence scope
(combmotif.motifs.families, combmotif.interaction.candidates, report.interaction_page)."""

from __future__ import annotations

import json
import textwrap
import types

import numpy as np
import pandas as pd
import pytest
import torch

from combmotif.__main__ import main as combmotif_main
from combmotif.interaction import candidates as C
from combmotif.interaction.labels import family_labels
from combmotif.motifs import families as FM
from combmotif.motifs.formats import Motif
from combmotif.motifs.match import MATCH_COLUMNS
from combmotif.motifs.meme_writer import write_meme
from combmotif.report.interaction_page import fallback_notes, write_interaction_page
from combmotif.sequences import encode_indices, indices_to_one_hot

from tiny_cnn import write_toy_checkpoint


def _ppm(consensus: str, p: float = 0.85) -> np.ndarray:
    """A sharp PPM; a two-base IUPAC letter splits its mass."""
    from combmotif.sequences import IUPAC

    rows = []
    for c in consensus:
        bases = IUPAC[c]
        p = 0.98 if len(bases) == 2 else p   # sharp enough to be compared at all
        row = np.full(4, (1 - p) / (4 - len(bases))) if len(bases) < 4 else np.full(4, 0.25)
        for b in bases:
            row["ACGT".index(b)] = p / len(bases) if len(bases) < 4 else 0.25
        rows.append(row)
    return np.array(rows)


def _neuron(root, layer, k, segs):
    """``discovery/conv<L>/neuron<k>``: one cluster per segment (name, consensus, quality)."""
    nd = root / "discovery" / f"conv{layer}" / f"neuron{k}"
    nd.mkdir(parents=True)
    motifs, clusters = [], []
    for c, (name, cons, q) in enumerate(segs):
        motifs.append(Motif(name, _ppm(cons), altname=f"pos=0-{len(cons)},q={q}"))
        clusters.append({"id": c, "motif_id": f"conv{layer}-n{k}-c{c}",
                         "segments": [{"start": 0, "end": len(cons), "motif_id": name}]})
    write_meme(nd / "segments.meme", motifs)
    (nd / "clusters.json").write_text(json.dumps(clusters))


def _matches(root, layer, rows):
    df = pd.DataFrame([{c: "" for c in MATCH_COLUMNS} | {"neuron": 0, "cluster": 0, "segment": seg,
                                                          "rank": 1, "target": t, "q": q}
                       for seg, t, q in rows], columns=MATCH_COLUMNS)
    df.to_csv(root / "discovery" / f"conv{layer}" / "matches.csv", index=False)


@pytest.fixture
def model(tmp_path):
    """A model's discovery: one motif cut three ways in three neurons, a distinct one, a degenerate one."""
    root = tmp_path / "m"
    _neuron(root, 1, 0, [("s-actt", "ACTTCCT", 0.9), ("s-gagc", "GAGCAAC", 0.8)])
    _neuron(root, 2, 0, [("s-cttc", "CTTCCTA", 0.7), ("s-deg", "RYRYRY", 0.95)])
    _neuron(root, 2, 1, [("s-gact", "GACTTCCT", 0.6), ("s-gagc2", "GAGCAACT", 0.5)])
    _matches(root, 1, [("s-actt", "enhA", 0.01), ("s-gagc", "enhB", 0.2)])
    _matches(root, 2, [("s-deg", "HNRNP", 0.001), ("s-cttc", "enhA", 0.001)])
    return root


def test_families_merge_near_duplicate_segments_and_name_only_significant_matches(model):
    fams = FM.ensure_families(model)
    by_member = FM.family_of(model)
    # ACTTCCT / CTTCCTA / GACTTCCT are one motif cut three ways: one family.
    assert by_member["s-actt"] == by_member["s-cttc"] == by_member["s-gact"]
    assert by_member["s-gagc"] == by_member["s-gagc2"] != by_member["s-actt"]
    f_a = next(f for f in fams if "s-actt" in f.members)
    f_b = next(f for f in fams if "s-gagc" in f.members)
    assert f_a.id == "F1" and len(f_a.members) == 3 and f_a.layers == [1, 2]
    assert f_a.name == "enhA" and f_a.leader == "s-actt"   # founded by the best-quality member
    # ... and represented by the columns two members or more agree on, not by one member's flanks
    assert f_a.representative.consensus == "ACTTCCT"
    # enhB matched the representative only at q = 0.2: no database name.
    assert f_b.target == "" and f_b.name.startswith(f"{f_b.id}-")
    table = pd.read_csv(model / "discovery" / "families.csv")
    assert list(table.columns) == FM.FAMILY_COLUMNS and len(table) == len(fams)
    assert (model / "discovery" / "families.meme").read_text().count("MOTIF") == len(fams)
    # Fresh on a rerun: same stamp, nothing recomputed; a changed discovery is recomputed.
    logged = []
    FM.ensure_families(model, log=logged.append)
    assert logged == []
    _neuron(model, 3, 0, [("s-new", "TTTGGGCA", 0.9)])
    assert any("s-new" in f.members for f in FM.ensure_families(model, log=logged.append))
    assert "redoing it" in logged[0] and "motif families" in logged[-1]


def test_degenerate_patterns_are_not_labels(model):
    fams = FM.ensure_families(model)
    deg = next(f for f in fams if "s-deg" in f.members)
    # RYRYRY is informative enough to compare but has 6 x 1/2 letters: not a label,
    # even though it is named after a database motif.
    assert not deg.usable and "not used as a label" in deg.note and deg.name == "HNRNP"
    assert FM.pattern_letters("RYRYRY") < 4 <= FM.pattern_letters("ACTTCC")
    labels = family_labels(model / "discovery/conv2/neuron0/segments.meme", FM.family_of(model), fams)
    assert labels == []          # the neuron's other motif is alone: nothing to pair
    labels = family_labels(model / "discovery/conv1/neuron0/segments.meme", FM.family_of(model), fams)
    assert [(c.nameA, c.nameB) for c in labels] == [("enhA", fams[1].name)]


def test_patterns_overlap_is_one_motif_cut_elsewhere_not_a_shared_short_word():
    assert FM.patterns_overlap("ACTTCC", "STTCCG")
    assert not FM.patterns_overlap("ATGNA", "NNATG")
    assert not FM.patterns_overlap("GAGCAAC", "ACTTCCG")


def _codes(texts):
    return encode_indices(texts, source="test").astype(np.int8)


def test_cooccurrence_counts_non_overlapping_sites_per_neuron_sequence():
    fam = [types.SimpleNamespace(id="F1", pattern="ACGT"), types.SimpleNamespace(id="F2", pattern="TTTT")]
    windows = ["ACGTTTTTAA",   # both, not overlapping (ACGT 0-4, TTTT 4-8)
               "ACGTTTTAAA",   # ACGT 0-4 and TTTT 3-7 overlap: not a pair
               "TTTTCACGTA",   # both, B first
               "ACGTAAACGT",   # F1 twice: homotypic
               "ACGTTTTTAA"]   # both again, same sequence as row 0
    codes = _codes(windows)
    first, last = C.pattern_sites(codes, "ACGT")
    assert first.tolist() == [0, 0, 5, 0, 0] and last.tolist() == [0, 0, 5, 6, 0]
    df = C.cooccurrence(codes, np.zeros(5, int), np.array([0, 1, 2, 3, 0]), fam, min_count=1)
    got = {(r.familyA, r.familyB): (r.n_windows, r.n_fragment_sequences) for r in df.itertuples()}
    assert got[("F1", "F2")] == (3, 2)        # rows 0, 2, 4; sequences 0 and 2
    assert got[("F1", "F1")] == (1, 1)
    assert ("F2", "F2") not in got
    assert C.cooccurrence(codes, np.zeros(5, int), np.array([0, 1, 2, 3, 0]), fam, min_count=3).empty


def test_layer_candidates_from_syntax_rules_and_cooccurrence(model, tmp_path):
    fams = FM.ensure_families(model)
    fa, fb = fams[0], fams[1]
    rules = model / "discovery" / "conv2" / "syntax_rules.csv"
    pd.DataFrame([{"layer": 2, "rule": "r1", "membersA": "s-gact", "membersB": "s-gagc2", "neurons": "1"}]
                 ).to_csv(rules, index=False)
    windows = [f"AA{fa.pattern}AA{fb.pattern}"[:20].ljust(20, "A"), "A" * 20]
    texts = [w.replace("N", "A") for w in windows]
    layer_dir = tmp_path / "inter" / "conv2"
    layer_dir.mkdir(parents=True)
    np.savez(layer_dir / "fragments.npz", codes=_codes(texts))
    frags = types.SimpleNamespace(neuron=np.array([0, 0]), seq=np.array([0, 1]))
    stage = types.SimpleNamespace(
        cfg=types.SimpleNamespace(min_cooccurrence=1, family_min_neurons=1, discovery_dir=str(model / "discovery"),
                                  importance_top=0, alpha=0.05),
        layer_dir=lambda L: tmp_path / "inter" / f"conv{L}", data=(indices_to_one_hot(_codes(texts)), None, None))
    df = C.layer_candidates(stage, 2, frags, fams)
    assert list(df.columns) == C.CANDIDATE_COLUMNS
    row = df[(df["familyA"] == fa.id) & (df["familyB"] == fb.id)].iloc[0]
    assert row["source"] == "syntax;cooccurrence" and row["neurons"] == "0;1"
    assert row["n_sequences_both"] == 1 and row["n_fragment_sequences"] == 1
    assert not (df["familyA"] == df["familyB"]).any()   # never two members of one family


def test_sequence_scope_tests_candidates_and_lists_untested_with_counts(tmp_path, capsys):
    write_toy_checkpoint(tmp_path, 150, filters=6)
    cfg = tmp_path / "interaction.yaml"
    cfg.write_text(textwrap.dedent("""
        model: {checkpoint: toy-best.pth}
        results_dir: results
        fragment_threshold: 0.5
        replicates: 2
        n_boot: 200
        min_cooccurrence: 1
        family_min_neurons: 1
        sequence_max_pair_sequences: 15
        device: cpu
        seed: 3
    """))
    root = tmp_path / "results" / "toy"
    _neuron(root, 1, 0, [("a", "ACGT", 0.9), ("b", "TTAC", 0.8)])
    _neuron(root, 2, 0, [("g", "GGGGGGGG", 0.7)])
    (root / "discovery" / "conv3").mkdir()   # a syntax rule of conv3 pairs a rare motif
    pd.DataFrame([{"layer": 3, "membersA": "g", "membersB": "a", "neurons": "0"}]).to_csv(
        root / "discovery" / "conv3" / "syntax_rules.csv", index=False)
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["pairs", str(cfg), "--layers", "3", "--neurons", "0:3", "--scope", "sequence"])
    assert ex.value.code == 0
    printed = capsys.readouterr().out
    cand = pd.read_csv(root / "interaction/conv3/candidates.csv", keep_default_na=False)
    stats = pd.read_csv(root / "interaction/conv3/sequences/motif_pair_stats.csv")
    assert (root / "discovery" / "families.csv").is_file()          # made on demand
    assert len(cand) == len(stats) >= 2 and set(cand["interaction"]) <= {"additive", "synergistic",
                                                                           "antagonistic", "untested"}
    g = cand[(cand["patternA"] == "GGGGGGGG") | (cand["patternB"] == "GGGGGGGG")].iloc[0]
    assert g["source"] == "syntax" and g["interaction"] == "untested" and g["n_sequences_both"] == 0
    assert "no sequence holds both motifs (0 sequences hold both)" in printed
    assert stats["n"].max() <= 15
    assert (root / "interaction/conv3/index.html").is_file()


def _pair_row(**kw) -> dict:
    """One whole-sequence pair row (an additive pair, no fallback) with ``kw`` changed."""
    return {"motifA": "ACACACA", "motifB": "GATTACA", "motifA_name": "CA-repeat", "motifB_name": "F2",
            "interaction": "additive", "epsilon": 0.01, "ci_low": -0.1, "ci_high": 0.1, "q": 0.5, "n": 100,
            "replicates": 10, "fallbacks": 0, "fallback_share": 0.0, "neuron": -1, "reason": ""} | kw


def test_pages_say_when_the_shuffle_could_not_destroy_a_motif(tmp_path):
    layer = tmp_path / "toy" / "interaction" / "conv4"
    (layer / "sequences").mkdir(parents=True)
    row = _pair_row(fallbacks=1000, fallback_share=0.5)
    clean = row | {"motifA": "CCTTGG", "motifA_name": "ok", "fallbacks": 0, "fallback_share": 0.0}
    df = pd.DataFrame([row, clean])
    df.to_csv(layer / "sequences" / "motif_pair_stats.csv", index=False)
    assert fallback_notes(df) == ["the shuffle could not destroy CA-repeat or F2: 1000 of 2000 draws "
                                  "fell back to random bases"]
    html = write_interaction_page(layer).read_text()
    assert "the shuffle could not destroy CA-repeat or F2: 1000 of 2000 draws fell back to random bases" in html
    assert "destroy ok" not in html
    from combmotif.report.model_page import write_model_index

    front = write_model_index(tmp_path / "toy").read_text()
    assert "1000 of 2000 draws fell back to random bases" in front
    assert 'href="interaction/conv4/index.html"' in front


def test_family_effects_measure_destruction_and_pick_the_top_pairs():
    from combmotif.interaction.importance import family_effects, important_pairs

    rng = np.random.default_rng(0)
    texts = ["".join(rng.choice(list("ACGT"), 30)) for _ in range(60)]
    texts = [("GGATCC" + t[6:]) if i % 2 else t for i, t in enumerate(texts)]     # half hold F1
    texts = [t[:20] + "TTAGTT" + t[26:] if i % 3 == 0 else t for i, t in enumerate(texts)]
    X = indices_to_one_hot(_codes(texts))

    def predict(x):    # +1 for GGATCC, -0.5 for TTAGTT, nothing for the others
        s = ["".join("ACGT"[i] for i in row) for row in x.argmax(1)]
        return np.array([("GGATCC" in t) - 0.5 * ("TTAGTT" in t) for t in s], float)

    fams = [types.SimpleNamespace(id=f"F{i}", name=n, pattern=p) for i, (n, p) in
            enumerate([("up", "GGATCC"), ("down", "TTAGTT"), ("none", "ACG")], 1)]
    first = [C.pattern_sites(_codes(texts), f.pattern)[0] for f in fams]
    eff = family_effects(predict, X, texts, fams, first, max_sequences=40, replicates=2, n_boot=200)
    e = eff.set_index("family")
    assert e.loc["F1", "effect"] == pytest.approx(-1.0) and e.loc["F1", "q"] < 0.05
    assert e.loc["F2", "effect"] == pytest.approx(0.5) and e.loc["F2", "q"] < 0.05
    assert abs(e.loc["F3", "effect"]) < 0.1 and not e.loc["F3", "q"] < 0.05
    assert e.loc["F1", "ci_low"] <= e.loc["F1", "effect"] <= e.loc["F1", "ci_high"]
    assert important_pairs(eff, top=6).values.tolist() == [["F1", "F2"]]   # F3 not significant
    assert important_pairs(eff, top=1).empty and important_pairs(eff, top=0).empty


def test_attribution_families_keep_only_motifs_no_family_stands_for():
    from combmotif.interaction.attribution import PATTERN_COLUMNS, attribution_families

    def pat(name, cons, n):
        return Motif(name, _ppm(cons, 0.97), meta={"sign": 1, "n_seqlets": n, "contribution": 1.0})

    fams = [types.SimpleNamespace(id="F2", pattern="ACAAAGT")]
    patterns = [pat("P1", "TACAAAGT", 50),             # the family's motif with another flank
                pat("P2", "CGAGTCAC", 30),             # no family: kept
                pat("P3", "RYRYRY", 40),               # too degenerate to be a label
                pat("P4", "GAGTCACA", 20)]             # the same new motif again: kept once
    kept, table = attribution_families(patterns, fams)
    assert [f.id for f in kept] == ["T1"] and "GTCAC" in kept[0].pattern
    assert kept[0].name == f"T1-{kept[0].pattern}" and kept[0].neurons == []
    assert list(table.columns) == PATTERN_COLUMNS
    t = table.set_index("pattern_id")
    assert list(table["pattern_id"]) == ["P1", "P3", "P2", "P4"]   # most seqlets first
    assert t.loc["P1", "note"].startswith("the motif of F2") and t.loc["P2", "family"] == "T1"
    assert "informative letters" in t.loc["P3", "note"] and t.loc["P4", "note"].startswith("the motif of T1")


class _Gattaca(torch.nn.Module):
    """Scores the best match to GATTACA (from 5 matching bases up) over a weak additive term."""

    def __init__(self, background: float):
        super().__init__()
        w = indices_to_one_hot(_codes(["GATTACA"]))[0]
        self.register_buffer("w", torch.as_tensor(w, dtype=torch.float32)[None])
        g = np.random.default_rng(5).normal(0, background, (4, 50))
        self.register_buffer("g", torch.as_tensor(g, dtype=torch.float32))

    def forward(self, x):
        motif = torch.relu(torch.nn.functional.conv1d(x[:, :4], self.w) - 4.0).amax(-1)
        return motif + (x[:, :4] * self.g).sum((1, 2))[:, None]


def _gattaca_set(n: int = 400) -> np.ndarray:
    """Random 50-nt sequences, every second one with GATTACA somewhere."""
    rng = np.random.default_rng(1)
    texts = ["".join(rng.choice(list("ACGT"), 50)) for _ in range(n)]
    texts = [t[:s] + "GATTACA" + t[s + 7:] if i % 2 else t
             for i, (t, s) in enumerate(zip(texts, rng.integers(0, 43, n)))]
    return indices_to_one_hot(_codes(texts)).astype(np.float32)


def test_attribution_patterns_find_the_motif_the_output_depends_on():
    from combmotif.interaction.attribution import attribution_families, attribution_patterns
    from combmotif.motifs.patterns import patterns_overlap

    X = _gattaca_set()
    patterns, info = attribution_patterns(lambda x: _Gattaca(0.1)(x)[:, 0], X, 400)
    assert info["attribution"] == "ism"
    kept, _ = attribution_families(patterns, [])
    assert patterns[0].meta["sign"] == 1 and patterns[0].meta["n_seqlets"] >= 20
    assert patterns_overlap(kept[0].pattern, "GATTACA") and kept[0].id == "T1"
    # Contributions that are 0 outside the motif leave modisco-lite's clustering empty:
    # no pattern and a note, not a failed stage.
    none, info = attribution_patterns(lambda x: _Gattaca(0.0)(x)[:, 0], X, 400)
    assert none == [] and "modisco-lite" in info["note"]


def test_stage_attribution_patterns_are_cached_and_compared_with_the_families_each_time(tmp_path, monkeypatch):
    from combmotif.interaction import attribution as A

    cfg = types.SimpleNamespace(attribution_sequences=400, seed=0, target_index=0, label_ic=0.5,
                                label_max_length=8)
    stage = types.SimpleNamespace(cfg=cfg, out=tmp_path / "interaction", fingerprint="w1",
                                  loaded=types.SimpleNamespace(module=_Gattaca(0.1), in_channels=4),
                                  data=(_gattaca_set(), None, None), device="cpu")
    first = A.stage_attribution_families(stage, [], log=lambda m: None)
    assert [f.id for f in first] == ["T1"]

    def fail(*a, **k):
        raise AssertionError("recomputed although the stamp is fresh")

    monkeypatch.setattr(A, "attribution_patterns", fail)
    again = A.stage_attribution_families(stage, [], log=lambda m: None)
    assert [(f.id, f.pattern) for f in again] == [(f.id, f.pattern) for f in first]
    assert np.allclose(again[0].representative.ppm, first[0].representative.ppm, atol=1e-4)
    covered = A.stage_attribution_families(stage, [types.SimpleNamespace(id="F1", pattern="GATTACA")])
    assert covered == []                                   # a family now stands for it
    table = pd.read_csv(stage.out / "attribution" / "patterns.csv", keep_default_na=False)
    assert table.loc[0, "note"].startswith("the motif of F1")
    stage.cfg.attribution_sequences = 0
    assert A.stage_attribution_families(stage, []) == []   # the source turned off


def test_layer_page_lists_family_effects_and_marks_attribution_families(tmp_path):
    layer = tmp_path / "toy" / "interaction" / "conv4"
    (layer / "sequences").mkdir(parents=True)
    row = _pair_row(motifA="GATTACA", motifB="CCTTGG", motifA_name="F1", motifB_name="T1-CCTTGG")
    pd.DataFrame([row]).to_csv(layer / "sequences" / "motif_pair_stats.csv", index=False)
    pd.DataFrame([{"family": "F1", "name": "F1", "pattern": "GATTACA", "n": 50, "effect": -0.2,
                   "ci_low": -0.3, "ci_high": -0.1, "p": 1e-5, "q": 2e-5},
                  {"family": "T1", "name": "T1-CCTTGG", "pattern": "CCTTGG", "n": 40, "effect": 0.6,
                   "ci_low": 0.5, "ci_high": 0.7, "p": 1e-8, "q": 2e-8}]).to_csv(layer / "family_effects.csv",
                                                                                 index=False)
    html = write_interaction_page(layer).read_text()
    assert "Families by their effect over whole sequences" in html
    assert html.index("T1-CCTTGG <span") < html.index("<code>GATTACA</code>")   # strongest first
    assert "(TF-MoDISco)" in html and html.count("(TF-MoDISco)") == 1
