"""Binding-site classifiers: FASTA / CSV data, the BindingCNN, training, evaluation, checkpoints.

Tiny planted sets made here (a few hundred short sequences, a motif in the
positives), tiny models; the PUM2 test reads ../shared and the shipped weights.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from combmotif.checkpoint import build_from_arch, load_checkpoint, save_checkpoint
from combmotif.data import fasta
from combmotif.data.tasks import config_from_record, load_task_data
from combmotif.errors import ConfigError, InputError
from combmotif.evaluate import classification_metrics, format_metrics, predict
from combmotif.models.anatomy import Anatomy
from combmotif.models.binding import BindingCNN
from combmotif.models.saluki import SalukiModel
from combmotif.sequences import centre_fit, one_hot
from combmotif.train import reverse_complement_batch, train_from_config
from combmotif.train_config import load_train_config

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MOTIF = "TGTAAATA"       # planted in the positives of the tiny set (a PUM-like site)
TINY = {"kind": "binding_cnn", "conv_filters": [8, 8], "conv_kernels": [7, 3], "pools": [2, 1],
        "head": "global_max", "dropout": 0.0}


def _random_seqs(rng: np.random.Generator, n: int, lo: int, hi: int) -> list[str]:
    return ["".join(rng.choice(list("ACGT"), size=int(rng.integers(lo, hi + 1)))) for _ in range(n)]


def write_planted(folder: Path, n: int = 240, seed: int = 0, rna: bool = False,
                  gz: bool = False) -> tuple[Path, Path]:
    """Positives with MOTIF near the centre, negatives without; headers chr1..chr6."""
    rng = np.random.default_rng(seed)
    pos = _random_seqs(rng, n, 36, 44)
    pos = [s[: len(s) // 2 - 4] + MOTIF + s[len(s) // 2 + 4:] for s in pos]
    neg = [s.replace(MOTIF, "A" * len(MOTIF)) for s in _random_seqs(rng, n, 36, 44)]
    paths = []
    for name, seqs in (("positives", pos), ("negatives", neg)):
        lines = []
        for i, s in enumerate(seqs):
            s = s.replace("T", "U") if rna else s
            lines += [f">chr{i % 6 + 1}:{1000 + i}-{1000 + i + len(s)}(+)", s[:30], s[30:]]
        text = "\n".join(lines) + "\n"
        path = folder / f"{name}.fasta{'.gz' if gz else ''}"
        if gz:
            with gzip.open(path, "wt") as fh:
                fh.write(text)
        else:
            path.write_text(text)
        paths.append(path)
    return paths[0], paths[1]


def write_config(folder: Path, data: dict, model: dict | None = None, train: dict | None = None) -> Path:
    cfg = {"name": "tiny_cls", "seed": 0, "device": "cpu", "data": data, "model": model or TINY,
           "train": {"epochs": 12, "batch_size": 32, "lr": 0.01, "patience": 12, **(train or {})},
           "results_dir": "results", "output": {"weights_dir": "weights"}}
    path = folder / "tiny_cls.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def fasta_data(**kw) -> dict:
    return {"format": "fasta", "path": "positives.fasta", "negatives": "negatives.fasta",
            "test_chroms": ["chr1"], "valid_chroms": ["chr2"], **kw}


# --------------------------------------------------------------------------- data


def test_read_fasta_gz_multiline_rna_and_n(tmp_path):
    path = tmp_path / "x.fa.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(">chr3:1-9(+) site one\nacgu\nNNacg\n>seq2\nUUU\r\n")
    headers, seqs = fasta.read_fasta(path)
    assert headers == ["chr3:1-9(+) site one", "seq2"]
    assert seqs == ["ACGUNNACG", "UUU"]
    assert fasta.chromosome_of(headers) == ["chr3", None]
    assert fasta.molecule_of(seqs) == "rna" and fasta.molecule_of(["ACGT"]) == "dna"
    x = one_hot(seqs[:1], 9, pad="centre")
    assert x.shape == (1, 4, 9)
    assert x[0, 3, 3] == 1                      # U reads as T
    assert x[0, :, 4:6].sum() == 0              # N: all-zero columns


def test_bad_letter_names_file_record_and_letter(tmp_path):
    path = tmp_path / "bad.fasta"
    path.write_text(">a\nACGT\n>b\nACXT\n")
    with pytest.raises(InputError, match=r"bad\.fasta: record 2 \('b'\) has invalid letter 'X'"):
        fasta.read_fasta(path)
    path.write_text("ACGT\n")
    with pytest.raises(InputError, match="no '>' header"):
        fasta.read_fasta(path)


def test_centre_crop_and_pad_on_both_sides():
    assert centre_fit(["AACGTT", "ACG", "AC", "ACGT"], 4) == ["ACGT", "ACGN", "NACN", "ACGT"]
    assert centre_fit(["A"], 4) == ["NANN"]
    x = one_hot(["GG"], 6, pad="centre")
    assert x[0, :, [0, 1, 4, 5]].sum() == 0 and x[0, 2, 2:4].tolist() == [1, 1]


def test_chromosome_split_keeps_each_chromosome_in_one_split(tmp_path):
    write_planted(tmp_path, n=60)
    cfg = load_train_config(write_config(tmp_path, fasta_data(split="auto",
                                                              test_chroms=["chr1", "chr4"])))
    data = load_task_data(cfg.data)
    assert data.info["split"]["kind"] == "chromosome"
    headers = fasta.read_fasta(tmp_path / "positives.fasta")[0] + fasta.read_fasta(tmp_path / "negatives.fasta")[0]
    chroms = np.array(fasta.chromosome_of(headers))
    idx = fasta.chromosome_split(list(chroms), ["chr1", "chr4"], ["chr2"])
    seen = [set(chroms[idx[k]]) for k in ("train", "valid", "test")]
    assert seen[2] == {"chr1", "chr4"} and seen[1] == {"chr2"}
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2])
    assert sum(len(v) for v in idx.values()) == len(chroms)
    assert data.info["split"]["sizes"]["test"] == len(idx["test"])
    assert data.seq_len == 40 and data.info["molecule"] == "dna" and data.info["task"] == "classification"


def test_auto_split_is_random_without_chromosomes_and_csv_reads_labels(tmp_path):
    rows = ["sequence,label"] + [f"{'ACGU' * 5},{i % 2}" for i in range(40)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    cfg = load_train_config(write_config(tmp_path, {"format": "class_csv", "path": "d.csv"}))
    data = load_task_data(cfg.data)
    assert data.info["split"]["kind"] == "random" and data.info["molecule"] == "rna"
    assert set(np.unique(data.splits["train"][1].numpy())) == {0.0, 1.0}
    (tmp_path / "d.csv").write_text("sequence,label\nACGT,1\nACGT,2\n")
    with pytest.raises(InputError, match=r"row 2 .*must be 0 or 1"):
        load_task_data(cfg.data)


def test_config_refuses_mismatched_kind_and_rc_augment_for_rna(tmp_path):
    write_planted(tmp_path, n=40, rna=True)
    with pytest.raises(ConfigError, match="model.kind"):
        load_train_config(write_config(tmp_path, fasta_data(), model={"num_layers": 1}))
    with pytest.raises(ConfigError, match="rc_augment"):
        load_train_config(write_config(tmp_path, fasta_data(molecule="rna"), train={"rc_augment": True}))
    from combmotif.train import check_training_inputs

    path = write_config(tmp_path, fasta_data(), train={"rc_augment": True})
    with pytest.raises(InputError, match="rc_augment' is for DNA"):
        check_training_inputs(load_train_config(path), path)


def test_reverse_complement_batch():
    x = torch.from_numpy(one_hot(["AACG", "AACG"], 4, pad="centre"))
    out = reverse_complement_batch(x, torch.tensor([True, False]))
    assert torch.equal(out[0], torch.from_numpy(one_hot(["CGTT"], 4, pad="centre"))[0])
    assert torch.equal(out[1], x[1])


# --------------------------------------------------------------------------- model, training


def test_binding_cnn_anatomy_heads_and_arch_checks():
    model = BindingCNN(4, 41, conv_filters=[4, 6, 5], conv_kernels=[5, 3, 3], pools=[2, 2, 1],
                       head="dense", dense_units=7).eval()
    anatomy = Anatomy(model)
    assert [li.out_channels for li in anatomy.layers] == [4, 6, 5]
    assert [li.rf for li in anatomy.layers] == [5, 5 + 1 + 2 * 2, 10 + 2 + 2 * 4]   # pools widen it
    assert model(torch.zeros(3, 4, 41)).shape == (3,)
    cut = anatomy.cut(2)
    assert cut(torch.zeros(2, 4, cut.rf)).shape == (2, 6)
    with pytest.raises(InputError, match="too short"):
        BindingCNN(4, 6, conv_filters=[4, 4], conv_kernels=[3, 3], pools=[4, 4])
    with pytest.raises(InputError, match="arch.kind"):
        build_from_arch({"kind": "transformer"})
    with pytest.raises(InputError, match="one entry per conv"):
        build_from_arch(dict(model.arch, pools=[2]))


def test_tiny_planted_set_trains_to_high_auroc_and_round_trips(tmp_path):
    write_planted(tmp_path, gz=True)
    cfg = load_train_config(write_config(tmp_path, fasta_data(path="positives.fasta.gz",
                                                              negatives="negatives.fasta.gz")))
    record = train_from_config(cfg, command="test")
    test = record["metrics"]["test"]
    assert test["auroc"] > 0.9, test
    assert test["n_pos"] + test["n_neg"] == test["n"] and {"auprc", "accuracy"} <= set(test)
    assert "valid_auprc" in record["training"]["history"][0]
    model, ckpt = load_checkpoint(cfg.checkpoint_path)
    assert isinstance(model, BindingCNN) and ckpt["arch"]["kind"] == "binding_cnn"
    assert "scaler" not in ckpt["data"] and ckpt["data"]["molecule"] == "dna"
    assert not Path(json.loads(cfg.checkpoint_path.with_suffix(".json").read_text())["data"]["negatives"]).is_absolute()
    data = load_task_data(config_from_record(ckpt["data"]))
    X, y = data.splits["test"]
    logits = predict(model, X)
    assert classification_metrics(y.numpy(), logits)["auroc"] == pytest.approx(test["auroc"])
    rebuilt = build_from_arch(ckpt["arch"])
    rebuilt.load_state_dict(ckpt["model_state_dict"])
    assert np.allclose(predict(rebuilt, X), logits, atol=1e-6)
    assert "AUROC" in format_metrics(record["metrics"])


def test_old_checkpoint_without_kind_still_loads(tmp_path):
    model = SalukiModel(4, 20, num_layers=1, filters=4, gru_units=4, dense_units=4)
    assert "kind" not in model.arch
    save_checkpoint(tmp_path / "old.pth", model, {"scaler": {"mean": 0.0, "sd": 1.0}}, {})
    loaded, _ = load_checkpoint(tmp_path / "old.pth")
    assert isinstance(loaded, SalukiModel)


def test_cli_train_then_evaluate_writes_roc_pr(tmp_path, capsys):
    from combmotif.__main__ import main

    write_planted(tmp_path, n=80)
    path = write_config(tmp_path, fasta_data(), train={"epochs": 2})
    for cmd in ("train", "evaluate"):
        try:
            main([cmd, str(path)])
        except SystemExit as exc:
            assert exc.code in (0, None), capsys.readouterr().err
    out = capsys.readouterr().out
    assert "test AUROC=" in out and "AUPRC" in out
    folder = tmp_path / "results" / "tiny_cls" / "evaluation"
    assert (folder / "roc_pr.png").stat().st_size > 1000
    assert "auroc" in json.loads((folder / "metrics.json").read_text())["metrics"]["test"]


# --------------------------------------------------------------------------- the shipped PUM2 model


@pytest.mark.skipif(not (SHARED / "data/pum2_clip/pum2_positives.fasta.gz").is_file(),
                    reason="../shared/data/pum2_clip is absent (PUM2 CLIP data are not shipped)")
def test_shipped_pum2_classifier_on_held_out_chromosomes():
    cfg = load_train_config(REPO / "configs/training/pum2_classifier.yaml")
    model, ckpt = load_checkpoint(cfg.checkpoint_path)
    data = load_task_data(cfg.data)
    assert ckpt["data"]["split"]["test_chroms"] == ["chr1", "chr8"] and ckpt["data"]["molecule"] == "rna"
    X, y = data.splits["test"]
    got = classification_metrics(y.numpy(), predict(model, X))
    assert got["auroc"] > 0.93 and got["auprc"] > 0.93     # shipped: 0.948 / 0.957
    assert got["auroc"] == pytest.approx(ckpt["metrics"]["test"]["auroc"], abs=1e-4)
