"""Synthetic sets: determinism, noiseless labels recomputed from truth.json, planted
frequencies, pair classes, noise ceilings, planted.meme, CLI scripts."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from Bio import motifs as bio_motifs

from combmotif.data import synthetic_halflife as shl
from combmotif.data import synthetic_mrl as smrl
from combmotif.data.halflife import encode_transcript, read_h5
from combmotif.data.mrl import encode_utrs, read_mrl_csv
from combmotif.data.planting import random_layout
from combmotif.data.truth import load_truth, noise_ceiling
from combmotif.errors import InputError
from combmotif.sequences import IUPAC, encode_indices, iupac_to_regex

REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- independent references

def _starts(seq, consensus):
    """Every (overlapping) match start of an IUPAC consensus, by regular expression."""
    return [m.start() for m in re.finditer(f"(?={iupac_to_regex(consensus)})", seq)]


def _ref_mrl(utr, truth):
    """Noise-free MRL of one UTR, written directly from the rules in truth.json."""
    utr = utr[:50]
    present = {}
    for m in truth["motifs"]:
        ok = [p for p in _starts(utr, m["consensus"]) if m["start_min"] <= p <= m["start_max"]]
        if m["frame"] == "in":
            ok = [p for p in ok if (m["cds_start"] - p) % 3 == 0]
        elif m["frame"] == "out":
            ok = [p for p in ok if (m["cds_start"] - p) % 3 != 0]
        present[m["name"]] = bool(ok)
    y = truth["baseline"] + sum(m["effect"] for m in truth["motifs"] if present[m["name"]])
    return y + sum(p["interaction"] for p in truth["pairs"] if present[p["motifA"]] and present[p["motifB"]])


def _ref_halflife(x, truth):
    """Noise-free log half-life of one (6, L) transcript, from decoded strings."""
    bases = x[:4].sum(0) > 0
    end = int(np.flatnonzero(bases)[-1]) + 1
    seq = "".join("ACGT"[i] if b else "N" for i, b in zip(x[:4].argmax(0), bases))[:end]
    codons = np.flatnonzero(x[4])
    utr3 = seq[codons[-1] + 3:]
    present = {m["name"]: bool(_starts(utr3, m["consensus"])) for m in truth["motifs"]}
    y = truth["baseline"] + sum(m["effect"] for m in truth["motifs"] if present[m["name"]])
    y += sum(p["interaction"] for p in truth["pairs"] if present[p["motifA"]] and present[p["motifB"]])
    feats = {f["name"]: f for f in truth["features"]}
    trip = [seq[c:c + 3] for c in codons]
    y += feats["optimal_codon_fraction"]["effect"] * np.mean([t in feats["optimal_codon_fraction"]["codons"]
                                                               for t in trip])
    return y + feats["exon_junctions"]["effect"] * int(x[5].sum())


def _epsilon(clean, a, b):
    """Interaction contrast of two presence masks on noise-free labels."""
    return clean[a & b].mean() - clean[a & ~b].mean() - clean[~a & b].mean() + clean[~a & ~b].mean()


@pytest.fixture(scope="module")
def mrl_set():
    return smrl.make_mrl(n=20_000, seed=11, return_noiseless=True)


@pytest.fixture(scope="module")
def hl_set():
    splits, truth, clean = shl.make_halflife(n=12_000, length=1024, seed=11, return_noiseless=True)
    x = np.concatenate([splits[k][0] for k in ("train", "valid", "test")])
    c = np.concatenate([clean[k] for k in ("train", "valid", "test")])
    return splits, truth, clean, x, c


# ----------------------------------------------------------------------------- MRL

def test_mrl_deterministic_with_seed():
    a_df, a_truth = smrl.make_mrl(n=1500, seed=5)
    b_df, b_truth = smrl.make_mrl(n=1500, seed=5)
    assert a_df.equals(b_df)
    assert json.dumps(a_truth) == json.dumps(b_truth)
    c_df, _ = smrl.make_mrl(n=1500, seed=6)
    assert (c_df["utr"] != a_df["utr"]).mean() > 0.99


def test_mrl_noiseless_from_written_files(tmp_path):
    df, truth, clean = smrl.make_mrl(n=3000, seed=2, return_noiseless=True)
    smrl.save_mrl_set(tmp_path / "set", df, truth)
    assert sorted(p.name for p in (tmp_path / "set").iterdir()) == ["data.csv", "planted.meme", "truth.json"]
    back = read_mrl_csv(tmp_path / "set" / "data.csv")
    truth_file = tmp_path / "set" / "truth.json"
    got = smrl.noiseless(encode_utrs(back["utr"]), truth_file)
    np.testing.assert_allclose(got, clean, atol=1e-12)
    np.testing.assert_allclose(smrl.noiseless(back["utr"].tolist(), truth_file), clean, atol=1e-12)
    np.testing.assert_allclose(smrl.noiseless(encode_indices(back["utr"].tolist(), 50), truth_file), clean, atol=1e-12)
    loaded = load_truth(truth_file)
    ref = [_ref_mrl(u, loaded) for u in back["utr"].iloc[:400]]
    np.testing.assert_allclose(clean[:400], ref, atol=1e-12)
    np.testing.assert_allclose(back["rl"].to_numpy(), df["rl"].to_numpy())


def test_mrl_rules_on_hand_made_utrs():
    truth = smrl.make_mrl(n=200, seed=0)[1]
    base = "C" * 50
    put = lambda s, p, m: s[:p] + m + s[p + len(m):]           # noqa: E731
    eff = {m["name"]: m["effect"] for m in truth["motifs"]}
    inter = {p["name"]: p["interaction"] for p in truth["pairs"]}
    cases = {
        base: 0.0,
        put(base, 47, "ATG"): eff["uAUG_in"],                 # (50 - 47) % 3 == 0
        put(base, 46, "ATG"): eff["uAUG_out"],
        put(put(base, 2, "ATG"), 10, "ATG"): eff["uAUG_in"] + eff["uAUG_out"],
        put(base, 44, "GCCACC"): eff["kozak"],
        put(base, 44, "GCCGCC"): eff["kozak"],
        put(base, 43, "GCCACC") : 0.0,                        # the Kozak rule is position-specific
        put(put(base, 0, "ACTTCCG"), 30, "GAGCAAC"): eff["enhA"] + eff["enhB"] + inter["enhA+enhB"],
        put(base, 43, "ACTTCCG"): eff["enhA"],                # position-free motifs count anywhere
        put(put(base, 5, "AAGTGCT"), 20, "CCTAGAC"): eff["enhE"] + eff["repF"],
    }
    got = smrl.noiseless(list(cases), truth)
    np.testing.assert_allclose(got, truth["baseline"] + np.array(list(cases.values())), atol=1e-12)


def test_mrl_planted_frequencies(mrl_set):
    df, truth, clean = mrl_set
    present = smrl.presence(df["utr"].tolist(), truth)
    co = {p["motifA"]: p["planted_co_frequency"] for p in truth["pairs"]}
    co.update({p["motifB"]: p["planted_co_frequency"] for p in truth["pairs"]})
    for m in truth["motifs"]:
        assert m["frequency"] == pytest.approx(present[m["name"]].mean())
        assert "ATG" not in m["consensus"] or m["name"].startswith("uAUG")
        if m["name"].startswith("uAUG"):
            assert 0.1 < m["frequency"] < 0.5                  # natural ATGs of random UTRs
        else:
            p = m["planted_frequency"]
            expected = 1 - (1 - p) * (1 - co.get(m["name"], 0.0))
            assert abs(m["frequency"] - expected) < 0.03, m["name"]
            assert 0.1 <= m["frequency"] <= 0.3
    for p in truth["pairs"]:
        both = present[p["motifA"]] & present[p["motifB"]]
        assert p["co_frequency"] == pytest.approx(both.mean()) and p["co_frequency"] > 0.08


def test_mrl_pair_classes_and_ceiling(mrl_set):
    df, truth, clean = mrl_set
    present = smrl.presence(df["utr"].tolist(), truth)
    effect = {m["name"]: m["effect"] for m in truth["motifs"]}
    classes = set()
    for p in truth["pairs"]:
        eps = _epsilon(clean, present[p["motifA"]], present[p["motifB"]])
        main = effect[p["motifA"]] + effect[p["motifB"]]
        classes.add(p["class"])
        if p["class"] == "synergistic":
            assert np.sign(eps) == np.sign(main) and abs(main + eps) > abs(main)
        elif p["class"] == "antagonistic":
            assert np.sign(eps) == -np.sign(main) and abs(main + eps) < abs(main)
        else:
            assert abs(eps) < 0.15
        assert eps == pytest.approx(p["interaction"], abs=0.15)
    assert classes == {"synergistic", "antagonistic", "additive"}
    assert 0.84 <= truth["ceiling"]["r2"] <= 0.90
    top = np.argsort(-df["total_reads"].to_numpy(), kind="stable")[:truth["ceiling"]["n"]]
    assert noise_ceiling(clean[top], df["rl"].to_numpy()[top])["r2"] == pytest.approx(truth["ceiling"]["r2"])


# ----------------------------------------------------------------------------- half-life

def test_halflife_deterministic_with_seed():
    a, ta = shl.make_halflife(n=200, length=1024, seed=3)
    b, tb = shl.make_halflife(n=200, length=1024, seed=3)
    for k in a:
        np.testing.assert_array_equal(a[k][0], b[k][0])
        np.testing.assert_array_equal(a[k][1], b[k][1])
    assert json.dumps(ta) == json.dumps(tb)
    c, _ = shl.make_halflife(n=200, length=1024, seed=4)
    assert not np.array_equal(a["train"][1], c["train"][1])


def test_halflife_transcript_structure(hl_set):
    _, truth, _, x, _ = hl_set
    sample = x[:300]
    for t in sample:
        codons = np.flatnonzero(t[4])
        seq = "".join("ACGT"[i] for i in t[:4].argmax(0))
        end = int(np.flatnonzero(t[:4].sum(0))[-1]) + 1
        assert t[:4, :end].sum(0).min() == 1 and t[:, end:].sum() == 0    # no gap, zero padding
        assert np.all(np.diff(codons) == 3) and 100 <= len(codons) <= 200
        assert seq[codons[0]:codons[0] + 3] == "ATG"
        assert seq[codons[-1]:codons[-1] + 3] in ("TAA", "TAG", "TGA")
        assert not {seq[c:c + 3] for c in codons[:-1]} & {"TAA", "TAG", "TGA"}
        assert 40 <= codons[0] <= 150 and 150 <= end - codons[-1] - 3 <= 500
        junctions = np.flatnonzero(t[5])
        assert 1 <= len(junctions) <= 7 and junctions.max() < codons[-1] + 3
    assert truth["transcripts"]["trimmed_5prime"] == 0


def test_halflife_noiseless_from_written_files(tmp_path):
    splits, truth, clean = shl.make_halflife(n=600, length=1024, seed=2, return_noiseless=True)
    shl.save_halflife_set(tmp_path / "set", splits, truth)
    assert sorted(p.name for p in (tmp_path / "set").iterdir()) == ["data.h5", "planted.meme", "truth.json"]
    data = read_h5(tmp_path / "set" / "data.h5")
    truth_file = tmp_path / "set" / "truth.json"
    loaded = load_truth(truth_file, task="halflife")
    for k, (x, y) in data.items():
        got = shl.noiseless(x, truth_file, chunk=97)
        np.testing.assert_allclose(got, clean[k], atol=1e-9)
        np.testing.assert_array_equal(y, splits[k][1])
    x, _ = data["test"]
    ref = [_ref_halflife(t, loaded) for t in x[:60]]
    np.testing.assert_allclose(clean["test"][:60], ref, atol=1e-9)


def test_halflife_elements_count_in_3utr_only():
    truth = shl.make_halflife(n=100, length=1024, seed=0)[1]
    eff = {m["name"]: m["effect"] for m in truth["motifs"]}
    orf = "ATG" + "GCT" * 40 + "TAA"
    utr3 = "C" * 200

    def label(utr5, orf_, utr3_):
        return shl.noiseless(encode_transcript(utr5, orf_, utr3_, [10], 1024)[None], truth)[0]

    ref = label("C" * 50, orf, utr3)
    assert label("C" * 50, orf, "CTACCTC" + utr3) - ref == pytest.approx(eff["let7"])
    assert label("C" * 50, orf, utr3 + "CTACCTC") - ref == pytest.approx(eff["let7"])   # at the very end
    assert label("CTACCTC" + "C" * 43, orf, utr3) == pytest.approx(ref)                # 5'UTR: ignored
    in_orf = orf[:30] + "CTACCTCAA" + orf[39:]                                           # still 42 codons
    assert label("C" * 50, in_orf, utr3) == pytest.approx(label("C" * 50, orf[:30] + "GCTGCTGCT" + orf[39:], utr3))
    for variant, counts in (("TGTAAATA", True), ("TGTACATA", True), ("TGTATATA", True), ("TGTAGATA", False)):
        got = label("C" * 50, orf, "CC" + variant + utr3) - ref
        assert got == pytest.approx(eff["PUM"] if counts else 0.0), variant


def test_halflife_frequencies_pairs_and_ceiling(hl_set):
    splits, truth, clean, x, c = hl_set
    present = shl.presence(x, truth)
    effect = {m["name"]: m["effect"] for m in truth["motifs"]}
    co = {p["motifA"]: p["planted_co_frequency"] for p in truth["pairs"]}
    co.update({p["motifB"]: p["planted_co_frequency"] for p in truth["pairs"]})
    for m in truth["motifs"]:
        assert m["frequency"] == pytest.approx(present[m["name"]].mean())
        expected = 1 - (1 - m["planted_frequency"]) * (1 - co[m["name"]])
        assert expected - 0.02 < m["frequency"] < expected + 0.04, m["name"]       # + natural sites
    for p in truth["pairs"]:
        eps = _epsilon(c, present[p["motifA"]], present[p["motifB"]])
        main = effect[p["motifA"]] + effect[p["motifB"]]
        if p["class"] == "synergistic":
            assert np.sign(eps) == np.sign(main) and abs(main + eps) > abs(main)
        elif p["class"] == "antagonistic":
            assert np.sign(eps) == -np.sign(main) and abs(main + eps) < abs(main)
        else:
            assert abs(eps) < 0.12
        assert eps == pytest.approx(p["interaction"], abs=0.12)
    assert 0.88 <= truth["ceiling"]["r"] <= 0.95
    assert truth["ceiling"]["n"] == len(splits["test"][1]) == 1200
    assert [len(splits[k][1]) for k in ("train", "valid", "test")] == [9600, 1200, 1200]


# ----------------------------------------------------------------------------- shared pieces

def test_planted_meme_matches_truth(tmp_path):
    df, truth = smrl.make_mrl(n=500, seed=0)
    smrl.save_mrl_set(tmp_path / "m", df, truth)
    hl, htruth = shl.make_halflife(n=100, seed=0)
    shl.save_halflife_set(tmp_path / "h", hl, htruth)
    for folder, tr in (("m", truth), ("h", htruth)):
        text = (tmp_path / folder / "planted.meme").read_text()
        assert "ALPHABET= ACGT" in text and "strands: +" in text
        with open(tmp_path / folder / "planted.meme") as fh:
            record = bio_motifs.parse(fh, "minimal")
        assert [m.name for m in record] == [m["name"] for m in tr["motifs"]]
        for mot, m in zip(record, tr["motifs"]):
            pwm = np.array([[mot.pwm[b][j] for b in "ACGT"] for j in range(mot.length)])
            np.testing.assert_allclose(pwm.sum(1), 1.0, atol=1e-5)
            for j, code in enumerate(m["consensus"]):
                allowed = [b in IUPAC[code] for b in "ACGT"]
                assert pwm[j, allowed].min() > 0.3 and (pwm[j, ~np.array(allowed)] < 0.01).all()


def test_load_truth_rejects_bad_schema(tmp_path):
    truth = smrl.make_mrl(n=200, seed=0)[1]
    bad = dict(truth, pairs=[dict(truth["pairs"][0], motifB="nope")])
    with pytest.raises(InputError, match=r"pairs\[0\]\.motifB names unknown motif 'nope'"):
        load_truth(bad)
    (tmp_path / "t.json").write_text(json.dumps({k: v for k, v in truth.items() if k != "baseline"}))
    with pytest.raises(InputError, match=r"t\.json: missing key 'baseline'"):
        smrl.noiseless(["A" * 50], tmp_path / "t.json")
    with pytest.raises(InputError, match="task is 'mrl', expected 'halflife'"):
        shl.noiseless(np.zeros((1, 6, 16), np.float32), truth)


def test_random_layout_never_overlaps():
    rng = np.random.default_rng(0)
    lengths = [7, 8, 9, 6, 7, 8]
    chosen = rng.random((3000, 6)) < 0.5
    span = rng.integers(20, 60, 3000)
    starts, kept = random_layout(rng, chosen, lengths, span)
    assert not (kept & ~chosen).any()
    fits = (chosen * np.array(lengths)).sum(1) <= span
    assert (kept[fits] == chosen[fits]).all()                 # nothing dropped when everything fits
    ends = starts + np.array(lengths)
    for i in np.flatnonzero(kept.sum(1) > 1)[:500]:
        iv = sorted(zip(starts[i, kept[i]], ends[i, kept[i]]))
        assert iv[0][0] >= 0 and iv[-1][1] <= span[i]
        assert all(a[1] <= b[0] for a, b in zip(iv, iv[1:]))
    # Starts are spread over the region, not piled at its beginning.
    rel = (starts / (span[:, None] - np.array(lengths)))[kept]
    assert rel.min() == 0 and rel.max() == 1 and 0.3 < rel.mean() < 0.7


def test_generator_clis(tmp_path):
    mrl = REPO / "generate_dataset" / "make_synthetic_mrl.py"
    res = subprocess.run([sys.executable, str(mrl), "--out", str(tmp_path / "m"), "--n", "500", "--seed", "1"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    df = read_mrl_csv(tmp_path / "m" / "data.csv")
    assert len(df) == 500
    np.testing.assert_allclose(df["rl"], smrl.make_mrl(n=500, seed=1)[0]["rl"])
    res = subprocess.run([sys.executable, str(mrl), "--out", str(tmp_path / "bad"), "--n", "5"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.strip().splitlines() == [
        "error: combmotif generate mrl: argument --n: must be an integer >= 100; got 5 (see --help)"]
    assert not (tmp_path / "bad").exists()
    hl = REPO / "generate_dataset" / "make_synthetic_halflife.py"
    res = subprocess.run([sys.executable, str(hl), "--out", str(tmp_path / "h"), "--n", "150", "--length", "768"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    data = read_h5(tmp_path / "h" / "data.h5")
    assert data["train"][0].shape == (120, 6, 768)
    assert load_truth(tmp_path / "h" / "truth.json")["length"] == 768


def test_default_sets_made_side_by_side_are_the_bytes_made_one_after_another(tmp_path, capsys):
    """``generate default`` makes its sets in forked processes on a multi-core machine; each set
    has its own seed, so the files are those of one set after another, and the lines print in
    the sets' order whichever ends first."""
    from combmotif.__main__ import build_parser
    from combmotif.data.generate import _generate_beside, _run_chain

    parse = build_parser().parse_args

    def chains(root):
        m, a, h = root / "mrl", root / "noaug", root / "hl"
        return [[(True, m, ["mrl", "--out", str(m), "--n", "400", "--seed", "0"]),
                 (True, a, ["noaug", "--csv", str(m / "data.csv"), "--out", str(a)])],
                [(True, h, ["halflife", "--out", str(h), "--n", "100", "--length", "512", "--seed", "0"])]]

    for chain in chains(tmp_path / "one"):
        _run_chain([argv for *_, argv in chain], parse)
    capsys.readouterr()
    assert _generate_beside(chains(tmp_path / "two"), 2, parse) == 0
    printed = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    assert [Path(p).name for p in printed] == ["mrl", "data.csv", "hl"], printed

    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    one, two = files(tmp_path / "one"), files(tmp_path / "two")
    assert len(one) >= 9 and one.keys() == two.keys()
    assert [k for k in one if one[k] != two[k]] == []


def test_default_sets_can_be_made_one_by_one(tmp_path, capsys):
    """``generate default --sets`` makes only the sets named (the quick start's two), the set a
    named one is made from too (noAUG is the MRL set filtered), and keeps what exists."""
    from combmotif.__main__ import build_parser

    parse = build_parser().parse_args
    args = parse(["generate", "default", "--data", str(tmp_path), "--sets", "noaug"])
    assert args.func(args) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synthetic_mrl", "synthetic_mrl_noAUG"]
    capsys.readouterr()
    args = parse(["generate", "default", "--data", str(tmp_path), "--sets", "mrl"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith(f"keep {tmp_path / 'synthetic_mrl'} (exists")
    with pytest.raises(SystemExit):
        parse(["generate", "default", "--sets", "mouse", "human"])
