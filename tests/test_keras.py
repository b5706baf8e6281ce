"""Keras HDF5 importer: Keras-1 and Keras-2 layouts built here with h5py, checked
against a direct numpy evaluation of the stored weights."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from combmotif.errors import InputError
from combmotif.models.keras import load_keras_hdf5
from combmotif.sequences import one_hot

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
OPTIMUS = SHARED / "data/optimus5prime/retrained_evolution_model.hdf5"
SNV = SHARED / "data/human_5utr_snv/snv_phenotype_log_diff.csv"

L_IN, C_IN = 30, 4


def _layers(keras1: bool) -> list[tuple[str, dict, dict]]:
    """(class, config, weights) of a small model exercising every supported layer."""
    rng = np.random.default_rng(1)
    w = lambda *s: rng.normal(0, 0.5, s).astype(np.float32)  # noqa: E731
    conv_a = {"kernel": w(6, 4, 5), "bias": w(5)}          # even kernel, 'same'
    conv_b = {"kernel": w(3, 5, 7), "bias": w(7)}          # valid, dilation 2
    bn = {"gamma": w(7), "beta": w(7), "moving_mean": w(7),
          "moving_variance": np.abs(w(7)) + 0.5}
    dense_in = ((L_IN - 4) // 2) * 7
    dense1 = {"kernel": w(dense_in, 6), "bias": w(6)}
    dense2 = {"kernel": w(6, 2), "bias": w(2)}
    if keras1:
        return [
            ("Convolution1D", {"name": "c1", "nb_filter": 5, "filter_length": 6, "border_mode": "same",
                               "activation": "relu", "batch_input_shape": [None, L_IN, C_IN]},
             {"W": conv_a["kernel"][:, None], "b": conv_a["bias"]}),
            ("Convolution1D", {"name": "c2", "nb_filter": 7, "filter_length": 3, "border_mode": "valid",
                               "atrous_rate": 2, "activation": "linear"},
             {"W": conv_b["kernel"][:, None], "b": conv_b["bias"]}),
            ("BatchNormalization", {"name": "bn", "epsilon": 1e-3, "axis": -1},
             {"gamma": bn["gamma"], "beta": bn["beta"], "running_mean": bn["moving_mean"],
              "running_std": bn["moving_variance"]}),
            ("Activation", {"name": "a1", "activation": "tanh"}, {}),
            ("MaxPooling1D", {"name": "p1", "pool_length": 2, "stride": None}, {}),
            ("Flatten", {"name": "f"}, {}),
            ("Dense", {"name": "d1", "output_dim": 6, "activation": "softplus"},
             {"W": dense1["kernel"], "b": dense1["bias"]}),
            ("Dropout", {"name": "dr", "p": 0.5}, {}),
            ("Dense", {"name": "d2", "output_dim": 2, "activation": "sigmoid"},
             {"W": dense2["kernel"], "b": dense2["bias"]}),
        ]
    return [
        ("Conv1D", {"name": "c1", "filters": 5, "kernel_size": [6], "padding": "same",
                    "strides": [1], "activation": "relu", "batch_input_shape": [None, L_IN, C_IN]},
         conv_a),
        ("Conv1D", {"name": "c2", "filters": 7, "kernel_size": [3], "padding": "valid",
                    "dilation_rate": [2], "activation": "linear"}, conv_b),
        ("BatchNormalization", {"name": "bn", "epsilon": 1e-3, "axis": -1}, bn),
        ("Activation", {"name": "a1", "activation": "tanh"}, {}),
        ("MaxPooling1D", {"name": "p1", "pool_size": [2], "strides": [2], "padding": "valid"}, {}),
        ("Flatten", {"name": "f"}, {}),
        ("Dense", {"name": "d1", "units": 6, "activation": "softplus"}, dense1),
        ("Dropout", {"name": "dr", "rate": 0.5}, {}),
        ("Dense", {"name": "d2", "units": 2, "activation": "sigmoid"}, dense2),
    ]


def _write_model(path: Path, keras1: bool, layers=None) -> list:
    layers = layers or _layers(keras1)
    cfg = [{"class_name": c, "config": conf} for c, conf, _ in layers]
    model_config = cfg if keras1 else {"class_name": "Sequential", "config": cfg}
    with h5py.File(path, "w") as fh:
        fh.attrs["model_config"] = json.dumps(model_config).encode()
        fh.attrs["keras_version"] = b"1.2.2" if keras1 else b"2.1.4"
        root = fh.create_group("model_weights")
        root.attrs["layer_names"] = np.array([conf["name"].encode() for _, conf, _ in layers])
        for _, conf, weights in layers:
            g = root.create_group(conf["name"])
            names = []
            for key, arr in weights.items():
                # Keras 1: "<layer>_W" at the group's top; Keras 2: "<layer>_1/kernel:0".
                dname = f"{conf['name']}_{key}" if keras1 else f"{conf['name']}_1/{key}:0"
                g.create_dataset(dname, data=arr)
                names.append(dname.encode())
            g.attrs["weight_names"] = np.array(names) if names else np.array([], dtype="S1")
    return layers


def _numpy_forward(x_nlc: np.ndarray, layers: list) -> np.ndarray:
    """Evaluate the Keras layer list directly, in Keras' (N, L, C) layout."""
    acts = {"relu": lambda v: np.maximum(v, 0), "linear": lambda v: v, "tanh": np.tanh,
            "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "softplus": lambda v: np.log1p(np.exp(v))}
    h = x_nlc.astype(np.float64)
    for cls, conf, w in layers:
        if cls in ("Conv1D", "Convolution1D"):
            kernel = w.get("kernel", w.get("W"))
            kernel = kernel[:, 0] if kernel.ndim == 4 else kernel
            bias = w.get("bias", w.get("b"))
            k = kernel.shape[0]
            dil = conf.get("dilation_rate", [conf.get("atrous_rate", 1)])
            dil = dil[0] if isinstance(dil, list) else dil
            if conf.get("padding", conf.get("border_mode")) == "same":
                total = dil * (k - 1)
                h = np.pad(h, ((0, 0), (total // 2, total - total // 2), (0, 0)))
            out_len = h.shape[1] - dil * (k - 1)
            out = np.zeros((h.shape[0], out_len, kernel.shape[2]))
            for t in range(k):
                out += h[:, t * dil: t * dil + out_len] @ kernel[t]
            h = acts[conf.get("activation", "linear")](out + bias)
        elif cls == "BatchNormalization":
            var = w.get("moving_variance", w.get("running_std"))
            mean = w.get("moving_mean", w.get("running_mean"))
            h = (h - mean) / np.sqrt(var + conf["epsilon"]) * w["gamma"] + w["beta"]
        elif cls == "Activation":
            h = acts[conf["activation"]](h)
        elif cls == "MaxPooling1D":
            n = h.shape[1] // 2
            h = h[:, : 2 * n].reshape(h.shape[0], n, 2, -1).max(2)
        elif cls == "Flatten":
            h = h.reshape(h.shape[0], -1)
        elif cls == "Dense":
            h = acts[conf.get("activation", "linear")](h @ w.get("kernel", w.get("W"))
                                                       + w.get("bias", w.get("b")))
    return h


@pytest.mark.parametrize("keras1", [False, True], ids=["keras2", "keras1"])
def test_import_matches_numpy_evaluation(tmp_path, keras1):
    path = tmp_path / "m.h5"
    layers = _write_model(path, keras1)
    model = load_keras_hdf5(path)
    x = np.random.default_rng(0).random((16, L_IN, C_IN)).astype(np.float32)
    with torch.no_grad():
        ours = model(torch.from_numpy(x.transpose(0, 2, 1).copy())).numpy()
    ref = _numpy_forward(x, layers)
    assert ours.shape == ref.shape == (16, 2)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_alphabet_is_folded_into_first_layer(tmp_path):
    path = tmp_path / "m.h5"
    _write_model(path, keras1=False)
    acgt = load_keras_hdf5(path, alphabet="ACGT")
    agct = load_keras_hdf5(path, alphabet="AGCT")
    seqs = ["ACGTTGCA" * 3 + "ACGTAC"]
    x_acgt = torch.from_numpy(one_hot(seqs, length=L_IN))
    x_agct = x_acgt[:, [0, 2, 1, 3]]  # the same sequence in the model's own channel order
    with torch.no_grad():
        np.testing.assert_allclose(agct(x_acgt).numpy(), acgt(x_agct).numpy(), atol=1e-6)


def test_unsupported_layer_is_named(tmp_path):
    path = tmp_path / "m.h5"
    layers = _layers(False)
    layers.insert(1, ("LSTM", {"name": "lstm_9", "units": 3}, {}))
    _write_model(path, keras1=False, layers=layers)
    with pytest.raises(InputError, match="layer 'lstm_9' of class LSTM is not supported"):
        load_keras_hdf5(path)


def test_missing_or_bad_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_keras_hdf5(tmp_path / "none.h5")
    (tmp_path / "x.h5").write_text("text")
    with pytest.raises(InputError, match="not an HDF5 file"):
        load_keras_hdf5(tmp_path / "x.h5")


@pytest.mark.skipif(not OPTIMUS.is_file() or not SNV.is_file(),
                    reason="../shared (Optimus 5-prime model, human 5'UTR SNV data) is absent")
def test_optimus_matches_measured_mrl():
    import pandas as pd

    model = load_keras_hdf5(OPTIMUS)
    df = pd.read_csv(SNV)
    x = torch.from_numpy(one_hot(df["utr"].str[:50].tolist(), length=54, pad="right"))
    with torch.no_grad():
        pred = model(x).numpy()
    r = np.corrcoef(pred, df["hrl"])[0, 1]
    assert r >= 0.80, r
