"""DeMo / DeepBind-style binding-site classifier: a conv stack with pools and a small head.

The trunk is one ``nn.Sequential`` called ``body`` whose children are blocks
named ``conv1`` .. ``convN``, each ``Conv1d -> [BatchNorm1d] -> ReLU ->
[MaxPool1d] -> Dropout``; :mod:`combmotif.models.anatomy` flattens the nested
blocks, so receptive fields, NeuronMotif's sub-models and the trunk forward work
as for the Saluki model. The head is ``global_max`` (max over positions, then one
linear unit) or ``dense`` (flatten, a hidden ReLU layer, one linear unit).

``forward`` returns the **logit** of "bound" (N,), not a probability: training
uses ``BCEWithLogitsLoss`` and every interpretation stage explains the logit
(a sigmoid would saturate and flatten contributions of strong sites). Trained on
a regression set (an MRL CSV) the same network is a regressor: ``forward`` is the
prediction on the standardised label scale, as the Saluki model's.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..errors import InputError
from .saluki import SequenceModel


class BindingCNN(SequenceModel):
    """Conv stack over one-hot sequences: a binary classifier's logit, or a regressor's prediction.

    Parameters
    ----------
    in_channels : int
        Input tracks (4: A, C, G, T; U reads as T).
    seq_len : int
        Input length; inputs of another length are refused.
    conv_filters : list of int
        Filters of conv1 .. convN.
    conv_kernels : list of int
        Kernel size of each conv layer (odd with ``'same'`` padding).
    pools : list of int
        Max-pool size after each conv layer (1: no pool).
    padding : {'same', 'valid'}
        Convolution padding.
    batch_norm : bool
        Batch norm between each conv and its ReLU.
    head : {'global_max', 'dense'}
        Max over positions -> Linear, or flatten -> Linear -> ReLU -> Dropout -> Linear.
    dense_units : int
        Hidden units of the ``dense`` head.
    dropout : float
        Dropout after each block (and in the dense head).
    """

    def __init__(self, in_channels: int = 4, seq_len: int = 101, conv_filters=(128, 128, 128),
                 conv_kernels=(9, 7, 5), pools=(2, 2, 2), padding: str = "same", batch_norm: bool = True,
                 head: str = "global_max", dense_units: int = 64, dropout: float = 0.2,
                 num_targets: int = 1, kind: str = "binding_cnn"):
        super().__init__()
        self.arch = dict(kind="binding_cnn", in_channels=in_channels, seq_len=seq_len,
                         conv_filters=list(conv_filters), conv_kernels=list(conv_kernels),
                         pools=list(pools), padding=padding, batch_norm=batch_norm, head=head,
                         dense_units=dense_units, dropout=dropout, num_targets=num_targets)
        check_binding_arch(self.arch)
        blocks: list[tuple[str, nn.Module]] = []
        channels = in_channels
        for i, (f, k, p) in enumerate(zip(conv_filters, conv_kernels, pools), start=1):
            parts: list[tuple[str, nn.Module]] = [
                ("conv", nn.Conv1d(channels, f, k, padding=k // 2 if padding == "same" else 0))]
            if batch_norm:
                parts.append(("bn", nn.BatchNorm1d(f)))
            parts.append(("relu", nn.ReLU()))
            if p > 1:
                parts.append(("pool", nn.MaxPool1d(p)))
            parts.append(("drop", nn.Dropout(dropout)))
            blocks.append((f"conv{i}", nn.Sequential(OrderedDict(parts))))
            channels = f
        self.body = nn.Sequential(OrderedDict(blocks))
        length = self.trunk_length()
        if length < 1:
            raise InputError(f"seq_len {seq_len} is too short for conv_kernels={list(conv_kernels)}, "
                             f"pools={list(pools)} with {padding} padding")
        if head == "global_max":
            self.head = nn.Sequential(OrderedDict([("dense", nn.Linear(channels, num_targets))]))
        else:
            self.head = nn.Sequential(OrderedDict([
                ("flatten", nn.Flatten()), ("dense1", nn.Linear(channels * length, dense_units)),
                ("relu", nn.ReLU()), ("drop", nn.Dropout(dropout)),
                ("dense2", nn.Linear(dense_units, num_targets))]))

    def trunk_length(self) -> int:
        """Positions left after the conv stack.

        Returns
        -------
        int
            The trunk's output length for ``seq_len`` inputs (0 or less: no position left).
        """
        a = self.arch
        length = a["seq_len"]
        for k, p in zip(a["conv_kernels"], a["pools"]):
            length -= 0 if a["padding"] == "same" else k - 1
            length //= p
            if length < 1:
                return 0
        return length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logit of "bound" for each sequence.

        Parameters
        ----------
        x : torch.Tensor
            (N, in_channels, seq_len) one-hot.

        Returns
        -------
        torch.Tensor
            (N,) logits when ``num_targets`` is 1, else (N, num_targets).

        Raises
        ------
        InputError
            When ``x`` does not have shape (N, in_channels, seq_len).
        """
        self.check_input(x)
        return self.forward_from_trunk(self.body(x))

    def forward_from_trunk(self, h: torch.Tensor) -> torch.Tensor:
        """The model from its conv stack's output on (the head).

        Parameters
        ----------
        h : torch.Tensor
            (N, channels, L') what ``body`` returns.

        Returns
        -------
        torch.Tensor
            As :meth:`forward`.
        """
        out = self.head(h.amax(dim=2) if self.arch["head"] == "global_max" else h)
        return out.squeeze(-1) if self.num_targets == 1 else out


