"""Saluki-style CNN+GRU (Agarwal & Kelley 2022), used for both MRL and half-life.

The convolutional trunk is one flat ``nn.Sequential`` called ``body`` whose
children are named ``conv1``, ``ln1``, ``relu1``, ``conv2``, ``drop2``,
``pool2``, ... so that :mod:`combmotif.models.anatomy` can find conv layers,
receptive fields and max-pool inputs by walking it, exactly as it walks an
imported Keras model.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import torch
from torch import nn

from ..errors import InputError


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of a (N, C, L) tensor, per position.

    Position-wise, so it does not widen the receptive field (Keras'
    ``LayerNormalization`` on (N, L, C) computes the same).
    """

    def __init__(self, channels: int, eps: float = 1e-3):
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each position's channel vector.

        Parameters
        ----------
        x : torch.Tensor
            (N, C, L) activations.

        Returns
        -------
        torch.Tensor
            (N, C, L), normalised over C at every position (with the learned scale and shift).
        """
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class SequenceModel(nn.Module):
    """What every model CombMotif interprets has: ``arch`` (with ``in_channels``,
    ``seq_len``, ``num_targets``), a flat ``body`` and an up-front input check."""

    arch: dict

    @property
    def num_targets(self) -> int:
        """Number of outputs per sequence (``arch["num_targets"]``); 1 gives a (N,) output."""
        return self.arch["num_targets"]

    def check_input(self, x: torch.Tensor) -> None:
        """Refuse, with one clear message, an input the model was not built for.

        Called first in ``forward`` so a wrong length or track count fails here rather
        than as a shape error deep inside torch.

        Parameters
        ----------
        x : torch.Tensor
            The batch about to be run.

        Raises
        ------
        InputError
            ``model expects input of shape (N, <in_channels>, <seq_len>); got ...``.
        """
        want = (self.arch["in_channels"], self.arch["seq_len"])
        if x.ndim != 3 or tuple(x.shape[1:]) != want:
            raise InputError(f"model expects input of shape (N, {want[0]}, {want[1]}); "
                             f"got {tuple(x.shape)}")


class SalukiModel(SequenceModel):
    """CNN+GRU regressor over one-hot sequence tracks.

    Parameters
    ----------
    in_channels : int
        Input tracks: 4 (A, C, G, T) for MRL, 6 (plus codon-start and splice) for half-life.
    seq_len : int
        Input length the model was trained on; inputs of another length are refused.
    num_layers : int
        Number of LayerNorm -> ReLU -> Conv -> Dropout -> MaxPool blocks after conv1,
        so the model has conv layers conv1 .. conv{num_layers + 1}.
    padding : {'same', 'valid'}
        Convolution padding (MRL: 'same'; half-life: 'valid').
    go_backwards : bool
        The GRU reads 3' -> 5' as Saluki's ``go_backwards=True``.
    """

    def __init__(self, in_channels: int = 4, seq_len: int = 50, num_layers: int = 3,
                 filters: int = 64, kernel_size: int = 5, padding: Literal["same", "valid"] = "same",
                 dropout: float = 0.3, gru_units: int = 64, dense_units: int = 64,
                 num_targets: int = 1, go_backwards: bool = True):
        super().__init__()
        self.arch = dict(in_channels=in_channels, seq_len=seq_len, num_layers=num_layers,
                         filters=filters, kernel_size=kernel_size, padding=padding, dropout=dropout,
                         gru_units=gru_units, dense_units=dense_units, num_targets=num_targets,
                         go_backwards=go_backwards)
        pad = kernel_size // 2 if padding == "same" else 0
        layers: list[tuple[str, nn.Module]] = [
            ("conv1", nn.Conv1d(in_channels, filters, kernel_size, padding=pad, bias=False))]
        for i in range(1, num_layers + 1):
            layers += [
                (f"ln{i}", ChannelLayerNorm(filters)),
                (f"relu{i}", nn.ReLU()),
                (f"conv{i + 1}", nn.Conv1d(filters, filters, kernel_size, padding=pad)),
                (f"drop{i + 1}", nn.Dropout(dropout)),
                (f"pool{i + 1}", nn.MaxPool1d(2)),
            ]
        layers += [("ln_out", ChannelLayerNorm(filters)), ("relu_out", nn.ReLU())]
        self.body = nn.Sequential(OrderedDict(layers))
        self.gru = nn.GRU(filters, gru_units, batch_first=True)
        self.head = nn.Sequential(OrderedDict([
            ("bn1", nn.BatchNorm1d(gru_units)), ("relu1", nn.ReLU()),
            ("dense1", nn.Linear(gru_units, dense_units)), ("drop1", nn.Dropout(dropout)),
            ("bn2", nn.BatchNorm1d(dense_units)), ("relu2", nn.ReLU()),
            ("dense2", nn.Linear(dense_units, num_targets)),
        ]))
        if self.trunk_length() < 1:
            raise InputError(f"seq_len {seq_len} is too short for num_layers={num_layers} "
                             f"{padding}-padded blocks of kernel_size {kernel_size}")

    def trunk_length(self) -> int:
        """Positions left after the conv trunk (what the GRU reads).

        Returns
        -------
        int
            The trunk's output length for ``seq_len`` inputs; 0 when the blocks leave no
            position (the constructor refuses such an architecture).
        """
        a = self.arch
        shrink = 0 if a["padding"] == "same" else a["kernel_size"] - 1
        length = a["seq_len"] - shrink
        for _ in range(a["num_layers"]):
            length = (length - shrink) // 2
            if length < 1:
                return 0
        return length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predict the label(s) of a batch: conv trunk, GRU over its positions, dense head.

        Parameters
        ----------
        x : torch.Tensor
            (N, in_channels, seq_len) float tracks.

        Returns
        -------
        torch.Tensor
            (N,) predictions when ``num_targets`` is 1, else (N, num_targets).

        Raises
        ------
        InputError
            When ``x`` does not have shape (N, in_channels, seq_len) (:meth:`check_input`).
        """
        self.check_input(x)
        return self.forward_from_trunk(self.body(x))

    def forward_from_trunk(self, h: torch.Tensor) -> torch.Tensor:
        """The model from its conv trunk's output on: GRU over the positions, dense head.

        Parameters
        ----------
        h : torch.Tensor
            (N, filters, L') what ``body`` returns.

        Returns
        -------
        torch.Tensor
            As :meth:`forward`.
        """
        h = h.transpose(1, 2)  # (N, L', C)
        if self.arch["go_backwards"]:
            h = h.flip(1)
        _, last = self.gru(h)
        out = self.head(last[-1])
        return out.squeeze(-1) if self.num_targets == 1 else out


