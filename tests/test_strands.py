"""Both strands for DNA models: MatchConfig.strands, the model's molecule, Tomtom on a layer,
orientation on the pages, and the recovered rule on both strands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from combmotif.config import from_dict
from combmotif.errors import ConfigError
from combmotif.models.loader import ModelSpec, model_molecule
from combmotif.motifs.formats import Motif
from combmotif.motifs.match import MatchConfig, match_layer
from combmotif.motifs.meme_writer import write_meme
from combmotif.report.pages import write_layer_report
from combmotif.sequences import reverse_complement
from combmotif.validation.recovered import find_in, motif_identity, stranded_identity

LITE = {"tomtom_backend": "memelite", "n_jobs": 1}
TARGET = "GATTACAGGCTTAACG"   # not its own reverse complement


def _ppm(seq: str, p: float = 0.91) -> np.ndarray:
    m = np.full((len(seq), 4), (1 - p) / 3)
    m[np.arange(len(seq)), ["ACGT".index(c) for c in seq]] = p
    return m


def _database() -> list[Motif]:
    rng = np.random.default_rng(3)
    decoys = [Motif(f"decoy{i}", _ppm("".join(rng.choice(list("ACGT"), 12)))) for i in range(40)]
    return [Motif("TF_X", _ppm(TARGET))] + decoys


def _layer(root: Path, segment: str) -> Path:
    """One neuron, one cluster: a flat PPM with ``segment`` at position 2, cut as its segment."""
    layer = root / "results" / "m" / "discovery" / "conv1"
    nd = layer / "neuron0"
    nd.mkdir(parents=True)
    ppm = np.full((len(segment) + 4, 4), 0.25)
    ppm[2:2 + len(segment)] = _ppm(segment)
    clusters = [{"id": 0, "motif_id": "c0", "size": 50, "consensus": "",
                 "segments": [{"motif_id": "c0-s0", "start": 2, "end": 2 + len(segment)}]}]
    (nd / "clusters.json").write_text(json.dumps({"layer": 1, "neuron": 0, "clusters": clusters}))
    write_meme(nd / "ppms.meme", [Motif("c0", ppm)])
    write_meme(nd / "segments.meme", [Motif("c0-s0", ppm[2:2 + len(segment)])])
    return layer


# --------------------------------------------------------------------------- settings

def test_strands_default_auto_resolves_by_molecule():
    cfg = MatchConfig()
    assert cfg.strands == "auto" and cfg.given_strand          # unresolved: RNA, as before
    assert not cfg.for_molecule("dna").given_strand
    assert cfg.for_molecule("dna").strands == "both"
    assert cfg.for_molecule("rna").strands == "given"
    # an explicit choice wins over the molecule
    assert MatchConfig(strands="given").for_molecule("dna").given_strand
    assert not MatchConfig(strands="both").for_molecule("rna").given_strand
    with pytest.raises(ValueError):
        cfg.for_molecule("protein")


def test_norc_is_read_as_an_alias():
    assert from_dict({"norc": True}, MatchConfig).strands == "given"
    assert from_dict({"norc": False}, MatchConfig).strands == "both"
    assert from_dict({"norc": True}, MatchConfig).for_molecule("dna").given_strand   # as written
    with pytest.raises(ConfigError, match="norc.*contradicts.*strands"):
        from_dict({"norc": True, "strands": "both"}, MatchConfig, source="x.yaml")
    with pytest.raises(ConfigError, match="strands"):
        from_dict({"strands": "reverse"}, MatchConfig, source="x.yaml")


def _checkpoint(path: Path, data: dict) -> Path:
    torch.save({"model_state_dict": {}, "arch": {}, "data": data, "metrics": {}}, path)
    return path


def test_model_molecule_from_checkpoint_record_or_config(tmp_path):
    dna = _checkpoint(tmp_path / "dna-best.pth", {"molecule": "dna", "task": "classification"})
    old = _checkpoint(tmp_path / "old-best.pth", {"set": "synthetic_mrl"})
    assert model_molecule(ModelSpec(checkpoint=str(dna))) == "dna"
    assert model_molecule(ModelSpec(checkpoint=str(old))) == "rna"        # no record: RNA
    assert model_molecule(ModelSpec(checkpoint=str(dna), molecule="rna")) == "rna"
    assert model_molecule(ModelSpec(keras_hdf5="m.h5")) == "rna"
    assert model_molecule(ModelSpec(keras_hdf5="m.h5", molecule="dna")) == "dna"


def test_discovery_config_resolves_strands_from_the_checkpoint(tmp_path):
    from combmotif.neuronmotif.discovery_config import load_discovery_config

    dna = _checkpoint(tmp_path / "dna-best.pth", {"molecule": "dna"})
    rna = _checkpoint(tmp_path / "rna-best.pth", {"molecule": "rna"})
    out = {}
    for name, ckpt, extra in (("dna", dna, {}), ("rna", rna, {}), ("forced", dna, {"strands": "given"}),
                              ("keras", None, {})):
        model = {"checkpoint": ckpt.name} if ckpt else {"keras_hdf5": "x.h5", "molecule": "dna"}
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"model": model, "results_dir": str(tmp_path / "r"),
                                        "device": "cpu", "matching": extra}))
        out[name] = load_discovery_config(path).matching.strands
    assert out == {"dna": "both", "rna": "given", "forced": "given", "keras": "both"}


# --------------------------------------------------------------------------- Tomtom on a layer

@pytest.mark.parametrize("shift", [0, 3])
def test_reverse_complement_segment_matches_on_both_strands_only(tmp_path, shift):
    seg = reverse_complement(TARGET)[shift:shift + 10]
    layer = _layer(tmp_path, seg)
    both = match_layer(layer, _database(), MatchConfig(strands="both", **LITE))
    top = both.iloc[0]
    assert top["target"] == "TF_X" and top["q"] < 0.05 and top["orientation"] == "-"
    assert int(top["offset"]) == shift          # counted on the database motif's reverse complement
    given = match_layer(layer, _database(), MatchConfig(strands="given", **LITE))
    assert not ((given["target"] == "TF_X") & (given["q"] < 0.05)).any()
    # the same segment written on the forward strand matches '+' either way
    fwd = match_layer(_layer(tmp_path / "f", TARGET[shift:shift + 10]), _database(),
                      MatchConfig(strands="given", **LITE))
    assert fwd.iloc[0]["target"] == "TF_X" and fwd.iloc[0]["orientation"] == "+"


def _page_logos(page: Path) -> dict:
    text = page.read_text()
    return json.loads(re.search(r'<script type="application/json" id="logo-data">(.*?)</script>',
                                text, re.S).group(1))


def test_pages_show_orientation_and_reverse_complemented_target(tmp_path):
    seg = reverse_complement(TARGET)[3:13]
    layer = _layer(tmp_path, seg)
    targets = _database()
    cfg = MatchConfig(strands="both", **LITE)
    matches = match_layer(layer, targets, cfg)
    index = write_layer_report(layer, matches, targets, cfg, rna=False, png=False)
    page = (layer / "neuron0" / "page.html").read_text()
    assert "strand -" in page and "(rev. compl.)" in page and "both strands" in page
    assert "TF_X</span> <span class=\"small\">(&minus;)</span>" in index.read_text()
    # The aligned target logo is the database motif reverse-complemented, and its letters
    # line up with the segment's column for column.
    logos = _page_logos(layer / "neuron0" / "page.html")
    q, t = logos["c0s0q"], logos["c0s0t"]
    rc = targets[0].ppm[::-1, ::-1]
    assert np.allclose(np.array(t["ppm"]), np.round(rc, 4))
    qcols = {q.get("shift", 0) + j: row for j, row in enumerate(q["ppm"])}
    tcols = {t.get("shift", 0) + j: row for j, row in enumerate(t["ppm"])}
    same = [int(np.argmax(qcols[c])) == int(np.argmax(tcols[c])) for c in qcols if c in tcols]
    assert len(same) == len(seg) and all(same)
    # RNA (given strand): no orientation shown in the index
    cfg_rna = MatchConfig(strands="given", **LITE)
    index = write_layer_report(layer, match_layer(layer, targets, cfg_rna), targets, cfg_rna, png=False)
    assert "(&minus;)" not in index.read_text()
    assert "given strand only" in (layer / "neuron0" / "page.html").read_text()


# --------------------------------------------------------------------------- recovered

def test_recovered_identity_on_both_strands_for_dna():
    motif, seg = "GATTACA", reverse_complement("CGATTACAG")     # the motif's reverse strand, flanked
    assert motif_identity(motif, seg)[0] < 0.8                     # given strand: not recovered
    ident, offset, strand = stranded_identity(motif, seg)
    assert ident == 1.0 and strand == "-" and reverse_complement(seg)[offset:offset + 7] == motif
    assert motif_identity(motif, seg, both_strands=True)[0] == 1.0
    assert find_in("GATTACA", "CCTGTAATCG") == -1
    at = find_in("GATTACA", "CCTGTAATCG", both_strands=True)
    assert reverse_complement("CCTGTAATCG"[at:at + 7]) == "GATTACA"
    # a forward match wins a tie
    assert stranded_identity("ACGT", "ACGT")[2] == "+"


def test_recovery_table_names_the_strand_of_a_dna_match():
    import pandas as pd

    from combmotif.validation.discovery import recovery_long

    truth = {"motifs": [{"name": "M1", "consensus": "GGAATTCC"}]}
    segments = pd.DataFrame([{"method": "neuronmotif", "layer": "conv1", "neuron": 0, "segment": "s0",
                              "consensus": "ACGTAC"}])
    matches = pd.DataFrame([{"method": "neuronmotif", "layer": "conv1", "neuron": 0, "segment": "s0",
                             "target": "M1", "q": 0.01, "orientation": "-"}])
    dna = recovery_long(truth, segments, matches, {"M1": 0}, ["neuronmotif"], both_strands=True)
    rna = recovery_long(truth, segments, matches, {"M1": 0}, ["neuronmotif"], both_strands=False)
    assert dna.loc[0, "recovered"] and dna.loc[0, "q_hit"] == "conv1/neuron0/s0 (strand -)"
    assert rna.loc[0, "q_hit"] == "conv1/neuron0/s0"
