"""The motif syntax of a neuron (NeuronMotif Fig. 5): dictionary, gaps, tree, truth table,
first occurrences, the layer's rules table and the tree's SVG."""

import json
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from combmotif.motifs.formats import Motif
from combmotif.motifs.unit import write_unit_files
from combmotif.neuronmotif.syntax import Site, neuron_syntax, syntax_tree
from combmotif.neuronmotif.syntax_layer import RULE_COLUMNS, read_rules, read_syntax, write_layer_syntax
from combmotif.report.syntax_svg import syntax_section, tree_svg

CFG = {"tomtom_backend": "memelite", "n_jobs": 1}
M1, M2, M3 = "ACGTAC", "TTGCAG", "GGATCC"
# Other motifs of the layer: Tomtom's p-values need a background of many columns.
FILLER = ["CATTGA", "GTCAAT", "AGGTCT", "TCCAGT", "CTAGGA", "GACCTT", "ATCGGC", "TGGACA"]


def _ppm(length: int, sites: dict[int, str]) -> np.ndarray:
    ppm = np.full((length, 4), 0.25)
    for start, word in sites.items():
        for i, c in enumerate(word):
            ppm[start + i] = 0.01
            ppm[start + i, "ACGT".index(c)] = 0.97
    return ppm


def _write_neuron(layer_dir, layer, k, clusters, rf=24):
    """``clusters``: one {start: word} dict per cluster; quality falls with the cluster index."""
    folder = layer_dir / f"neuron{k}"
    folder.mkdir(parents=True)
    recs, ppms = [], []
    for i, sites in enumerate(clusters):
        segs = [{"start": s, "end": s + len(w), "ic_mean": 1.8, "contrast": 1.5,
                 "quality": round(0.9 - 0.1 * i - 0.01 * j, 3), "motif_id": f"conv{layer}-n{k}-c{i}-s{j}",
                 "consensus": w} for j, (s, w) in enumerate(sorted(sites.items()))]
        recs.append({"id": i, "motif_id": f"conv{layer}-n{k}-c{i}", "size": 100, "max_activation": 1.0,
                     "consensus": "N", "segments": segs})
        ppms.append(_ppm(rf, sites))
    write_unit_files(folder, {"layer": layer, "neuron": k, "clusters": recs}, ppms,
                     lambda c: "", lambda d: f"q={d['quality']}")


@pytest.fixture()
def layers(tmp_path):
    """conv1: single-motif neurons; conv2: neuron0 = M1-gap2-M2, M1-gap3-M2, M3 alone;
    neuron1 = M1-gap3-M2 (pooled with neuron0's rule), neuron2 = M1 twice (duplicates)."""
    disc = tmp_path / "discovery"
    c1, c2 = disc / "conv1", disc / "conv2"
    for k, w in enumerate([M1, M2, M3] + FILLER):
        _write_neuron(c1, 1, k, [{0: w}], rf=6)
    _write_neuron(c2, 2, 0, [{2: M1, 10: M2}, {3: M1, 12: M2}, {5: M3}])
    _write_neuron(c2, 2, 1, [{1: M1, 10: M2}])
    _write_neuron(c2, 2, 2, [{4: M1}, {8: M1}])
    for k, (a, b) in enumerate(zip(FILLER, FILLER[1:]), start=3):
        _write_neuron(c2, 2, k, [{0: a, 12: b}])
    _write_neuron(c2, 2, 20, [])                       # a dead neuron: no cluster
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # few targets: Tomtom warns about its p-values
        for d in (c1, c2):
            write_layer_syntax(d, CFG)
    return disc


def _motif(rec, word):
    return next(d for d in rec["dictionary"] if d["consensus"] == word)


def test_dictionary_gaps_tree_and_truth_table(layers):
    rec = read_syntax(layers / "conv2" / "neuron0")
    assert sorted(d["consensus"] for d in rec["dictionary"]) == sorted([M1, M2, M3])
    m1, m2, m3 = (_motif(rec, w)["id"] for w in (M1, M2, M3))
    assert len(_motif(rec, M1)["members"]) == 2          # the two M1 segments are one motif
    gaps = [[g["gap"] for g in c["gaps"]] for c in rec["clusters"]]
    assert gaps == [[2], [3], []]
    branch = [n for n in rec["nodes"] if n["kind"] == "branch"]
    assert len(branch) == 1
    node = branch[0]
    assert (node["left"], node["right"], node["gap_min"], node["gap_max"]) == (m1, m2, 2, 3)
    assert node["clusters"] == [0, 1]
    assert sorted(rec["roots"]) == sorted([node["id"], m3])
    tt = rec["truth_table"]
    col = {m: tt["motifs"].index(m) for m in (m1, m2, m3)}
    present = np.array(tt["present"])
    assert present[:, col[m1]].tolist() == [1, 1, 0]
    assert present[:, col[m3]].tolist() == [0, 0, 1]
    assert [c["rank"] for c in rec["clusters"]] == [1, 2, 3]


