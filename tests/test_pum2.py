"""PUM2 end to end on the shipped classifier: the neurons that respond to PUM2's site are
discovered and matched to a PUM motif of ATtRACT or RBPDB (given strand: an RNA model).

Needs ../shared (the motif databases) and model_weights/pum2_classifier-best.pth; skipped
with a reason when either is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MODEL = REPO / "model_weights" / "pum2_classifier-best.pth"
DATABASES = [SHARED / "motif_db" / "ATtRACT_2017_12.tf", SHARED / "motif_db" / "RBPDB_2017_12.tf"]
CONFIG = REPO / "configs" / "interpreting" / "pum2_classifier.yaml"
SITE = "TGTAAATA"      # PUM2's UGUAHAUA, one instance (the test's probe, not library code)
LAYER = 2              # receptive field ~22 nt: the whole 8-nt site fits a neuron
N_NEURONS = 4

pytestmark = [
    pytest.mark.skipif(not all(p.is_file() for p in DATABASES),
                       reason="../shared/motif_db (ATtRACT, RBPDB) is absent: the databases are not shipped"),
    pytest.mark.skipif(not MODEL.is_file(), reason="model_weights/pum2_classifier-best.pth is absent "
                       "(train it: bash binding/run_training.sh)"),
]


def _site_neurons(model, layer: int, n: int, seq_len: int) -> list[int]:
    """The ``n`` neurons of ``layer`` whose maximum rises most when PUM2's site is planted
    into random backgrounds (paired: the same backgrounds without it)."""
    from combmotif.models.trunk import conv_outputs
    from combmotif.sequences import one_hot

    rng = np.random.default_rng(0)
    bg = ["".join(rng.choice(list("ACGT"), seq_len)) for _ in range(128)]
    mid = seq_len // 2
    planted = [s[:mid] + SITE + s[mid + len(SITE):] for s in bg]
    act = [conv_outputs(model, torch.from_numpy(one_hot(x)), layer).amax(-1) for x in (bg, planted)]
    gain = (act[1] - act[0]).mean(0).numpy()
    return [int(k) for k in np.argsort(-gain, kind="stable")[:n]]


def test_discovery_matches_a_pum_motif_on_the_given_strand(tmp_path, capsys):
    from combmotif.__main__ import main
    from combmotif.checkpoint import load_checkpoint

    model, ckpt = load_checkpoint(MODEL)
    assert ckpt["data"].get("molecule", "rna") == "rna"
    neurons = _site_neurons(model, LAYER, N_NEURONS, ckpt["arch"]["seq_len"])
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg.update(results_dir=str(tmp_path / "results"), device="cpu",
               motif_db=[str(p) for p in DATABASES],
               layers={"ind": neurons, "per_layer": {}}, report={"enabled": True, "png": False})
    cfg["model"]["checkpoint"] = str(MODEL)
    path = tmp_path / "pum2.yaml"
    path.write_text(yaml.safe_dump(cfg))
    try:
        main(["discovery", str(path), "--layers", str(LAYER)])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    assert "given strand only" in capsys.readouterr().err
    layer_dir = tmp_path / "results" / "pum2_classifier" / "discovery" / f"conv{LAYER}"
    matches = pd.read_csv(layer_dir / "matches.csv")
    assert (matches["orientation"] == "+").all()          # RNA: the given strand only
    pum = matches[matches["target"].str.contains(r"^pum", flags=re.I) & (matches["q"] < 0.05)]
    assert len(pum), f"no PUM match at q < 0.05 among neurons {neurons}:\n{matches.head(12)}"
    assert set(pum["target_source"]) <= {p.name for p in DATABASES}
    page = (layer_dir / f"neuron{int(pum.iloc[0]['neuron'])}" / "page.html").read_text()
    assert pum.iloc[0]["target"] in page and "given strand only" in page
