"""Model anatomy: conv layers, receptive fields, and the sub-model "input -> conv L neuron".

The forward of the full-length trunk is :mod:`combmotif.models.trunk`.

NeuronMotif interprets a neuron as channel ``k`` of conv layer ``L`` at the
single central position of an input exactly one receptive field (RF) long.
This module finds that geometry from the module itself, by walking the
convolutional trunk in forward order (``nn.Sequential`` children: Conv1d,
MaxPool1d, AvgPool1d, position-wise norms, activations and dropout), so it
works for our Saluki model and for an imported Keras ``Sequential`` alike and
never depends on layer names.

Why the sub-model drops padding
-------------------------------
A model trained with ``'same'`` padding zero-pads every conv input. Deep inside
a real sequence those pads are never seen: the value of conv L at an interior
position depends only on the RF-long input window under it. Evaluating that
RF-long window *with* padding would add zeros at the edges of every
intermediate feature map that an interior position never sees, and would give
several output positions instead of one. With padding set to 0 ("valid") an
RF-long input gives exactly one output position, and every intermediate value
equals the value the full model computes at the corresponding interior
position (checked in ``tests/test_anatomy.py``). Positions near the ends of a
padded sequence, whose window overhangs the sequence, are not what a neuron
"prefers" and are out of scope.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Sequence

import torch
from torch import nn

from ..errors import InputError
from .keras import Exp
from .saluki import ChannelLayerNorm

# Modules that act on each position independently (eval mode), so they change
# neither the receptive field nor the positions.
POSITION_WISE: tuple[type, ...] = (
    nn.ReLU, nn.LeakyReLU, nn.ELU, nn.SELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh,
    nn.Softplus, nn.Hardtanh, nn.ReLU6, nn.PReLU, nn.Identity,
    nn.Dropout, nn.Dropout1d, nn.AlphaDropout,
    nn.BatchNorm1d, nn.InstanceNorm1d, ChannelLayerNorm, Exp,
)
POOLS: tuple[type, ...] = (nn.MaxPool1d, nn.AvgPool1d)


def _is_position_wise(module: nn.Module) -> bool:
    # An importer can mark its own modules (e.g. a Keras "exponential" activation).
    return isinstance(module, POSITION_WISE) or bool(getattr(module, "position_wise", False))


def _int(v) -> int:
    return int(v[0]) if isinstance(v, (tuple, list)) else int(v)


@dataclass(frozen=True)
class LayerInfo:
    """Geometry of one conv layer of the trunk.

    Attributes
    ----------
    layer : int
        1-based conv layer number (``conv<layer>`` in output paths).
    name : str
        Module path, e.g. ``body.conv3``.
    position : int
        Index of the conv module in the flattened trunk.
    rf : int
        Receptive field in input positions.
    jump : int
        Input positions between two neighbouring outputs (product of strides below).
    offset : int
        Input position of the first input of output position 0 in the full,
        padded model (negative with ``'same'`` padding): output ``j`` sees
        inputs ``j * jump + offset ... + rf - 1``.
    shift : int
        Product of the pooling sizes below this layer: the largest circular
        shift the sampler applies (the pooling invariance it undoes).
    pools : list of (name, kernel_size)
        Pooling layers below this layer, shallowest first.
    """

    layer: int
    name: str
    position: int
    in_channels: int
    out_channels: int
    kernel_size: int
    dilation: int
    stride: int
    padding: int
    rf: int
    jump: int
    offset: int
    shift: int
    pools: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    def row(self) -> dict:
        """The fields as one ``anatomy.csv`` row (pools as ``name:size`` joined by ``;``).

        Returns
        -------
        dict
        """
        d = asdict(self)
        d["pools"] = ";".join(f"{n}:{k}" for n, k in self.pools)
        return d


def flatten_trunk(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The conv trunk of ``model`` as (name, module) pairs in forward order.

    The trunk is ``model.body`` when that is an ``nn.Sequential`` (our Saluki
    model), ``model`` itself when it is one (an imported Keras Sequential), or
    else the first ``nn.Sequential`` child holding a ``Conv1d``. Nested
    Sequentials are flattened. The walk stops at the first module that is not a
    conv, a pool or a position-wise module (Flatten, Linear, GRU, ...): what
    follows is not a position-preserving trunk.

    Parameters
    ----------
    model : torch.nn.Module
        The model.

    Returns
    -------
    list of (str, torch.nn.Module)
        The trunk's modules with their dotted names.
    """
    if isinstance(getattr(model, "body", None), nn.Sequential):
        root, prefix = model.body, "body"
    elif isinstance(model, nn.Sequential):
        root, prefix = model, ""
    else:
        root, prefix = None, ""
        for name, child in model.named_children():
            if isinstance(child, nn.Sequential) and any(isinstance(m, nn.Conv1d) for m in child.modules()):
                root, prefix = child, name
                break
        if root is None:
            raise InputError(f"{type(model).__name__}: no nn.Sequential conv trunk found")

    out: list[tuple[str, nn.Module]] = []

    def walk(seq: nn.Sequential, pre: str) -> bool:
        for name, mod in seq.named_children():
            full = f"{pre}.{name}" if pre else name
            if isinstance(mod, nn.Sequential):
                if not walk(mod, full):
                    return False
            elif isinstance(mod, (nn.Conv1d, *POOLS)) or _is_position_wise(mod):
                out.append((full, mod))
            else:
                return False
        return True

    walk(root, prefix)
    return out