def test_duplicates_merged_and_single_motif_neuron(layers):
    rec = read_syntax(layers / "conv2" / "neuron2")
    assert len(rec["dictionary"]) == 1 and rec["dictionary"][0]["consensus"] == M1
    assert [n["kind"] for n in rec["nodes"]] == ["leaf"] and rec["roots"] == [rec["dictionary"][0]["id"]]
    dead = read_syntax(layers / "conv2" / "neuron20")
    assert dead["dictionary"] == [] and dead["nodes"] == [] and "No motif segment" in syntax_section(dead, 2)
    one = read_syntax(layers / "conv1" / "neuron0")
    assert [n["id"] for n in one["nodes"]] == one["roots"] == ["m1"]


def test_first_occurrence_links_the_shallower_layer(layers):
    rec = read_syntax(layers / "conv2" / "neuron0")
    leaf = {n["id"]: n for n in rec["nodes"]}
    assert (leaf[_motif(rec, M2)["id"]]["first_layer"], leaf[_motif(rec, M2)["id"]]["first_neuron"]) == (1, 1)
    branch = next(n for n in rec["nodes"] if n["kind"] == "branch")
    assert (branch["first_layer"], branch["first_neuron"]) == (2, 0)   # no pair in conv1


def test_rules_table_pools_neurons(layers):
    rules = read_rules(layers / "conv2")
    assert list(rules.columns) == RULE_COLUMNS
    row = rules[(rules["consensusA"] == M1) & (rules["consensusB"] == M2)]
    assert len(row) == 1
    row = row.iloc[0]
    assert (row["order"], row["gap_min"], row["gap_max"], row["neurons"], row["n_neurons"]) == ("A-B", 2, 3, "0;1", 2)
    assert set(row["membersA"].split(";")) >= {"conv2-n0-c0-s0", "conv2-n1-c0-s0"}
    assert (row["first_layer"], row["first_neuron"]) == (2, 0)
    assert not ((rules["consensusA"] == M1) & (rules["consensusB"] == M3)).any()
    empty = read_rules(layers / "conv1")
    assert list(empty.columns) == RULE_COLUMNS and len(empty) == 0
    assert json.loads((layers / "conv2" / "neuron0" / "syntax.json").read_text())["layer"] == 2


def test_tree_joins_least_flexible_gap_first():
    rows = [[("a", 0, 4), ("b", 5, 9), ("c", 20, 24)],
            [("a", 0, 4), ("b", 5, 9), ("c", 12, 16)],
            [("b", 0, 4), ("a", 6, 10)]]
    nodes = syntax_tree(rows, ["a", "b", "c"])
    branch = [n for n in nodes if n["kind"] == "branch"]
    # a-b (gap 1 in both clusters) before (ab)-c (gaps 11 and 3); b-a is another order.
    assert [(n["left"], n["right"], n["gap_min"], n["gap_max"]) for n in branch] == \
        [("a", "b", 1, 1), ("b", "a", 2, 2), ("b1", "c", 3, 11)]
    assert branch[2]["junction"] == ["b", "c"] and branch[2]["leaves"] == ["a", "b", "c"]
    # Every leaf of the 5' child lies 5' of every leaf of the 3' child: a-c is a pair too.
    assert [(p["a"], p["b"], p["gap_min"], p["gap_max"], p["adjacent"]) for p in branch[2]["pairs"]] == \
        [("a", "c", 8, 16, False), ("b", "c", 3, 11, True)]


def test_low_quality_segments_annotated_or_left_out():
    ppm = _ppm(6, {0: M1})
    sites = [Site("s0", 0, 0, 6, 0.9, ppm), Site("s1", 1, 2, 8, 0.1, ppm), Site("s2", 1, 10, 16, 0.1, ppm)]
    similar = np.eye(3, dtype=bool)
    similar[0, 1] = similar[1, 0] = True
    rec = neuron_syntax([{"id": 0}, {"id": 1}], sites, similar)
    assert [c["high_quality"] for c in rec["clusters"]] == [True, False]
    assert len(rec["dictionary"]) == 1 and rec["dictionary"][0]["members"] == ["s0"]
    assert [d["motif"] for d in rec["clusters"][1]["segments"]] == ["m1", None]
    assert [n["kind"] for n in rec["nodes"]] == ["leaf"]


