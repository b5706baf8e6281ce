"""What a new user meets first: the own-data training config, early stopping that
stops on its own, motif database lists, a truth file written by hand, and
``scripts/setup_env.sh`` sourced into an interactive shell."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from combmotif.__main__ import main as combmotif_main
from combmotif.config import load_config
from combmotif.data.tasks import load_task_data
from combmotif.errors import CombMotifError, ConfigError, InputError
from combmotif.train import build_from_config, fit, train_from_config
from combmotif.train_config import load_train_config

from tiny_cnn import write_toy_checkpoint

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "configs" / "training" / "own_data_example.yaml"
TINY_MODEL = {"num_layers": 1, "filters": 8, "kernel_size": 5, "padding": "same", "dropout": 0.1,
              "gru_units": 8, "dense_units": 8}


def _own_csv(path: Path, n: int, seed: int = 0) -> None:
    """A user's CSV: utr + rl only (no total_reads), mixed case, U, N and short UTRs."""
    rng = np.random.default_rng(seed)
    utrs = []
    for i in range(n):
        s = "".join(rng.choice(list("ACGT"), int(rng.integers(30, 51))))
        utrs.append(s.lower() if i % 3 == 0 else s.replace("T", "U") if i % 3 == 1 else s[:-1] + "N")
    y = np.array([u.upper().count("GA") for u in utrs], float) + rng.normal(0, 0.1, n)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"utr": utrs, "rl": y}).to_csv(path, index=False)


# --------------------------------------------------------------------------- own data, early stopping


def test_own_data_example_config_loads_and_trains_on_a_plain_csv(tmp_path):
    cfg = load_train_config(EXAMPLE)
    assert cfg.data.split == "random" and cfg.train.epochs >= 50          # a cap ...
    assert cfg.train.patience >= 1 and cfg.train.min_delta > 0            # ... that early stopping ends
    assert Path(cfg.data.path).parts[-3:] == ("data", "my_utrs", "data.csv")
    assert cfg.model_results_dir.parts[-2:] == ("results", "my_predictor")

    # The example, copied into a tree of its own, trains on a CSV with only utr + rl.
    cfg_path = tmp_path / "configs" / "training" / EXAMPLE.name
    cfg_path.parent.mkdir(parents=True)
    shutil.copy(EXAMPLE, cfg_path)
    _own_csv(tmp_path / "data" / "my_utrs" / "data.csv", 300)
    cfg = load_train_config(cfg_path)
    cfg.device = "cpu"
    for key, value in TINY_MODEL.items():
        setattr(cfg.model, key, value)
    cfg.train.epochs, cfg.train.batch_size = 3, 32
    record = train_from_config(cfg, command="test")
    assert record["data"]["split"]["sizes"] == {"train": 240, "valid": 30, "test": 30}
    assert (tmp_path / "results" / "my_predictor" / "weights" / "my_predictor-best.pth").is_file()
    assert record["config"]["train"]["min_delta"] == cfg.train.min_delta


def _tiny_train_config(tmp_path: Path, **train) -> Path:
    _own_csv(tmp_path / "data.csv", 240)
    cfg = {"name": "tiny", "seed": 0, "device": "cpu",
           "data": {"format": "mrl_csv", "path": "data.csv", "split": "random"},
           "model": TINY_MODEL,
           "train": {"epochs": 8, "batch_size": 32, "lr": 0.003, "patience": 2, **train},
           "results_dir": "results", "output": {"weights_dir": "weights"}}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def test_min_delta_ends_training_when_the_gain_is_too_small(tmp_path):
    cfg = load_train_config(_tiny_train_config(tmp_path, min_delta=0.5))
    data = load_task_data(cfg.data)
    res = fit(build_from_config(cfg, data), data.splits, cfg, device="cpu")
    losses = [h["valid_loss"] for h in res.history]
    # No epoch after the first gains 0.5 on the standardised loss: patience runs out at once.
    assert res.stopped == "early_stopping" and len(losses) == 1 + cfg.train.patience
    assert res.best_epoch == 1 + int(np.argmin(losses))  # still the lowest loss is kept

    cfg0 = load_train_config(_tiny_train_config(tmp_path, min_delta=0.0))
    res0 = fit(build_from_config(cfg0, data), data.splits, cfg0, device="cpu")
    assert len(res0.history) >= len(res.history)


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_min_delta_out_of_range_names_the_key(tmp_path, value):
    with pytest.raises(ConfigError, match=r"train\.min_delta"):
        load_train_config(_tiny_train_config(tmp_path, min_delta=value))


