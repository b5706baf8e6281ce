"""Spacing scans (combmotif.interaction.spacing, spacing_stage; the insertion primitive of
combmotif.perturb; ``combmotif spacing``)."""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pandas as pd
import pytest

from combmotif import perturb as P
from combmotif.__main__ import main as combmotif_main
from combmotif.errors import InputError
from combmotif.interaction import spacing as S
from combmotif.interaction.spacing_stage import find_rule
from combmotif.sequences import decode, onehot_to_codes

from tiny_cnn import random_onehot, write_toy_checkpoint

A, B = "TGTAAATA", "CATTACGA"


def _rule_predict(gap: int | None):
    """f = 0.7 [A] + 0.4 [B] + 0.05 x #G, plus 1 when A sits exactly ``gap`` bases 5' of B."""
    both = re.compile(A + "." * gap + B) if gap is not None else None

    def predict(x: np.ndarray) -> np.ndarray:
        texts = decode(onehot_to_codes(x))
        return np.array([0.7 * (A in t) + 0.4 * (B in t) + 0.05 * t.count("G")
                         + (1.0 if both is not None and both.search(t) else 0.0) for t in texts])
    return predict


def test_insert_variants_overwrite_the_bases_and_keep_extra_tracks():
    X = random_onehot(3, 20, channels=6, seed=1)
    out = P.insert_variants(X, [[], [(2, "ACG")], [(2, "ACG"), (10, "TT")]])
    assert out.shape == (3, 3, 6, 20)
    assert np.array_equal(out[0], X)
    texts = decode(onehot_to_codes(out[2]))
    assert all(t[2:5] == "ACG" and t[10:12] == "TT" for t in texts)
    before = decode(onehot_to_codes(X))
    assert all(t[:2] + t[5:] == b[:2] + b[5:] for t, b in zip(decode(onehot_to_codes(out[1])), before))
    assert np.array_equal(out[:, :, 4:], np.repeat(X[None, :, 4:], 3, 0))   # tracks untouched
    with pytest.raises(ValueError):
        P.insert_variants(X, [[(19, "AC")]])
    f = P.predict_insertions(lambda x: x[:, 0].sum(-1), X, [[], [(0, "AAAA")]], max_rows=2)
    assert f.shape == (2, 3) and np.all(f[1] >= f[0])


def test_scan_finds_exactly_the_planted_gap_and_order():
    X = S.shuffled_backgrounds(random_onehot(60, 40, seed=2), 30, seed=0)
    scan = S.spacing_scan(_rule_predict(2), X, A, B, range(0, 11), n_boot=200, min_relative=0.1)
    assert list(scan.columns) == S.SCAN_COLUMNS and len(scan) == 22 and (scan["n"] == 30).all()
    assert S.significant_gaps(scan, "AB") == [2] and S.significant_gaps(scan, "BA") == []
    hit = scan[(scan["order"] == "AB") & (scan["gap"] == 2)].iloc[0]
    assert hit["epsilon"] == pytest.approx(1.0) and hit["interaction"] == "synergistic"
    assert hit["eps_lo"] == pytest.approx(1.0) and hit["posB"] - hit["posA"] == len(A) + 2
    # BA puts B 5': B then the gap then A.
    ba = scan[(scan["order"] == "BA") & (scan["gap"] == 2)].iloc[0]
    assert ba["posA"] - ba["posB"] == len(B) + 2
    row = S.scan_summary(scan, {"order": "AB", "gap_min": 2, "gap_max": 3})
    assert (row["sig_min_AB"], row["sig_max_AB"], row["sig_gaps_AB"]) == (2, 2, "2")
    assert row["sig_gaps_BA"] == "" and (row["peak_order"], row["peak_gap"]) == ("AB", 2)
    assert row["interaction"] == "synergistic" and row["jaccard"] == pytest.approx(0.5)
    assert S.significant_gaps(scan, "AB", "specific") == [2] and row["specific_gaps_BA"] == ""
    assert row["jaccard_specific"] == pytest.approx(0.5)


