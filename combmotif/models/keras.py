"""Import Keras HDF5 models (Sequential, or functional single chains) as torch modules.

Only the HDF5 file is read (no TensorFlow): the architecture from the
``model_config`` attribute, the weights from ``model_weights/<layer>`` using
each layer group's ``weight_names`` attribute, which lists the datasets in the
order Keras created them in both naming schemes (Keras 1 ``<layer>_W:0`` with
(k, 1, in, out) conv kernels; Keras 2 ``kernel:0`` with (k, in, out)). A functional
``Model`` / ``Functional`` whose graph is one chain is read into the same ordered
layer list by :mod:`combmotif.models.keras_graph`; a branching graph is refused.

The result, :class:`KerasSequential`, exposes the same ``body`` (a flat
``nn.Sequential``) that :mod:`combmotif.models.anatomy` walks for our own
models, takes channels-first one-hot input in ACGT order (the model's own
alphabet order is folded into the first layer) and returns the model output.

A final sigmoid (a last Dense with ``activation="sigmoid"`` or a last
``Activation("sigmoid")``) is kept, so the module outputs what the Keras model
outputs (a probability); it is always the last module of ``body``,
``arch["final_sigmoid"]`` says so, and :meth:`KerasSequential.logit` runs the body
without it for interpretation on the logit scale.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch import nn

from ..errors import InputError
from .keras_graph import FUNCTIONAL_CLASSES, functional_chain
from .saluki import SequenceModel

ACTIVATIONS = {
    "linear": None, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "softplus": nn.Softplus, "exponential": None, "exp": None, "softmax": None,
}


class Exp(nn.Module):
    """Keras' ``exponential`` activation as a module, so the body stays a flat ``nn.Sequential``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ``exp`` element-wise.

        Parameters
        ----------
        x : torch.Tensor
            Activations of any shape.

        Returns
        -------
        torch.Tensor
            ``exp(x)``, same shape.
        """
        return torch.exp(x)


class KerasFlatten(nn.Module):
    """Flatten (N, C, L) the way Keras flattens (N, L, C): position-major."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Flatten in Keras order, so the imported Dense weights line up with their inputs.

        Parameters
        ----------
        x : torch.Tensor
            (N, C, L) channels-first activations, or any (N, ...) tensor.

        Returns
        -------
        torch.Tensor
            (N, L * C), position-major for a 3-D input; else ``x.flatten(1)``.
        """
        return x.transpose(1, 2).flatten(1) if x.ndim == 3 else x.flatten(1)


class ChannelSoftmax(nn.Module):
    """Keras' ``softmax`` activation (over the last, channel axis) for channels-first tensors."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax over axis 1: the channels of (N, C, L), or the features of (N, F).

        Parameters
        ----------
        x : torch.Tensor
            (N, C, L) or (N, F) activations.

        Returns
        -------
        torch.Tensor
            Same shape, summing to 1 along axis 1.
        """
        return torch.softmax(x, dim=1)


class KerasSequential(SequenceModel):
    """A Keras Sequential (or single-chain functional) model rebuilt in torch; input
    (N, 4, input_length) in ACGT order."""

    def __init__(self, body: nn.Sequential, arch: dict):
        super().__init__()
        self.body = body
        self.arch = arch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the imported model on a batch.

        Parameters
        ----------
        x : torch.Tensor
            (N, 4, input_length) one-hot in ACGT order (whatever the model's own alphabet).

        Returns
        -------
        torch.Tensor
            The model output; (N,) when it has a single unit, else as the last layer leaves it.

        Raises
        ------
        InputError
            When ``x`` does not have shape (N, in_channels, seq_len).
        """
        self.check_input(x)
        out = self.body(x)
        return out.squeeze(-1) if out.ndim == 2 and out.shape[-1] == 1 else out

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        """The model output before its final sigmoid (the output itself when there is none).

        Parameters
        ----------
        x : torch.Tensor
            (N, 4, input_length) one-hot in ACGT order.

        Returns
        -------
        torch.Tensor
            Shaped like :meth:`forward`'s output; ``sigmoid(logit(x)) == forward(x)`` when
            ``arch["final_sigmoid"]``.
        """
        if not self.arch.get("final_sigmoid"):
            return self(x)
        self.check_input(x)
        out = self.body[:-1](x)
        return out.squeeze(-1) if out.ndim == 2 and out.shape[-1] == 1 else out


