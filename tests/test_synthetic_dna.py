"""The synthetic DNA binding-site set with JASPAR motifs planted, and the JASPAR recovery check."""

import itertools
import json
import re

import numpy as np
import pytest

from combmotif.data.jaspar import families, load_jaspar
from combmotif.data.pwm_sites import best_scores, log_odds, site_threshold
from combmotif.data.synthetic_dna import make_dna, noiseless, presence, save_dna_set
from combmotif.data.truth import load_truth
from combmotif.motifs.formats import Motif, read_motifs
from combmotif.sequences import reverse_complement
from combmotif.validation.jaspar import jaspar_recovery, with_families

N = 400


@pytest.fixture(scope="module")
def db():
    return load_jaspar()


@pytest.fixture(scope="module")
def made(db):
    return make_dna(n=N, seed=5, k=5, n_pairs=1, database=db)


@pytest.fixture(scope="module")
def folder(made, db, tmp_path_factory):
    out = tmp_path_factory.mktemp("dna") / "set"
    save_dna_set(out, *made, database=db)
    return out


def _site_score(site: str, ppm) -> int:
    codes = np.array(["ACGT".index(c) for c in site])
    return int(log_odds(np.asarray(ppm))[np.arange(len(site)), codes].sum())


def test_same_seed_same_bytes_other_seed_other_motifs(made, folder, db, tmp_path):
    again = tmp_path / "again"
    save_dna_set(again, *make_dna(n=N, seed=5, k=5, n_pairs=1, database=db), database=db)
    for name in ("positives.fasta", "negatives.fasta", "sites.csv", "truth.json", "planted.meme", "jaspar.meme"):
        assert (folder / name).read_bytes() == (again / name).read_bytes(), name
    other = make_dna(n=N, seed=6, k=5, n_pairs=1, database=db)[2]
    assert [m["name"] for m in other["motifs"]] != [m["name"] for m in made[2]["motifs"]]


def test_motifs_are_informative_dissimilar_jaspar_matrices_of_distinct_families(made, db):
    truth = made[2]
    by_id = {m.name: m for m in db}
    fams = [families(by_id[m["name"]]) for m in truth["motifs"]]
    assert all(not (a & b) for a, b in itertools.combinations(fams, 2))
    for m in truth["motifs"]:
        assert np.allclose(m["ppm"], np.round(by_id[m["name"]].ppm, 6))
        assert m["altname"] == by_id[m["name"]].altname and m["ic_bits"] >= 10
    # Tomtom of the planted PPMs against the database: each finds itself, none another planted one.
    table = jaspar_recovery([Motif(m["name"], np.array(m["ppm"])) for m in truth["motifs"]], truth, db)
    assert (table["matched"] == "id").all() and (table["by"] == table["motif"]).all()


def test_planted_sites_are_sampled_on_both_strands_and_reach_the_threshold(made):
    records, sites, truth = made
    motifs = {m["name"]: m for m in truth["motifs"]}
    seqs = dict(zip(records["header"], records["sequence"]))
    assert set(sites["strand"]) == {"+", "-"}
    consensus_only = True
    for r in sites.itertuples():
        m = motifs[r.motif]
        assert seqs[r.record][r.start:r.end] == r.site
        on_motif_strand = r.site if r.strand == "+" else reverse_complement(r.site)
        score = _site_score(on_motif_strand, m["ppm"])
        assert score == round(r.score_bits * 100) >= round(m["threshold_bits"] * 100)
        consensus_only &= on_motif_strand == "".join("ACGT"[i] for i in np.argmax(m["ppm"], 1))
    assert not consensus_only                      # sampled from the PPM, not the consensus
    for m in truth["motifs"]:
        mine = sites[sites["motif"] == m["name"]]
        assert {"+", "-"} <= set(mine["strand"]) and m["planted_sites"] == len(mine)


def test_label_is_the_rule_and_pair_members_alone_are_negatives(made):
    records, sites, truth = made
    label = records["label"].to_numpy()
    assert np.array_equal(noiseless(records["sequence"].tolist(), truth), label.astype(float))
    present = presence(records["sequence"].tolist(), truth)
    (pair,) = truth["pairs"]
    a, b = present[pair["motifA"]], present[pair["motifB"]]
    solo = np.any([present[m["name"]] for m in truth["motifs"] if m["role"] == "alone"], axis=0)
    decoys = (a ^ b) & ~solo
    assert decoys[label == 0].sum() > 0.1 * (label == 0).sum() and (label[decoys] == 0).all()
    assert (label[a & b] == 1).all() and (a & b & ~solo).sum() > 0
    assert not solo[label == 0].any()
    # The planted sites of every record are the motifs present in it, nothing else.
    for name, hit in present.items():
        planted = set(sites.loc[sites["motif"] == name, "record"])
        assert set(records["header"][hit]) == planted


def test_headers_name_distinct_chromosome_windows(folder):
    pattern = re.compile(r"^>(chr\d+):(\d+)-(\d+)\(\+\)$")
    seen, chroms = set(), set()
    for name in ("positives.fasta", "negatives.fasta"):
        lines = (folder / name).read_text().splitlines()
        assert len(lines) == N
        for head, seq in zip(lines[::2], lines[1::2]):
            m = pattern.match(head)
            assert m and int(m[3]) - int(m[2]) == len(seq) == 101 and set(seq) <= set("ACGT")
            seen.add(head)
            chroms.add(m[1])
    assert len(seen) == N and len(chroms) >= 15
    from combmotif.data.fasta import chromosome_of, read_fasta

    names, _ = read_fasta(folder / "positives.fasta")
    assert all(c is not None and c.startswith("chr") for c in chromosome_of(names))


