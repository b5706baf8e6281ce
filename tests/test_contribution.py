"""Max-activation search, window mapping and neuron contribution (combmotif.maxact,
combmotif.contribution)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from combmotif import contribution as C
from combmotif import maxact as MA
from combmotif import stats
from combmotif.__main__ import main as combmotif_main
from combmotif.data.planting import plant
from combmotif.models.saluki import SalukiModel
from combmotif.sequences import indices_to_one_hot
from combmotif.validation import contribution as VC

from tiny_cnn import NEG, PARTNER, POS, predictor, random_onehot, trained_default, write_toy_checkpoint


def test_extra_tracks_are_zeroed_for_activations_only_when_asked():
    torch.manual_seed(0)
    model = SalukiModel(in_channels=6, seq_len=60, num_layers=1, filters=4, padding="valid").eval()
    X = random_onehot(5, 60, 6)
    zeroed = MA.search_maxact(model, X, [1], zero_extra_tracks=True)[1].seq_max
    no_tracks = X.copy()
    no_tracks[:, 4:] = 0
    np.testing.assert_allclose(zeroed, MA.search_maxact(model, no_tracks, [1], zero_extra_tracks=False)[1].seq_max)
    assert not np.allclose(zeroed, MA.search_maxact(model, X, [1], zero_extra_tracks=False)[1].seq_max)


def test_activated_rule():
    seq_max = np.array([[1.0, -0.5, 0.0], [0.69, -1.0, 0.0], [0.7, -0.2, 0.0]])
    act = C.activated(seq_max, np.array([1.0, -0.2, 0.0]), 0.7)
    assert act[:, 0].tolist() == [True, False, True]
    # A neuron whose maximum is not positive activates nothing.
    assert not act[:, 1].any() and not act[:, 2].any()


def test_contribution_table_classes_and_reasons():
    rng = np.random.default_rng(0)
    n = 400
    active = rng.random((n, 4)) < 0.3
    active[:, 3] = False
    active[:5, 3] = True  # too few activated sequences to test
    values = rng.normal(0, 1, n) + 1.0 * active[:, 0] - 1.0 * active[:, 1]
    df = C.contribution_table(values, active, layer=2, min_n=10)
    assert list(df.columns) == C.CSV_COLUMNS
    assert df["contribution"].tolist() == ["positive", "negative", "neutral", "neutral"]
    assert df.loc[0, "effect"] == pytest.approx(values[active[:, 0]].mean() - values[~active[:, 0]].mean())
    assert df.loc[0, "task"] == "conv2_neuron0"
    assert "too few activated" in df.loc[3, "reason"] and np.isnan(df.loc[3, "q"])
    assert df.loc[2, "reason"].startswith("q >=")
    # BH over the three tested neurons only.
    np.testing.assert_allclose(df["q"][:3], stats.bh_qvalues(df["p"][:3].to_numpy()))


@pytest.fixture(scope="module")
def trained():
    return trained_default()


def test_neurons_matching_planted_motifs_get_their_sign(trained):
    X, y, codes, model, scaler = trained
    res = MA.search_maxact(model, X, [1])[1]
    act = C.activated(res.seq_max, res.neuron_max, 0.7)
    table = C.contribution_table(predictor(model, scaler)(X), act, 1)
    matches = VC.motif_matches(codes, res, act, {"POS": POS, "NEG": NEG, "PARTNER": PARTNER})
    truth = {"motifs": [{"name": "POS", "consensus": POS, "effect": 1.0, "sign": "positive"},
                        {"name": "NEG", "consensus": NEG, "effect": -1.0, "sign": "negative"},
                        {"name": "PARTNER", "consensus": PARTNER, "effect": 0.8, "sign": "positive"}]}
    cmp = VC.compare_with_truth(table, matches, truth).set_index("motif")
    for name in ("POS", "NEG", "PARTNER"):
        assert cmp.loc[name, "neurons"] >= 1, f"no neuron learned {name}"
        assert cmp.loc[name, "agree"] == cmp.loc[name, "neurons"], cmp
    # Observed labels tell the same story as the predictions for the POS neurons.
    pos_neurons = [int(k) for k in cmp.loc["POS", "neuron_ids"].split()]
    by_label = C.contribution_table(y, act, 1, neurons=pos_neurons, value_kind="label")
    assert (by_label["contribution"] == "positive").all()


def test_knockout_gives_the_causal_sign_and_silences_the_neuron(trained):
    X, y, codes, model, scaler = trained
    res = MA.search_maxact(model, X, [1])[1]
    act = C.activated(res.seq_max, res.neuron_max, 0.7)
    matches = VC.motif_matches(codes, res, act, {"POS": POS, "NEG": NEG, "PARTNER": PARTNER})

    def neuron_max(x, k):
        with torch.no_grad():
            return model.body(torch.as_tensor(x))[:, k].amax(-1).numpy()

    neurons = range(res.seq_max.shape[1])
    ko = C.knockout_table(predictor(model, scaler), X, res, act, 1, neurons, sequences=60,
                          replicates=2, seed=3, neuron_max=neuron_max)
    again = C.knockout_table(predictor(model, scaler), X, res, act, 1, neurons, sequences=60,
                             replicates=2, seed=3, neuron_max=neuron_max)
    pd.testing.assert_frame_equal(ko, again)                         # seeded
    assert list(ko.columns) == C.KNOCKOUT_COLUMNS
    truth = {"motifs": [{"name": "POS", "consensus": POS, "effect": 1.0, "sign": "positive"},
                        {"name": "NEG", "consensus": NEG, "effect": -1.0, "sign": "negative"},
                        {"name": "PARTNER", "consensus": PARTNER, "effect": 0.8, "sign": "positive"}]}
    cmp = VC.compare_with_truth(ko, matches, truth).set_index("motif")
    for name in ("POS", "NEG", "PARTNER"):
        assert cmp.loc[name, "neurons"] >= 1 and cmp.loc[name, "agree"] == cmp.loc[name, "neurons"], cmp
    tested = ko[ko["n"] > 0]
    assert (tested["not_deactivated"] <= tested["n"]).all()
    assert (tested["ci_low"] <= tested["effect"]).all() and (tested["effect"] <= tested["ci_high"]).all()
    # the shuffles keep everything outside the window and every extra track
    start, end = C.knockout_windows(res, np.array([0, 1]), 0, X.shape[-1])
    rng = np.random.default_rng(0)
    Xt = np.concatenate([X[:2], np.ones((2, 2, X.shape[-1]), np.float32)], axis=1)
    out = C.shuffle_windows(Xt, np.array([0, 1]), start, end, 3, rng).reshape(3, 2, 6, -1)
    for j in range(2):
        outside = np.r_[0:start[j], end[j]:X.shape[-1]]
        assert (out[:, j][:, :, outside] == Xt[j][None][:, :, outside]).all()
        assert (out[:, j, 4:] == 1).all()
        window = Xt[j, :4, start[j]:end[j]].argmax(0)
        for r in range(3):   # same dinucleotides
            shuffled = out[r, j, :4, start[j]:end[j]].argmax(0)
            pairs = lambda c: sorted(zip(c[:-1].tolist(), c[1:].tolist()))  # noqa: E731
            assert pairs(shuffled) == pairs(window)


def test_knockout_scores_later_draws_only_where_needed(trained):
    # The first `replicates` draws are scored first; the later ones only for windows they did
    # not all silence. The kept shuffles are those of scoring every draw.
    from combmotif.contribution.knockout import _silencing_shuffles

    X, _, _, model, _ = trained
    res = MA.search_maxact(model, X, [1])[1]
    act = C.activated(res.seq_max, res.neuron_max, 0.7)
    scored = []

    def neuron_max(x, k):
        scored.append(len(x))
        with torch.no_grad():
            return model.body(torch.as_tensor(x))[:, k].amax(-1).numpy()

    reps, draws, checked = 2, 4, 0
    for k in range(res.seq_max.shape[1]):
        idx = np.flatnonzero(act[:, k])[:40]
        if len(idx) < 5:
            continue
        scored.clear()
        got, missed = _silencing_shuffles(X, res, idx, k, reps, np.random.default_rng(k), 0.7, neuron_max, draws)
        start, end = C.knockout_windows(res, idx, k, X.shape[-1])
        pool = C.shuffle_windows(X, idx, start, end, reps * draws, np.random.default_rng(k))
        a = neuron_max(pool, k).astype(np.float64).reshape(reps * draws, len(idx))
        off = a < 0.7 * res.neuron_max[k]
        order = np.lexsort((np.where(off, 0.0, a), ~off), axis=0)[:reps]
        want = pool[(order * len(idx) + np.arange(len(idx))[None, :]).reshape(-1)]
        np.testing.assert_array_equal(got, want)
        assert missed == int((off.sum(0) < reps).sum())
        assert sum(scored[:-1]) < len(pool) or not (off[:reps].all(0)).any()
        checked += 1
    assert checked >= 3


def test_mixed_neurons_are_counted_apart():
    table = pd.DataFrame({"neuron": [0, 1, 2], "contribution": ["negative", "positive", "negative"]})
    matches = pd.DataFrame({"neuron": [0, 1, 2], "motif": ["NEG", "NEG", "NEG"],
                            "on:NEG": [0.9, 0.7, 0.8], "off:NEG": [0.1, 0.1, 0.1],
                            "on:POS": [0.05, 0.5, 0.3], "off:POS": [0.1, 0.15, 0.2]})
    truth = {"motifs": [{"name": "NEG", "consensus": "CATT", "effect": -1.0},
                        {"name": "POS", "consensus": "GGGA", "effect": 1.0}]}
    row = VC.compare_with_truth(table, matches, truth).set_index("motif").loc["NEG"]
    # neuron 1: POS in 50 % of its windows, 3.3x background -> mixed; neuron 2: 1.5x -> not
    assert (row["neurons"], row["mixed"], row["agree"], row["opposite"]) == (3, 1, 2, 0)
    assert row["mixed_ids"] == "1" and row["neuron_ids"] == "0 2"


def test_opposite_sign_partners_count_together_for_mixed():
    # A stabilising element paired with one of several destabilising ones: each
    # partner alone stays under 25 % of the windows, together they pass it.
    rng = np.random.default_rng(0)
    n, L = 400, 30
    codes = rng.integers(0, 4, (n, L)).astype(np.int8)
    rows = np.arange(n)
    plant(codes, rows[:200], np.full(200, 2), "GGGAGG", rng)
    partners = ("CATTCA", "TTCCAT", "ACACAT", "TCATCC")
    for k, cons in enumerate(partners):
        plant(codes, rows[k * 45:(k + 1) * 45], np.full(45, 14), cons, rng)
    res = MA.search_maxact(_one_neuron_model("GGGAGG"), indices_to_one_hot(codes), [1])[1]
    act = res.seq_max >= 0.7 * res.neuron_max
    motifs = {"POS": "GGGAGG", **{f"N{k}": cons for k, cons in enumerate(partners)}}
    groups = {"positive": ["POS"], "negative": [f"N{k}" for k in range(len(partners))]}
    matches = VC.motif_matches(codes, res, act, motifs, groups=groups)
    assert matches.loc[0, "motif"] == "POS"
    assert max(matches.loc[0, f"on:{k}"] for k in groups["negative"]) < 0.25
    assert matches.loc[0, "on:group:negative"] > 0.5
    table = pd.DataFrame({"neuron": [0], "contribution": ["negative"]})
    truth = {"motifs": [{"name": "POS", "consensus": "GGGAGG", "effect": 1.0}] +
             [{"name": k, "consensus": motifs[k], "effect": -0.5} for k in groups["negative"]]}
    row = VC.compare_with_truth(table, matches, truth).set_index("motif").loc["POS"]
    assert (row["neurons"], row["mixed"], row["opposite"]) == (1, 1, 0)
    alone = VC.compare_with_truth(table, matches.drop(columns=["on:group:negative", "off:group:negative"]),
                                 truth).set_index("motif").loc["POS"]
    assert (alone["mixed"], alone["opposite"]) == (0, 1)


def test_a_sign_the_planted_rule_itself_does_not_show_is_confounded_not_judged():
    # POS (+1) is planted mostly together with a stronger NEG (-3) far from it:
    # sequences activating a POS detector have lower labels on average, so an
    # association cannot give the POS neuron its planted sign. Run on the planted
    # rule itself, the same measure says so, and the neuron is counted apart.
    rng = np.random.default_rng(0)
    n, L = 600, 40
    codes = rng.integers(0, 4, (n, L)).astype(np.int8)
    rows = np.arange(n)
    plant(codes, rows[:200], np.full(200, 2), "GGGAGG", rng)      # POS
    plant(codes, rows[:180], np.full(180, 30), "CATTCA", rng)     # NEG, with POS in 180 of 200
    plant(codes, rows[300:400], np.full(100, 30), "CATTCA", rng)  # NEG alone
    has = lambda cons: np.array([cons in "".join("ACGT"[c] for c in r) for r in codes])  # noqa: E731
    planted = 1.0 * has("GGGAGG") - 3.0 * has("CATTCA")
    model_pred = planted + rng.normal(0, 0.3, n)      # a model that learned the rule
    truth = {"motifs": [{"name": "POS", "consensus": "GGGAGG", "effect": 1.0},
                        {"name": "NEG", "consensus": "CATTCA", "effect": -3.0}]}
    for cons, name, expect in (("GGGAGG", "POS", "confounded"), ("CATTCA", "NEG", "agree")):
        res = MA.search_maxact(_one_neuron_model(cons, width=L), indices_to_one_hot(codes), [1])[1]
        act = C.activated(res.seq_max, res.neuron_max, 0.7)
        matches = VC.motif_matches(codes, res, act, {"POS": "GGGAGG", "NEG": "CATTCA"})
        assert matches.loc[0, "motif"] == name
        table = C.contribution_table(model_pred, act, 1, min_abs_d=0.1)
        reference = C.contribution_table(planted, act, 1, min_abs_d=0.1, value_kind="planted")
        row = VC.compare_with_truth(table, matches, truth, reference=reference).set_index("motif").loc[name]
        if expect == "confounded":
            assert table.loc[0, "contribution"] == reference.loc[0, "contribution"] == "negative"
            assert (row["confounded"], row["confounded_as_planted"], row["agree"], row["opposite"]) == (1, 1, 0, 0)
            assert row["confounded_ids"] == "0"
            # without the reference the same neuron is judged, and has the opposite sign
            assert VC.compare_with_truth(table, matches, truth).set_index("motif").loc[name, "opposite"] == 1
        else:
            assert (row["confounded"], row["agree"]) == (0, 1)


def _one_neuron_model(cons: str, width: int = 30) -> torch.nn.Module:
    """A 'same'-padded one-filter conv net (conv1 = the neuron, wide enough to see a partner)."""
    model = SalukiModel(in_channels=4, seq_len=width, num_layers=1, filters=1, kernel_size=15).eval()
    with torch.no_grad():
        w = torch.zeros((1, 4, 15))
        for j, ch in enumerate(cons):
            w[0, "ACGT".index(ch), j] = 1.0
        model.body.conv1.weight.copy_(w)
    return model


def _write_stage(tmp_path: Path, n: int = 400) -> Path:
    write_toy_checkpoint(tmp_path, n, filters=8)
    cfg = tmp_path / "contribution.yaml"
    cfg.write_text(textwrap.dedent("""
        model: {checkpoint: toy-best.pth}
        results_dir: results
        min_n: 5
        device: cpu
        seed: 1
    """))
    return cfg


def test_stage_cli_writes_deterministic_outputs(tmp_path, capsys):
    cfg = _write_stage(tmp_path)
    for _ in range(2):
        with pytest.raises(SystemExit) as ex:
            combmotif_main(["contribution", str(cfg), "--layers", "1-3", "--force"])
        assert ex.value.code == 0
        first = {p.name: p.read_bytes() for p in sorted((tmp_path / "results/toy/contribution/conv2").iterdir())}
        if _ == 0:
            kept = first
    assert kept == first  # same seed, same files
    out = tmp_path / "results/toy/contribution"
    df = pd.read_csv(out / "conv3/neuron_contribution.csv")
    assert len(df) == 8 and set(df["contribution"]) <= {"positive", "negative", "neutral"}
    assert {"task", "contribution", "effect", "d", "p", "q", "n_active", "n_inactive"} <= set(df.columns)
    res = MA.MaxAct.load(out / "conv3/maxact.npz")
    assert res.seq_max.shape == (320, 8)  # the training split: 80 % of 400
    assert (out / "conv1/neuron_contribution.png").stat().st_size > 1000
    assert "conv3: 8 neurons" in capsys.readouterr().out


def test_bad_config_is_one_error_line(tmp_path, capsys):
    cfg = _write_stage(tmp_path)
    cfg.write_text(cfg.read_text() + "treshold: 0.5\n")
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["contribution", str(cfg), "--layers", "1"])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "treshold" in err[0]
    assert not (tmp_path / "results").exists()


def test_check_truth_runs_both_measures_against_the_planted_rule(tmp_path, capsys):
    # The synthetic truth check, end to end on a small planted set: a stage run,
    # then every matched neuron compared with the planted sign and with what the
    # planted rule itself gives under the same measure.
    import json

    from combmotif.data.synthetic_mrl import make_mrl

    cfg = _write_stage(tmp_path)
    df, truth = make_mrl(n=1500, seed=3)
    df.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    cfg.write_text(cfg.read_text() + "knockout: {sequences: 20, replicates: 2, draws: 2}\n")
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["contribution", str(cfg), "--layers", "1-2"])
    assert ex.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["validate", "contribution", str(cfg), "--layers", "1-2"])
    assert ex.value.code == 0
    out = capsys.readouterr().out
    assert out.count("contribution by activated vs not:") == 2
    assert out.count("contribution by knockout of the driving window:") == 2
    for column in ("confounded", "confounded_as_planted", "agree", "neutral", "opposite"):
        assert column in out
    last = out.strip().splitlines()[-2:]
    assert last[0].startswith("activated vs not: neurons ")
    assert last[1].startswith("knockout of the driving window: neurons ")
    assert all("agree" in line and "opposite" in line for line in last)

