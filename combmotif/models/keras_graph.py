"""Read the layer graph of a Keras functional ``Model`` and keep it only when it is one chain.

A functional model (``model_config`` class ``Model`` in Keras 1/2, ``Functional``
in TF >= 2.4 and Keras 3) lists its layers with the layers each one is called on
(``inbound_nodes``) and names its ``input_layers`` and ``output_layers``. When
every layer takes exactly one input and feeds at most one layer, the graph is a
chain Input -> ... -> output and imports exactly like a Sequential model; this
module turns it into that ordered layer list. Anything else (a merge such as
Add/Concatenate, one output used by two layers, a layer called twice, several
inputs or outputs) is refused with one line naming the file and the layer where
the graph branches, before any weight is read.

Two ``inbound_nodes`` spellings are read: Keras 1/2 ``[[["name", 0, 0, {}]]]``
(one list of ``[layer, node, tensor(, kwargs)]`` per call) and Keras 3
``[{"args": [{"config": {"keras_history": ["name", 0, 0]}}], "kwargs": {}}]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError

FUNCTIONAL_CLASSES = ("Model", "Functional")
_ONLY = "only single-chain functional models are supported"


def functional_chain(config: dict, path: Path) -> list[dict]:
    """The layers of a single-chain functional model, input layer first.

    Parameters
    ----------
    config : dict
        The parsed ``model_config`` attribute, class ``Model`` or ``Functional``.
    path : Path
        The model file, named in every error.

    Returns
    -------
    list of dict
        The ``{class_name, config, ...}`` layer mappings in forward order, the
        ``InputLayer`` first; each has ``config["name"]`` set.

    Raises
    ------
    InputError
        When the config has no layer list, a layer mapping is malformed, or the graph
        is not one chain (the message names the layer where it branches).
    """
    inner = config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list) or not layers:
        raise InputError(f"{path}: model_config ({config.get('class_name')}) has no layer list; "
                         "supported: Sequential models and single-chain functional models")
    by_name = _layers_by_name(layers, path)
    inputs = _endpoints(inner.get("input_layers"), "input_layers", path)
    outputs = _endpoints(inner.get("output_layers"), "output_layers", path)
    for what, names in (("inputs", inputs), ("outputs", outputs)):
        if len(names) != 1:
            listed = ", ".join(f"'{n}'" for n in names) or "none"
            raise InputError(f"{path}: the model has {len(names)} {what} ({listed}); {_ONLY}")
    inbound = {name: _inbound(layer, name, path) for name, layer in by_name.items()}
    _check_chain(by_name, inbound, path)
    return _walk(by_name, inbound, inputs[0], outputs[0], path)


def _layers_by_name(layers: list, path: Path) -> dict[str, dict]:
    """Layer mappings by name, in config order; each gets ``config["name"]``."""
    out: dict[str, dict] = {}
    for i, layer in enumerate(layers):
        if not (isinstance(layer, dict) and isinstance(layer.get("class_name"), str)
                and isinstance(layer.get("config", {}), dict)):
            raise InputError(f"{path}: model_config layer {i} is not a {{class_name, config}} mapping")
        cfg = dict(layer.get("config", {}))
        name = layer.get("name", cfg.get("name"))
        if not isinstance(name, str):
            raise InputError(f"{path}: model_config layer {i} ({layer['class_name']}) has no name")
        if name in out:
            raise InputError(f"{path}: model_config lists layer '{name}' twice")
        cfg["name"] = name
        out[name] = {**layer, "config": cfg}
    return out


def _endpoints(spec: Any, key: str, path: Path) -> list[str]:
    """Layer names of ``input_layers`` / ``output_layers``: ``[["a", 0, 0], ...]`` or ``["a", 0, 0]``."""
    if isinstance(spec, list) and spec and isinstance(spec[0], str):
        spec = [spec]  # Keras 3 writes a single endpoint unwrapped
    if not isinstance(spec, list) or not all(isinstance(e, list) and e and isinstance(e[0], str)
                                             for e in spec):
        raise InputError(f"{path}: model_config '{key}' is {spec!r}, not a list of "
                         "[layer, node, tensor] entries")
    return [e[0] for e in spec]


def _inbound(layer: dict, name: str, path: Path) -> list[list[str]]:
    """One list of input layer names per call of ``layer`` (empty for an InputLayer)."""
    nodes = layer.get("inbound_nodes", [])
    if not isinstance(nodes, list):
        raise InputError(f"{path}: layer '{name}' has inbound_nodes {nodes!r}, not a list")
    calls = []
    for node in nodes:
        if isinstance(node, dict):  # Keras 3: tensors anywhere in args / kwargs
            calls.append(_history_names(node.get("args", [])) + _history_names(node.get("kwargs", {})))
        elif isinstance(node, list) and all(isinstance(e, list) and e and isinstance(e[0], str)
                                            for e in node):
            calls.append([e[0] for e in node])
        else:
            raise InputError(f"{path}: layer '{name}' has an inbound node {node!r} that is neither "
                             "Keras 2 [[layer, node, tensor, kwargs], ...] nor Keras 3 {args, kwargs}")
    return calls


def _history_names(obj: Any) -> list[str]:
    """Layer names of every Keras 3 tensor (``keras_history``) nested in ``obj``, in order."""
    if isinstance(obj, dict):
        hist = obj.get("keras_history")
        if isinstance(hist, list) and hist and isinstance(hist[0], str):
            return [hist[0]]
        return [n for v in obj.values() for n in _history_names(v)]
    if isinstance(obj, list):
        return [n for v in obj for n in _history_names(v)]
    return []


def _check_chain(by_name: dict[str, dict], inbound: dict[str, list[list[str]]], path: Path) -> None:
    """Refuse shared layers, merges and fan-outs, naming the layer where the graph branches."""
    consumers: dict[str, list[str]] = {name: [] for name in by_name}

    def where(name: str) -> str:
        return f"{path}: the model graph branches at layer '{name}' ({by_name[name]['class_name']})"

    for name, calls in inbound.items():
        if len(calls) > 1:
            raise InputError(f"{where(name)}: it is called {len(calls)} times (a shared layer); {_ONLY}")
        srcs = calls[0] if calls else []
        if len(srcs) > 1:
            listed = ", ".join(f"'{s}'" for s in srcs)
            raise InputError(f"{where(name)}: it takes {len(srcs)} inputs ({listed}); {_ONLY}")
        for src in srcs:
            if src not in consumers:
                raise InputError(f"{path}: layer '{name}' takes its input from '{src}', which "
                                 "model_config does not list")
            consumers[src].append(name)
    for name, users in consumers.items():
        if len(users) > 1:
            listed = ", ".join(f"'{u}'" for u in users)
            raise InputError(f"{where(name)}: its output feeds {len(users)} layers ({listed}); {_ONLY}")


def _walk(by_name: dict[str, dict], inbound: dict[str, list[list[str]]], first: str, last: str,
          path: Path) -> list[dict]:
    """Follow the single inputs back from ``last`` to ``first``; every layer must be on the way."""
    for what, name in (("input", first), ("output", last)):
        if name not in by_name:
            raise InputError(f"{path}: the model's {what} layer '{name}' is not in model_config's layers")
    chain = [last]
    while inbound[chain[-1]] and inbound[chain[-1]][0] and len(chain) <= len(by_name):
        chain.append(inbound[chain[-1]][0][0])
    if chain[-1] != first:
        raise InputError(f"{path}: the chain back from output '{last}' starts at '{chain[-1]}', "
                         f"not at the input '{first}'; {_ONLY}")
    off = [n for n in by_name if n not in set(chain)]
    if off:
        raise InputError(f"{path}: the model graph branches at layer '{off[0]}' "
                         f"({by_name[off[0]]['class_name']}): it is not on the chain from "
                         f"'{first}' to '{last}'; {_ONLY}")
    return [by_name[n] for n in reversed(chain)]
