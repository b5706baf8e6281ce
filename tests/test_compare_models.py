"""The compare-models stage (combmotif.compare_models, report.compare_models_page,
validation.compare_models): families matched across models, signs, pairs, page, truth check."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
from test_site_check import site_row

from combmotif.__main__ import main as combmotif_main
from combmotif.compare_models import stage as compare_stage
from combmotif.compare_models.config import load_compare_models_config
from combmotif.compare_models.groups import group_class
from combmotif.compare_models.site_check import CHECK_COLUMNS, apply_checks, checked_groups, decide
from combmotif.compare_models.stage import comparisons_of, run_compare_models
from combmotif.errors import ConfigError, InputError
from combmotif.motifs.formats import Motif
from combmotif.motifs.match import MATCH_COLUMNS
from combmotif.motifs.meme_writer import write_meme
from combmotif.report.compare_models_page import plot_upset, region_counts
from combmotif.report.model_page import write_model_index
from combmotif.validation.compare_models import check_compare_models, truth_tables

from tiny_cnn import write_toy_checkpoint

SHARED1, SHARED2, ONLY_A, ONLY_B = "ACTTCCGA", "GAGCAACT", "TTTATTTAT", "CGGTCGAC"


def _ppm(consensus: str, p: float = 0.9) -> np.ndarray:
    rows = np.full((len(consensus), 4), (1 - p) / 3)
    rows[np.arange(len(consensus)), ["ACGT".index(c) for c in consensus]] = p
    return rows


def _discovery(root, segs_by_neuron, matches):
    """``discovery/conv1/neuron<k>`` with one cluster per segment; ``matches.csv`` (segment, target, q)."""
    for k, segs in enumerate(segs_by_neuron):
        nd = root / "discovery" / "conv1" / f"neuron{k}"
        nd.mkdir(parents=True)
        write_meme(nd / "segments.meme", [Motif(n, _ppm(c), altname=f"q={0.9 - 0.01 * k}") for n, c in segs])
        (nd / "clusters.json").write_text(json.dumps([
            {"id": c, "motif_id": f"conv1-n{k}-c{c}", "segments": [{"start": 0, "end": len(s), "motif_id": n}]}
            for c, (n, s) in enumerate(segs)]))
    rows = [{c: "" for c in MATCH_COLUMNS} | {"neuron": int(seg.split("-")[1]) - 1, "cluster": 0, "segment": seg,
                                               "rank": 1, "target": t, "q": q} for seg, t, q in matches]
    pd.DataFrame(rows, columns=MATCH_COLUMNS).to_csv(root / "discovery" / "conv1" / "matches.csv", index=False)


def _contribution(root, effects):
    """``contribution/conv1/neuron_{contribution,knockout}.csv`` with one signed effect per neuron."""
    folder = root / "contribution" / "conv1"
    folder.mkdir(parents=True)
    df = pd.DataFrame({"task": [f"conv1_neuron{k}" for k in range(len(effects))], "layer": 1,
                       "neuron": range(len(effects)), "target": 0,
                       "contribution": ["positive" if e > 0 else "negative" for e in effects], "effect": effects})
    df.to_csv(folder / "neuron_contribution.csv", index=False)
    df.to_csv(folder / "neuron_knockout.csv", index=False)


def _candidates(root, rows):
    folder = root / "interaction" / "conv1"
    folder.mkdir(parents=True)
    pd.DataFrame([{"familyA": a, "familyB": b, "nameA": "", "nameB": "", "interaction": c, "epsilon": e,
                   "q": 0.001, "n": 200} for a, b, c, e in rows]).to_csv(folder / "candidates.csv", index=False)


def _truth(folder, motifs, pairs):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "truth.json").write_text(json.dumps({
        "task": "mrl", "baseline": 0.0,
        "motifs": [{"name": n, "consensus": c, "effect": e, "frequency": f} for n, c, e, f in motifs],
        "pairs": [{"name": f"{a}+{b}", "motifA": a, "motifB": b, "class": cls, "interaction": 0.5}
                  for a, b, cls in pairs]}))


def _configs(tmp, label, model_name, molecule="auto"):
    (tmp / label).mkdir(exist_ok=True)
    for stage in ("interpreting", "contribution", "interaction"):
        extra = f"data_dir: data_{label}\n" if stage == "interpreting" else ""
        (tmp / f"{stage}_{label}.yaml").write_text(textwrap.dedent(f"""\
            model: {{checkpoint: toy-best.pth, molecule: {molecule}}}
            name: {model_name}
            results_dir: results
            """) + extra)


@pytest.fixture
def two_models(tmp_path):
    """Model A (ACTTCCG, GAGCAAC, ARE-like) and B (the same two, its own CGGTCGA), with signs and pairs."""
    write_toy_checkpoint(tmp_path, 40, 4)
    a, b = tmp_path / "results" / "model_a", tmp_path / "results" / "model_b"
    # each motif learned by two neurons (k and k + 3): one neuron alone is no evidence
    _discovery(a, [[("a-1", SHARED1)], [("a-2", SHARED2)], [("a-3", ONLY_A)],
                   [("a-4", SHARED1)], [("a-5", SHARED2)], [("a-6", ONLY_A)]],
               [("a-1", "enhA", 0.001), ("a-2", "enhB", 0.002), ("a-3", "ARE", 0.01)])
    _discovery(b, [[("b-1", "C" + SHARED1[:-1])], [("b-2", SHARED2)], [("b-3", ONLY_B)],
                   [("b-4", "C" + SHARED1[:-1])], [("b-5", SHARED2)], [("b-6", ONLY_B)]],
               [("b-1", "enhA", 0.01), ("b-2", "enhB", 0.03), ("b-3", "repC", 0.001)])
    _contribution(a, [0.5, 0.4, -0.6] * 2)
    _contribution(b, [0.5, -0.3, -0.7] * 2)     # GAGCAAC flips sign in B
    _candidates(a, [("F1", "F2", "synergistic", 0.6)])
    _candidates(b, [("F1", "F2", "additive", 0.01)])
    for lab, name in (("A", "model_a"), ("B", "model_b")):
        _configs(tmp_path, lab, name)
    _truth(tmp_path / "data_A", [("enhA", "ACTTCCG", 0.5, 0.2), ("enhB", "GAGCAAC", 0.5, 0.2),
                                 ("ARE", "TTTATTTA", -0.5, 0.2), ("repC", "CGGTCGA", -0.5, 0.0)],
           [("enhA", "enhB", "synergistic")])
    _truth(tmp_path / "data_B", [("enhA", "ACTTCCG", 0.5, 0.2), ("enhB", "GAGCAAC", -0.5, 0.2),
                                 ("repC", "CGGTCGA", -0.5, 0.2)], [("enhA", "enhB", "additive")])
    cfg = tmp_path / "compare.yaml"
    cfg.write_text(textwrap.dedent("""\
        models:
          - {label: A, discovery: interpreting_A.yaml, contribution: contribution_A.yaml,
             interaction: interaction_A.yaml}
          - {label: B, discovery: interpreting_B.yaml, contribution: contribution_B.yaml,
             interaction: interaction_B.yaml}
        """))
    return cfg


def test_families_are_matched_across_models_into_shared_and_specific_groups(two_models):
    cfg, models = load_compare_models_config(two_models)
    assert cfg.name == "A_vs_B" and [m.label for m in models] == ["A", "B"]
    tables = run_compare_models(cfg, models)
    g = tables["groups"].set_index("name")
    assert g.loc["enhA", "class"] == "shared" and g.loc["enhB", "class"] == "shared"
    assert g.loc["ARE", "class"] == "A-only" and g.loc["repC", "class"] == "B-only"
    assert (g.loc[["enhA", "enhB"], "match_q"] < 0.05).all() and g.loc[["ARE", "repC"], "match_q"].isna().all()
    assert g.loc["repC", "A_families"] == "" and g.loc["enhA", "A_families"] == "F1"
    member = tables["membership"].set_index("name")
    assert member.loc["enhA", ["A", "B"]].tolist() == [1, 1] and member.loc["ARE", ["A", "B"]].tolist() == [1, 0]
    out = two_models.parent / "results" / "compare_models" / "A_vs_B"
    assert {p.name for p in out.iterdir()} >= {"groups.csv", "members.csv", "membership.csv", "significance.csv",
                                               "signs.csv", "pairs.csv", "comparison.json"}
    sig = pd.read_csv(out / "significance.csv")
    assert np.allclose(sig.loc[(sig["model"] == "A") & (sig["target"] == "enhA"), "neg_log10_q"], 3.0)


def test_signs_and_pair_classes_side_by_side(two_models):
    tables = run_compare_models(*load_compare_models_config(two_models))
    signs = tables["signs"].set_index("name")
    assert signs.loc["enhA", ["A_sign", "B_sign", "agreement"]].tolist() == ["+", "+", "agree"]
    assert signs.loc["enhB", ["A_sign", "B_sign", "agreement"]].tolist() == ["+", "-", "differ"]
    assert signs.loc["ARE", "B_sign"] == "" and signs.loc["ARE", "agreement"] == ""
    pairs = tables["pairs"]
    assert len(pairs) == 1
    row = pairs.iloc[0]
    assert {row["nameA"], row["nameB"]} == {"enhA", "enhB"}
    assert (row["A_class"], row["B_class"], row["agreement"]) == ("synergistic", "additive", "differ")


def test_command_writes_page_figures_and_links_both_front_pages(two_models, capsys):
    with pytest.raises(SystemExit) as done:
        combmotif_main(["compare-models", str(two_models)])
    assert done.value.code == 0
    out = two_models.parent / "results" / "compare_models" / "A_vs_B"
    assert {"index.html", "venn.png", "significance.png", "signs.png"} <= {p.name for p in out.iterdir()}
    first = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with pytest.raises(SystemExit):
        combmotif_main(["compare-models", str(two_models)])
    assert first == {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}   # same inputs, same bytes
    assert "2 shared" in capsys.readouterr().out
    for model in ("model_a", "model_b"):
        page = (two_models.parent / "results" / model / "index.html").read_text()
        assert "../compare_models/A_vs_B/index.html" in page
        assert comparisons_of(two_models.parent / "results" / model)[0]["labels"] == ["A", "B"]
    write_model_index(two_models.parent / "results" / "model_a")      # a later rewrite keeps the link
    assert "A_vs_B" in (two_models.parent / "results" / "model_a" / "index.html").read_text()


def test_validation_classifies_planted_motifs_signs_and_the_specific_pair(two_models):
    t = truth_tables(two_models)
    motifs = t["motifs"].set_index("motif")
    assert motifs.loc["enhA", ["planted", "found", "ok"]].tolist() == ["shared", "shared", True]
    assert motifs.loc["ARE", ["planted", "found", "ok"]].tolist() == ["A-only", "A-only", True]
    # listed in A's truth with frequency 0: planted in B only
    assert motifs.loc["repC", ["planted", "found", "ok"]].tolist() == ["B-only", "B-only", True]
    assert motifs.loc["enhA", "match_q"] < 0.05
    signs = t["signs"].set_index("motif")
    assert signs.loc["enhB", ["A_planted", "B_planted", "A_found", "B_found"]].tolist() == ["+", "-", "+", "-"]
    assert signs.loc["enhB", ["planted_change", "found_change", "ok"]].tolist() == [True, True, True]
    assert signs.loc["enhA", ["planted_change", "ok"]].tolist() == [False, True]
    pair = t["pairs"].set_index("pair").loc["enhA+enhB"]
    assert pair[["planted", "found", "ok"]].tolist() == ["A-only", "A-only", True]
    assert (t["motifs"][["A_neurons", "B_neurons"]].max(axis=1) == 2).all()
    strict = truth_tables(two_models, min_neurons=3)["motifs"]
    assert (strict["found"] == "not found").all()
    lines = []
    assert check_compare_models(two_models, print_=lines.append) == 0
    assert "3 of 4 as planted" in lines[0] or "4 of 4 as planted" in lines[0]


def test_dna_models_match_on_both_strands(two_models, tmp_path):
    from combmotif.compare_models.groups import pooled_match_config
    from combmotif.sequences import reverse_complement

    # B's ACTTCCG family now reads as its reverse complement: matched only on both strands
    for k in (0, 3):
        seg = tmp_path / "results" / "model_b" / "discovery" / "conv1" / f"neuron{k}" / "segments.meme"
        write_meme(seg, [Motif(f"b-{k + 1}", _ppm(reverse_complement("C" + SHARED1[:-1])), altname="q=0.9")])
    cfg, models = load_compare_models_config(two_models)
    assert pooled_match_config(models).given_strand
    groups = run_compare_models(cfg, models)["groups"]
    assert sorted(groups.loc[groups["name"] == "enhA", "class"]) == ["A-only", "B-only"]
    for lab in ("A", "B"):
        _configs(tmp_path, lab, f"model_{lab.lower()}", molecule="dna")
    cfg, models = load_compare_models_config(two_models)
    assert not pooled_match_config(models).given_strand
    assert run_compare_models(cfg, models)["groups"].set_index("name").loc["enhA", "class"] == "shared"


def test_a_keras_model_compares_like_a_checkpoint(two_models, tmp_path):
    # Only the configs differ: the comparison reads results, so any model the loader takes will do.
    (tmp_path / "imported.hdf5").write_bytes(b"")
    for stage in ("interpreting", "contribution", "interaction"):
        path = tmp_path / f"{stage}_B.yaml"
        path.write_text(path.read_text().replace("{checkpoint: toy-best.pth, molecule: auto}",
                                                 "{keras_hdf5: imported.hdf5}"))
    cfg, models = load_compare_models_config(two_models)
    assert models[1].name == "model_b" and models[1].molecule == "rna"
    assert (run_compare_models(cfg, models)["groups"]["class"] == "shared").sum() == 2


def test_more_than_three_models_get_an_upset_matrix(tmp_path):
    labels = ["a", "b", "c", "d"]
    membership = pd.DataFrame({"group": ["G1", "G2", "G3"], "name": "x", "class": "",
                               "a": [1, 1, 0], "b": [1, 0, 0], "c": [1, 0, 1], "d": [1, 0, 0]})
    counts = region_counts(membership, labels)
    assert counts[("a", "b", "c", "d")] == 1 and counts[("a",)] == 1 and counts[("c",)] == 1 and counts[("b",)] == 0
    plot_upset(membership, labels, tmp_path / "upset.png")
    assert (tmp_path / "upset.png").read_bytes()[:4] == b"\x89PNG"
    assert group_class(["c", "a"], labels) == "shared:a+c" and group_class(labels, labels) == "shared"


def test_bad_configs_and_missing_discovery_are_one_line_errors(two_models):
    bad = two_models.parent / "one.yaml"
    bad.write_text("models:\n  - {discovery: interpreting_A.yaml}\n")
    with pytest.raises(ConfigError, match="at least two models"):
        load_compare_models_config(bad)
    bad.write_text("models:\n  - {discovery: interpreting_A.yaml, label: x}\n"
                   "  - {discovery: interpreting_B.yaml, label: x}\n")
    with pytest.raises(ConfigError, match=r"models\[1\].label' = 'x' is used twice"):
        load_compare_models_config(bad)
    bad.write_text("models:\n  - {discovery: interpreting_A.yaml}\n  - {discovery: absent.yaml}\n")
    with pytest.raises(ConfigError, match=r"models\[1\]'.*absent.yaml"):
        load_compare_models_config(bad)
    bad.write_text("models:\n  - {discovery: interpreting_A.yaml}\n  - {discovery: interpreting_B.yaml}\n"
                   "match_q: 2\n")
    with pytest.raises(ConfigError, match="'match_q' must be in"):
        load_compare_models_config(bad)
    import shutil

    shutil.rmtree(two_models.parent / "results" / "model_b" / "discovery")
    with pytest.raises(InputError, match="interpreting_B.yaml: no discovery outputs"):
        run_compare_models(*load_compare_models_config(two_models))
    assert not (two_models.parent / "results" / "compare_models").exists()   # refused before any work


def test_a_planted_pair_is_read_over_every_group_pair_recovering_its_motifs():
    from combmotif.validation.compare_models import _pair_call

    # The model holds motif a in groups G1 and G7 (best G1), b in G2: G1 x G2 was not tested
    # (near-duplicate patterns), G7 x G2 was; the tested row gives the call.
    pairs = pd.DataFrame({"groupA": ["G1", "G2"], "groupB": ["G2", "G7"],
                          "m_class": ["untested", "antagonistic"], "m_q": [np.nan, 1e-9]})
    best = {"a": {"m": "G1"}, "b": {"m": "G2"}}
    every = {"a": {"m": ["G1", "G7"]}, "b": {"m": ["G2"]}}
    assert _pair_call(pairs, "m", best, every, "a", "b") == "antagonistic"
    # with both tested, the motifs' own best groups win over a lower q elsewhere
    pairs.loc[0, ["m_class", "m_q"]] = ["additive", 0.3]
    assert _pair_call(pairs, "m", best, every, "a", "b") == "additive"
    assert _pair_call(pairs, "m", best, {"a": {}, "b": {}}, "a", "b") == "additive"
    assert _pair_call(pairs.iloc[:0], "m", best, every, "a", "b") == ""


def test_a_motif_learned_shorter_in_one_model_is_matched_through_the_database(two_models):
    from combmotif.compare_models.groups import match_families
    from combmotif.motifs.collect import database_groups
    from combmotif.motifs.families import Family

    _, models = load_compare_models_config(two_models)
    rng = np.random.default_rng(0)
    decoys = ["".join(rng.choice(list("ACGT"), 8)) for _ in range(20)]
    database = [Motif("ARE_long", _ppm("AATTTATTTAT")), Motif("ARE_core", _ppm("TATTTATTTAA")),
                Motif("PUMx", _ppm("TGTAAATA"))] + [Motif(f"d{i}", _ppm(c)) for i, c in enumerate(decoys)]
    groups = database_groups(database, cfg=models[0].matching)
    assert groups["ARE_long"] == groups["ARE_core"] != groups["PUMx"]

    def fam(fid, consensus, matches, n=2):
        return Family(fid, matches[0][0] if matches else fid, Motif(fid, _ppm(consensus)), consensus, len(consensus),
                      [f"{fid}-s"], [f"conv1/neuron{k}" for k in range(n)],
                      target=matches[0][0] if matches else "", q=matches[0][1] if matches else float("nan"),
                      matches=matches)

    # A learned the whole ARE, B only its 5-letter heart: too short for a direct family match,
    # but each matches one group of near-duplicate database motifs.
    a = [fam("F1", "ATTTATTTA", [("ARE_long", 0.01)]), fam("F2", "TGTAAATA", [("PUMx", 0.001)])]
    b = [fam("F1", "ATTTA", [("ARE_core", 0.004)]), fam("F2", "CGGTCGAC", [])]
    direct = match_families(models, [a, b])
    assert direct.groupby("group")["model"].nunique().max() == 1          # nothing joins by motifs alone
    members = match_families(models, [a, b], database=database)
    are = members[members["family"].eq("F1")]
    assert are["group"].nunique() == 1
    assert are["match_q"].tolist() == [0.01, 0.01]                       # the weaker of the two database q
    assert set(are["match_via"]) == {"database:ARE_core"}
    assert members.groupby("group")["model"].nunique().max() == 2
    assert (members[members["family"].eq("F2")].groupby("group").size() == 1).all()   # PUM stays A's own
    # a database match above match_q is no evidence
    b[0] = fam("F1", "ATTTA", [("ARE_core", 0.2)])
    assert match_families(models, [a, b], database=database).groupby("group")["model"].nunique().max() == 1


def test_a_motif_used_by_sites_makes_its_group_shared_with_the_sign_of_the_push(two_models, monkeypatch):
    """ONLY_A's group (A by neurons) becomes shared when B's site check finds a comparable push;
    the validation then finds the motif shared and reads B's sign from the push."""
    cfg, models = load_compare_models_config(two_models)
    plain = run_compare_models(cfg, models)
    g_only = plain["members"].loc[plain["members"]["consensus"].str.contains("TTTATTT"), "group"].iloc[0]
    todo = checked_groups(plain["groups"], plain["members"], ["A", "B"], 2)
    assert g_only in set(todo["group"]) and todo.set_index("group").loc[g_only, "holders"] == "A"

    def fake(cfg, models, groups, members, log=None):
        return decide(pd.DataFrame([site_row(g_only, "A", True, 80, -0.4, 1e-10),
                                    site_row(g_only, "B", False, 80, -0.3, 1e-9)]))
    monkeypatch.setattr(compare_stage, "site_checks", fake)
    tables = run_compare_models(cfg, models)
    g = tables["groups"].set_index("group").loc[g_only]
    assert (g["class_neurons"], g["class"], g["A_learned"], g["B_learned"]) == ("A-only", "shared", "neurons", "sites")
    assert g["B_push"] == pytest.approx(-0.3)
    s = tables["signs"].set_index("group").loc[g_only]
    assert (s["B_sign"], s["B_called"]) == ("-", "sites")
    motifs = truth_tables(two_models)["motifs"].set_index("motif")
    assert motifs.loc["ARE", "found"] == "shared" and motifs.loc["ARE", "B_by"] == "sites"


