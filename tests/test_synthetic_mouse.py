"""The synthetic mouse half-life set (issue 18) and the noAUG MRL set: determinism, the
planted overlap with the human rules, and no ATG in the noAUG set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from combmotif.__main__ import build_parser
from combmotif.data.halflife import read_h5
from combmotif.data.mrl import drop_aug, has_aug
from combmotif.data.planting import _planted_motif
from combmotif.data.synthetic_halflife import MOTIFS, PAIRS, make_halflife, noiseless
from combmotif.data.synthetic_mouse import MOUSE_MOTIFS, MOUSE_PAIRS, make_mouse_halflife, truth_overlap
from combmotif.data.synthetic_mrl import make_mrl
from combmotif.data.truth import load_truth
from combmotif.motifs.tomtom import tomtom

N, L = 300, 512


@pytest.fixture(scope="module")
def mouse():
    return make_mouse_halflife(n=N, length=L, seed=5, return_noiseless=True)


def _by_status(rows, status):
    return {r["name"] for r in rows if r["status"] == status}


def test_mouse_is_deterministic(mouse):
    splits, truth, _ = mouse
    again, truth2 = make_mouse_halflife(n=N, length=L, seed=5)
    for k, (x, y) in splits.items():
        assert x.dtype == np.uint8 and x.shape[1:] == (6, L)
        assert x.tobytes() == again[k][0].tobytes() and y.tobytes() == again[k][1].tobytes()
    assert json.dumps(truth, sort_keys=True) == json.dumps(truth2, sort_keys=True)
    other, _ = make_mouse_halflife(n=N, length=L, seed=6)
    assert other["train"][0].tobytes() != splits["train"][0].tobytes()


def test_mouse_truth_is_one_layout_and_labels_recompute(mouse):
    splits, truth, clean = mouse
    loaded = load_truth(truth, task="halflife")
    assert loaded["species"] == "mouse"
    x = np.concatenate([splits[s][0] for s in ("train", "valid", "test")])
    want = np.concatenate([clean[s] for s in ("train", "valid", "test")])
    np.testing.assert_allclose(noiseless(x, truth), want)


def test_mouse_overlaps_human_as_planned(mouse):
    truth = mouse[1]
    human = {m["name"]: m for m in MOTIFS}
    own = {m["name"]: m for m in truth["motifs"]}
    rows = truth["overlap"]["motifs"]
    shared = _by_status(rows, "shared")
    assert len(shared) >= 2
    for name in shared | _by_status(rows, "effect_size") | _by_status(rows, "sign_flip"):
        assert own[name]["consensus"] == human[name]["consensus"]       # same name, same consensus
    for name in shared:
        assert own[name]["effect"] == human[name]["effect"]
    (size,) = _by_status(rows, "effect_size")
    assert own[size]["effect"] != human[size]["effect"] and own[size]["effect"] * human[size]["effect"] > 0
    (flip,) = _by_status(rows, "sign_flip")
    assert own[flip]["effect"] * human[flip]["effect"] < 0
    (gone,) = _by_status(rows, "reference_only")
    assert gone in human and gone not in own
    (only,) = _by_status(rows, "species_only")
    assert only in own and only not in human
    pairs = truth["overlap"]["pairs"]
    assert _by_status(pairs, "species_only") and _by_status(pairs, "shared")
    (p_only,) = _by_status(pairs, "species_only")
    human_pairs = {p["name"]: p for p in PAIRS}
    assert human_pairs[p_only]["interaction"] == 0          # both motifs in both sets, interacts in mouse only


@pytest.mark.filterwarnings("ignore:tomtom was given")      # few targets: p-values are rough, q >= 0.05 by far
def test_mouse_only_motif_is_unlike_every_human_motif():
    only = [m for m in MOUSE_MOTIFS if m["consensus"] not in {h["consensus"] for h in MOTIFS}]
    assert len(only) == 1
    hits = tomtom([_planted_motif(only[0], 1e-3, 20)], [_planted_motif(m, 1e-3, 20) for m in MOTIFS])
    assert hits.empty or (hits["q-value"] >= 0.05).all()


def test_overlap_is_symmetric_in_kind():
    human = {"motifs": MOTIFS, "pairs": PAIRS}
    mouse = {"motifs": MOUSE_MOTIFS, "pairs": MOUSE_PAIRS}
    fwd, back = truth_overlap(human, mouse), truth_overlap(mouse, human)
    swap = {"reference_only": "species_only", "species_only": "reference_only"}
    f = {r["consensus"]: r["status"] for r in fwd["motifs"]}
    b = {r["consensus"]: r["status"] for r in back["motifs"]}
    assert f.keys() == b.keys() and all(swap.get(v, v) == b[k] for k, v in f.items())


def test_human_default_unchanged_by_rule_tables():
    a, ta = make_halflife(n=100, length=L, seed=2)
    b, tb = make_halflife(n=100, length=L, seed=2, motifs=MOTIFS, pairs=PAIRS)
    assert a["train"][0].tobytes() == b["train"][0].tobytes() and ta == tb
    assert "species" not in ta


def test_generate_halflife_species_mouse(tmp_path: Path, capsys):
    args = build_parser().parse_args(["generate", "halflife", "--species", "mouse", "--n", "200",
                                      "--length", "512", "--out", str(tmp_path / "m")])
    assert args.func(args) == 0
    truth = json.loads((tmp_path / "m" / "truth.json").read_text())
    assert truth["species"] == "mouse" and truth["seed"] == 1 and truth["n"] == 200
    x, _ = read_h5(tmp_path / "m" / "data.h5", ["train"])["train"]
    assert x.shape[1:] == (6, 512)
    assert "MOTIF mmuSE" in (tmp_path / "m" / "planted.meme").read_text()
    assert build_parser().parse_args(["generate", "halflife", "--out", "x"]).species == "human"


def test_noaug_set_has_no_atg():
    df, _ = make_mrl(n=2000, seed=3, test_n=200)
    kept = drop_aug(df)
    assert 0 < len(kept) < len(df)
    assert not has_aug(kept["utr"]).any()
    assert not kept["utr"].str.slice(0, 50).str.contains("ATG").any()


def test_shipped_noaug_set_has_no_atg():
    path = Path(__file__).resolve().parents[1] / "data" / "synthetic_mrl_noAUG" / "data.csv"
    if not path.is_file():
        pytest.skip("data/synthetic_mrl_noAUG absent (bash generate_dataset/make_default.sh makes it)")
    import pandas as pd

    utr = pd.read_csv(path, usecols=["utr"])["utr"]
    assert not utr.str.slice(0, 50).str.contains("ATG").any()