def test_truth_validates_and_planted_meme_holds_the_ppms(folder, db):
    truth = load_truth(folder / "truth.json")
    assert truth["task"] == "binding" and truth["molecule"] == "dna"
    assert json.loads((folder / "truth.json").read_text())["jaspar"]["n"] == len(db)
    planted = read_motifs(folder / "planted.meme", "meme")
    assert [m.name for m in planted] == [m["name"] for m in truth["motifs"]]
    assert [m.altname for m in planted] == [m["altname"] for m in truth["motifs"]]
    for got, m in zip(planted, truth["motifs"]):
        assert np.allclose(got.ppm, np.asarray(m["ppm"]) / np.sum(m["ppm"], 1, keepdims=True), atol=1e-6)
    assert len(read_motifs(folder / "jaspar.meme", "meme")) == len(db)


def test_threshold_and_scan_are_exact():
    rng = np.random.default_rng(0)
    ppm = rng.dirichlet(np.ones(4) * 0.3, size=5)
    scores = log_odds(ppm)
    words = np.array(list(itertools.product(range(4), repeat=5)))
    every = scores[np.arange(5), words].sum(1)
    thr = site_threshold(scores, 0.01)
    assert (every >= thr).mean() <= 0.01 < (every >= thr - 1).mean()
    codes = rng.integers(0, 4, size=(7, 30))
    codes[0, 3] = 4
    rc = scores[::-1, ::-1]
    brute = [max(max(scores[np.arange(5), c[p:p + 5]].sum(), rc[np.arange(5), c[p:p + 5]].sum())
                 for p in range(26) if 4 not in c[p:p + 5]) for c in codes]
    assert best_scores(codes, [scores])[:, 0].tolist() == brute


def test_jaspar_recovery_matches_a_planted_ppm_and_not_a_random_one(folder, db):
    truth = load_truth(folder / "truth.json")
    database = with_families(read_motifs(folder / "jaspar.meme", "meme"), reference=db)
    first, second = truth["motifs"][0], truth["motifs"][1]
    rng = np.random.default_rng(1)
    motifs = [Motif("seg1", np.array(first["ppm"])),
              Motif("seg2", np.array(second["ppm"])[::-1, ::-1]),     # learnt on the other strand
              Motif("random", rng.dirichlet(np.ones(4), size=10))]
    table = jaspar_recovery(motifs, truth, database).set_index("motif")
    assert table.loc[first["name"], "matched"] == "id" and table.loc[first["name"], "by"] == "seg1"
    assert table.loc[first["name"], "orientation"] == "+"
    assert table.loc[second["name"], "orientation"] == "-" and table.loc[second["name"], "q"] < 0.05
    assert "random" not in set(table["by"])
    assert (table.loc[[m["name"] for m in truth["motifs"][2:]], "matched"] == "no").all()
    alone = jaspar_recovery([Motif("random", rng.dirichlet(np.ones(4), size=10))], truth, database)
    assert (alone["matched"] == "no").all() and alone.attrs["share"] == {"id": 0.0, "id_or_family": 0.0}


def test_cli_writes_the_set_and_refuses_bad_flags(tmp_path, capsys):
    from combmotif.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["generate", "dna", "--out", str(tmp_path / "s"), "--n", "200", "--motifs", "3", "--pairs", "1"])
    assert exc.value.code == 0
    assert "100 positives, 100 negatives" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "s").iterdir()} == {
        "positives.fasta", "negatives.fasta", "sites.csv", "truth.json", "planted.meme", "jaspar.meme"}
    with pytest.raises(SystemExit) as exc:
        main(["generate", "dna", "--out", str(tmp_path / "t"), "--motifs", "4"])
    assert exc.value.code == 2
    assert "k (motifs) must be at least" in capsys.readouterr().err


def test_validate_jaspar_command_scores_a_method_folder(folder, tmp_path, capsys):
    from combmotif.__main__ import main
    from combmotif.motifs.meme_writer import write_meme
    from combmotif.paths import repo_root

    ckpt = repo_root() / "model_weights" / "dna_classifier-best.pth"
    if not ckpt.is_file():
        pytest.skip("the shipped DNA classifier is absent")
    truth = load_truth(folder / "truth.json")
    unit = tmp_path / "method" / "conv2" / "neuron3"
    unit.mkdir(parents=True)
    write_meme(unit / "segments.meme", [Motif("seg0", np.array(truth["motifs"][2]["ppm"])[::-1, ::-1])])
    cfg = tmp_path / "disc.yaml"
    cfg.write_text(f"model: {{checkpoint: {ckpt}}}\nname: dna\nresults_dir: {tmp_path / 'results'}\n"
                   f"data_dir: {folder}\nmotif_db: {folder / 'jaspar.meme'}\n")
    with pytest.raises(SystemExit) as exc:
        main(["validate", "jaspar", str(cfg), "--results", str(tmp_path / "method")])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith(truth["motifs"][2]["name"]))
    assert " id " in row and "conv2/neuron3/seg0" in row and row.split()[-2] == "-"
    assert out.splitlines()[-1].split()[:5] == ["method", "1", "5", "1", "1"]