def test_an_interaction_at_every_gap_is_significant_but_not_gap_specific():
    X = S.shuffled_backgrounds(random_onehot(60, 40, seed=5), 30, seed=0)
    plain = _rule_predict(None)

    def anywhere(x):   # +0.5 whenever both are present, in any order and at any gap
        texts = decode(onehot_to_codes(x))
        return plain(x) + 0.5 * np.array([A in t and B in t for t in texts])
    scan = S.spacing_scan(anywhere, X, A, B, range(0, 11), n_boot=200, min_relative=0.1)
    assert scan["significant"].all() and not scan["specific"].any()
    assert np.allclose(scan["epsilon"], 0.5) and np.allclose(scan["excess"], 0.0)


def test_additive_model_gives_no_significant_gap_and_same_bytes_twice():
    X = S.shuffled_backgrounds(random_onehot(60, 40, seed=3), 30, seed=0)
    scans = [S.spacing_scan(_rule_predict(None), X, A, B, range(0, 11), n_boot=200) for _ in range(2)]
    assert not scans[0]["significant"].any() and not scans[0]["specific"].any()
    assert np.allclose(scans[0]["epsilon"], 0.0, atol=1e-9)
    assert (scans[0]["effect_A"] > 0.6).all() and (scans[0]["effect_B"] > 0.3).all()
    assert scans[0].to_csv() == scans[1].to_csv()
    assert S.scan_summary(scans[0])["interaction"] == "additive"


def test_backgrounds_keep_dinucleotides_and_padding():
    X = random_onehot(10, 30, seed=4)
    X[:, :, -5:] = 0.0   # right padding (N)
    bg = S.shuffled_backgrounds(X, 4, seed=7)
    assert np.array_equal(bg, S.shuffled_backgrounds(X, 4, seed=7))
    texts = decode(onehot_to_codes(bg))
    assert all(t.endswith("NNNNN") for t in texts)
    pool = {tuple(sorted(t[i:i + 2] for i in range(24))) for t in decode(onehot_to_codes(X))}
    assert all(tuple(sorted(t[i:i + 2] for i in range(24))) in pool for t in texts)


def test_motif_sequence_placements_and_rules():
    assert S.motif_sequence("ACRYN") == "ACAC" and S.motif_sequence("nacgu") == "ACGT"
    ppm = np.eye(4)[[2, 0, 3]] * 0.7 + 0.075
    assert S.motif_sequence(ppm) == "GAT"
    for bad in ("", "ACGZ", "NNN"):
        with pytest.raises(InputError, match="pattern"):
            S.motif_sequence(bad)
    where = S.placements(50, 7, 7, [0, 22], "centre")
    assert list(where["AB"][0]) == [18, 7] and list(where["AB"][1]) == [25, 36]
    assert list(S.placements(50, 7, 7, [0], -5)["AB"][0]) == [36]   # moved inwards to fit
    rules = pd.DataFrame({"patternA": ["GAGCAAC"], "patternB": ["ACTTCCG"], "gap_min": ["3"],
                          "gap_max": ["5"], "n_neurons": ["2"]})
    assert find_rule(rules, "ACTTCCG", "GAGCAAC") == {"order": "BA", "gap_min": 3, "gap_max": 5}
    assert find_rule(rules, "GAGCAAC", "ACTTCCG")["order"] == "AB"
    assert find_rule(rules, "AAAAAAA", "ACTTCCG") is None and find_rule(None, "A", "C") is None
    assert np.isnan(S.jaccard([], 30, 40, range(10)))


def _config(tmp_path) -> str:
    write_toy_checkpoint(tmp_path, 80, filters=6)
    cfg = tmp_path / "interaction.yaml"
    cfg.write_text(textwrap.dedent("""
        model: {checkpoint: toy-best.pth}
        results_dir: results
        spacing_backgrounds: 20
        spacing_max_gap: 5
        n_boot: 100
        device: cpu
        seed: 3
    """))
    return str(cfg)