class Anatomy:
    """Conv layers of a model and their receptive fields.

    Parameters
    ----------
    model : nn.Module
        Any module whose trunk :func:`flatten_trunk` finds.
    """

    def __init__(self, model: nn.Module):
        self.trunk = flatten_trunk(model)
        convs = [i for i, (_, m) in enumerate(self.trunk) if isinstance(m, nn.Conv1d)]
        if not convs:
            raise InputError(f"{type(model).__name__}: no Conv1d layer in the trunk")
        first = self.trunk[convs[0]][1]
        self.in_channels = int(first.in_channels)
        if self.in_channels < 4:
            raise InputError(f"first conv has {self.in_channels} input tracks; need at least 4 (A, C, G, T)")
        self.layers: list[LayerInfo] = []
        rf, jump, offset, pools = 1, 1, 0, []
        for i, (name, mod) in enumerate(self.trunk):
            if isinstance(mod, nn.Conv1d):
                k, d, s = _int(mod.kernel_size), _int(mod.dilation), _int(mod.stride)
                pad = _conv_left_pad(mod)
                offset -= pad * jump
                rf += (k - 1) * d * jump
                shift = 1
                for _, pk in pools:
                    shift *= pk
                self.layers.append(LayerInfo(
                    layer=len(self.layers) + 1, name=name, position=i,
                    in_channels=int(mod.in_channels), out_channels=int(mod.out_channels),
                    kernel_size=k, dilation=d, stride=s, padding=pad, rf=rf, jump=jump,
                    offset=offset, shift=shift, pools=tuple(pools)))
                jump *= s
            elif isinstance(mod, POOLS):
                k = _int(mod.kernel_size)
                s = _int(mod.stride) if mod.stride is not None else k
                offset -= _int(mod.padding) * jump
                rf += (k - 1) * jump
                jump *= s
                pools.append((name, k))

    def __len__(self) -> int:
        return len(self.layers)

    def layer(self, L: int) -> LayerInfo:
        """One conv layer's anatomy.

        Parameters
        ----------
        L : int
            1-based conv layer.

        Returns
        -------
        LayerInfo
        """
        if not 1 <= L <= len(self.layers):
            raise InputError(f"layer {L} does not exist (the model has conv1..conv{len(self.layers)})")
        return self.layers[L - 1]

    def table(self) -> list[dict]:
        """One row per conv layer (for ``anatomy.csv``).

        Returns
        -------
        list of dict
            The fields of each :class:`LayerInfo`, pools as ``name:size`` joined by ``;``.
        """
        return [li.row() for li in self.layers]

    def cut(self, L: int, after_activation: bool = False,
            extra_tracks: Sequence[float] | None = None) -> "ConvCut":
        """Sub-model: RF-long one-hot (N, 4, RF) -> conv L output (N, C) at its one position.

        Parameters
        ----------
        L : int
            1-based conv layer.
        after_activation : bool
            Take the output after the layer's norm/activation instead of the raw conv.
        extra_tracks : sequence of float, optional
            Constant values of the input channels beyond ACGT.

        Returns
        -------
        ConvCut
        """
        return ConvCut(self, L, after_activation, extra_tracks)


def _conv_left_pad(conv: nn.Conv1d) -> int:
    pad = conv.padding
    if isinstance(pad, str):
        if pad == "valid":
            return 0
        # torch's 'same' puts the extra pad (even kernels) on the right.
        return (_int(conv.dilation) * (_int(conv.kernel_size) - 1)) // 2
    return _int(pad)


