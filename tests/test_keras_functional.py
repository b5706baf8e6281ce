"""Keras functional models: single chains import like Sequential ones, branching graphs are
refused. Files are written here with h5py in the Keras 2 (and Keras 3) HDF5 layout and
checked against a numpy evaluation of the stored weights (no TensorFlow, no torch)."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from test_keras import _numpy_forward

from combmotif.errors import InputError
from combmotif.models.anatomy import Anatomy
from combmotif.models.keras import load_keras_hdf5

L_IN, C_IN, FILTERS, K = 101, 4, 8, 7


def _chain() -> list[tuple[str, dict, dict]]:
    """(class, config, weights): Input -> Conv1D relu -> BN -> MaxPool -> Dropout -> Flatten -> Dense sigmoid."""
    rng = np.random.default_rng(3)
    w = lambda *s: rng.normal(0, 0.3, s).astype(np.float32)  # noqa: E731
    flat = ((L_IN - K + 1) // 2) * FILTERS
    return [
        ("InputLayer", {"name": "input_1", "batch_input_shape": [None, L_IN, C_IN],
                        "dtype": "float32", "sparse": False}, {}),
        ("Conv1D", {"name": "conv1d", "filters": FILTERS, "kernel_size": [K], "strides": [1],
                    "padding": "valid", "dilation_rate": [1], "activation": "relu",
                    "use_bias": True}, {"kernel": w(K, C_IN, FILTERS), "bias": w(FILTERS)}),
        ("BatchNormalization", {"name": "batch_normalization", "axis": -1, "epsilon": 1e-3},
         {"gamma": w(FILTERS) + 1, "beta": w(FILTERS), "moving_mean": w(FILTERS),
          "moving_variance": np.abs(w(FILTERS)) + 0.5}),
        ("MaxPooling1D", {"name": "max_pooling1d", "pool_size": [2], "strides": [2],
                          "padding": "valid"}, {}),
        ("Dropout", {"name": "dropout", "rate": 0.2}, {}),
        ("Flatten", {"name": "flatten"}, {}),
        ("Dense", {"name": "dense", "units": 1, "activation": "sigmoid"},
         {"kernel": w(flat, 1) * 0.2, "bias": w(1)}),
    ]


def _keras2_node(*sources: str) -> list:
    return [[[s, 0, 0, {}] for s in sources]] if sources else []


def _keras3_node(*sources: str) -> list:
    tensors = [{"class_name": "__keras_tensor__",
                "config": {"shape": [None], "dtype": "float32", "keras_history": [s, 0, 0]}}
               for s in sources]
    args = tensors if len(tensors) < 2 else [tensors]  # a merge takes one list argument
    return [{"args": args, "kwargs": {}}] if sources else []


def _write(path: Path, layers: list, edges: dict[str, tuple[str, ...]], outputs: list[str],
           keras3: bool = False, cls: str = "Functional") -> None:
    """Write a functional model file; ``edges[layer]`` are the layers it is called on."""
    node = _keras3_node if keras3 else _keras2_node
    cfg_layers = []
    for c, conf, _ in layers:
        conf = dict(conf)
        if keras3 and c == "InputLayer":
            conf["batch_shape"] = conf.pop("batch_input_shape")
        cfg_layers.append({"class_name": c, "config": conf, "name": conf["name"],
                           "inbound_nodes": node(*edges.get(conf["name"], ()))})
    ends = lambda names: [[n, 0, 0] for n in names]  # noqa: E731
    config = {"class_name": cls, "config": {"name": "model", "layers": cfg_layers,
                                            "input_layers": ends([layers[0][1]["name"]]),
                                            "output_layers": ends(outputs)}}
    if keras3 and len(outputs) == 1:
        config["config"]["output_layers"] = [outputs[0], 0, 0]  # Keras 3 unwraps one endpoint
    with h5py.File(path, "w") as fh:
        fh.attrs["model_config"] = json.dumps(config).encode()
        fh.attrs["keras_version"] = b"3.3.3" if keras3 else b"2.9.0"
        root = fh.create_group("model_weights")
        root.attrs["layer_names"] = np.array([conf["name"].encode() for _, conf, _ in layers])
        for _, conf, weights in layers:
            g = root.create_group(conf["name"])
            # Keras 2: <layer>/<layer>/kernel:0; Keras 3 legacy h5: <layer>/kernel paths.
            names = [f"{conf['name']}/{key}" if keras3 else f"{conf['name']}/{key}:0" for key in weights]
            for dname, arr in zip(names, weights.values()):
                g.create_dataset(dname, data=arr)
            g.attrs["weight_names"] = (np.array([n.encode() for n in names]) if names
                                       else np.array([], dtype="S1"))


def _chain_edges(layers: list) -> dict[str, tuple[str, ...]]:
    names = [conf["name"] for _, conf, _ in layers]
    return {b: (a,) for a, b in zip(names, names[1:])}


def _x(n: int = 12) -> np.ndarray:
    return np.random.default_rng(0).random((n, L_IN, C_IN)).astype(np.float32)


def _ours(model, x_nlc: np.ndarray, logit: bool = False) -> np.ndarray:
    x = torch.from_numpy(x_nlc.transpose(0, 2, 1).copy())
    with torch.no_grad():
        return (model.logit(x) if logit else model(x)).numpy()


@pytest.mark.parametrize("keras3,cls", [(False, "Functional"), (False, "Model"), (True, "Functional")],
                         ids=["keras2-functional", "keras2-model", "keras3"])
def test_chain_matches_numpy_evaluation(tmp_path, keras3, cls):
    layers = _chain()
    _write(tmp_path / "f.h5", layers, _chain_edges(layers), ["dense"], keras3=keras3, cls=cls)
    model = load_keras_hdf5(tmp_path / "f.h5")
    x = _x()
    ref = _numpy_forward(x, layers[1:])[:, 0]
    ours = _ours(model, x)
    assert ours.shape == ref.shape == (12,)
    assert ref.std() > 0.01  # the check is not on a saturated sigmoid
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert model.arch["keras_class"] == cls and model.arch["final_sigmoid"] is True
    assert (model.arch["seq_len"], model.arch["in_channels"], model.arch["num_targets"]) == (L_IN, C_IN, 1)
    # The logit is the Dense output before its sigmoid.
    pre = [(c, {**conf, "activation": "linear"} if c == "Dense" else conf, w) for c, conf, w in layers[1:]]
    np.testing.assert_allclose(_ours(model, x, logit=True), _numpy_forward(x, pre)[:, 0], atol=1e-4)


def test_chain_builds_the_same_modules_as_sequential(tmp_path):
    layers = _chain()
    _write(tmp_path / "f.h5", layers, _chain_edges(layers), ["dense"])
    model = load_keras_hdf5(tmp_path / "f.h5")
    assert [n for n, _ in model.body.named_children()] == [
        "conv1d", "conv1d_act", "batch_normalization", "max_pooling1d", "dropout", "flatten",
        "dense", "dense_act"]
    assert isinstance(model.body[-1], torch.nn.Sigmoid)
    anatomy = Anatomy(model)
    assert len(anatomy) == 1
    conv = anatomy.layer(1)
    assert (conv.name, conv.kernel_size, conv.out_channels, conv.rf) == ("body.conv1d", K, FILTERS, K)


def test_alphabet_folded_into_functional_chain(tmp_path):
    layers = _chain()
    _write(tmp_path / "f.h5", layers, _chain_edges(layers), ["dense"])
    acgt, agct = load_keras_hdf5(tmp_path / "f.h5"), load_keras_hdf5(tmp_path / "f.h5", alphabet="AGCT")
    x = _x(4)
    np.testing.assert_allclose(_ours(agct, x), _ours(acgt, x[:, :, [0, 2, 1, 3]]), atol=1e-6)


def _branching() -> tuple[list, dict]:
    """Input -> (conv_a, conv_b) -> Add -> Flatten -> Dense."""
    rng = np.random.default_rng(5)
    conv = lambda n: ("Conv1D", {"name": n, "filters": 3, "kernel_size": [5], "padding": "valid",  # noqa: E731
                                 "activation": "relu"},
                      {"kernel": rng.normal(size=(5, 4, 3)).astype(np.float32),
                       "bias": np.zeros(3, np.float32)})
    layers = [_chain()[0], conv("conv_a"), conv("conv_b"), ("Add", {"name": "add"}, {}),
              ("Flatten", {"name": "flatten"}, {}),
              ("Dense", {"name": "dense", "units": 1, "activation": "sigmoid"},
               {"kernel": np.zeros(((L_IN - 4) * 3, 1), np.float32), "bias": np.zeros(1, np.float32)})]
    edges = {"conv_a": ("input_1",), "conv_b": ("input_1",), "add": ("conv_a", "conv_b"),
             "flatten": ("add",), "dense": ("flatten",)}
    return layers, edges


@pytest.mark.parametrize("keras3", [False, True], ids=["keras2", "keras3"])
def test_branching_graph_refused_naming_the_layer(tmp_path, keras3):
    layers, edges = _branching()
    _write(tmp_path / "b.h5", layers, edges, ["dense"], keras3=keras3)
    with pytest.raises(InputError) as exc:
        load_keras_hdf5(tmp_path / "b.h5")
    msg = str(exc.value)
    assert "\n" not in msg and str(tmp_path / "b.h5") in msg
    assert "branches at layer 'add' (Add)" in msg and "'conv_a', 'conv_b'" in msg


def test_fan_out_refused_naming_the_layer(tmp_path):
    # One conv feeding two layers whose outputs both leave the model: two outputs.
    layers, edges = _branching()
    layers = [layer for layer in layers if layer[1]["name"] not in ("add", "flatten", "dense")]
    _write(tmp_path / "o.h5", layers, {"conv_a": ("input_1",), "conv_b": ("input_1",)},
           ["conv_a", "conv_b"])
    with pytest.raises(InputError, match=r"o\.h5: the model has 2 outputs \('conv_a', 'conv_b'\)"):
        load_keras_hdf5(tmp_path / "o.h5")
    # The same graph declaring one output: the input's output feeds two layers.
    _write(tmp_path / "f.h5", layers, {"conv_a": ("input_1",), "conv_b": ("input_1",)}, ["conv_b"])
    with pytest.raises(InputError, match=r"branches at layer 'input_1' \(InputLayer\): its output "
                                         r"feeds 2 layers \('conv_a', 'conv_b'\)"):
        load_keras_hdf5(tmp_path / "f.h5")


def test_shared_layer_and_missing_layers_refused(tmp_path):
    layers = _chain()
    edges = _chain_edges(layers)
    _write(tmp_path / "s.h5", layers, edges, ["dense"])
    with h5py.File(tmp_path / "s.h5", "a") as fh:
        cfg = json.loads(fh.attrs["model_config"])
        dense = cfg["config"]["layers"][-1]
        dense["inbound_nodes"] = dense["inbound_nodes"] * 2  # called twice
        fh.attrs["model_config"] = json.dumps(cfg).encode()
    with pytest.raises(InputError, match="layer 'dense' .*called 2 times"):
        load_keras_hdf5(tmp_path / "s.h5")
    _write(tmp_path / "m.h5", layers, {**edges, "flatten": ("nowhere",)}, ["dense"])
    with pytest.raises(InputError, match="'flatten' takes its input from 'nowhere'"):
        load_keras_hdf5(tmp_path / "m.h5")
    _write(tmp_path / "e.h5", layers, edges, ["dense"])
    with h5py.File(tmp_path / "e.h5", "a") as fh:
        fh.attrs["model_config"] = json.dumps({"class_name": "Model", "config": {}}).encode()
    with pytest.raises(InputError, match="e.h5: model_config \\(Model\\) has no layer list"):
        load_keras_hdf5(tmp_path / "e.h5")