def test_cli_pair_writes_the_scan_summary_figure_and_page(tmp_path, capsys):
    cfg = _config(tmp_path)
    out = tmp_path / "results/toy/interaction/conv1/spacing"
    results = []
    for _ in range(2):
        with pytest.raises(SystemExit) as ex:
            combmotif_main(["spacing", cfg, "--layers", "1", "--pair", "ACGTAC", "TTRGGC", "--force"])
        assert ex.value.code == 0
        results.append((out / "ACGTAC__TTRGGC.csv").read_bytes())
    assert results[0] == results[1]
    made = (out / "ACGTAC__TTRGGC.csv").stat().st_mtime_ns
    with pytest.raises(SystemExit) as ex:   # a fresh unit is skipped, not redone
        combmotif_main(["spacing", cfg, "--layers", "1", "--pair", "ACGTAC", "TTRGGC"])
    assert ex.value.code == 0 and (out / "ACGTAC__TTRGGC.csv").stat().st_mtime_ns == made
    scan = pd.read_csv(out / "ACGTAC__TTRGGC.csv")
    assert list(scan.columns) == S.SCAN_COLUMNS and len(scan) == 12 and set(scan["gap"]) == set(range(6))
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False, na_values=[""])
    assert len(summary) == 1 and summary["seqB"][0] == "TTAGGC" and summary["n_backgrounds"][0] == 20
    assert (out / "ACGTAC__TTRGGC.png").stat().st_size > 1000
    assert "ACGTAC__TTRGGC.png" in (out / "index.html").read_text()
    assert "conv1: 1 of 1 pairs scanned" in capsys.readouterr().out


def test_cli_reads_candidates_and_rules_and_refuses_bad_pairs(tmp_path, capsys):
    cfg = _config(tmp_path)
    ldir = tmp_path / "results/toy/interaction/conv1"
    for pair in (["", "ACGT"], ["ACGT", "ACGZ"]):
        with pytest.raises(SystemExit) as ex:
            combmotif_main(["spacing", cfg, "--layers", "1", "--pair", *pair])
        assert ex.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: --pair") and "pattern" in err[0]
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["spacing", cfg, "--layers", "1"])
    assert ex.value.code == 2 and "no pairs to scan" in capsys.readouterr().err
    ldir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"familyA": ["F1"], "familyB": ["F2"], "nameA": ["F1"], "nameB": ["NA"],
                  "patternA": ["ACGTAC"], "patternB": ["GGTTCA"], "source": ["syntax"]}
                 ).to_csv(ldir / "candidates.csv", index=False)
    pd.DataFrame({"rule": ["r1"], "patternA": ["GGTTCA"], "patternB": ["ACGTAC"], "nameA": ["NA"],
                  "nameB": ["F1"], "order": ["A-B"], "gap_min": [1], "gap_max": [3], "n_neurons": [1]}
                 ).to_csv(ldir / "syntax_rules.csv", index=False)
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["spacing", cfg, "--layers", "1"])
    assert ex.value.code == 0
    summary = pd.read_csv(ldir / "spacing/summary.csv", keep_default_na=False, na_values=[""])
    assert list(summary["pair"]) == ["F1__NA"] and summary["source"][0] == "candidates (syntax)"
    assert (summary["tree_order"][0], summary["tree_gap_min"][0], summary["tree_gap_max"][0]) == ("BA", 1, 3)


@pytest.mark.parametrize("line, words", [("spacing_backgrounds: 1", "'spacing_backgrounds' must be >= 2"),
                                         ("spacing_max_gap: -1", "'spacing_max_gap' >= 0"),
                                         ("spacing_anchor: 50", "'spacing_anchor' = 50"),
                                         ("spacing_anchor: middle", "spacing_anchor")])
def test_bad_spacing_settings_are_refused_with_one_line(tmp_path, capsys, line, words):
    cfg = _config(tmp_path)
    key = line.split(":")[0]
    text = "\n".join(x for x in open(cfg).read().splitlines() if not x.strip().startswith(key))
    open(cfg, "w").write(text + f"\n{line}\n")
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["spacing", cfg, "--layers", "1", "--pair", "ACGTAC", "TTAGGC"])
    err = capsys.readouterr().err.strip().splitlines()
    assert ex.value.code == 2 and len(err) == 1 and words in err[0] and "interaction.yaml" in err[0]


def test_a_pattern_takes_its_consensus_letters_where_it_fits():
    assert S.motif_sequence("NRTGR", consensus="CCGATGACC") == "ATGA"   # N flank dropped
    assert S.motif_sequence("GAGCWAC", consensus="TTGAGCTACA") == "GAGCTAC"
    assert S.motif_sequence("GAGCWAC", consensus="CCCCCC") == "GAGCAAC"   # no window fits: resolved