class _ContiguousChannelNorm(nn.Module):
    """:class:`ChannelLayerNorm` returning a contiguous tensor: same values, and the
    following conv runs ~30% faster forward+backward than on the transposed view."""

    def __init__(self, norm: ChannelLayerNorm):
        super().__init__()
        self.norm = norm.norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2).contiguous()


def _unpadded(mod: nn.Module) -> nn.Module:
    """A copy of a conv / pool with padding removed (see the module docstring)."""
    mod = copy.deepcopy(mod)
    if isinstance(mod, ChannelLayerNorm):
        return _ContiguousChannelNorm(mod)
    if isinstance(mod, nn.Conv1d):
        mod.padding = (0,)
        mod.padding_mode = "zeros"
        mod._reversed_padding_repeated_twice = [0, 0]
    elif isinstance(mod, POOLS):
        mod.padding = 0
        mod.ceil_mode = False
    return mod


class ConvCut(nn.Module):
    """RF-long one-hot input -> conv layer L's channels at the single output position.

    Built from copies of the trunk modules up to conv L with padding removed,
    in eval mode and with frozen weights, so a backward pass computes input
    gradients only. Models with more than 4 input tracks (the half-life model's
    codon and splice tracks) get the extra tracks held at constant values
    (``extra_tracks``, default 0: "no codon start, no splice site here").

    With ``after_activation`` the value is taken after the position-wise
    modules that follow conv L (its norm and activation); a pooling layer in
    between is skipped because those modules act per position.
    """

    def __init__(self, anatomy: Anatomy, L: int, after_activation: bool = False,
                 extra_tracks: Sequence[float] | None = None):
        super().__init__()
        info = anatomy.layer(L)
        self.info = info
        self.rf = info.rf
        self.out_channels = info.out_channels
        n_extra = anatomy.in_channels - 4
        vals = list(extra_tracks) if extra_tracks is not None else [0.0] * n_extra
        if len(vals) != n_extra:
            raise InputError(f"model has {anatomy.in_channels} input tracks, so extra_tracks needs "
                             f"{n_extra} values; got {len(vals)}")
        self.register_buffer("extra", torch.tensor(vals, dtype=torch.float32).view(1, -1, 1))
        mods = [_unpadded(m) for _, m in anatomy.trunk[: info.position + 1]]
        self.is_pool = [isinstance(m, POOLS) for m in mods]
        self.pool_sizes = [_int(m.kernel_size) for m in mods if isinstance(m, POOLS)]
        post: list[nn.Module] = []
        if after_activation:
            for _, m in anatomy.trunk[info.position + 1:]:
                if isinstance(m, nn.Conv1d):
                    break
                if not isinstance(m, POOLS):
                    post.append(_unpadded(m))
        self.layers = nn.ModuleList(mods)
        self.post = nn.ModuleList(post)
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> "ConvCut":
        """Stay in evaluation mode whatever ``mode`` says.

        Parameters
        ----------
        mode : bool
            Ignored: dropout stays off and batch norm uses its running statistics.

        Returns
        -------
        ConvCut
            This module.
        """
        return super().train(False)

    def forward(self, x: torch.Tensor, return_pool_inputs: bool = False):
        """``x``: (N, 4, RF) one-hot. Returns (N, C), plus the list of pooling
        inputs (N, C_i, L_i), shallowest first, when ``return_pool_inputs``.

        Parameters
        ----------
        x : torch.Tensor
            (N, 4, RF) one-hot.
        return_pool_inputs : bool
            Also return the pooling layers' inputs.

        Returns
        -------
        torch.Tensor or tuple
            (N, C), or (N, C) and the list of pooling inputs.
        """
        if x.ndim != 3 or x.shape[1] != 4 or x.shape[2] != self.rf:
            raise InputError(f"conv{self.info.layer} sub-model expects (N, 4, {self.rf}); got {tuple(x.shape)}")
        h = x
        if self.extra.shape[1]:
            h = torch.cat([h, self.extra.to(h.dtype).expand(h.shape[0], -1, h.shape[2])], 1)
        pool_inputs = []
        for m, is_pool in zip(self.layers, self.is_pool):
            if is_pool and return_pool_inputs:
                pool_inputs.append(h)
            h = m(h)
        for m in self.post:
            h = m(h)
        out = h[:, :, 0]
        return (out, pool_inputs) if return_pool_inputs else out