def load_keras_hdf5(path: str | Path, alphabet: str = "ACGT") -> KerasSequential:
    """Rebuild the Keras Sequential, or single-chain functional, model stored in ``path``.

    Parameters
    ----------
    path : str or Path
        An HDF5 file written by ``model.save`` in Keras 1.x or 2.x (or Keras 3's legacy
        ``.h5`` format).
    alphabet : str
        The model's one-hot channel order (``ACGT`` for Optimus 5-prime, ``AGCT``
        for DeepSEA-style models). The returned module always takes ACGT.

    Returns
    -------
    KerasSequential
        The model in eval mode; its ``arch`` holds ``kind`` (``"keras_hdf5"``), ``path``,
        ``alphabet``, ``in_channels``, ``seq_len``, ``num_targets``, ``keras_version``,
        ``keras_class`` (``Sequential``, ``Model`` or ``Functional``) and ``final_sigmoid``
        (True when the last module is the model's output sigmoid: the output is a probability).

    Raises
    ------
    InputError
        For a missing file, a model that is neither Sequential nor a single-chain functional
        model (the message names the layer where the graph branches), or a layer we cannot
        translate (the message names the layer and its class).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: Keras model file not found")
    if sorted(alphabet.upper()) != sorted("ACGT"):
        raise InputError(f"alphabet {alphabet!r} must be a permutation of ACGT")
    layers, weights, keras_version, keras_class = _read_keras_file(path)
    seq_len, in_channels = _input_shape(layers, path)
    layers = [layer for layer in layers if layer.get("class_name") != "InputLayer"]
    modules, shape = _build_modules(layers, weights, in_channels, seq_len, path)
    body = nn.Sequential(OrderedDict(modules))
    _fold_alphabet(body, alphabet.upper(), path)
    out_dim = shape[0] if len(shape) == 1 else int(np.prod(shape))
    arch = {"kind": "keras_hdf5", "path": str(path), "alphabet": alphabet.upper(),
            "in_channels": in_channels, "seq_len": seq_len, "num_targets": out_dim,
            "keras_version": keras_version, "keras_class": keras_class,
            "final_sigmoid": isinstance(body[-1], nn.Sigmoid)}
    return KerasSequential(body, arch).eval()


def _read_keras_file(path: Path) -> tuple[list[dict], dict[str, list], str, str]:
    """The layer configs in forward order (InputLayer kept), the weights by layer name, the Keras
    version and the model class of an HDF5 model file."""
    try:
        fh = h5py.File(path, "r")
    except OSError:
        raise InputError(f"{path}: not an HDF5 file") from None
    with fh:
        if "model_config" not in fh.attrs:
            raise InputError(f"{path}: no 'model_config' attribute (weights-only file?)")
        raw = fh.attrs["model_config"]
        try:
            config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: 'model_config' is not valid JSON ({exc})") from None
        layers = _model_layers(config, path)
        weights_root = fh["model_weights"] if "model_weights" in fh else fh
        weights = {name: _layer_weights(weights_root, name, path) for name in _layer_names(weights_root)}
        version = fh.attrs.get("keras_version", b"")
    keras_version = version.decode() if isinstance(version, bytes) else str(version)
    keras_class = config.get("class_name", "Sequential") if isinstance(config, dict) else "Sequential"
    return layers, weights, keras_version, keras_class


def _build_modules(layers: list[dict], weights: dict[str, list], in_channels: int, seq_len: int,
                   path: Path) -> tuple[list[tuple[str, nn.Module]], tuple]:
    """Torch modules for the Keras layers, and the (channels, length) or (features,) shape they leave."""
    modules: list[tuple[str, nn.Module]] = []
    shape: tuple = (in_channels, seq_len)  # channels-first shape as it flows
    for layer in layers:
        cls, cfg = layer["class_name"], layer.get("config", {})
        name = cfg.get("name", cls.lower())
        try:
            new, shape = _translate(cls, cfg, name, weights.get(name, []), shape, path)
        except (ValueError, TypeError, KeyError, RuntimeError) as exc:
            # A config value of the wrong type or a weight torch cannot take: name the layer.
            raise InputError(f"{path}: layer '{name}' ({cls}) cannot be rebuilt: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        if any(d < 1 for d in shape):
            raise InputError(f"{path}: layer '{name}' ({cls}) leaves no output: shape {shape} "
                             f"(channels, length) from input length {seq_len}")
        modules.extend(new)
    return modules, shape


def _model_layers(config: Any, path: Path) -> list[dict]:
    # Keras 1 may store a bare list; Keras 2.0/2.1 {"class_name": "Sequential", "config": [...]};
    # Keras 2.2+ {"class_name": "Sequential", "config": {"name": ..., "layers": [...]}};
    # functional models {"class_name": "Model" | "Functional", "config": {"layers": [...], ...}}.
    if isinstance(config, list):
        layers = config
    elif not isinstance(config, dict):
        raise InputError(f"{path}: 'model_config' is a JSON {type(config).__name__}, not a model")
    elif config.get("class_name") in FUNCTIONAL_CLASSES:
        return functional_chain(config, path)
    elif config.get("class_name") != "Sequential":
        raise InputError(f"{path}: only Sequential and single-chain functional models are "
                         f"supported (found {config.get('class_name')})")
    else:
        inner = config.get("config")
        layers = inner.get("layers") if isinstance(inner, dict) else inner
    if not isinstance(layers, list):
        raise InputError(f"{path}: model_config has no layer list")
    for i, layer in enumerate(layers):
        if not (isinstance(layer, dict) and isinstance(layer.get("class_name"), str)
                and isinstance(layer.get("config", {}), dict)):
            raise InputError(f"{path}: model_config layer {i} is not a {{class_name, config}} mapping")
    return layers


def _input_shape(layers: list[dict], path: Path) -> tuple[int, int]:
    for layer in layers:
        cfg = layer.get("config", {})
        shape = cfg.get("batch_input_shape", cfg.get("batch_shape"))  # Keras 3: batch_shape
        if shape is None and cfg.get("input_shape") is not None:
            shape = [None, *cfg["input_shape"]]
        if shape is None and cfg.get("input_length") and cfg.get("input_dim"):
            shape = [None, cfg["input_length"], cfg["input_dim"]]
        if shape is not None:
            if len(shape) != 3 or shape[1] is None:
                raise InputError(f"{path}: input shape {shape[1:]} is not (length, channels)")
            try:
                return int(shape[1]), int(shape[2])
            except (TypeError, ValueError):
                raise InputError(f"{path}: input shape {shape[1:]} is not (length, channels)") from None
    raise InputError(f"{path}: the first layer does not declare an input shape")


def _layer_names(root: h5py.Group) -> list[str]:
    names = root.attrs.get("layer_names")
    if names is None:
        return list(root.keys())
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def _layer_weights(root: h5py.Group, name: str, path: Path) -> list[tuple[str, np.ndarray]]:
    if name not in root:
        return []
    group = root[name]
    names = group.attrs.get("weight_names")
    if names is None or len(names) == 0:
        return []
    out = []
    for n in names:
        n = n.decode() if isinstance(n, bytes) else str(n)
        if not isinstance(group.get(n), h5py.Dataset):
            raise InputError(f"{path}: layer '{name}' lists weight '{n}' in weight_names, but the "
                             "file has no such dataset")
        out.append((n, np.asarray(group[n], dtype=np.float32)))
    return out


def _check_shape(w: np.ndarray | None, want: tuple, what: str, name: str, cls: str, path: Path) -> None:
    """Refuse a stored weight whose shape does not fit the architecture the config declares."""
    if w is not None and tuple(w.shape) != tuple(want):
        raise InputError(f"{path}: layer '{name}' ({cls}): {what} has shape {tuple(w.shape)}, but the "
                         f"architecture needs {tuple(want)}")


def _pick(weights: list[tuple[str, np.ndarray]], *suffixes: str) -> np.ndarray | None:
    for n, w in weights:
        base = n.split("/")[-1].split(":")[0]
        if any(base == s or base.endswith("_" + s) for s in suffixes):
            return w
    return None


def _activation(name: str, act: str | None, path: Path) -> list[tuple[str, nn.Module]]:
    if act in (None, "linear"):
        return []
    if act in ("exponential", "exp"):
        return [(f"{name}_act", Exp())]
    if act == "softmax":
        return [(f"{name}_act", ChannelSoftmax())]
    if act not in ACTIVATIONS:
        raise InputError(f"{path}: layer '{name}' uses activation '{act}', which is not supported")
    return [(f"{name}_act", ACTIVATIONS[act]())]


def _first(cfg: dict, *keys: str, default: Any = None) -> Any:
    for k in keys:
        if k in cfg and cfg[k] is not None:
            v = cfg[k]
            return v[0] if isinstance(v, (list, tuple)) else v
    return default


def _translate(cls: str, cfg: dict, name: str, weights: list, shape: tuple,
               path: Path) -> tuple[list[tuple[str, nn.Module]], tuple]:
    """One Keras layer -> torch modules, and the channels-first output shape."""
    if cls in ("Conv1D", "Convolution1D"):
        return _conv1d(cls, cfg, name, weights, shape, path)
    if cls in ("MaxPooling1D", "AveragePooling1D"):
        return _pool1d(cls, cfg, name, weights, shape, path)
    if cls == "Flatten":
        return [(name, KerasFlatten())], (int(np.prod(shape)),)
    if cls == "Dense":
        return _dense(cls, cfg, name, weights, shape, path)
    if cls == "Dropout":
        return [(name, nn.Dropout(float(_first(cfg, "rate", "p", default=0.0))))], shape
    if cls == "Activation":
        mods = _activation(name, cfg.get("activation"), path)
        return [(name, mods[0][1])] if mods else [(name, nn.Identity())], shape
    if cls == "BatchNormalization":
        return _batch_norm(cls, cfg, name, weights, shape, path)
    raise InputError(f"{path}: layer '{name}' of class {cls} is not supported "
                     "(supported: Conv1D, MaxPooling1D, AveragePooling1D, Dense, Flatten, Dropout, "
                     "Activation, BatchNormalization)")


def _conv1d(cls: str, cfg: dict, name: str, weights: list, shape: tuple,
            path: Path) -> tuple[list[tuple[str, nn.Module]], tuple]:
    """A Conv1D (Keras 1 Convolution1D) -> optional same-padding, Conv1d and its activation."""
    if len(shape) != 2:
        raise InputError(f"{path}: layer '{name}' (Conv1D) needs a 3-D input")
    kernel = _pick(weights, "kernel", "W")
    bias = _pick(weights, "bias", "b")
    if kernel is None:
        raise InputError(f"{path}: layer '{name}' has no kernel weights")
    if kernel.ndim == 4 and kernel.shape[1] == 1:  # Keras 1: (k, 1, in, out)
        kernel = kernel[:, 0]
    k = int(_first(cfg, "kernel_size", "filter_length", default=kernel.shape[0]))
    cout = int(_first(cfg, "filters", "nb_filter", default=kernel.shape[-1]))
    cin = shape[0]
    _check_shape(kernel, (k, cin, cout), "kernel (length, in, filters)", name, cls, path)
    _check_shape(bias, (cout,), "bias", name, cls, path)
    stride = int(_first(cfg, "strides", "subsample_length", default=1))
    dilation = int(_first(cfg, "dilation_rate", "atrous_rate", default=1))
    padding = _first(cfg, "padding", "border_mode", default="valid")
    if padding not in ("valid", "same"):
        raise InputError(f"{path}: layer '{name}' has padding '{padding}', not supported")
    mods: list[tuple[str, nn.Module]] = []
    length = shape[1]
    if padding == "same":
        # TF pads the extra column on the right for even kernels.
        total = max((int(np.ceil(length / stride)) - 1) * stride + dilation * (k - 1) + 1
                    - length, 0)
        mods.append((f"{name}_pad", nn.ConstantPad1d((total // 2, total - total // 2), 0.0)))
        length = length + total
    conv = nn.Conv1d(cin, cout, k, stride=stride, dilation=dilation, bias=bias is not None)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(2, 1, 0))))
        if bias is not None:
            conv.bias.copy_(torch.from_numpy(bias))
    mods.append((name, conv))
    out_len = (length - dilation * (k - 1) - 1) // stride + 1
    mods += _activation(name, cfg.get("activation"), path)
    return mods, (cout, out_len)


def _pool1d(cls: str, cfg: dict, name: str, weights: list, shape: tuple,
            path: Path) -> tuple[list[tuple[str, nn.Module]], tuple]:
    """MaxPooling1D / AveragePooling1D -> MaxPool1d / AvgPool1d (valid padding only)."""
    size = int(_first(cfg, "pool_size", "pool_length", default=2))
    stride = int(_first(cfg, "strides", "stride", default=size) or size)
    padding = _first(cfg, "padding", "border_mode", default="valid")
    if padding != "valid":
        raise InputError(f"{path}: layer '{name}' ({cls}) with padding '{padding}' "
                         "is not supported")
    pool = (nn.MaxPool1d if cls == "MaxPooling1D" else nn.AvgPool1d)(size, stride=stride)
    return [(name, pool)], (shape[0], (shape[1] - size) // stride + 1)


def _dense(cls: str, cfg: dict, name: str, weights: list, shape: tuple,
           path: Path) -> tuple[list[tuple[str, nn.Module]], tuple]:
    """Dense on a flat input -> Linear and its activation."""
    if len(shape) != 1:
        raise InputError(f"{path}: layer '{name}' (Dense) on a 3-D input is not supported; "
                         "add a Flatten")
    kernel = _pick(weights, "kernel", "W")
    bias = _pick(weights, "bias", "b")
    if kernel is None:
        raise InputError(f"{path}: layer '{name}' has no kernel weights")
    units = int(_first(cfg, "units", "output_dim", default=kernel.shape[-1]))
    _check_shape(kernel, (shape[0], units), "kernel (in, units)", name, cls, path)
    _check_shape(bias, (units,), "bias", name, cls, path)
    lin = nn.Linear(kernel.shape[0], kernel.shape[1], bias=bias is not None)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T)))
        if bias is not None:
            lin.bias.copy_(torch.from_numpy(bias))
    return [(name, lin), *_activation(name, cfg.get("activation"), path)], (kernel.shape[1],)


def _batch_norm(cls: str, cfg: dict, name: str, weights: list, shape: tuple,
                path: Path) -> tuple[list[tuple[str, nn.Module]], tuple]:
    """BatchNormalization over the channel axis -> BatchNorm1d in eval mode."""
    channels = shape[0]
    gamma = _pick(weights, "gamma")
    beta = _pick(weights, "beta")
    mean = _pick(weights, "moving_mean", "running_mean")
    var = _pick(weights, "moving_variance", "running_std")  # Keras 1 stores the variance here
    if mean is None or var is None:
        raise InputError(f"{path}: layer '{name}' (BatchNormalization) lacks moving statistics")
    for what, w in (("gamma", gamma), ("beta", beta), ("moving mean", mean), ("moving variance", var)):
        _check_shape(w, (channels,), what, name, cls, path)
    axis = cfg.get("axis", -1)
    if axis not in (-1, 2 if len(shape) == 2 else 1):
        raise InputError(f"{path}: layer '{name}' normalises axis {axis}; only the channel "
                         "axis is supported")
    bn = (nn.BatchNorm1d(channels, eps=float(cfg.get("epsilon", 1e-3))))
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma) if gamma is not None else torch.ones(channels))
        bn.bias.copy_(torch.from_numpy(beta) if beta is not None else torch.zeros(channels))
        bn.running_mean.copy_(torch.from_numpy(mean))
        bn.running_var.copy_(torch.from_numpy(var))
    return [(name, bn)], shape


def _fold_alphabet(body: nn.Sequential, alphabet: str, path: Path) -> None:
    """Make the module take ACGT input whatever order the model was trained on."""
    if alphabet == "ACGT":
        return
    order = [alphabet.index(c) for c in "ACGT"]  # model channel of each ACGT letter
    first = next(m for m in body if not isinstance(m, nn.ConstantPad1d))
    if not isinstance(first, nn.Conv1d):
        raise InputError(f"{path}: alphabet reordering needs a Conv1D first layer")
    with torch.no_grad():
        first.weight.copy_(first.weight[:, order, :])