# --------------------------------------------------------------------------- setup_env.sh


def _bash(script: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, COMBMOTIF_VENV=sys.prefix)  # the running venv: nothing is installed
    return subprocess.run(["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


def test_sourcing_setup_env_leaves_the_callers_shell_options_alone():
    probe = 'echo "flags=$-"; shopt -qo pipefail && echo pipefail=on || echo pipefail=off'
    plain = _bash(f"source scripts/setup_env.sh; echo rc=$?; {probe}; python -c 'import combmotif'")
    assert plain.returncode == 0, plain.stderr
    flags = plain.stdout.split("flags=")[1].split()[0]
    assert "e" not in flags and "u" not in flags and "pipefail=off" in plain.stdout
    assert "rc=0" in plain.stdout
    strict = _bash(f"set -euo pipefail; source scripts/setup_env.sh; {probe}")
    assert strict.returncode == 0, strict.stderr
    flags = strict.stdout.split("flags=")[1].split()[0]
    assert "e" in flags and "u" in flags and "pipefail=on" in strict.stdout
    # A failed set-up returns non-zero to the caller instead of closing its shell.
    broken = subprocess.run(["bash", "-c", "source scripts/setup_env.sh; echo still-here rc=$?"], cwd=REPO,
                            env=dict(os.environ, COMBMOTIF_VENV=str(REPO / "no" / "such" / "venv"),
                                     PYTHON="false"), capture_output=True, text=True, timeout=60)
    assert "still-here rc=1" in broken.stdout and "error: scripts/setup_env.sh" in broken.stderr


# --------------------------------------------------------------------------- motif_db


def _meme(path: Path, names: list[str]) -> None:
    from combmotif.data.planting import meme_text

    path.write_text(meme_text([{"name": n, "consensus": c} for n, c in zip(names, ["ACGTAC", "TTGCAA"])]))


def test_motif_db_list_takes_a_path_with_plus_whole(tmp_path):
    from combmotif.motifs.curated import curated_motifs
    from combmotif.motifs.databases import motif_db_parts, motif_db_text, resolve_motif_db

    (tmp_path / "db").mkdir()
    _meme(tmp_path / "db" / "RBP+miRNA.meme", ["m1", "m2"])
    motifs = resolve_motif_db(["curated", "db/RBP+miRNA.meme"], base_dir=tmp_path)
    assert len(motifs) == len(curated_motifs()) + 2
    assert {m.source for m in motifs[-2:]} == {"RBP+miRNA.meme"}
    # the string form splits at '+', so the same path cannot be written that way
    with pytest.raises(CombMotifError, match="RBP"):
        resolve_motif_db("curated+db/RBP+miRNA.meme", base_dir=tmp_path)
    assert motif_db_parts(" planted + curated ") == ["planted", "curated"]
    assert motif_db_text(["curated", "a+b.meme"]) == "curated + a+b.meme"
    with pytest.raises(ConfigError, match="motif_db is empty"):
        motif_db_parts([])


def test_discovery_and_compare_configs_accept_a_motif_db_list(tmp_path):
    from combmotif.baselines.compare_config import CompareConfig
    from combmotif.neuronmotif.discovery_config import DiscoveryConfig

    write_toy_checkpoint(tmp_path, 50, filters=4)
    (tmp_path / "d.yaml").write_text("model: {checkpoint: toy-best.pth}\n"
                                     "motif_db: [curated, 'x+y.meme']\n")
    # File parts are resolved against the config's folder when it is read.
    assert load_config(tmp_path / "d.yaml", DiscoveryConfig).motif_db == ["curated", str(tmp_path / "x+y.meme")]
    (tmp_path / "c.yaml").write_text("model: {checkpoint: toy-best.pth}\nlayers: [1]\n"
                                     "motif_db: [planted, curated]\n")
    assert load_config(tmp_path / "c.yaml", CompareConfig).motif_db == ["planted", "curated"]
    (tmp_path / "bad.yaml").write_text("model: {checkpoint: toy-best.pth}\nmotif_db: {a: 1}\n")
    with pytest.raises(ConfigError, match="motif_db"):
        load_config(tmp_path / "bad.yaml", DiscoveryConfig)


def test_pages_beside_the_sampling_where_they_take_nothing_from_it(tmp_path, monkeypatch):
    import combmotif.report.pipeline as pipeline
    from combmotif.neuronmotif.discovery_config import load_discovery_config

    write_toy_checkpoint(tmp_path, 50, filters=4)
    (tmp_path / "d.yaml").write_text("model: {checkpoint: toy-best.pth}\n")
    cfg = load_discovery_config(tmp_path / "d.yaml")
    assert cfg.report.overlap == "auto"
    for cores, device, want in ((2, "cpu", False), (4, "cpu", True), (1, "cuda:0", True)):
        monkeypatch.setattr(pipeline, "usable_cores", lambda c=cores: c)
        assert pipeline.overlap_wanted(cfg, device, [1, 2]) is want, (cores, device)
    assert not pipeline.overlap_wanted(cfg, "cuda:0", [])
    assert not pipeline.overlap_wanted(cfg, "cuda:0", [5])     # one layer: only the worker's start
    cfg.report.overlap = False
    assert not pipeline.overlap_wanted(cfg, "cuda:0", [1])
    cfg.report.overlap, cfg.report.enabled = True, False
    assert not pipeline.overlap_wanted(cfg, "cpu", [1])     # no pages, no worker
    (tmp_path / "bad.yaml").write_text("model: {checkpoint: toy-best.pth}\nreport: {overlap: sometimes}\n")
    with pytest.raises(ConfigError) as exc:
        load_discovery_config(tmp_path / "bad.yaml")
    assert str(exc.value).endswith("'report.overlap' must be true or false, or one of auto; got 'sometimes'")


def test_discovery_prints_the_png_hint_only_when_drawing_pngs(tmp_path, monkeypatch):
    import combmotif.motifs.collect as collect
    import combmotif.report.model_page as model_page
    from combmotif.neuronmotif.discovery_config import load_discovery_config
    from combmotif.report import final as D

    write_toy_checkpoint(tmp_path, 50, filters=4)
    (tmp_path / "d.yaml").write_text("model: {checkpoint: toy-best.pth}\nresults_dir: results\n")
    cfg = load_discovery_config(tmp_path / "d.yaml")
    # Only the log line is under test: no layer, and the page writers are stubbed.
    monkeypatch.setattr(collect, "collect_model", lambda *a, **k: None)
    monkeypatch.setattr(model_page, "write_model_index", lambda *a, **k: tmp_path / "index.html")
    for png, expected in ((True, 1), (False, 0)):
        cfg.report.png = png
        lines: list[str] = []
        D.match_and_report(cfg, [], log=lines.append)
        assert sum("report: {png: false}" in line for line in lines) == expected


# --------------------------------------------------------------------------- hand-written truth


HAND_TRUTH = """\
# expected motifs of my model
motifs:
  - {name: enhA, consensus: acuuccg, effect: 0.5}
  - {name: enhB, consensus: GAGCAAC, sign: positive}
  - name: repC
    ppm:
      - [0, 10, 0, 0]
      - [0, 0, 10, 0]
      - [0, 0, 10, 0]
      - [0, 0, 0, 10]
      - [0, 10, 0, 0]
      - [0, 0, 10, 0]
      - [10, 0, 0, 0]
    effect: -0.7
pairs:
  - {a: enhA, b: enhB, class: synergistic, epsilon: 0.8}
  - {motifA: enhA, motifB: repC, class: additive}
"""


def test_hand_written_truth_loads_into_the_generators_form(tmp_path):
    from combmotif.data.truth import is_planted, load_truth, ppm_consensus

    path = tmp_path / "my_truth.yaml"
    path.write_text("\ufeff" + HAND_TRUTH.replace("\n", "\r\n"))   # a BOM and CRLF line ends are fine
    truth = load_truth(path)
    assert not is_planted(truth)
    assert [(m["name"], m["consensus"], m["sign"]) for m in truth["motifs"]] == [
        ("enhA", "ACTTCCG", "positive"), ("enhB", "GAGCAAC", "positive"), ("repC", "CGGTCGA", "negative")]
    assert truth["pairs"][0] == {"name": "enhA+enhB", "motifA": "enhA", "motifB": "enhB",
                                 "class": "synergistic", "interaction": 0.8}
    assert truth["pairs"][1]["interaction"] is None
    as_json = tmp_path / "my_truth.json"
    as_json.write_text(json.dumps(yaml.safe_load(HAND_TRUTH)))
    assert load_truth(as_json)["motifs"] == truth["motifs"]
    assert ppm_consensus(np.array([[.7, .1, .1, .1], [.4, .4, .1, .1], [.25] * 4])) == "AMN"
    # a generator's truth.json is returned as it is
    from combmotif.data.synthetic_mrl import make_mrl

    gen = make_mrl(n=200, seed=0)[1]
    assert load_truth(gen) == gen and is_planted(gen)
    with pytest.raises(InputError, match="no planted rule"):
        load_truth(path, task="mrl")


@pytest.mark.parametrize("text, needle", [
    ("motifs: []\n", "'motifs' must be a non-empty list"),
    ("motifs: [{name: a, consensus: ACXG}]\n", "motifs[0].consensus"),
    ("motifs: [{name: a}]\n", "exactly one of 'consensus' and 'ppm'"),
    ("motifs: [{name: a, consensus: ACG, ppm: [[1, 0, 0, 0]]}]\n", "exactly one of"),
    ("motifs: [{name: a, ppm: [[1, 0, 0]]}]\n", "motifs[0].ppm must be a list of rows of 4 numbers"),
    ("motifs: [{name: a, ppm: [[1, 0, 0, 0], [0, 0, 0, 0]]}]\n", "motifs[0].ppm[1]"),
    ("motifs: [{name: a, consensus: ACG, effect: up}]\n", "motifs[0].effect"),
    ("motifs: [{name: a, consensus: ACG, sign: up}]\n", "motifs[0].sign"),
    ("motifs: [{name: a, consensus: ACG, effect: 1, sign: negative}]\n", "disagree"),
    ("motifs: [{name: a, consensus: ACG, colour: red}]\n", "unknown key 'colour'"),
    ("motifs: [{name: a, consensus: ACG}, {name: a, consensus: CCG}]\n", "used twice"),
    ("motifs: [{name: a, consensus: ACG}]\npairs: [{a: a, b: z, class: additive}]\n", "pairs[0].b names unknown motif"),
    ("motifs: [{name: a, consensus: ACG}]\npairs: [{a: a, b: a, class: strong}]\n", "pairs[0].class"),
    ("motifs: [{name: a, consensus: ACG}]\npairs: [{a: a, class: additive}]\n", "needs the motif name 'b'"),
    ("motifs: [{name: a, consensus: ACG}]\npairs: [{a: a, b: a, class: additive, epsilon: big}]\n",
     "pairs[0].epsilon"),
    ("motif: [{name: a, consensus: ACG}]\n", "unknown key 'motif'"),
    ("- just a list\n", "top level must be a mapping"),
    ("motifs: [{name: a, consensus: ACG}\n", "not valid YAML"),
])
def test_bad_hand_written_truth_names_the_file_and_key(tmp_path, text, needle):
    from combmotif.data.truth import load_truth

    path = tmp_path / "bad_truth.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_truth(path)
    assert str(exc.value).startswith(str(path)) and needle in str(exc.value), str(exc.value)


def test_every_check_consumes_a_hand_written_truth(tmp_path):
    from combmotif.data.truth import load_truth, require_signs
    from combmotif.evaluate import load_truth_if_any
    from combmotif.validation import contribution as C
    from combmotif.validation import interaction as I
    from combmotif.validation.discovery import load_truth as recovery_truth
    from combmotif.validation.discovery import recovery_long, tomtom_table

    path = tmp_path / "truth.yaml"
    path.write_text(HAND_TRUTH)
    truth = load_truth(path)
    # recovery (bench/recovery_table.py)
    assert [m["consensus"] for m in recovery_truth(path)] == ["ACTTCCG", "GAGCAAC", "CGGTCGA"]
    (tmp_path / "conv2").mkdir()
    pd.DataFrame([(3, 0, "conv2-n3-c0-s0", 1, "enhA", 0.001, "ACTTCCG")],
                 columns=["neuron", "cluster", "segment", "rank", "target", "q", "segment_consensus"]
                 ).to_csv(tmp_path / "conv2" / "matches.csv", index=False)
    tt = tomtom_table(tmp_path, path).set_index("motif")
    assert tt.loc["enhA", "matched"] and not tt.loc["repC", "matched"]
    # the compare stage's recovery table
    segs = pd.DataFrame({"method": ["neuronmotif"], "layer": ["conv2"], "neuron": [3], "segment": ["s0"],
                         "consensus": ["TCGGTCGAT"]})
    matches = pd.DataFrame(columns=["method", "target", "q", "layer", "neuron", "segment"])
    rec = recovery_long(path, segs, matches, {}, ["neuronmotif"]).set_index("motif")
    assert rec.loc["repC", "recovered"] and not rec.loc["enhB", "recovered"]
    # contribution check: signs from effect or sign, no planted reference
    assert C.planted_signs(truth) == {"enhA": "positive", "enhB": "positive", "repC": "negative"}
    table = pd.DataFrame({"neuron": [0, 1], "contribution": ["positive", "positive"]})
    found = pd.DataFrame({"neuron": [0, 1], "motif": ["enhA", "repC"]})
    cmp = C.compare_with_truth(table, found, truth).set_index("motif")
    assert (cmp.loc["enhA", "agree"], cmp.loc["repC", "opposite"], cmp["confounded"].sum()) == (1, 1, 0)
    unsigned = load_truth({"motifs": [{"name": "x", "consensus": "ACG"}]})
    with pytest.raises(InputError, match=r"motifs\[0\] \(x\) needs 'effect'"):
        require_signs(unsigned)
    # interaction check
    combos = I.truth_labels(truth)
    assert [(c.name, c.motifA, c.motifB) for c in combos] == [("enhA+enhB", ["ACTTCCG"], ["GAGCAAC"]),
                                                             ("enhA+repC", ["ACTTCCG"], ["CGGTCGA"])]
    calls = pd.DataFrame({"motifA": ["ACTTCCG"], "motifB": ["GAGCAAC"], "interaction": ["synergistic"],
                          "n": [40], "q": [0.001], "epsilon": [0.7]})
    pairs = I.compare_with_truth(calls, truth).set_index("pair")
    assert pairs.loc["enhA+enhB", "called"] == "synergistic" and pairs.loc["enhA+repC", "called"] == "untested"
    # evaluation: a hand-written truth beside the data has no noise ceiling to give
    assert load_truth_if_any(path) is None


def test_check_truth_commands_run_on_a_hand_written_truth(tmp_path, capsys):
    write_toy_checkpoint(tmp_path, 300, filters=4)
    (tmp_path / "truth.yaml").write_text(HAND_TRUTH)
    cfg = tmp_path / "contribution.yaml"
    cfg.write_text(textwrap.dedent("""
        model: {checkpoint: toy-best.pth}
        results_dir: results
        min_n: 5
        device: cpu
        knockout: {sequences: 10, replicates: 1, draws: 1}
    """))
    for run in (lambda: combmotif_main(["contribution", str(cfg), "--layers", "1"]),
                lambda: combmotif_main(["validate", "contribution", str(cfg), "--layers", "1",
                                        "--truth", str(tmp_path / "truth.yaml")])):
        with pytest.raises(SystemExit) as ex:
            run()
        assert ex.value.code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "hand-written truth" in out and "contribution by activated vs not:" in out
    icfg = tmp_path / "interaction.yaml"
    icfg.write_text("model: {checkpoint: toy-best.pth}\nresults_dir: results\nreplicates: 1\n"
                    "max_pair_sequences: 10\nn_boot: 50\ndevice: cpu\n")
    with pytest.raises(SystemExit) as ex:
        combmotif_main(["validate", "interaction", str(icfg), "--truth", str(tmp_path / "truth.yaml")])
    assert ex.value.code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "planted pairs get their planted class" in out and "enhA+enhB" in out
    assert "planted_epsilon" not in pd.read_csv(tmp_path / "results/toy/interaction/truth_pairs/"
                                                "motif_pair_stats.csv").columns
    # The map is drawn by the check (report/plots.py), beside the table the scope wrote.
    assert (tmp_path / "results/toy/interaction/truth_pairs/interaction_map.svg").stat().st_size > 1000