def test_groups_every_model_holds_are_not_checked(two_models):
    cfg, models = load_compare_models_config(two_models)
    tables = run_compare_models(cfg, models)
    todo = checked_groups(tables["groups"], tables["members"], ["A", "B"], 1)
    shared = set(tables["groups"].loc[tables["groups"]["class_neurons"] == "shared", "group"])
    assert shared and not shared & set(todo["group"])
    out = apply_checks(tables["groups"].drop(columns=["class_neurons", "A_learned", "B_learned", "A_push",
                                                      "B_push"]), pd.DataFrame(columns=CHECK_COLUMNS), ["A", "B"])
    assert (out["class"] == out["class_neurons"]).all()
    assert np.isnan(out["A_push"].to_numpy(float)).all()


def test_site_checks_run_on_each_model_s_own_model_and_data(two_models):
    """The toy models hold their data through their checkpoints: every group one model lacks is
    measured in both, the holder's row marked, and the table written beside the others."""
    cfg, models = load_compare_models_config(two_models, {"site_check_min_neurons": 1})
    tables = run_compare_models(cfg, models)
    checks = tables["site_checks"]
    specific = set(tables["groups"].loc[tables["groups"]["class_neurons"] != "shared", "group"])
    assert specific and set(checks["group"]) == specific
    assert all(sorted(m) == ["A", "B"] for _, m in checks.groupby("group")["model"])
    for _, r in checks.iterrows():
        holds = tables["groups"].set_index("group").loc[r["group"], f"{r['model']}_n_neurons"] > 0
        assert bool(r["held"]) == holds and (r["reason"] == "neurons") == holds
        assert r["learned"] in ("", "no", "sites") and r["scale"] >= 0
    written = pd.read_csv(cfg.results_dir + f"/compare_models/{cfg.name}/site_checks.csv", keep_default_na=False)
    assert list(written.columns) == CHECK_COLUMNS and len(written) == len(checks)
    off, models = load_compare_models_config(two_models, {"site_check_min_neurons": 1, "site_check": False})
    assert not len(run_compare_models(off, models)["site_checks"])


def test_a_site_check_without_the_model_s_sequences_is_one_line_naming_the_way_out(two_models, capsys):
    """Nothing is written when a checked model's data cannot be read."""
    (two_models.parent / "data.csv").unlink()
    two_models.write_text(two_models.read_text() + "site_check_min_neurons: 1\n")
    with pytest.raises(SystemExit) as exit_:
        combmotif_main(["compare-models", str(two_models)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert exit_.value.code != 0 and len(err) == 1
    assert "site check of model 'A'" in err[0] and "site_check: false" in err[0]
    assert not (two_models.parent / "results" / "compare_models").exists()