def test_svg_is_valid_xml_and_section_renders(layers):
    rec = read_syntax(layers / "conv2" / "neuron0")
    svg = tree_svg(rec)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert "gap 2–3" in text and "ACGUAC" in text
    html = syntax_section(rec, 2)
    assert "<svg" in html and "Truth table" in html and "syntax_rules.csv" in html
    assert 'href="../../conv1/neuron1/page.html#syntax"' in html
    assert "Not computed" in syntax_section(None, 2)
    assert tree_svg({"nodes": [], "roots": [], "dictionary": []}) == ""


def test_a_rules_spacing_scan_is_shown_beside_the_tree_in_the_rules_order(layers):
    from combmotif.report.syntax_svg import rule_scans

    assert rule_scans(layers / "conv2") == {}                 # nothing scanned yet
    spacing = layers.parent / "interaction" / "conv2" / "spacing"
    spacing.mkdir(parents=True)
    # The pair was scanned as M2, M1: the rule (M1 5' of M2) is its BA order.
    pd.DataFrame([{"pair": "P1", "patternA": M2, "patternB": M1, "sig_gaps_AB": "7",
                   "sig_gaps_BA": "2;3;4;9", "interaction": "synergistic", "reason": ""},
                  {"pair": "P2", "patternA": M3, "patternB": M1, "sig_gaps_AB": "", "sig_gaps_BA": "",
                   "interaction": "", "reason": "motif longer than the receptive field"},
                  {"pair": "P3", "patternA": "", "patternB": M1, "sig_gaps_AB": "1", "sig_gaps_BA": "",
                   "interaction": "", "reason": ""}]
                 ).to_csv(spacing / "summary.csv", index=False)
    rules = read_rules(layers / "conv2")
    rule = rules[(rules["consensusA"] == M1) & (rules["consensusB"] == M2)]["rule"].iloc[0]
    scans = rule_scans(layers / "conv2")
    assert set(scans) == {rule}                               # the unscanned pair gives nothing
    assert scans[rule]["order"] == "BA" and scans[rule]["significant"] == "2;3;4;9"
    assert scans[rule]["href"] == "../../../interaction/conv2/spacing/P1.png"
    html = syntax_section(read_syntax(layers / "conv2" / "neuron0"), 2, scans=scans)
    assert "Spacing scans of these rules" in html and 'src="../../../interaction/conv2/spacing/P1.png"' in html
    assert "significant at gaps 2–4, 9</a> (synergistic)" in html
    assert "Spacing scan" not in syntax_section(read_syntax(layers / "conv2" / "neuron0"), 2)


def test_rules_csv_reads_with_pandas(layers):
    df = pd.read_csv(layers / "conv2" / "syntax_rules.csv")
    assert list(df.columns) == RULE_COLUMNS and len(df) >= 1


def test_cores_split_a_segment_holding_two_motifs_and_trim_flanks():
    from combmotif.motifs.match import Segment
    from combmotif.neuronmotif.syntax import motif_cores, neuron_sites

    seg = _ppm(16, {1: M1, 9: M2})           # flank, M1, 2 flat bases, M2, flank
    assert motif_cores(seg) == [(1, 7), (9, 15)]
    assert motif_cores(_ppm(5, {0: "ACG"})) == [(0, 5)]   # no core of 4: kept whole
    clusters = [{"id": 0, "segments": [{"motif_id": "s0", "quality": 0.9}]}]
    sites = neuron_sites(clusters, [Segment("s0", Motif("s0", seg), 0, 3)])
    assert [(s.name, s.start, s.end) for s in sites] == [("s0:1", 4, 10), ("s0:2", 12, 18)]
    rec = neuron_syntax(clusters, sites, np.eye(2, dtype=bool))
    branch = [n for n in rec["nodes"] if n["kind"] == "branch"]
    assert [(n["gap_min"], n["gap_max"]) for n in branch] == [(2, 2)]


# --------------------------------------------------------------------------- annotation by scans