def _int_at_least(low: int):
    return (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low,
            f"an integer >= {low}")


# What each constructor argument a checkpoint's ``arch`` may hold must be: key -> (test, rule).
ARCH_RULES = {
    "in_channels": _int_at_least(1), "seq_len": _int_at_least(1), "num_layers": _int_at_least(0),
    "filters": _int_at_least(1), "kernel_size": _int_at_least(1),
    "padding": (lambda v: v in ("same", "valid"), "'same' or 'valid'"),
    "dropout": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1,
                "a number in [0, 1)"),
    "gru_units": _int_at_least(1), "dense_units": _int_at_least(1), "num_targets": _int_at_least(1),
    "go_backwards": (lambda v: isinstance(v, bool), "true or false"),
}


def check_arch(arch: dict) -> None:
    """Check a checkpoint's ``arch`` before building anything from it.

    Parameters
    ----------
    arch : dict
        Constructor arguments of :class:`SalukiModel`.

    Raises
    ------
    InputError
        ``'arch.<key>' must be ...; got ...`` for a value of the wrong type or
        range, or an unknown key (callers add the checkpoint's file name).
    """
    if not isinstance(arch, dict):
        raise InputError(f"'arch' must be a mapping of constructor arguments; got {type(arch).__name__}")
    for key, value in arch.items():
        if key not in ARCH_RULES:
            raise InputError(f"'arch' has unknown key {key!r} (known: {', '.join(ARCH_RULES)})")
        test, rule = ARCH_RULES[key]
        if not test(value):
            raise InputError(f"'arch.{key}' must be {rule}; got {value!r}")


def build_model(arch: dict) -> SalukiModel:
    """Rebuild a model from the ``arch`` dict stored in a checkpoint (checked first, see
    :func:`check_arch`).

    Parameters
    ----------
    arch : dict
        Constructor arguments of :class:`SalukiModel`; missing keys take the constructor's defaults.

    Returns
    -------
    SalukiModel
        A freshly initialised model (weights not loaded), in training mode.

    Raises
    ------
    InputError
        For a bad or unknown ``arch`` key (:func:`check_arch`), or a ``seq_len`` too short for the trunk.
    """
    check_arch(arch)
    return SalukiModel(**arch)
