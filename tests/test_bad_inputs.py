"""Bad-input catalogue of data generation, training, evaluation, the Keras importer and
the config loader; plus the inputs that must work.

Every bad input must be refused the one way (see ``tests/badinput.py``): exit 2, exactly
one ``error:`` line naming the file, key or flag and the value at fault, no traceback,
and not one file created, changed or removed. Each case runs its command in-process on
tiny files written here, so the whole catalogue takes seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from test_keras import _layers, _write_model
from test_train import TINY_MODEL, mrl_data, write_h5, write_mrl_csv

from badinput import refused, run_script  # tests/ is on sys.path under pytest

MRL_GEN = "generate_dataset/make_synthetic_mrl.py"
HL_GEN = "generate_dataset/make_synthetic_halflife.py"
NOAUG = "generate_dataset/make_noaug.py"
CONVERT = "generate_dataset/convert_halflife_records.py"
TRAIN = "mrl/train.py"
HL_TRAIN = "half-life/train.py"
EVALUATE = "mrl/evaluate.py"
HL_EVAL = "half-life/evaluate.py"
DISCOVER = "motif_discovery/discover.py"

NOT_UTF8 = b"name: tiny\n# caf\xe9 \xff\xfe\n"


# --------------------------------------------------------------------------- files


def base_config(data: dict | None = None) -> dict:
    """A valid tiny training config (paths relative to its folder)."""
    return {"name": "tiny", "seed": 0, "device": "cpu", "data": data or mrl_data(),
            "model": dict(TINY_MODEL),
            "train": {"epochs": 1, "batch_size": 32, "lr": 0.003, "patience": 2},
            "results_dir": "results", "output": {"weights_dir": "weights"}}


def write_yaml(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def mrl_csv_text(rows: list[tuple[str, str, str]]) -> str:
    return "utr,rl,total_reads\n" + "".join(f"{u},{r},{t}\n" for u, r, t in rows)


def records_text(rows: list[tuple]) -> str:
    head = "name\tutr5\torf\tutr3\texon_ends\thalf_life\n"
    return head + "".join("\t".join(map(str, r)) + "\n" for r in rows)


GOOD_RECORDS = [(f"tx{i}", "ACGTAC", "ATGGCTGCTTAA", "GGCAUUCA", "3,9" if i % 2 else "", 1.5 + i / 10)
                for i in range(20)]


def put(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


# --------------------------------------------------------------------------- case builders
# A case is (script, build): build(tmp) writes what the case needs under tmp and returns
# (argv, names): the arguments (run with tmp as the working folder) and what the error
# line must name. A third element, when present, lists what it must not name.


def gen(script: str, *argv: str, names: tuple, prep: Callable[[Path], None] | None = None):
    def build(tmp: Path):
        if prep:
            prep(tmp)
        return list(argv), list(names)
    return script, build


def noaug(csv: str | bytes | None, names: tuple):
    def build(tmp: Path):
        if csv is not None:
            put(tmp / "in" / "data.csv", csv)
        return ["--csv", "in/data.csv", "--out", "out"], list(names)
    return NOAUG, build


def convert(records: str | bytes | None, *extra: str, names: tuple, absent: tuple = (),
            prep: Callable[[Path], None] | None = None):
    def build(tmp: Path):
        if records is not None:
            put(tmp / "r.tsv", records)
        if prep:
            prep(tmp)
        argv = ["--records", "r.tsv", "--length", "64", *extra]
        if "--out" not in extra:
            argv += ["--out", "out.h5"]
        return argv, list(names), list(absent)
    return CONVERT, build


def train(mutate: Callable[[dict], None] | None = None, *extra: str, names: tuple,
          csv: str | bytes | None = None, prep: Callable[[Path], None] | None = None):
    """A training run of a tiny config that ``mutate`` spoils (or ``csv``/``prep`` spoil its files)."""
    def build(tmp: Path):
        if csv is None:
            write_mrl_csv(tmp / "data.csv")
        else:
            put(tmp / "data.csv", csv)
        cfg = base_config()
        if mutate:
            mutate(cfg)
        write_yaml(tmp / "tiny.yaml", cfg)
        if prep:
            prep(tmp)
        return ["--config", "tiny.yaml", *extra], list(names)
    return TRAIN, build


def hl_train(mutate: Callable[[dict], None] | None = None, *, names: tuple,
             prep: Callable[[Path], None] | None = None):
    def build(tmp: Path):
        write_h5(tmp / "data.h5")
        cfg = base_config({"format": "saluki_h5", "path": "data.h5"})
        cfg["model"]["padding"] = "valid"
        if mutate:
            mutate(cfg)
        write_yaml(tmp / "tiny.yaml", cfg)
        if prep:
            prep(tmp)
        return ["--config", "tiny.yaml"], list(names)
    return HL_TRAIN, build


def evaluate(spoil: Callable[[dict], dict | None] | None = None, *extra: str, names: tuple,
             prep: Callable[[Path], None] | None = None):
    """Evaluation of a copy of the trained tiny model whose checkpoint ``spoil`` edits
    (saved as ``x.pth`` and passed with --checkpoint)."""
    def build(tmp: Path):
        shutil.copytree(TRAINED["dir"], tmp, dirs_exist_ok=True)
        argv = ["--config", "tiny.yaml", *extra]
        if spoil is not None:
            ckpt = torch.load(tmp / "weights" / "tiny-best.pth", weights_only=False)
            ckpt = spoil(ckpt) or ckpt
            torch.save(ckpt, tmp / "x.pth")
            argv += ["--checkpoint", "x.pth"]
        if prep:
            prep(tmp)
        return argv, list(names)
    return EVALUATE, build


def keras(spoil: Callable[[Path], None] | None = None, *, names: tuple, layers=None,
          write: bool = True):
    """Discovery on a tiny Keras HDF5 model (written as in test_keras.py) that ``spoil`` damages."""
    def build(tmp: Path):
        if write:
            _write_model(tmp / "m.h5", keras1=False, layers=layers() if layers else None)
        if spoil:
            spoil(tmp / "m.h5")
        write_yaml(tmp / "disc.yaml", {"model": {"keras_hdf5": "m.h5"}, "name": "k",
                                       "results_dir": "results", "device": "cpu",
                                       "report": {"enabled": False}})
        return ["disc.yaml", "--layer", "1"], list(names)
    return DISCOVER, build


def setkey(dotted: str, value) -> Callable[[dict], None]:
    def mutate(cfg: dict) -> None:
        *path, last = dotted.split(".")
        node = cfg
        for key in path:
            node = node.setdefault(key, {})
        node[last] = value
    return mutate


def delkey(dotted: str) -> Callable[[dict], None]:
    def mutate(cfg: dict) -> None:
        *path, last = dotted.split(".")
        node = cfg
        for key in path:
            node = node[key]
        del node[last]
    return mutate


def arch(key: str, value) -> Callable[[dict], None]:
    def spoil(ckpt: dict) -> None:
        ckpt["arch"][key] = value
    return spoil


def kattr(value: bytes) -> Callable[[Path], None]:
    def spoil(path: Path) -> None:
        with h5py.File(path, "a") as fh:
            fh.attrs["model_config"] = value
    return spoil


def kweights(layer: str, key: str, shape: tuple) -> Callable[[], list]:
    """The test_keras layer list with one weight of ``layer`` replaced by one of ``shape``."""
    def layers() -> list:
        out = _layers(False)
        for _, conf, weights in out:
            if conf["name"] == layer:
                weights[key] = np.zeros(shape, np.float32)
        return out
    return layers


def kconf(layer: str, key: str, value) -> Callable[[], list]:
    def layers() -> list:
        out = _layers(False)
        for _, conf, _ in out:
            if conf["name"] == layer:
                conf[key] = value
        return out
    return layers


def drop_dataset(path: Path) -> None:
    with h5py.File(path, "a") as fh:
        del fh["model_weights/c2/c2_1/kernel:0"]


def a_file(rel: str) -> Callable[[Path], None]:
    return lambda tmp: put(tmp / rel, "not a folder\n")


def a_folder(rel: str) -> Callable[[Path], None]:
    return lambda tmp: (tmp / rel).mkdir(parents=True)


UTR = "ACGTTGCAAC" * 5
CASES = {
    # ---------------------------------------------------------------- data generation
    "mrl-target-r2-above-1": gen(MRL_GEN, "--out", "o", "--target-r2", "1.5", names=("--target-r2", "1.5")),
    "mrl-target-r2-zero": gen(MRL_GEN, "--out", "o", "--target-r2", "0", names=("--target-r2", "got 0")),
    "mrl-target-r2-nan": gen(MRL_GEN, "--out", "o", "--target-r2", "nan", names=("--target-r2", "nan")),
    "mrl-noise-sd-negative": gen(MRL_GEN, "--out", "o", "--noise-sd", "-1", names=("--noise-sd", "-1")),
    "mrl-noise-sd-inf": gen(MRL_GEN, "--out", "o", "--noise-sd", "inf", names=("--noise-sd", "inf")),
    "mrl-n-too-small": gen(MRL_GEN, "--out", "o", "--n", "5", names=("--n", "5")),
    "mrl-n-not-integer": gen(MRL_GEN, "--out", "o", "--n", "ten", names=("--n", "ten")),
    "mrl-seed-negative": gen(MRL_GEN, "--out", "o", "--seed", "-3", names=("--seed", "-3")),
    "mrl-out-is-a-file": gen(MRL_GEN, "--out", "o", "--n", "100", names=("--out", "o", "is a file"),
                             prep=a_file("o")),
    "mrl-out-under-a-file": gen(MRL_GEN, "--out", "f/o", "--n", "100", names=("--out", "f/o"),
                                prep=a_file("f")),
    "hl-target-r-2": gen(HL_GEN, "--out", "o", "--target-r", "2", names=("--target-r", "2")),
    "hl-target-r-zero": gen(HL_GEN, "--out", "o", "--target-r", "0", names=("--target-r", "got 0")),
    "hl-noise-sd-negative": gen(HL_GEN, "--out", "o", "--noise-sd", "-0.5", names=("--noise-sd", "-0.5")),
    "hl-length-too-short": gen(HL_GEN, "--out", "o", "--length", "100", names=("--length", "100")),
    "hl-n-too-small": gen(HL_GEN, "--out", "o", "--n", "10", names=("--n", "10")),
    "hl-out-is-a-file": gen(HL_GEN, "--out", "o", "--n", "100", "--length", "512",
                            names=("--out", "o", "is a file"), prep=a_file("o")),
    "noaug-csv-missing": noaug(None, names=("in/data.csv", "not found")),
    "noaug-csv-a-folder": gen(NOAUG, "--csv", "in", "--out", "out", names=("in", "is a folder"),
                              prep=a_folder("in")),
    "noaug-csv-empty-file": noaug("", names=("in/data.csv", "not a readable CSV")),
    "noaug-csv-header-only": noaug("utr,rl,total_reads\n", names=("in/data.csv", "no data rows")),
    "noaug-csv-bad-letter": noaug(mrl_csv_text([(UTR, "1", "9"), ("ACGXT", "2", "9")]),
                                  names=("in/data.csv", "row 2", "'X'")),
    "noaug-csv-missing-column": noaug("utr,rl\nACGT,1\n", names=("in/data.csv", "total_reads")),
    "noaug-csv-rl-not-a-number": noaug(mrl_csv_text([(UTR, "abc", "9")]), names=("in/data.csv", "'rl'", "abc")),
    "noaug-csv-rl-inf": noaug(mrl_csv_text([(UTR, "1", "9"), (UTR, "inf", "9")]),
                              names=("in/data.csv", "row 2", "'rl'", "(inf)")),
    "noaug-csv-not-utf8": noaug(b"utr,rl,total_reads\nACGT,1,9\n\xff\xfe,1,2\n", names=("in/data.csv",)),
    "noaug-every-utr-has-atg": noaug(mrl_csv_text([("CCATGCC", "1", "9")] * 3),
                                     names=("in/data.csv", "ATG", "empty")),
    # ---------------------------------------------------------------- records -> H5
    "records-missing": convert(None, names=("r.tsv", "not found")),
    "records-bad-letter": convert(records_text(GOOD_RECORDS[:1] + [("tx9", "ACXT", "ATGTAA", "CC", "", 1)]),
                                  names=("r.tsv", "row 2", "utr5", "'X'"), absent=("out.h5",)),
    "records-half-life-not-a-number": convert(records_text(GOOD_RECORDS[:2] + [("t", "A", "ATGTAA", "C", "", "slow")]),
                                              names=("r.tsv", "row 3", "half_life", "slow")),
    "records-half-life-inf": convert(records_text(GOOD_RECORDS[:2] + [("t", "A", "ATGTAA", "C", "", "inf")]),
                                     names=("r.tsv", "row 3", "half_life", "inf")),
    "records-missing-column": convert("utr5\torf\tutr3\thalf_life\nA\tATGTAA\tC\t1\n",
                                      names=("r.tsv", "exon_ends")),
    "records-exon-end-outside": convert(records_text([("t", "AC", "ATGTAA", "CC", "40", 1)]),
                                        names=("r.tsv", "row 1", "exon end 40"), absent=("out.h5",)),
    "records-exon-ends-not-integers": convert(records_text([("t", "AC", "ATGTAA", "CC", "3,x", 1)]),
                                              names=("r.tsv", "row 1", "exon_ends", "3,x")),
    "records-header-only": convert(records_text([]), names=("r.tsv", "no records")),
    "records-not-utf8": convert(b"utr5\torf\tutr3\texon_ends\thalf_life\n\xff\xfeA\tATG\tC\t\t1\n",
                                names=("r.tsv",)),
    "records-length-zero": convert(records_text(GOOD_RECORDS), "--length", "0", names=("--length", "0")),
    "records-split-not-summing-to-1": convert(records_text(GOOD_RECORDS), "--split", "0.5", "0.5", "0.5",
                                              names=("--split", "0.5 0.5 0.5", "sum to 1")),
    "records-split-negative": convert(records_text(GOOD_RECORDS), "--split", "-0.1", "0.6", "0.5",
                                      names=("--split", "-0.1")),
    "records-out-is-a-folder": convert(records_text(GOOD_RECORDS), "--out", "outdir",
                                       names=("--out", "outdir", "is a folder"), prep=a_folder("outdir")),
    "records-out-under-a-file": convert(records_text(GOOD_RECORDS), "--out", "f/out.h5",
                                        names=("--out", "f/out.h5", "lies under f"), prep=a_file("f")),
    # ---------------------------------------------------------------- training: config file
    "config-missing": (TRAIN, lambda tmp: (["--config", "absent.yaml"], ["absent.yaml", "not found"])),
    "config-is-a-directory": (TRAIN, lambda tmp: ((tmp / "cfg").mkdir() or ["--config", "cfg"],
                                                  ["cfg", "is a directory, not a config file"])),
    "config-not-utf8": (TRAIN, lambda tmp: (put(tmp / "c.yaml", NOT_UTF8) and ["--config", "c.yaml"],
                                            ["c.yaml", "UTF-8"])),
    "config-not-yaml": (TRAIN, lambda tmp: (put(tmp / "c.yaml", "name: [tiny\n") and ["--config", "c.yaml"],
                                            ["c.yaml", "YAML"])),
    "config-a-list": (TRAIN, lambda tmp: (put(tmp / "c.yaml", "- name\n") and ["--config", "c.yaml"],
                                          ["c.yaml", "mapping"])),
    "unknown-key": train(setkey("train.epoch", 3), names=("tiny.yaml", "train.epoch")),
    "missing-key-data": train(delkey("data"), names=("tiny.yaml", "'data")),
    "missing-key-weights-dir": train(delkey("output.weights_dir"), names=("tiny.yaml", "output.weights_dir")),
    "epochs-not-integer": train(setkey("train.epochs", "ten"), names=("tiny.yaml", "train.epochs", "ten")),
    "epochs-zero": train(setkey("train.epochs", 0), names=("tiny.yaml", "train.epochs", "0")),
    "epochs-flag-zero": train(None, "--epochs", "0", names=("tiny.yaml", "train.epochs", "0")),
    "lr-negative": train(setkey("train.lr", -0.1), names=("tiny.yaml", "train.lr", "-0.1")),
    "lr-nan": train(setkey("train.lr", float("nan")), names=("tiny.yaml", "train.lr", "nan")),
    "batch-size-one": train(setkey("train.batch_size", 1), names=("tiny.yaml", "train.batch_size", "1")),
    "patience-zero": train(setkey("train.patience", 0), names=("tiny.yaml", "train.patience", "0")),
    "weight-decay-negative": train(setkey("train.weight_decay", -1), names=("tiny.yaml", "train.weight_decay")),
    "lr-factor-zero": train(setkey("train.lr_factor", 0), names=("tiny.yaml", "train.lr_factor", "0")),
    "max-minutes-zero": train(setkey("train.max_minutes", 0), names=("tiny.yaml", "train.max_minutes", "0")),
    "clip-norm-negative": train(setkey("train.clip_norm", -1.0), names=("tiny.yaml", "train.clip_norm", "-1")),
    "gru-units-zero": train(setkey("model.gru_units", 0), names=("tiny.yaml", "model.gru_units", "0")),
    "dense-units-negative": train(setkey("model.dense_units", -2), names=("tiny.yaml", "model.dense_units", "-2")),
    "filters-negative": train(setkey("model.filters", -1), names=("tiny.yaml", "model.filters", "-1")),
    "kernel-size-zero": train(setkey("model.kernel_size", 0), names=("tiny.yaml", "model.kernel_size", "0")),
    "num-layers-negative": train(setkey("model.num_layers", -1), names=("tiny.yaml", "model.num_layers", "-1")),
    "num-layers-too-deep-for-50-nt": train(setkey("model.num_layers", 7),
                                           names=("tiny.yaml", "num_layers=7", "seq_len 50")),
    "dropout-above-1": train(setkey("model.dropout", 1.5), names=("tiny.yaml", "model.dropout", "1.5")),
    "padding-unknown": train(setkey("model.padding", "full"), names=("tiny.yaml", "model.padding", "full")),
    "filters-a-list": train(setkey("model.filters", [64]), names=("tiny.yaml", "model.filters", "[64]")),
    "model-not-a-mapping": train(setkey("model", 5), names=("tiny.yaml", "'model'", "mapping")),
    "weights-dir-null": train(setkey("output.weights_dir", None), names=("tiny.yaml", "output.weights_dir", "None")),
    "lr-not-a-number": train(setkey("train.lr", "fast"), names=("tiny.yaml", "train.lr", "fast")),
    "fractions-nan": train(lambda c: c["data"].update(split="random", fractions=[float("nan"), 0.5, 0.5]),
                           names=("tiny.yaml", "data.fractions[0]", "nan")),
    "top-n-one": train(setkey("data.top_n", 1), names=("tiny.yaml", "data.top_n", "1")),
    "lr-patience-zero": train(setkey("train.lr_patience", 0), names=("tiny.yaml", "train.lr_patience", "0")),
    "min-delta-negative": train(setkey("train.min_delta", -0.1), names=("tiny.yaml", "train.min_delta", "-0.1")),
    "output-name-hidden": train(setkey("output.name", ".x"), names=("tiny.yaml", "output.name", ".x")),
    "split-unknown": train(setkey("data.split", "half"), names=("tiny.yaml", "data.split", "half")),
    "label-empty": train(lambda c: c["data"].update(split="random", label=" "), names=("tiny.yaml", "data.label")),
    "device-banana": train(setkey("device", "banana"), names=("tiny.yaml", "device", "banana")),
    "device-flag-banana": train(None, "--device", "banana", names=("tiny.yaml", "device", "banana")),
    "seed-negative": train(setkey("seed", -1), names=("tiny.yaml", "seed", "-1")),
    "split-seed-negative": train(setkey("data.split_seed", -2), names=("tiny.yaml", "data.split_seed", "-2")),
    "name-with-slash": train(setkey("name", "a/b"), names=("tiny.yaml", "name", "a/b")),
    "format-unknown": train(setkey("data.format", "fasta"), names=("tiny.yaml", "data.format", "fasta")),
    "fractions-two": train(lambda c: c["data"].update(split="random", fractions=[0.5, 0.5]),
                           names=("tiny.yaml", "data.fractions")),
    "valid-frac-above-1": train(setkey("data.valid_frac", 1.5), names=("tiny.yaml", "data.valid_frac", "1.5")),
    "test-n-not-below-top-n": train(setkey("data.test_n", 400), names=("tiny.yaml", "data.test_n", "400")),
    "seq-len-zero": train(setkey("data.seq_len", 0), names=("tiny.yaml", "data.seq_len", "0")),
    "split-file-for-csv": train(setkey("data.split", "file"), names=("tiny.yaml", "data.split")),
    "data-path-missing": train(setkey("data.path", "absent.csv"), names=("absent.csv", "not found")),
    "data-path-a-folder": train(setkey("data.path", "sub"), names=("sub", "folder", "data.path"),
                                prep=a_folder("sub")),
    # ---------------------------------------------------------------- training: outputs
    "weights-dir-is-a-file": train(None, names=("tiny.yaml", "output.weights_dir", "is a file"),
                                   prep=a_file("weights")),
    "weights-dir-under-a-file": train(setkey("output.weights_dir", "f/w"),
                                      names=("tiny.yaml", "output.weights_dir"), prep=a_file("f")),
    "results-dir-is-a-file": train(None, names=("tiny.yaml", "results_dir"), prep=a_file("results")),
    "checkpoint-name-is-a-folder": train(None, names=("tiny.yaml", "output.name", "tiny-best.pth"),
                                         prep=a_folder("weights/tiny-best.pth")),
    # ---------------------------------------------------------------- training: data file
    "csv-empty-file": train(csv="", names=("data.csv", "not a readable CSV")),
    "csv-header-only": train(csv="utr,rl,total_reads\n", names=("data.csv", "no data rows")),
    "csv-rl-not-a-number": train(csv=mrl_csv_text([(UTR, "1", "9"), (UTR, "x1", "9")]),
                                 names=("data.csv", "row 2", "'rl'", "x1")),
    "csv-total-reads-missing": train(csv=mrl_csv_text([(UTR, "1", "")]),
                                     names=("data.csv", "row 1", "'total_reads'", "empty")),
    "csv-bad-letter": train(csv=mrl_csv_text([(UTR, "1", "9"), (UTR[:-1] + "Z", "1", "9")]),
                            names=("data.csv", "row 2", "'Z'")),
    "csv-utr-longer-than-seq-len": train(csv=mrl_csv_text([(UTR, "1", "9"), (UTR + "AC", "1", "9")]),
                                         names=("data.csv", "row 2", "52 nt", "data.seq_len=50")),
    "csv-missing-column": train(csv="utr,rl\nACGT,1\n", names=("data.csv", "total_reads")),
    "csv-not-utf8": train(csv=b"utr,rl,total_reads\nACGT,1,9\nAC\xff,1,9\n", names=("data.csv",)),
    "csv-too-few-rows-for-test-n": train(csv=mrl_csv_text([(UTR, str(i), "9") for i in range(50)]),
                                         names=("data.csv", "50 rows", "data.test_n", "80")),
    "csv-constant-labels": train(csv=mrl_csv_text([(UTR, "2.5", str(i)) for i in range(400)]),
                                 names=("data.csv", "2.5", "nothing to learn")),
    "csv-label-column-missing": train(lambda c: c["data"].update(split="random", label="hrl"),
                                      names=("data.csv", "'hrl'")),
    "csv-too-few-rows-for-random-split": train(lambda c: c["data"].update(split="random"),
                                               csv=mrl_csv_text([(UTR, str(i), "9") for i in range(5)]),
                                               names=("data.csv", "5 rows", "data.fractions")),
    "h5-not-hdf5": hl_train(names=("data.h5", "HDF5"), prep=lambda tmp: put(tmp / "data.h5", "text\n")),
    "h5-missing-dataset": hl_train(names=("data.h5", "valid_label"),
                                   prep=lambda tmp: _h5_del(tmp / "data.h5", "valid_label")),
    "h5-labels-nan": hl_train(names=("data.h5", "'test'", "non-finite"),
                              prep=lambda tmp: _h5_set(tmp / "data.h5", "test_label", np.nan)),
    "h5-filters-negative": hl_train(setkey("model.filters", -1), names=("tiny.yaml", "model.filters", "-1")),
    "h5-evaluate-config-missing": (HL_EVAL, lambda tmp: (["--config", "absent.yaml"], ["absent.yaml", "not found"])),
    "h5-split-random": hl_train(setkey("data.split", "random"), names=("tiny.yaml", "data.split")),
    "h5-seq-len-mismatch": hl_train(setkey("data.seq_len", 50), names=("data.h5", "data.seq_len=50")),
    # ---------------------------------------------------------------- evaluation
    "checkpoint-missing": evaluate(None, "--checkpoint", "absent.pth", names=("absent.pth", "not found")),
    "checkpoint-a-folder": evaluate(None, "--checkpoint", "ck", names=("ck", "is a folder"), prep=a_folder("ck")),
    "checkpoint-corrupt": evaluate(None, "--checkpoint", "bad.pth", names=("bad.pth", "not a readable checkpoint"),
                                   prep=lambda tmp: put(tmp / "bad.pth", b"\x80\x02garbage")),
    "checkpoint-not-ours": evaluate(lambda c: {"weights": c["model_state_dict"]}, names=("x.pth", "arch")),
    "arch-filters-negative": evaluate(arch("filters", -1), names=("x.pth", "filters", "-1")),
    "arch-unknown-key": evaluate(arch("colour", "blue"), names=("x.pth", "colour")),
    "arch-list-typed-key": evaluate(arch("filters", [8]), names=("x.pth", "filters", "[8]")),
    "arch-padding-unknown": evaluate(arch("padding", "full"), names=("x.pth", "padding", "full")),
    "arch-not-a-mapping": evaluate(lambda c: c.update(arch=[1, 2]), names=("x.pth", "arch")),
    "arch-seq-len-other-than-data": evaluate(arch("seq_len", 60), names=("x.pth", "seq_len=60")),
    "weights-do-not-fit-arch": evaluate(arch("gru_units", 16), names=("x.pth", "weights do not fit")),
    "state-dict-not-a-mapping": evaluate(lambda c: c.update(model_state_dict=[1]), names=("x.pth",)),
    "scaler-missing": evaluate(lambda c: c.update(data={"format": "mrl_csv"}), names=("x.pth", "scaler")),
    "scaler-sd-zero": evaluate(lambda c: c["data"]["scaler"].update(sd=0.0), names=("x.pth", "scaler")),
    "evaluate-out-is-a-file": evaluate(None, "--out", "o", names=("--out", "o", "is a file"), prep=a_file("o")),
    "evaluate-results-dir-is-a-file": evaluate(None, names=("tiny.yaml", "results_dir"),
                                               prep=lambda tmp: (shutil.rmtree(tmp / "results", True),
                                                                 put(tmp / "results", "x"))),
    "evaluate-device-banana": evaluate(None, "--device", "banana", names=("tiny.yaml", "device", "banana")),
    # ---------------------------------------------------------------- Keras import
    "keras-missing": keras(write=False, names=("m.h5", "not found")),
    "keras-not-hdf5": keras(lambda p: put(p, "text\n"), write=False, names=("m.h5", "HDF5")),
    "keras-model-config-bad-json": keras(kattr(b'{"class_name": "Sequential", "config": [{'),
                                         names=("m.h5", "model_config", "JSON")),
    "keras-model-config-a-number": keras(kattr(b"42"), names=("m.h5", "model_config")),
    "keras-not-sequential": keras(kattr(b'{"class_name": "Model", "config": {}}'), names=("m.h5", "Sequential")),
    "keras-weight-dataset-absent": keras(drop_dataset, names=("m.h5", "'c2'", "c2_1/kernel:0")),
    "keras-kernel-in-channels": keras(layers=kweights("c1", "kernel", (6, 3, 5)),
                                      names=("m.h5", "'c1'", "(6, 3, 5)", "(6, 4, 5)")),
    "keras-kernel-filters-vs-config": keras(layers=kweights("c1", "kernel", (6, 4, 6)),
                                            names=("m.h5", "'c1'", "(6, 4, 6)")),
    "keras-kernel-vs-previous-layer": keras(layers=kweights("c2", "kernel", (3, 4, 7)),
                                            names=("m.h5", "'c2'", "(3, 4, 7)", "(3, 5, 7)")),
    "keras-bias-shape": keras(layers=kweights("c1", "bias", (4,)), names=("m.h5", "'c1'", "bias")),
    "keras-dense-kernel-shape": keras(layers=kweights("d1", "kernel", (10, 6)), names=("m.h5", "'d1'", "(10, 6)")),
    "keras-batchnorm-stats-shape": keras(layers=kweights("bn", "moving_mean", (3,)),
                                         names=("m.h5", "'bn'", "moving mean")),
    "keras-config-value-wrong-type": keras(layers=kconf("c2", "dilation_rate", ["two"]), names=("m.h5", "'c2'")),
}


def _noaug_out_file():
    script, build = noaug(mrl_csv_text([(UTR, "1", "9")]), names=("--out", "out", "is a file"))

    def with_file(tmp: Path):
        put(tmp / "out", "x")
        return build(tmp)
    return script, with_file


def _noaug_out_is_input():
    def build(tmp: Path):
        # With a truth.json beside it, the input's folder would be replaced as a whole.
        put(tmp / "in" / "data.csv", mrl_csv_text([(UTR, "1", "9")]))
        put(tmp / "in" / "truth.json", "{}")
        return ["--csv", "in/data.csv", "--out", "in"], ["--out", "in", "holds the input --csv"]
    return NOAUG, build


CASES["noaug-out-is-a-file"] = _noaug_out_file()
CASES["noaug-out-is-the-input-folder"] = _noaug_out_is_input()


def _h5_del(path: Path, key: str) -> None:
    with h5py.File(path, "a") as fh:
        del fh[key]


def _h5_set(path: Path, key: str, value: float) -> None:
    with h5py.File(path, "a") as fh:
        data = fh[key][()]
        data[0] = value
        del fh[key]
        fh[key] = data


# --------------------------------------------------------------------------- the trained tiny model

TRAINED: dict = {}


@pytest.fixture(scope="module", autouse=True)
def trained_tiny(tmp_path_factory):
    """One tiny model trained once (1 epoch, seconds) for the evaluation cases."""
    folder = tmp_path_factory.mktemp("trained")
    write_mrl_csv(folder / "data.csv")
    write_yaml(folder / "tiny.yaml", base_config())
    code, err = run_script(TRAIN, ["--config", "tiny.yaml"], cwd=folder)
    assert code == 0, err
    TRAINED["dir"] = folder
    yield folder


def test_catalogue_is_large_enough():
    assert len(CASES) >= 80


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused(tmp_path, case):
    script, build = CASES[case]
    work = tmp_path / "w"
    work.mkdir()
    built = build(work)
    argv, names = built[0], built[1]
    line = refused(script, argv, names=names, watch=[tmp_path], cwd=work)
    for name in (built[2] if len(built) > 2 else ()):
        assert name not in line, f"{name!r} blamed in: {line}"


# --------------------------------------------------------------------------- inputs that must work


def dirty_copy(df: pd.DataFrame, rng: np.random.Generator) -> bytes:
    """The same rows as ``df``, written as a user's spreadsheet might: lowercase letters,
    U for T, a UTF-8 byte-order mark and CRLF line ends."""
    utrs = [u.lower() if i % 2 else u for i, u in enumerate(df["utr"])]
    utrs = [u.replace("T", "U").replace("t", "u") if i % 3 == 0 else u for i, u in enumerate(utrs)]
    text = "utr,rl,total_reads\r\n" + "".join(f"{u},{r!r},{t}\r\n" for u, r, t in
                                               zip(utrs, df["rl"].tolist(), df["total_reads"].tolist()))
    return b"\xef\xbb\xbf" + text.encode()


def test_lowercase_u_crlf_bom_train_and_evaluate_like_the_clean_file(tmp_path):
    from combmotif.data.tasks import load_task_data
    from combmotif.train_config import load_train_config

    clean, dirty = tmp_path / "clean", tmp_path / "dirty"
    df = write_mrl_csv(clean / "data.csv")
    put(dirty / "data.csv", dirty_copy(df, np.random.default_rng(0)))
    write_yaml(clean / "tiny.yaml", base_config())
    # The config too: byte-order mark and CRLF line ends.
    put(dirty / "tiny.yaml", b"\xef\xbb\xbf" + yaml.safe_dump(base_config(), sort_keys=False)
        .replace("\n", "\r\n").encode())

    a = load_task_data(load_train_config(clean / "tiny.yaml").data)
    b = load_task_data(load_train_config(dirty / "tiny.yaml").data)
    for split in ("train", "valid", "test"):
        assert torch.equal(a.splits[split][0], b.splits[split][0])
        assert torch.equal(a.splits[split][1], b.splits[split][1])

    for folder in (clean, dirty):
        code, err = run_script(TRAIN, ["--config", "tiny.yaml"], cwd=folder)
        assert code == 0, err
        code, err = run_script(EVALUATE, ["--config", "tiny.yaml"], cwd=folder)
        assert code == 0, err
    wa = torch.load(clean / "weights" / "tiny-best.pth", weights_only=False)["model_state_dict"]
    wb = torch.load(dirty / "weights" / "tiny-best.pth", weights_only=False)["model_state_dict"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)  # same encoding, same seed: same weights
    ma = json.loads((clean / "results" / "tiny" / "evaluation" / "metrics.json").read_text())
    mb = json.loads((dirty / "results" / "tiny" / "evaluation" / "metrics.json").read_text())
    assert ma["metrics"] == mb["metrics"]


def test_n_is_a_zero_column_and_short_utrs_are_padded(tmp_path):
    from combmotif.data.tasks import load_task_data
    from combmotif.train_config import load_train_config

    rows = [("ACGTN" * 10, str(i % 7), str(1000 - i)) for i in range(200)]
    rows[0] = ("acgu", "3", "5000")  # the best-read row: first of the test split
    put(tmp_path / "data.csv", mrl_csv_text(rows))
    write_yaml(tmp_path / "tiny.yaml", base_config(mrl_data(top_n=200, test_n=20)))
    X = load_task_data(load_train_config(tmp_path / "tiny.yaml").data).splits["test"][0].numpy()
    np.testing.assert_array_equal(X[0, :, :4], np.eye(4, dtype=np.float32))  # a c g u -> A C G T
    assert not X[0, :, 4:].any()  # zero-padded at the 3' end
    assert not X[1, :, 4::5].any() and X[1, :, :4].sum() == 4  # every N is an all-zero column


def test_records_lowercase_u_crlf_bom_convert_like_the_clean_file(tmp_path):
    from combmotif.data.halflife import read_h5

    clean = records_text(GOOD_RECORDS)
    dirty = records_text([(n, a.lower(), b, c.replace("T", "U"), e, h) for n, a, b, c, e, h in GOOD_RECORDS])
    put(tmp_path / "clean.tsv", clean)
    put(tmp_path / "dirty.tsv", b"\xef\xbb\xbf" + dirty.replace("\n", "\r\n").encode())
    for name in ("clean", "dirty"):
        code, err = run_script(CONVERT, ["--records", f"{name}.tsv", "--out", f"{name}.h5", "--length", "40"],
                               cwd=tmp_path)
        assert code == 0, err
    a, b = read_h5(tmp_path / "clean.h5"), read_h5(tmp_path / "dirty.h5")
    for split in a:
        np.testing.assert_array_equal(a[split][0], b[split][0])
        np.testing.assert_array_equal(a[split][1], b[split][1])


def test_exponent_numbers_are_numbers(tmp_path):
    """PyYAML reads ``1e-3`` (no dot) as a string; a user means a number."""
    from combmotif.train_config import load_train_config

    write_mrl_csv(tmp_path / "data.csv")
    text = yaml.safe_dump(base_config(), sort_keys=False).replace("lr: 0.003", "lr: 3e-3")
    assert "lr: 3e-3" in text
    put(tmp_path / "tiny.yaml", text)
    assert load_train_config(tmp_path / "tiny.yaml").train.lr == pytest.approx(0.003)