def _ints(v, low: int) -> bool:
    return (isinstance(v, (list, tuple)) and len(v) >= 1
            and all(isinstance(x, int) and not isinstance(x, bool) and x >= low for x in v))


def _int(v, low: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


BINDING_RULES = {
    "kind": (lambda v: v == "binding_cnn", "'binding_cnn'"),
    "in_channels": (lambda v: _int(v, 1), "an integer >= 1"),
    "seq_len": (lambda v: _int(v, 1), "an integer >= 1"),
    "conv_filters": (lambda v: _ints(v, 1), "a non-empty list of integers >= 1"),
    "conv_kernels": (lambda v: _ints(v, 1), "a non-empty list of integers >= 1"),
    "pools": (lambda v: _ints(v, 1), "a non-empty list of integers >= 1 (1: no pool)"),
    "padding": (lambda v: v in ("same", "valid"), "'same' or 'valid'"),
    "batch_norm": (lambda v: isinstance(v, bool), "true or false"),
    "head": (lambda v: v in ("global_max", "dense"), "'global_max' or 'dense'"),
    "dense_units": (lambda v: _int(v, 1), "an integer >= 1"),
    "dropout": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1,
                "a number in [0, 1)"),
    "num_targets": (lambda v: _int(v, 1), "an integer >= 1"),
}


def check_binding_arch(arch: dict) -> None:
    """Check a :class:`BindingCNN` ``arch`` before building anything from it.

    Parameters
    ----------
    arch : dict
        Constructor arguments (with ``kind: binding_cnn``).

    Raises
    ------
    InputError
        ``'arch.<key>' must be ...; got ...`` for an unknown key, a value of the wrong
        type or range, lists of different lengths, or an even kernel with ``'same'`` padding.
    """
    if not isinstance(arch, dict):
        raise InputError(f"'arch' must be a mapping of constructor arguments; got {type(arch).__name__}")
    for key, value in arch.items():
        if key not in BINDING_RULES:
            raise InputError(f"'arch' has unknown key {key!r} (known: {', '.join(BINDING_RULES)})")
        test, rule = BINDING_RULES[key]
        if not test(value):
            raise InputError(f"'arch.{key}' must be {rule}; got {value!r}")
    lists = {k: arch[k] for k in ("conv_filters", "conv_kernels", "pools") if k in arch}
    if len({len(v) for v in lists.values()}) > 1:
        raise InputError("'arch' conv_filters, conv_kernels and pools must have one entry per conv "
                         f"layer; got {lists}")
    if arch.get("padding", "same") == "same" and any(k % 2 == 0 for k in arch.get("conv_kernels", [])):
        raise InputError(f"'arch.conv_kernels' must be odd with 'same' padding; got {arch['conv_kernels']}")


def build_binding(arch: dict) -> BindingCNN:
    """Rebuild a :class:`BindingCNN` from a checkpoint's ``arch`` (checked first).

    Parameters
    ----------
    arch : dict
        Constructor arguments; missing keys take the constructor's defaults.

    Returns
    -------
    BindingCNN
        A freshly initialised model (weights not loaded), in training mode.

    Raises
    ------
    InputError
        For a bad or unknown key (:func:`check_binding_arch`), or a ``seq_len`` too short.
    """
    check_binding_arch(arch)
    return BindingCNN(**arch)
