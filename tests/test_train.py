"""Training, prediction, evaluation and the mrl/ + half-life/ command lines.

Everything runs on tiny data sets made here (a few hundred 50-nt UTRs, a few
dozen short H5 mRNAs) and tiny models, so the whole module takes seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from combmotif.checkpoint import load_checkpoint, save_checkpoint
from combmotif.data.tasks import load_task_data, random_split
from combmotif.errors import ConfigError, InputError
from combmotif.evaluate import evaluate_checkpoint, inference_batch, predict, regression_metrics
from combmotif.train import build_from_config, fit, train_from_config
from combmotif.train_config import load_train_config

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TINY_MODEL = {"num_layers": 1, "filters": 8, "kernel_size": 5, "padding": "same", "dropout": 0.1,
              "gru_units": 8, "dense_units": 8}
MOTIF = "GATA"


# --------------------------------------------------------------------------- helpers


def _utrs(n: int, seed: int, length: int = 50) -> list[str]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n, length))
    return ["".join(row) for row in np.array(list("ACGT"))[codes]]


def _motif_count_labels(utrs: list[str], seed: int, noise: float = 0.05) -> np.ndarray:
    """A trivially learnable label: occurrences of MOTIF, plus a little noise."""
    rng = np.random.default_rng(seed)
    counts = np.array([u.count(MOTIF) for u in utrs], dtype=float)
    return counts + rng.normal(0, noise, len(utrs))


def write_mrl_csv(path: Path, n: int = 400, seed: int = 0, length: int = 50) -> pd.DataFrame:
    utrs = _utrs(n, seed, length)
    rng = np.random.default_rng(seed + 1)
    df = pd.DataFrame({"utr": utrs, "rl": _motif_count_labels(utrs, seed + 2),
                       "total_reads": rng.integers(200, 5000, n)})
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return df


def write_config(folder: Path, data: dict, name: str = "tiny", model: dict | None = None,
                 train: dict | None = None, seed: int = 0) -> Path:
    cfg = {"name": name, "seed": seed, "device": "cpu", "data": data,
           "model": model or TINY_MODEL,
           "train": {"epochs": 2, "batch_size": 32, "lr": 0.003, "patience": 3, **(train or {})},
           "results_dir": "results", "output": {"weights_dir": "weights"}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def mrl_data(path: str = "data.csv", **kw) -> dict:
    return {"format": "mrl_csv", "path": path, "split": "reference", "top_n": 400, "test_n": 80,
            "valid_frac": 0.2, **kw}


def write_h5(path: Path, sizes=(48, 16, 16), length: int = 96, channels: int = 6,
             seed: int = 0) -> None:
    """A tiny Saluki-layout H5, written with the data module's own writer."""
    from combmotif.data import halflife

    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in zip(("train", "valid", "test"), sizes):
        codes = rng.integers(0, 4, size=(n, length))
        X = np.zeros((n, channels, length), np.float32)
        X[np.arange(n)[:, None], codes, np.arange(length)[None, :]] = 1
        if channels > 4:
            X[:, 4, ::3] = 1  # codon starts
        y = (X[:, 0].sum(1) / length + rng.normal(0, 0.01, n)).astype(np.float32)
        arrays[split] = (X, y)
    path.parent.mkdir(parents=True, exist_ok=True)
    if channels == halflife.N_TRACKS:
        halflife.write_h5(path, arrays)
    else:  # a malformed file the library's writer would refuse to write
        with h5py.File(path, "w") as fh:
            for split, (X, y) in arrays.items():
                fh[f"{split}_sequence"] = X
                fh[f"{split}_label"] = y


