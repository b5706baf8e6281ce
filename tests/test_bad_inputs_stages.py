"""Bad-input catalogue of the interpretation stages: discovery, contribution,
interaction, the method comparison and the recovery table.

Every case runs the stage's own script in this process on a tiny model whose
outputs (discovery pages, contribution tables, interaction fragments and pairs)
were finished first, and asserts the refusal of :mod:`badinput`: exit 2, one
``error:`` line naming the file, key or value, no traceback, and not one file of
the workspace created, changed or removed: a bad run neither works nor
overwrites finished results.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from badinput import REPO, assert_refused, refused, run_script, run_shell, snapshot
from tiny_cnn import write_toy_checkpoint

DISCOVER = "motif_discovery/discover.py"
COMPARE = "motif_discovery/compare.py"
CONTRIB = "motif_contribution/neuron_contribution.py"
SEARCH = "motif_contribution/search_maxact.py"
CTRUTH = "motif_contribution/check_truth.py"
FRAGS = "motif_interaction/fragment_location.py"
SCR = "motif_interaction/motif_pair_scr.py"
ITRUTH = "motif_interaction/check_truth.py"
RECOVERY = "bench/recovery_table.py"
COMBMOTIF = "combmotif/__main__.py"   # the checks' own form: combmotif validate <check> <config> ...

BASE = {
    "disc": {"model": {"checkpoint": "toy-best.pth"}, "results_dir": "results", "device": "cpu",
             "motif_db": "curated", "matching": {"tomtom_backend": "memelite", "n_jobs": 1},
             "report": {"png": False}, "sampling": {"bin_cap": 5}},
    "contrib": {"model": {"checkpoint": "toy-best.pth"}, "results_dir": "results", "min_n": 5,
                "device": "cpu", "seed": 1, "knockout": {"sequences": 10, "replicates": 1, "draws": 1}},
    "inter": {"model": {"checkpoint": "toy-best.pth"}, "results_dir": "results", "template": "template.yaml",
              "label_sources": ["template"], "fragment_threshold": 0.5, "replicates": 2,
              "max_pair_sequences": 20, "n_boot": 50, "device": "cpu", "seed": 3},
    "cmp": {"model": {"checkpoint": "toy-best.pth"}, "layers": [1], "results_dir": "results", "device": "cpu",
            "match": {"tomtom_backend": "memelite", "n_jobs": 1},
            "methods": {"neuronmotif": {"config": "disc.yaml", "run": False},
                        "modisco": {"enabled": False}, "class_optimization": {"enabled": False},
                        "max_seqlet": {"top_n": 10}}},
}


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _ok(script: str, argv: list) -> None:
    code, err = run_script(script, argv)
    assert code == 0, err


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A workspace with a 3-conv toy model, its data, every stage's config and finished
    results of each stage (conv1), made once for the module."""
    ws = tmp_path_factory.mktemp("stages")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    write_toy_checkpoint(ws, 200, filters=4)
    for name, cfg in BASE.items():
        (ws / f"{name}.yaml").write_text(yaml.safe_dump(cfg))
    (ws / "template.yaml").write_text("combination1:\n  motifA: [ACG]\n  motifB: [TTA]\n")
    (ws / "afile").write_text("not a folder\n")
    (ws / "empty.meme").write_text("")
    (ws / "garbage.meme").write_text("MEME version 4\n\nMOTIF x\nletter-probability matrix: w= 2\n0.5 0.5\n")
    (ws / "bad.json").write_text("{not json")
    (ws / "bad_template.yaml").write_text("combination1:\n  motifA: [ACG]\n")
    (ws / "latin1.yaml").write_bytes("model: {checkpoint: toy-best.pth}\nname: caf\xe9\n".encode("latin-1"))
    (ws / "a_dir.yaml").mkdir()
    (ws / "nothing").mkdir()
    rng = np.random.default_rng(5)   # a user's own file: lowercase RNA, not the checkpoint's data
    pd.DataFrame({"utr": ["".join(rng.choice(list("acgu"), 50)) for _ in range(60)],
                  "rl": rng.normal(5, 1, 60)}).to_csv(ws / "own.csv", index=False)
    from test_keras import _layers, _write_model

    layers = _layers(keras1=False)   # a Keras model whose first kernel does not fit its declared conv
    layers[0][2]["kernel"] = layers[0][2]["kernel"][:3]
    _write_model(ws / "wrong_kernel.h5", keras1=False, layers=layers)
    ckpt = torch.load(ws / "toy-best.pth", weights_only=False)
    for name, change in (("unknown_key", {"foo": 1}), ("list_filters", {"filters": [4]}),
                         ("negative_filters", {"filters": -1})):
        bad = copy.deepcopy(ckpt)
        bad["arch"].update(change)
        torch.save(bad, ws / f"{name}-best.pth")
    # Finished results of every stage, which no refused run may touch.
    cfg = lambda name: str(ws / f"{name}.yaml")  # noqa: E731
    _ok(DISCOVER, [cfg("disc"), "--layers", "1", "1"])
    _ok(CONTRIB, ["1", "1", cfg("contrib")])
    _ok(FRAGS, ["1", cfg("inter")])
    _ok(SCR, ["1", "0", "2", cfg("inter")])
    results = ws / "results" / "toy"
    for path in ("discovery/conv1/neuron0/clusters.json", "discovery/conv1/index.html",
                 "contribution/conv1/neuron_contribution.csv", "interaction/conv1/fragments.npz",
                 "interaction/conv1/motif_pair_stats.csv"):
        assert (results / path).is_file(), path
    torch.set_num_threads(threads)
    return ws