def test_fused_segment_annotated_with_both_motifs_at_their_offsets():
    from combmotif.neuronmotif.syntax_annotate import annotate_clusters, annotate_ppm

    ppm = _ppm(20, {2: "AAAAAA", 8: "C", 9: "GGGGGG"})          # AAAAAA-C-GGGGGG in one segment
    dictionary = [{"id": "m1", "ppm": _ppm(6, {0: "AAAAAA"})}, {"id": "m2", "ppm": _ppm(6, {0: "GGGGGG"})}]
    arr = annotate_clusters([ppm], [[("seg", 1, 16)]], dictionary, labels=["c0"])
    segs = arr[0]["segments"]
    assert [(s["segment"], s["motif"], s["start"], s["end"]) for s in segs] == \
        [("seg:1", "m1", 2, 8), ("seg:2", "m2", 9, 15)]
    assert arr[0]["gaps"] == [{"left": "m1", "right": "m2", "gap": 1}]
    assert dictionary[0]["annotated"] == ["seg:1"] and dictionary[1]["annotated"] == ["seg:2"]
    # Outside every segment a hit needs informative rows; a flat PPM holds nothing.
    assert annotate_ppm(np.full((20, 4), 0.25), [d["ppm"] for d in dictionary], [(0, 20)]) == []
    assert annotate_ppm(ppm, [d["ppm"] for d in dictionary], [(0, 1)], min_ic=None) == []
    assert [h[:3] for h in annotate_ppm(ppm, [d["ppm"] for d in dictionary], [(0, 1)], min_ic=0.5)] == \
        [(0, 2, 8), (1, 9, 15)]


def test_fused_dictionary_motif_read_with_shallower_motifs():
    from combmotif.neuronmotif.syntax_annotate import decompose

    fused = M1 + "T" + M2                        # 13 informative columns: motif_cores cannot cut it
    ppm = _ppm(24, {3: fused})
    clusters = [{"id": 0, "motif_id": "c0", "segments": [{"motif_id": "s0", "quality": 0.9}]}]
    site = Site("s0", 0, 3, 16, 0.9, ppm[3:16], 2, 17)
    alone = neuron_syntax(clusters, [site], np.eye(1, dtype=bool), cluster_ppms=[ppm])
    assert [n["kind"] for n in alone["nodes"]] == ["leaf"] and alone["composites"] == []
    parts = [("conv1/neuron0/m1", _ppm(6, {0: M1})), ("conv1/neuron1/m1", _ppm(6, {0: M2})),
             ("conv1/neuron2/m1", _ppm(6, {0: M3}))]
    rec = neuron_syntax(clusters, [site], np.eye(1, dtype=bool), cluster_ppms=[ppm], parts=parts)
    assert [c["id"] for c in rec["composites"]] == ["m1"]
    words = {d["id"]: d["consensus"] for d in rec["dictionary"]}
    assert sorted(words.values()) == sorted([M1, M2])
    assert {d["representative"] for d in rec["dictionary"]} == {"conv1/neuron0/m1", "conv1/neuron1/m1"}
    segs = rec["clusters"][0]["segments"]
    assert [(words[s["motif"]], s["start"], s["end"]) for s in segs] == [(M1, 3, 9), (M2, 10, 16)]
    branch = [n for n in rec["nodes"] if n["kind"] == "branch"]
    assert [(words[n["left"]], words[n["right"]], n["gap_min"], n["gap_max"]) for n in branch] == [(M1, M2, 1, 1)]
    # One motif is not split: no two parts cover it, and a lone part is not a decomposition.
    assert decompose(_ppm(12, {0: M1 + M3}), [_ppm(6, {0: M1})]) == []
    assert decompose(_ppm(12, {0: "ACGTACGGATCC"}), [_ppm(6, {0: M2})]) == []