def run_cli(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([sys.executable, str(REPO / script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_one_error_line(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --------------------------------------------------------------------------- library


@pytest.fixture
def tiny_mrl(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    df = write_mrl_csv(tmp_path / "data.csv")
    return write_config(tmp_path, mrl_data()), df


def test_training_writes_loadable_checkpoint_with_train_only_scaler(tiny_mrl):
    cfg_path, df = tiny_mrl
    # Give the test rows (the 80 best-covered) far larger labels: a scaler fitted on
    # anything but the training split would move.
    test_rows = df.sort_values("total_reads", ascending=False, kind="stable").index[:80]
    df.loc[test_rows, "rl"] += 100.0
    df.to_csv(cfg_path.parent / "data.csv", index=False)
    cfg = load_train_config(cfg_path)
    data = load_task_data(cfg.data)
    y_train = data.splits["train"][1].numpy().astype(np.float64)
    assert data.splits["test"][1].numpy().min() > 99  # the split really held the shifted rows out

    record = train_from_config(cfg, command="pytest")
    model, ckpt = load_checkpoint(cfg.checkpoint_path, expect={"in_channels": 4, "seq_len": 50})
    scaler = ckpt["data"]["scaler"]
    assert scaler["mean"] == pytest.approx(y_train.mean())
    assert scaler["sd"] == pytest.approx(y_train.std())
    assert ckpt["data"]["format"] == "mrl_csv" and ckpt["data"]["label"] == "rl"
    assert ckpt["data"]["split"]["sizes"] == {"train": 256, "valid": 64, "test": 80}
    assert set(ckpt["metrics"]) >= {"train", "valid", "test"}
    assert ckpt["metrics"]["test"]["n"] == 80
    # The reloaded model predicts exactly what the trained one did.
    X_test = data.splits["test"][0]
    reloaded = predict(model, X_test, scaler)
    ref = regression_metrics(data.splits["test"][1].numpy(), reloaded)
    assert ref["mse"] == pytest.approx(record["metrics"]["test"]["mse"], rel=1e-5)
    side = json.loads(cfg.checkpoint_path.with_suffix(".json").read_text())
    assert side["command"] == "pytest" and side["seed"] == 0
    assert side["metrics"]["test"]["n"] == 80 and 1 <= side["training"]["best_epoch"] <= 2


def test_same_seed_same_weights_and_predictions(tiny_mrl):
    cfg = load_train_config(tiny_mrl[0])
    data = load_task_data(cfg.data)

    def run(seed: int):
        cfg.seed = seed
        res = fit(build_from_config(cfg, data), data.splits, cfg, device="cpu")
        return res.model.state_dict(), predict(res.model, data.splits["test"][0], res.scaler)

    (w1, p1), (w2, p2), (_w3, p3) = run(0), run(0), run(1)
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


def test_fit_restores_the_best_validation_epoch_and_stops_on_time(tiny_mrl):
    cfg = load_train_config(tiny_mrl[0])
    cfg.train.epochs, cfg.train.patience, cfg.train.lr = 6, 2, 0.05  # a jumpy run
    data = load_task_data(cfg.data)
    res = fit(build_from_config(cfg, data), data.splits, cfg, device="cpu")
    losses = [h["valid_loss"] for h in res.history]
    assert res.best_epoch == 1 + int(np.argmin(losses))
    X_va, y_va = data.splits["valid"]
    z_va = (y_va.numpy() - res.scaler["mean"]) / res.scaler["sd"]
    assert np.mean((predict(res.model, X_va) - z_va) ** 2) == pytest.approx(min(losses), rel=1e-4)
    if res.stopped == "early_stopping":
        assert len(losses) - res.best_epoch == cfg.train.patience

    cfg.train.max_minutes = 1e-6  # stops after the first batch
    res = fit(build_from_config(cfg, data), data.splits, cfg, device="cpu")
    assert res.stopped == "max_minutes" and len(res.history) == 1


def test_gradient_clipping_changes_the_steps_and_is_validated(tiny_mrl):
    cfg = load_train_config(tiny_mrl[0])
    cfg.train.epochs, cfg.train.lr = 1, 0.05
    data = load_task_data(cfg.data)
    free = fit(build_from_config(cfg, data), data.splits, cfg, device="cpu").model.state_dict()
    cfg.train.clip_norm = 1e-3
    tight = fit(build_from_config(cfg, data), data.splits, cfg, device="cpu").model.state_dict()
    assert not all(torch.equal(free[k], tight[k]) for k in free)
    cfg.train.clip_norm = 0.0
    with pytest.raises(ValueError, match="clip_norm"):
        cfg.train.validate()


def test_predict_in_batches_equals_one_batch_and_restores_mode(tiny_mrl):
    cfg = load_train_config(tiny_mrl[0])
    data = load_task_data(cfg.data)
    model = build_from_config(cfg, data).train()
    X = data.splits["train"][0][:100]
    scaler = {"mean": 2.0, "sd": 3.0}
    whole = predict(model, X, scaler, batch_size=1000)
    np.testing.assert_allclose(predict(model, X, scaler, batch_size=7), whole, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(predict(model, X, None, batch_size=7) * 3.0 + 2.0, whole,
                               rtol=1e-5, atol=1e-5)
    assert model.training  # predict() does not leave the model in another mode
    # A whole split is predicted in passes sized to the CPU's cache on a CPU, >= 512 on a GPU.
    assert inference_batch(32, (6, 1024), model) == 32 and inference_batch(32, (4, 50), model) == 1024
    assert inference_batch(32, (4, 10), model) == 4096 and inference_batch(32, (4, 100_000), model) == 16


def test_learns_a_motif_count(tmp_path):
    write_mrl_csv(tmp_path / "data.csv", n=2000, seed=3)
    cfg_path = write_config(tmp_path, mrl_data(split="random"),
                            model={**TINY_MODEL, "filters": 16, "gru_units": 16, "dense_units": 16},
                            train={"epochs": 12, "batch_size": 64, "patience": 4})
    record = train_from_config(load_train_config(cfg_path), command="pytest")
    test = record["metrics"]["test"]
    assert test["n"] == 200
    assert test["pearson_r"] > 0.9, test
    assert test["r2_score"] > 0.75, test


def test_conv_only_regressor_learns_a_motif_count(tmp_path):
    # binding_cnn on an MRL CSV regresses: MSE on the scaled label, a scaler in the
    # checkpoint, regression metrics; with the global-max head no layer above the
    # convolutions sees positions.
    write_mrl_csv(tmp_path / "data.csv", n=2000, seed=3)
    cnn = {"kind": "binding_cnn", "conv_filters": [16, 16], "conv_kernels": [5, 3], "pools": [2, 1],
           "head": "global_max", "dropout": 0.1}
    cfg_path = write_config(tmp_path, mrl_data(split="random"), model=cnn,
                            train={"epochs": 12, "batch_size": 64, "patience": 4})
    record = train_from_config(load_train_config(cfg_path), command="pytest")
    _, ckpt = load_checkpoint(tmp_path / "weights" / "tiny-best.pth")
    assert ckpt["arch"]["kind"] == "binding_cnn" and set(ckpt["data"]["scaler"]) >= {"mean", "sd"}
    assert ckpt["data"].get("task", "regression") == "regression"
    test = record["metrics"]["test"]
    assert {"pearson_r", "r2_score", "mse"} <= set(test) and "auprc" not in test
    assert test["pearson_r"] > 0.9, test
    again = evaluate_checkpoint(load_train_config(cfg_path), out_dir=tmp_path / "ev")
    assert again["metrics"]["test"]["mse"] == pytest.approx(test["mse"], rel=1e-5)


def test_saluki_on_a_classification_set_is_refused(tmp_path):
    (tmp_path / "seqs.fa").write_text(">a 1\nACGT\n")
    cfg = {"format": "fasta", "path": "seqs.fa", "negatives": "seqs.fa", "seq_len": 4}
    with pytest.raises(ConfigError, match="binding_cnn"):
        load_train_config(write_config(tmp_path, cfg))


def test_evaluate_refuses_a_regressor_on_a_classification_set(tmp_path):
    # The same binding_cnn class regresses or classifies: the checkpoint's data.task decides.
    utrs = _utrs(120, 0, 20)
    pd.DataFrame({"sequence": utrs, "label": [i % 2 for i in range(120)]}).to_csv(tmp_path / "c.csv", index=False)
    cnn = {"kind": "binding_cnn", "conv_filters": [4], "conv_kernels": [3], "pools": [2]}
    cfg = load_train_config(write_config(tmp_path, {"format": "class_csv", "path": "c.csv", "split": "random"},
                                         model=cnn))
    torch.manual_seed(0)
    from combmotif.models.binding import BindingCNN

    model = BindingCNN(4, 20, conv_filters=[4], conv_kernels=[3], pools=[2])
    save_checkpoint(cfg.checkpoint_path, model, {"task": "regression", "scaler": {"mean": 0.0, "sd": 1.0}}, {})
    with pytest.raises(InputError, match="regression model"):
        evaluate_checkpoint(cfg, out_dir=tmp_path / "ev")
    assert not (tmp_path / "ev").exists()


def test_random_split_is_seeded_disjoint_and_complete():
    a = random_split(100, [0.8, 0.1, 0.1], seed=4)
    b = random_split(100, [0.8, 0.1, 0.1], seed=4)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert [len(a[k]) for k in ("train", "valid", "test")] == [80, 10, 10]
    assert np.array_equal(np.sort(np.concatenate(list(a.values()))), np.arange(100))
    assert not np.array_equal(a["test"], random_split(100, [0.8, 0.1, 0.1], seed=5)["test"])


def test_regression_metrics_tell_r2_from_coefficient_of_determination():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    m = regression_metrics(y, 2 * y + 10)  # perfectly correlated, badly scaled
    assert m["pearson_r"] == pytest.approx(1.0) and m["r2"] == pytest.approx(1.0)
    assert m["r2_score"] < 0 and m["mse"] == pytest.approx(np.mean((y + 10) ** 2))
    assert m["spearman"] == pytest.approx(1.0) and m["n"] == 4


@pytest.mark.parametrize("data, key", [
    ({"format": "saluki_h5", "path": "x.h5", "split": "reference"}, "data.split"),
    ({"format": "mrl_csv", "path": "x.csv", "label": "hrl"}, "reference"),
    ({"format": "mrl_csv", "path": "x.csv", "split": "random", "fractions": [0.5, 0.5]}, "data.fractions"),
    ({"format": "mrl_csv", "path": "x.csv", "epochs": 3}, "data.epochs"),
])
def test_bad_config_is_refused_naming_the_key(tmp_path, data, key):
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_train_config(path)


def test_human_label_column_and_random_split(tmp_path):
    utrs = _utrs(60, seed=9)
    pd.DataFrame({"utr": utrs, "hrl": np.linspace(3, 8, 60), "total": 100}).to_csv(
        tmp_path / "snv.csv", index=False)
    cfg = load_train_config(write_config(tmp_path, {"format": "mrl_csv", "path": "snv.csv",
                                                    "label": "hrl", "split": "random"}))
    data = load_task_data(cfg.data)
    assert [len(data.splits[k][1]) for k in ("train", "valid", "test")] == [48, 6, 6]
    assert data.info["label"] == "hrl" and data.info["split"]["kind"] == "random"
    ys = np.sort(np.concatenate([data.splits[k][1].numpy() for k in ("train", "valid", "test")]))
    np.testing.assert_allclose(ys, np.linspace(3, 8, 60), rtol=1e-6)


@pytest.mark.skipif(not (SHARED / "data/human_5utr_snv/snv_phenotype_log_diff.csv").is_file(),
                    reason="needs ../shared/data/human_5utr_snv (not part of a fresh clone)")
def test_shipped_human_snv_config_loads_the_real_set():
    cfg = load_train_config(REPO / "configs/training/mrl_human_snv.yaml")
    data = load_task_data(cfg.data)
    sizes = [len(data.splits[k][1]) for k in ("train", "valid", "test")]
    assert sum(sizes) == 3002 and sizes[0] > 2000
    assert data.in_channels == 4 and data.seq_len == 50


def test_halflife_h5_trains_with_valid_padding(tmp_path):
    write_h5(tmp_path / "hl" / "data.h5")
    cfg = load_train_config(write_config(
        tmp_path, {"format": "saluki_h5", "path": "hl/data.h5"},
        model={**TINY_MODEL, "num_layers": 2, "padding": "valid"}, train={"epochs": 1}))
    record = train_from_config(cfg, command="pytest")
    _, ckpt = load_checkpoint(cfg.checkpoint_path, expect={"in_channels": 6, "seq_len": 96})
    assert ckpt["data"]["format"] == "saluki_h5" and ckpt["data"]["split"]["kind"] == "file"
    assert record["metrics"]["test"]["n"] == 16
    assert "ceiling" not in record["metrics"]  # no truth.json: a real set


def test_synthetic_set_reports_noise_ceiling_of_its_test_split(tmp_path):
    from combmotif.data.mrl import reference_split
    from combmotif.data.mrl import write_mrl_csv as write_csv
    from combmotif.data.synthetic_mrl import make_mrl, noiseless
    from combmotif.data.truth import write_truth

    df, truth = make_mrl(n=500, seed=1)
    write_csv(df, tmp_path / "syn" / "data.csv")
    write_truth(tmp_path / "syn" / "truth.json", truth)
    cfg = load_train_config(write_config(tmp_path, mrl_data("syn/data.csv", top_n=500, test_n=100),
                                         train={"epochs": 1}))
    record = train_from_config(cfg, command="pytest")
    ceiling, test = record["metrics"]["ceiling"], record["metrics"]["test"]
    # Recompute the ceiling independently on the same 100 best-read rows.
    rows = reference_split(df, top_n=500, test_n=100, valid_frac=0.2)["test"]
    want = np.corrcoef(noiseless(rows["utr"].tolist(), truth), rows["rl"])[0, 1]
    assert ceiling["n"] == 100 and ceiling["r"] == pytest.approx(want, rel=1e-6)
    assert ceiling["target"] == "r2"
    assert ceiling["ratio"] == pytest.approx(test["r2"] / ceiling["r2"])
    assert ceiling["ratio_r"] == pytest.approx(test["pearson_r"] / ceiling["r"])


def test_synthetic_halflife_ceiling_uses_r(tmp_path):
    from combmotif.data.synthetic_halflife import make_halflife, save_halflife_set

    splits, truth, clean = make_halflife(n=60, length=512, seed=2, return_noiseless=True)
    save_halflife_set(tmp_path / "hl", splits, truth)
    cfg = load_train_config(write_config(tmp_path, {"format": "saluki_h5", "path": "hl/data.h5"},
                                         model={**TINY_MODEL, "num_layers": 2, "padding": "valid"},
                                         train={"epochs": 1}))
    record = train_from_config(cfg, command="pytest")
    ceiling, test = record["metrics"]["ceiling"], record["metrics"]["test"]
    want = np.corrcoef(clean["test"], splits["test"][1])[0, 1]
    assert ceiling["n"] == len(splits["test"][1]) and ceiling["r"] == pytest.approx(want, rel=1e-5)
    assert ceiling["target"] == "r"
    assert ceiling["ratio"] == pytest.approx(test["pearson_r"] / ceiling["r"])


# --------------------------------------------------------------------------- command line


def test_cli_train_then_evaluate(tmp_path):
    write_mrl_csv(tmp_path / "data.csv")
    cfg_path = write_config(tmp_path, mrl_data())
    proc = run_cli("mrl/train.py", "--config", str(cfg_path), "--epochs", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ckpt = tmp_path / "weights" / "tiny-best.pth"
    side = json.loads(ckpt.with_suffix(".json").read_text())
    assert side["training"]["epochs_run"] == 1  # the --epochs override took effect
    assert "mrl/train.py" in side["command"] and "--epochs 1" in side["command"]

    proc = run_cli("mrl/evaluate.py", "--config", str(cfg_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "results" / "tiny" / "evaluation"
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "scatter_test.png"]
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    # The evaluation of the saved checkpoint reproduces the metrics stored at training time.
    for split in ("train", "valid", "test"):
        assert metrics[split]["mse"] == pytest.approx(side["metrics"][split]["mse"], rel=1e-4)
    assert (out / "scatter_test.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{metrics['test']['pearson_r']:.3f}" in proc.stdout

    # --test-only (the quick start's) scores the test split alone, to the same figures.
    proc = run_cli("mrl/evaluate.py", "--config", str(cfg_path), "--test-only", "--out", "ev_test", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    alone = json.loads((tmp_path / "ev_test" / "metrics.json").read_text())["metrics"]
    assert set(alone) == {"test"} and alone["test"] == metrics["test"]
    assert [line.split()[0] for line in proc.stdout.splitlines()[1:2]] == ["test"]
    assert (tmp_path / "ev_test" / "scatter_test.png").is_file()


def test_cli_bad_utr_letter(tmp_path):
    df = write_mrl_csv(tmp_path / "data.csv")
    df.loc[df["total_reads"].idxmax(), "utr"] = "ACGX" + "A" * 46
    df.to_csv(tmp_path / "data.csv", index=False)
    cfg_path = write_config(tmp_path, mrl_data())
    proc = run_cli("mrl/train.py", "--config", str(cfg_path), cwd=tmp_path)
    assert_one_error_line(proc, "data.csv", "'X'")
    assert files_under(tmp_path / "weights") == []


def test_cli_csv_missing_column(tmp_path):
    write_mrl_csv(tmp_path / "data.csv").drop(columns="rl").to_csv(tmp_path / "data.csv", index=False)
    cfg_path = write_config(tmp_path, mrl_data())
    proc = run_cli("mrl/train.py", "--config", str(cfg_path), cwd=tmp_path)
    assert_one_error_line(proc, "data.csv", "rl")
    assert files_under(tmp_path / "weights") == []


def test_cli_h5_of_wrong_shape(tmp_path):
    write_h5(tmp_path / "data.h5", channels=4)  # A,C,G,T only: no codon/splice tracks
    cfg_path = write_config(tmp_path, {"format": "saluki_h5", "path": "data.h5"},
                            model={**TINY_MODEL, "padding": "valid"})
    proc = run_cli("half-life/train.py", "--config", str(cfg_path), cwd=tmp_path)
    assert_one_error_line(proc, "data.h5", "shape")
    assert files_under(tmp_path / "weights") == []


def test_cli_checkpoint_that_does_not_fit_the_data(tmp_path):
    # A checkpoint for 40-nt inputs evaluated on 50-nt data.
    write_mrl_csv(tmp_path / "data.csv")
    cfg_path = write_config(tmp_path, mrl_data())
    cfg = load_train_config(cfg_path)
    torch.manual_seed(0)
    from combmotif.models.saluki import SalukiModel

    wrong = SalukiModel(in_channels=4, seq_len=40, **TINY_MODEL)
    save_checkpoint(cfg.checkpoint_path, wrong, {"scaler": {"mean": 0.0, "sd": 1.0}}, {})
    proc = run_cli("mrl/evaluate.py", "--config", str(cfg_path), cwd=tmp_path)
    assert_one_error_line(proc, "tiny-best.pth", "seq_len=40", "seq_len=50")
    assert files_under(tmp_path / "results") == []


def test_evaluate_refuses_a_checkpoint_without_scaler(tmp_path):
    write_mrl_csv(tmp_path / "data.csv")
    cfg = load_train_config(write_config(tmp_path, mrl_data()))
    torch.manual_seed(0)
    from combmotif.models.saluki import SalukiModel

    save_checkpoint(cfg.checkpoint_path, SalukiModel(4, 50, **TINY_MODEL), {}, {})
    with pytest.raises(InputError, match="scaler"):
        evaluate_checkpoint(cfg, out_dir=tmp_path / "ev")
    assert not (tmp_path / "ev").exists()