# Each case: id -> (script, config to change or None, changes, argv, names the error line must hold).
# "{cfg}" in argv is the changed config; "{ws}" the workspace.
CASES = {
    # --- discovery
    "disc-neurons-reversed": (DISCOVER, "disc", {"layers": {"ind": "5-2"}}, ["{cfg}", "--layer", "1"],
                              ["layers.ind", "5-2"]),
    "disc-per-layer-reversed": (DISCOVER, "disc", {"layers": {"per_layer": {"conv1": "3-1"}}},
                                ["{cfg}", "--layer", "1"], ["layers.per_layer.conv1", "3-1"]),
    "disc-per-layer-bad-key": (DISCOVER, "disc", {"layers": {"per_layer": {"convX": "0-2"}}},
                               ["{cfg}", "--layer", "1"], ["layers.per_layer", "convX"]),
    "disc-neurons-x-y": (DISCOVER, "disc", {"layers": {"ind": "x-y"}}, ["{cfg}", "--layer", "1"],
                         ["layers.ind", "x-y"]),
    "disc-neurons-empty-list": (DISCOVER, "disc", {"layers": {"ind": []}}, ["{cfg}", "--layer", "1"],
                                ["layers.ind"]),
    "disc-neurons-beyond-layer": (DISCOVER, "disc", {"layers": {"ind": "0-99"}}, ["{cfg}", "--layer", "1"],
                                  ["disc-neurons-beyond-layer.yaml", "layers", "conv1", "4"]),
    "disc-device-banana": (DISCOVER, "disc", {"device": "banana"}, ["{cfg}", "--layer", "1"],
                           ["device", "banana", ".yaml"]),
    "disc-device-flag-banana": (DISCOVER, "disc", {}, ["{cfg}", "--layer", "1", "--device", "banana"],
                                ["device", "banana"]),
    "disc-output-dir-is-file": (DISCOVER, "disc", {"results_dir": "afile"}, ["{cfg}", "--layer", "1"],
                                ["results_dir", "afile", "is a file"]),
    "disc-output-dir-under-file": (DISCOVER, "disc", {"results_dir": "afile/sub"}, ["{cfg}", "--layer", "1"],
                                   ["results_dir", "afile"]),
    "disc-motif-db-missing": (DISCOVER, "disc", {"motif_db": "missing.meme"}, ["{cfg}", "--layer", "1"],
                              ["motif_db", "missing.meme"]),
    "disc-motif-db-empty": (DISCOVER, "disc", {"motif_db": "empty.meme"}, ["{cfg}", "--layer", "1"],
                            ["motif_db", "empty.meme"]),
    "disc-motif-db-unparsable": (DISCOVER, "disc", {"motif_db": "garbage.meme"}, ["{cfg}", "--layer", "1"],
                                 ["motif_db", "garbage.meme"]),
    "disc-jaspar-1999": (DISCOVER, "disc", {"motif_db": "jaspar:1999"}, ["{cfg}", "--layer", "1"],
                         ["motif_db", "jaspar:1999", "JASPAR1999"]),
    "disc-misspelt-source": (DISCOVER, "disc", {"motif_db": "plantd+curated"}, ["{cfg}", "--layer", "1"],
                             ["motif_db", "plantd"]),
    "disc-planted-without-data": (DISCOVER, "disc", {"motif_db": "planted", "data_dir": "nothing"},
                                  ["{cfg}", "--layer", "1"], ["motif_db", "planted.meme"]),
    "disc-tomtom-meme-no-binary": (DISCOVER, "disc", {"matching": {"tomtom_backend": "meme"}},
                                   ["{cfg}", "--layer", "1"], ["tomtom_backend", "meme", ".yaml"]),
    "disc-dist-needs-meme": (DISCOVER, "disc", {"matching": {"dist": "pearson"}}, ["{cfg}", "--layer", "1"],
                             ["dist", "pearson"]),
    "disc-layer-5": (DISCOVER, "disc", {}, ["{cfg}", "--layer", "5"], ["layer 5", "toy-best.pth"]),
    "disc-layers-range-past-model": (DISCOVER, "disc", {}, ["{cfg}", "--layers", "3", "4"],
                                     ["layer 4", "toy-best.pth", "conv1..conv3"]),
    "disc-layers-reversed": (DISCOVER, "disc", {}, ["{cfg}", "--layers", "2", "1"], ["--layers", "2-1"]),
    "disc-layer-not-int": (DISCOVER, "disc", {}, ["{cfg}", "--layer", "two"], ["--layer", "two"]),
    "disc-config-is-directory": (DISCOVER, None, {}, ["{ws}/a_dir.yaml", "--layer", "1"],
                                 ["a_dir.yaml", "is a directory"]),
    "disc-config-not-utf8": (DISCOVER, None, {}, ["{ws}/latin1.yaml", "--layer", "1"],
                             ["latin1.yaml", "UTF-8"]),
    "disc-config-missing": (DISCOVER, None, {}, ["{ws}/nope.yaml", "--layer", "1"],
                            ["nope.yaml", "not found"]),
    "disc-checkpoint-missing": (DISCOVER, "disc", {"model": {"checkpoint": "nope.pth"}},
                                ["{cfg}", "--layer", "1"], ["nope.pth"]),
    "disc-checkpoint-unknown-arch-key": (DISCOVER, "disc", {"model": {"checkpoint": "unknown_key-best.pth"}},
                                         ["{cfg}", "--layer", "1"], ["unknown_key-best.pth", "foo"]),
    "disc-checkpoint-list-arch": (DISCOVER, "disc", {"model": {"checkpoint": "list_filters-best.pth"}},
                                  ["{cfg}", "--layer", "1"], ["list_filters-best.pth", "arch"]),
    "disc-checkpoint-negative-filters": (DISCOVER, "disc",
                                         {"model": {"checkpoint": "negative_filters-best.pth"}},
                                         ["{cfg}", "--layer", "1"], ["negative_filters-best.pth", "filters", "-1"]),
    "disc-both-model-kinds": (DISCOVER, "disc", {"model": {"keras_hdf5": "x.h5"}}, ["{cfg}", "--layer", "1"],
                              ["checkpoint", "keras_hdf5"]),
    "disc-batch-size-0": (DISCOVER, "disc", {"batch_size": 0}, ["{cfg}", "--layer", "1"], ["batch_size", "0"]),
    "disc-unknown-key": (DISCOVER, "disc", {"sampling": {"populaton": 3}}, ["{cfg}", "--layer", "1"],
                         ["sampling.populaton"]),
    "disc-png-not-bool": (DISCOVER, "disc", {"report": {"png": "yes"}}, ["{cfg}", "--layer", "1"],
                          ["report.png", "yes"]),
    # --- contribution
    "contrib-neurons-reversed": (CONTRIB, "contrib", {"neurons": "3-1"}, ["1", "1", "{cfg}"], ["neurons", "3-1"]),
    "contrib-neurons-x-y": (CONTRIB, "contrib", {"neurons": "x-y"}, ["1", "1", "{cfg}"], ["neurons", "x-y"]),
    "contrib-neurons-empty-list": (CONTRIB, "contrib", {"neurons": []}, ["1", "1", "{cfg}"], ["neurons"]),
    "contrib-neurons-beyond-layer": (CONTRIB, "contrib", {"neurons": "0-99"}, ["1", "1", "{cfg}"],
                                     ["contrib-neurons-beyond-layer.yaml", "neurons", "0-99"]),
    "contrib-device-banana": (CONTRIB, "contrib", {"device": "banana"}, ["1", "1", "{cfg}"],
                              ["device", "banana", ".yaml"]),
    "contrib-results-dir-is-file": (CONTRIB, "contrib", {"results_dir": "afile"}, ["1", "1", "{cfg}"],
                                    ["results_dir", "afile"]),
    "contrib-layer-past-model": (CONTRIB, "contrib", {}, ["1", "9", "{cfg}"], ["layer 4", "toy-best.pth"]),
    "contrib-layers-reversed": (CONTRIB, "contrib", {}, ["3", "1", "{cfg}"], ["layer range 3..1"]),
    "contrib-threshold-0": (CONTRIB, "contrib", {"threshold": 0}, ["1", "1", "{cfg}"], ["threshold"]),
    "contrib-knockout-sequences-1": (CONTRIB, "contrib", {"knockout": {"sequences": 1}}, ["1", "1", "{cfg}"],
                                     ["knockout.sequences"]),
    "contrib-target-index-negative": (CONTRIB, "contrib", {"target_index": -1}, ["1", "1", "{cfg}"],
                                      ["target_index"]),
    "contrib-target-index-past-outputs": (CONTRIB, "contrib", {"target_index": 3}, ["1", "1", "{cfg}"],
                                          ["contrib-target-index-past-outputs.yaml", "target_index", "3"]),
    "scr-target-index-past-outputs": (SCR, "inter", {"target_index": 2}, ["1", "0", "2", "{cfg}"],
                                      ["target_index", "2"]),
    "contrib-data-missing": (CONTRIB, "contrib", {"data": {"path": "nope.csv", "split": "all"}},
                             ["1", "1", "{cfg}"], ["nope.csv", "not found"]),
    "contrib-own-csv-train-split": (CONTRIB, "contrib", {"data": {"path": "own.csv", "split": "train"},
                                                         "results_dir": "own"},
                                    ["1", "1", "{cfg}"], ["data.split", "own.csv"]),
    "contrib-keras-wrong-kernel-shape": (CONTRIB, "contrib", {"model": {"checkpoint": None,
                                                                        "keras_hdf5": "wrong_kernel.h5"},
                                                              "data": {"path": "own.csv", "split": "all"}},
                                         ["1", "1", "{cfg}"], ["wrong_kernel.h5", "c1", "shape"]),
    "disc-keras-wrong-kernel-shape": (DISCOVER, "disc", {"model": {"checkpoint": None,
                                                                   "keras_hdf5": "wrong_kernel.h5"}},
                                      ["{cfg}", "--layer", "1"], ["wrong_kernel.h5", "c1", "shape"]),
    "contrib-config-not-utf8": (CONTRIB, None, {}, ["1", "1", "{ws}/latin1.yaml"], ["latin1.yaml", "UTF-8"]),
    "contrib-config-is-directory": (CONTRIB, None, {}, ["1", "1", "{ws}/a_dir.yaml"],
                                    ["a_dir.yaml", "is a directory"]),
    "search-results-dir-under-file": (SEARCH, "contrib", {"results_dir": "afile/x"}, ["1", "1", "{cfg}"],
                                      ["results_dir", "afile"]),
    "search-layer-past-model": (SEARCH, "contrib", {}, ["2", "7", "{cfg}"], ["layer 4", "toy-best.pth"]),
    "ctruth-truth-missing": (CTRUTH, "contrib", {}, ["1", "1", "{cfg}", "--truth", "{ws}/nope.json"],
                             ["nope.json", "not found"]),
    "ctruth-truth-not-json": (CTRUTH, "contrib", {}, ["1", "1", "{cfg}", "--truth", "{ws}/bad.json"],
                              ["bad.json"]),
    "ctruth-layer-not-run": (CTRUTH, "contrib", {}, ["1", "2", "{cfg}", "--truth", "{ws}/bad.json"],
                             ["conv2", "neuron_contribution.csv", "not found"]),
    # --- interaction
    "frag-max-fragment-sequences-negative": (FRAGS, "inter", {"max_fragment_sequences": -5}, ["1", "{cfg}"],
                                             ["max_fragment_sequences", "-5"]),
    "scr-max-fragment-sequences-negative": (SCR, "inter", {"max_fragment_sequences": -5},
                                            ["1", "0", "2", "{cfg}"], ["max_fragment_sequences", "-5"]),
    "scr-neurons-reversed": (SCR, "inter", {}, ["1", "3", "0", "{cfg}"], ["neurons 3:0", "3-0"]),
    "scr-neurons-empty": (SCR, "inter", {}, ["1", "2", "2", "{cfg}"], ["neurons 2:2"]),
    "scr-neurons-past-layer": (SCR, "inter", {}, ["1", "0", "99", "{cfg}"], ["neurons 0:99", "conv1"]),
    "scr-layer-past-model": (SCR, "inter", {}, ["9", "0", "2", "{cfg}"], ["layer 9", "toy-best.pth"]),
    "scr-template-missing": (SCR, "inter", {"template": "nope.yaml"}, ["1", "0", "2", "{cfg}"],
                             ["template", "nope.yaml"]),
    "scr-template-malformed": (SCR, "inter", {"template": "bad_template.yaml"}, ["1", "0", "2", "{cfg}"],
                               ["template", "bad_template.yaml", "motifB"]),
    "scr-labels-dir-is-file": (SCR, "inter", {"labels_dir": "afile", "label_sources": ["hand"]},
                               ["1", "0", "2", "{cfg}"], ["labels_dir", "afile"]),
    "scr-max-pair-sequences-0": (SCR, "inter", {"max_pair_sequences": 0}, ["1", "0", "2", "{cfg}"],
                                 ["max_pair_sequences"]),
    "scr-n-boot-0": (SCR, "inter", {"n_boot": 0}, ["1", "0", "2", "{cfg}"], ["n_boot"]),
    "scr-attribution-sequences-negative": (SCR, "inter", {"attribution_sequences": -5}, ["1", "0", "2", "{cfg}"],
                                           ["attribution_sequences", "-5"]),
    "scr-label-source-misspelt": (SCR, "inter", {"label_sources": ["tempate"]}, ["1", "0", "2", "{cfg}"],
                                  ["label_sources", "tempate"]),
    "frag-device-banana": (FRAGS, "inter", {"device": "banana"}, ["1", "{cfg}"], ["device", "banana"]),
    "frag-results-dir-is-file": (FRAGS, "inter", {"results_dir": "afile"}, ["1", "{cfg}"],
                                 ["results_dir", "afile"]),
    "frag-layer-past-model": (FRAGS, "inter", {}, ["4", "{cfg}"], ["layer 4", "toy-best.pth"]),
    "frag-threshold-0": (FRAGS, "inter", {"fragment_threshold": 0}, ["1", "{cfg}"], ["fragment_threshold"]),
    "itruth-truth-missing": (ITRUTH, "inter", {}, ["{cfg}", "--truth", "{ws}/nope.json"], ["nope.json"]),
    "itruth-truth-not-json": (ITRUTH, "inter", {}, ["{cfg}", "--truth", "{ws}/bad.json"], ["bad.json"]),
    "itruth-layer-past-model": (ITRUTH, "inter", {}, ["{cfg}", "--truth", "{ws}/bad.json", "--layer", "9"],
                                ["layer 9"]),
    # --- method comparison
    "cmp-truth-missing": (COMPARE, "cmp", {"truth": "nope.json"}, ["{cfg}"], ["truth", "nope.json"]),
    "cmp-truth-not-json": (COMPARE, "cmp", {"truth": "bad.json"}, ["{cfg}"], ["truth", "bad.json"]),
    "cmp-output-dir-is-file": (COMPARE, "cmp", {"results_dir": "afile"}, ["{cfg}"], ["results_dir", "afile"]),
    "cmp-old-key-output-dir": (COMPARE, "cmp", {"output_dir": "results"}, ["{cfg}"],
                               ["cmp-old-key-output-dir.yaml", "'output_dir' is now 'results_dir'"]),
    "disc-old-key-output-dir": (DISCOVER, "disc", {"output_dir": "results"}, ["{cfg}", "--layer", "1"],
                                ["disc-old-key-output-dir.yaml", "'output_dir' is now 'results_dir'"]),
    "cmp-misspelt-source": (COMPARE, "cmp", {"motif_db": "plantd"}, ["{cfg}"], ["motif_db", "plantd"]),
    "cmp-jaspar-1999": (COMPARE, "cmp", {"motif_db": "jaspar:1999"}, ["{cfg}"], ["motif_db", "jaspar:1999"]),
    "cmp-motif-db-empty": (COMPARE, "cmp", {"motif_db": "empty.meme"}, ["{cfg}"], ["motif_db", "empty.meme"]),
    "cmp-neurons-reversed": (COMPARE, "cmp", {"neurons": "3-1"}, ["{cfg}"], ["neurons", "3-1"]),
    "cmp-neurons-beyond-layer": (COMPARE, "cmp", {"neurons": "2-40"}, ["{cfg}"],
                                 ["cmp-neurons-beyond-layer.yaml", "neurons", "2-40"]),
    "cmp-layer-past-model": (COMPARE, "cmp", {"layers": [1, 9]}, ["{cfg}"], ["layers", "layer 9"]),
    "cmp-device-banana": (COMPARE, "cmp", {"device": "banana"}, ["{cfg}"], ["device", "banana"]),
    "cmp-tomtom-meme-no-binary": (COMPARE, "cmp", {"match": {"tomtom_backend": "meme"}}, ["{cfg}"],
                                  ["tomtom_backend", "meme"]),
    "cmp-no-method": (COMPARE, "cmp", {"methods": {"neuronmotif": {"enabled": False},
                                                   "max_seqlet": {"enabled": False}}},
                      ["{cfg}"], ["no method enabled"]),
    "cmp-neuronmotif-config-missing": (COMPARE, "cmp", {"methods": {"neuronmotif": {"config": "nope.yaml"}}},
                                       ["{cfg}"], ["nope.yaml"]),
    "cmp-data-missing": (COMPARE, "cmp", {"data": {"path": "nope.csv", "split": "all"}}, ["{cfg}"],
                         ["nope.csv", "not found"]),
    "cmp-config-is-directory": (COMPARE, None, {}, ["{ws}/a_dir.yaml"], ["a_dir.yaml", "is a directory"]),
    # --- the recovery table
    "recovery-truth-missing": (RECOVERY, None, {}, ["--config", "{ws}/disc.yaml", "--truth", "{ws}/nope.json"],
                               ["nope.json"]),
    "recovery-truth-not-json": (RECOVERY, None, {}, ["--config", "{ws}/disc.yaml", "--truth", "{ws}/bad.json"],
                                ["bad.json"]),
    "recovery-layers-x-y": (RECOVERY, None, {}, ["--config", "{ws}/disc.yaml", "--layers", "x-y"],
                            ["--layers", "x-y"]),
    "recovery-min-identity-2": (RECOVERY, None, {}, ["--config", "{ws}/disc.yaml", "--min-identity", "2"],
                                ["--min-identity"]),
    "recovery-config-missing": (RECOVERY, None, {}, ["--config", "{ws}/nope.yaml"], ["nope.yaml"]),
    "recovery-motif-db-misspelt": (RECOVERY, "disc", {"motif_db": "plantd"}, ["--config", "{cfg}", "--tomtom"],
                                   ["motif_db", "plantd"]),
    "validate-contribution-truth-missing": (COMBMOTIF, "contrib", {}, ["validate", "contribution", "{cfg}",
                                                                       "--layers", "1", "--truth", "{ws}/nope.json"],
                                            ["nope.json", "not found"]),
    "validate-contribution-layers-reversed": (COMBMOTIF, "contrib", {}, ["validate", "contribution", "{cfg}",
                                                                         "--layers", "2-1"], ["--layers", "2..1"]),
    "validate-interaction-layer-past-model": (COMBMOTIF, "inter", {}, ["validate", "interaction", "{cfg}",
                                                                       "--truth", "{ws}/truth.json", "--layers", "9"],
                                              ["layer 9"]),
    "discovery-neurons-flag-past-layer": (COMBMOTIF, "disc", {}, ["discovery", "{cfg}", "--layers", "1",
                                                                  "--neurons", "0:9"], ["--neurons 0:9", "conv1"]),
    "validate-discovery-no-data-dir": (COMBMOTIF, "disc", {}, ["validate", "discovery", "{cfg}"],
                                       ["data_dir", "--truth"]),
    "validate-discovery-min-identity-0": (COMBMOTIF, "disc", {}, ["validate", "discovery", "{cfg}", "--truth",
                                                                  "{ws}/truth.json", "--min-identity", "0"],
                                          ["--min-identity", "0"]),
}