def test_layer_reads_fused_segments_with_the_shallower_dictionary(tmp_path):
    disc = tmp_path / "discovery"
    c1, c2 = disc / "conv1", disc / "conv2"
    for k, w in enumerate([M1, M2, M3] + FILLER):
        _write_neuron(c1, 1, k, [{0: w}], rf=6)
    _write_neuron(c2, 2, 0, [{2: M1 + "T" + M2}, {4: M3}])
    for k, (a, b) in enumerate(zip(FILLER, FILLER[1:]), start=1):
        _write_neuron(c2, 2, k, [{0: a + "T" + b}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d in (c1, c2):
            write_layer_syntax(d, CFG)
    rules = read_rules(c2)
    row = rules[(rules["consensusA"] == M1) & (rules["consensusB"] == M2)]
    assert len(row) == 1 and (row.iloc[0]["gap_min"], row.iloc[0]["gap_max"]) == (1, 1)
    rec = read_syntax(c2 / "neuron0")
    assert [c["consensus"] for c in rec["composites"]] == [M1 + "T" + M2]
    assert {d["source"] for d in rec["dictionary"]} == {"neuron", "part"}
    assert "Fused motifs read as" in syntax_section(rec, 2)


def test_sample_gaps_count_the_spread_among_strong_samples():
    from combmotif.neuronmotif.syntax_samples import sample_gaps

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, size=(300, 30))
    a, b = np.array(["ACGT".index(c) for c in M1]), np.array(["ACGT".index(c) for c in M2])
    gaps = np.arange(200) % 5 + 2                                   # A then B at gaps 2..6
    for i, g in enumerate(gaps):
        codes[i, 1:7], codes[i, 7 + g:13 + g] = a, b
    act = np.where(np.arange(300) < 200, 1.0, 0.1)                  # the others are weak
    got = sample_gaps(codes, act, _ppm(6, {0: M1}), _ppm(6, {0: M2}))   # 5-95 % of the gaps
    assert (got["sample_gap_min"], got["sample_gap_max"], got["sample_n"]) == (2, 6, 200)
    assert got["sample_share"] == 1.0
    none = sample_gaps(codes, act, _ppm(6, {0: M2}), _ppm(6, {0: M1}))    # B never 5' of A
    assert none["sample_share"] < 0.1


def test_nearest_gaps_equal_the_all_pairs_minimum():
    from combmotif.neuronmotif.syntax_samples import nearest_gaps

    rng = np.random.default_rng(3)
    for width in (1, 4, 9):
        hit_a, hit_b = rng.random((40, 30)) < 0.08, rng.random((40, 27)) < 0.08
        gap = np.arange(27)[None, :] - np.arange(30)[:, None] - width
        valid = hit_a[:, :, None] & hit_b[:, None, :] & (gap >= 0)[None]
        big = np.iinfo(np.int64).max
        brute = np.where(valid, gap[None], big).reshape(40, -1).min(1)
        assert np.array_equal(nearest_gaps(hit_a, width, hit_b), np.where(brute < big, brute, -1))


def test_layer_in_worker_processes_writes_the_same_bytes(layers, monkeypatch):
    """A layer's neurons spread over forked processes give the files of one process."""
    import combmotif.neuronmotif.syntax_layer as sl

    c2 = layers / "conv2"
    files = sorted(c2.glob("neuron*/syntax.json")) + [c2 / "syntax_rules.csv"]
    serial = {p: p.read_bytes() for p in files}
    monkeypatch.setattr(sl, "PARALLEL_WORK", 0)
    monkeypatch.setattr(sl, "usable_cores", lambda: 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_layer_syntax(c2, CFG)
    assert {p: p.read_bytes() for p in files} == serial


@pytest.mark.parametrize("metric", ["euclid", "pearson"])
def test_scans_equal_the_windowed_formula_to_the_bit(metric, monkeypatch):
    """Chunked diagonal sums give what every (motif, PPM, offset, column, base) term summed
    in that order gives."""
    from combmotif.motifs.formats import information_content
    from combmotif.neuronmotif import ppm_scan

    rng = np.random.default_rng(3)
    ppms = np.round(rng.dirichlet(np.full(4, 0.3), (5, 40)), 4)
    motifs = np.round(rng.dirichlet(np.full(4, 0.3), (7, 9)), 4)
    motifs[0] = ppms[2, 11:20]                            # an exact copy scores exactly 1
    weight = np.stack([information_content(q) for q in motifs]) + 1e-9
    win = np.lib.stride_tricks.sliding_window_view(ppms, (9, 4), axis=(1, 2))[:, :, 0][None]
    if metric == "pearson":
        x, y = win - 0.25, motifs[:, None, None] - 0.25
        sim = (x * y).sum(-1) / np.sqrt((x * x).sum(-1) * (y * y).sum(-1) + 1e-12)
    else:
        sim = 1.0 - np.sqrt(((win - motifs[:, None, None]) ** 2).sum(-1)) / np.sqrt(2.0)
    want = (sim * weight[:, None, None]).sum(-1) / weight.sum(-1)[:, None, None]
    for chunk in (1 << 16, 500):                          # one chunk, then one motif per chunk
        monkeypatch.setattr(ppm_scan, "_CHUNK", chunk)
        got = ppm_scan.scan_many(ppms, motifs, weight, metric)
        assert got.shape == (7, 5, 32) and np.array_equal(got, want)
    if metric == "euclid":
        assert got[0, 2, 11] == 1.0
