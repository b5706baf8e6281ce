"""The compare-models site check (combmotif.compare_models.site_check): a motif a model
uses without a neuron family of its own still counts as learned by that model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from combmotif.compare_models.site_check import CHECK_COLUMNS, clear_sites, decide, model_checks
from combmotif.sequences import encode_indices

from tiny_cnn import NEG, POS, planted_set, predictor, train_tiny


def site_row(group, model, held, n, push, q, scale=1.0):
    return {"group": group, "name": group, "pattern": "ACGT", "model": model, "held": held, "n": n,
            "n_overlapping": 0, "push": push,
            "ci_low": push - 0.01, "ci_high": push + 0.01, "p": q, "q": q, "scale": scale, "push_sd": push / scale}


def test_a_lacking_model_learns_a_motif_by_its_sites_only_with_a_comparable_significant_push():
    rows = [site_row("G1", "A", True, 100, 0.30, 1e-9), site_row("G1", "B", False, 100, -0.25, 1e-8),  # used, flipped
            site_row("G2", "A", True, 100, 0.30, 1e-9), site_row("G2", "B", False, 100, 0.05, 1e-8),  # a tenth: no
            site_row("G3", "A", True, 100, 0.30, 1e-9), site_row("G3", "B", False, 100, 0.30, 0.2),  # not significant
            site_row("G4", "A", True, 100, 0.30, 1e-9), site_row("G4", "B", False, 3, 0.30, 1e-3),  # too few sites
            site_row("G5", "A", True, 100, 0.30, 0.3), site_row("G5", "B", False, 100, 0.30, 1e-9),  # holder: no push
            # another output scale (a probability beside an MRL): compared in SD units
            site_row("G6", "A", True, 100, 0.30, 1e-9), site_row("G6", "B", False, 100, 0.05, 1e-9, scale=0.1),
            site_row("G7", "A", True, 100, 0.30, 1e-9, scale=0.5), site_row("G7", "B", False, 100, 0.2, 1e-9),
            # negligible pushes count for nothing: the holders' (nothing to compare with), or B's
            site_row("G8", "A", True, 100, 0.01, 1e-9), site_row("G8", "B", False, 100, 0.02, 1e-9),
            site_row("G9", "A", True, 100, 0.06, 1e-9), site_row("G9", "B", False, 100, 0.04, 1e-9)]
    out = decide(pd.DataFrame(rows), alpha=0.05, min_relative=0.5, min_n=6)
    assert list(out.columns) == CHECK_COLUMNS
    out = out.set_index(["group", "model"])
    assert (out.xs("A", level="model")["reason"] == "neurons").all()
    b = out.xs("B", level="model")
    assert b.loc["G1", "learned"] == "sites"
    assert list(b.loc[["G2", "G3", "G4", "G5", "G7"], "learned"]) == ["no"] * 5
    assert b.loc["G6", "learned"] == "sites"
    assert b.loc["G8", "learned"] == "no" and "under 0.05 SD" in b.loc["G8", "reason"]
    assert b.loc["G9", "learned"] == "no" and b.loc["G9", "reason"] == "|push| < 0.05 SD (negligible)"
    assert b.loc["G2", "reason"].startswith("|push| < 0.5")
    assert b.loc["G3", "reason"] == "q >= 0.05"
    assert b.loc["G4", "reason"].startswith("3 sequences")
    assert "holders' push is not significant" in b.loc["G5", "reason"]


@pytest.fixture(scope="module")
def tiny():
    X, y, _ = planted_set(n=1500, seed=3)
    model, scaler = train_tiny(X, y, epochs=8)
    return X, predictor(model, scaler)


def test_pushes_are_measured_on_the_model_s_own_sequences_with_their_signs(tiny):
    X, predict = tiny
    todo = pd.DataFrame({"group": ["G1", "G2", "G3", "G4"], "name": ["pos", "neg", "chance", "absent"],
                         "pattern": [POS, NEG, "CGCG", "ACGTACGTACGTAC"], "holders": ["A", "A", "A", "A"]})
    out = model_checks(todo, "B", predict, X, sequences=60, replicates=2, seed=1).set_index("group")
    assert not out["held"].any()
    assert out.loc["G1", "push"] > 0.3 and out.loc["G1", "q"] < 1e-6 and out.loc["G1", "n"] == 60
    assert out.loc["G2", "push"] < -0.3 and out.loc["G2", "q"] < 1e-6
    assert out.loc["G1", "ci_low"] <= out.loc["G1", "push"] <= out.loc["G1", "ci_high"]
    # a 4-mer in no planted motif: small beside the motifs (significant or not: its site's shuffle
    # breaks a planted motif where they overlap, which is why decide() asks for a comparable push)
    assert abs(out.loc["G3", "push"]) < 0.1 * out.loc["G1", "push"]
    assert out.loc["G4", "n"] == 0
    assert out["scale"].nunique() == 1 and out["scale"].iloc[0] > 0.5     # the SD of its predictions
    assert np.allclose(out["push_sd"], out["push"] / out["scale"], equal_nan=True)
    again = model_checks(todo, "B", predict, X, sequences=60, replicates=2, seed=1).set_index("group")
    pd.testing.assert_frame_equal(out, again)   # same seed, same draws


def test_the_destroyed_site_is_the_first_one_that_overlaps_no_other_motif():
    """TCGGTAA on CGCTCGG (CGCTCGGTAA) would destroy both: the next clear site is taken, or none."""
    rows = ["AACGCTCGGTAAGGGGGTCGGTAAGG",   # first site on CGCTCGG, a clear one at 17
            "AACGCTCGGTAAGGGGGGGGGGGGGG",   # its only site on CGCTCGG
            "GGGGGGGGGGGGGGGGGGGGGGGGGG",   # none
            "TCGGTAAGGGGGGGGGGGGGGGGGGG"]   # clear at 0
    codes = encode_indices(rows)
    first, overlapping = clear_sites(codes, "TCGGTAA", ["CGCTCGG"])
    assert first.tolist() == [17, -1, -1, 0] and overlapping == 1
    alone, none = clear_sites(codes, "TCGGTAA", [])
    assert alone.tolist() == [5, 5, -1, 0] and none == 0