# Cases whose truth file is a valid one (so that the check under test is reached).
VALID_TRUTH = {"ctruth-layer-not-run", "itruth-layer-past-model", "recovery-layers-x-y",
               "recovery-min-identity-2", "recovery-motif-db-misspelt", "validate-interaction-layer-past-model",
               "validate-discovery-min-identity-0"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_before_any_work(case, ws, monkeypatch):
    script, base, changes, argv, names = CASES[case]
    if case in VALID_TRUTH or script == RECOVERY:
        _write_truth(ws)
    if "tomtom-meme" in case or "dist" in case:   # whatever this machine has installed: no MEME suite
        monkeypatch.setenv("PATH", str(ws / "nothing"))
    cfg = ws / f"{case}.yaml"
    if base is not None:
        cfg.write_text(yaml.safe_dump(_merge(BASE[base], changes)))
    argv = [a.replace("{cfg}", str(cfg)).replace("{ws}", str(ws)) for a in argv]
    if script == RECOVERY and "--truth" not in argv:
        argv += ["--truth", str(ws / "truth.json")]
    names = [n.replace("{ws}", str(ws)) for n in names]
    refused(script, argv, names=names, watch=[ws / "results", ws / "own", ws / "afile"])


def _write_truth(ws: Path) -> None:
    if not (ws / "truth.json").is_file():
        from combmotif.data.synthetic_mrl import make_mrl

        _, truth = make_mrl(n=200, seed=3)
        (ws / "truth.json").write_text(json.dumps(truth))


def test_catalogue_is_large_enough():
    assert len(CASES) >= 45


def test_main_sh_rejects_a_layer_range_past_the_model_before_sampling(ws):
    # The issue's `main.sh 4 5` on a 4-conv model: here conv3 is the last one, and not
    # finished; the range 3..4 must be refused before conv3 is sampled.
    before = snapshot([ws / "results"])
    code, err = run_shell(["bash", REPO / "motif_discovery" / "main.sh", "3", "4", ws / "disc.yaml"],
                          cwd=ws)
    assert_refused(code, err, ["layer 4", "conv1..conv3"], before, snapshot([ws / "results"]))
    assert not (ws / "results" / "toy" / "discovery" / "conv3").exists()


@pytest.mark.parametrize("first,last", [("2", "1"), ("a", "1")])
def test_main_sh_rejects_bad_layer_numbers(ws, first, last):
    before = snapshot([ws / "results"])
    code, err = run_shell(["bash", REPO / "motif_discovery" / "main.sh", first, last, ws / "disc.yaml"], cwd=ws)
    assert_refused(code, err, [first, last], before, snapshot([ws / "results"]))


def test_contribution_on_a_users_own_csv_with_split_all(ws):
    # A user's own file with a shipped-style checkpoint: the checkpoint's split
    # (made for the file it was trained on) is not rebuilt on it; the whole file is scanned.
    from combmotif.maxact import MaxAct

    cfg = ws / "own-split-all.yaml"
    cfg.write_text(yaml.safe_dump(_merge(BASE["contrib"], {"data": {"path": "own.csv", "split": "all"},
                                                           "results_dir": "own_results",
                                                           "knockout": {"enabled": False}})))
    code, err = run_script(CONTRIB, ["1", "1", str(cfg)])
    assert code == 0, err
    res = MaxAct.load(ws / "own_results" / "toy" / "contribution" / "conv1" / "maxact.npz")
    assert res.seq_max.shape == (60, 4)
    table = pd.read_csv(ws / "own_results" / "toy" / "contribution" / "conv1" / "neuron_contribution.csv")
    assert list(table["neuron"]) == [0, 1, 2, 3]


def test_a_good_run_after_the_refusals_still_skips_finished_units(ws):
    # The refused runs left the finished conv1 discovery as it was: a rerun finds it
    # complete. Its config is saved as some editors do, with a UTF-8 BOM and CRLF line ends.
    before = snapshot([ws / "results" / "toy" / "discovery" / "conv1"])
    cfg = ws / "disc-bom-crlf.yaml"
    cfg.write_bytes(b"\xef\xbb\xbf" + (ws / "disc.yaml").read_bytes().replace(b"\n", b"\r\n"))
    code, err = run_script(DISCOVER, [str(cfg), "--layer", "1"])
    assert code == 0, err
    assert "already done" in err
    after = snapshot([ws / "results" / "toy" / "discovery" / "conv1"])
    samples = [k for k in before if k.endswith("samples.npz")]
    assert samples and all(before[k] == after[k] for k in samples)

