"""Model outputs of single-base substitution variants, recomputing only what each base reaches.

In-silico mutagenesis runs the model on 3 L variants of every sequence, each one
base away from it. Through a conv trunk a base at ``p`` changes only a window of
every feature map (the positions whose receptive field holds ``p``), so the trunk
of a variant is the sequence's own trunk with that window recomputed (the idea of
fastISM, Nair et al. 2022). Here every module of the trunk gets, per variant, the
changed window of its input, widened by the reference values around it that a
convolution or a pool reads, and passes on the changed window of its output; the
last window is written into the reference trunk output and the rest of the model
(GRU, dense head) runs as usual. All variants of a batch go through each module
at once, each with its own window start.

Exact up to float rounding: a window is computed by the same module weights on
the same values, and zero padding is put back where a full-length convolution
would pad. Models whose trunk is not a plain ``body`` of convolutions (stride 1),
pools (no padding, stride <= kernel) and position-wise modules, or that do not
say how to run from their trunk output (``forward_from_trunk``), take the full
forward instead (:func:`substitution_plan` returns None).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from .anatomy import POOLS, Anatomy, _conv_left_pad, _int, _is_position_wise


def substitution_plan(model: nn.Module, layer: int | None = None) -> list[nn.Module] | None:
    """The trunk modules in forward order when the windowed forward applies, else None.

    Parameters
    ----------
    model : nn.Module
        The model (in eval mode: a training-mode norm mixes positions of a batch).
    layer : int, optional
        Only the trunk up to and including conv ``layer`` (its raw output, as the
        max-activation search reads it); the model need not say how to run on from
        there. Default: the whole model, whose ``body`` must be all trunk and which
        must have ``forward_from_trunk``.

    Returns
    -------
    list of nn.Module or None
    """
    body = getattr(model, "body", None)
    try:
        anatomy = Anatomy(model)
        trunk = [m for _, m in anatomy.trunk]
        if layer is not None:
            trunk = trunk[: anatomy.layer(layer).position + 1]
    except InputError:      # no trunk at all: the full forward decides what to say
        return None
    if layer is None and (not isinstance(body, nn.Sequential) or len(trunk) != _leaves(body)
                          or not callable(getattr(model, "forward_from_trunk", None))):
        return None         # no place to splice the trunk output back in
    if any(m.training for m in trunk) or (layer is None and model.training):
        return None
    for m in trunk:
        if isinstance(m, nn.Conv1d):
            if _int(m.stride) != 1 or m.padding_mode != "zeros":
                return None
        elif isinstance(m, POOLS):
            k = _int(m.kernel_size)
            s = _int(m.stride) if m.stride is not None else k
            if _int(m.padding) or m.ceil_mode or s > k or _int(getattr(m, "dilation", 1)) != 1:
                return None
        elif not _is_position_wise(m):
            return None
    return trunk


@torch.no_grad()
def substitution_outputs(model: nn.Module, x: torch.Tensor, sub: torch.Tensor,
                         trunk: list[nn.Module] | None = None) -> torch.Tensor | None:
    """The model on each variant of ``x`` with one base substituted.

    Parameters
    ----------
    model : nn.Module
        The model, in eval mode.
    x : torch.Tensor
        (N, C, L) the sequences, every input track of the model.
    sub : torch.Tensor
        (m, 3) long: sequence row, position, base (0-3) of each variant; the base
        column becomes that base's one-hot, the other tracks stay.
    trunk : list of nn.Module, optional
        :func:`substitution_plan` of the model (computed when not given).

    Returns
    -------
    torch.Tensor or None
        What ``model(variant)`` returns, stacked over the m variants; None when the
        model has no plan (run the full forward).
    """
    trunk = substitution_plan(model) if trunk is None else trunk
    if trunk is None:
        return None
    rows, at = sub[:, 0], sub[:, 1]
    column = x[rows, :, at].unsqueeze(-1).clone()
    column[:, :4] = 0
    column[torch.arange(len(sub), device=x.device), sub[:, 2], 0] = 1
    return window_outputs(model, x, rows, at, column, trunk)


@torch.no_grad()
def window_outputs(model: nn.Module, x: torch.Tensor, rows: torch.Tensor, start: torch.Tensor,
                   window: torch.Tensor, trunk: list[nn.Module], layer_output: bool = False,
                   refs: list[torch.Tensor] | None = None) -> torch.Tensor:
    """The model on variants of ``x`` that differ from their sequence within one window each.

    Parameters
    ----------
    model : nn.Module
        The model, in eval mode.
    x : torch.Tensor
        (N, C, L) the sequences, every input track the trunk reads.
    rows : torch.Tensor
        (m,) long: each variant's sequence.
    start : torch.Tensor
        (m,) long: where its window starts (``start + w <= L``).
    window : torch.Tensor
        (m, C, w) the variant's input over its window (outside it, the sequence's).
    trunk : list of nn.Module
        :func:`substitution_plan` of the model (or of its trunk up to a layer).
    layer_output : bool
        Return the last trunk module's output (m, C', L') instead of running the
        model on from there (for a plan up to a conv layer).
    refs : list of torch.Tensor, optional
        :func:`trunk_activations` of ``x`` (computed when not given; pass them when
        the variants of the same sequences come in several chunks).

    Returns
    -------
    torch.Tensor
        ``model(variant)`` (or the trunk output) stacked over the m variants.
    """
    device = x.device
    refs = trunk_activations(x, trunk) if refs is None else refs
    chg, a, width = window, start.clone(), window.shape[-1]
    for m, ref in zip(trunk, refs):
        length = ref.shape[-1]
        if isinstance(m, nn.Conv1d):
            reach = _int(m.dilation) * (_int(m.kernel_size) - 1)
            first = a - reach
            win = _windows(ref, rows, first, width + 2 * reach)
            win[:, :, reach:reach + width] = chg
            pos = first[:, None] + torch.arange(win.shape[-1], device=device)
            win.mul_(((pos >= 0) & (pos < length)).unsqueeze(1))        # the conv's zero padding
            chg = F.conv1d(win, m.weight, m.bias, 1, 0, m.dilation, m.groups)
            a, width = first + _conv_left_pad(m), width + reach
        elif isinstance(m, POOLS):
            k = _int(m.kernel_size)
            s = _int(m.stride) if m.stride is not None else k
            first = torch.div(a - k + s, s, rounding_mode="floor")       # first output reading a changed input
            # Outputs a window of ``width`` reaches, at most (over where it starts modulo s).
            count = max((r + width - 1) // s - (r - k + s) // s + 1 for r in range(s))
            win = _windows(ref, rows, first * s, (count - 1) * s + k)
            off = a - first * s                       # 0 .. k - 1: one slice per offset
            for o in torch.unique(off).tolist():
                sel = (off == o).nonzero(as_tuple=True)[0]
                win[sel, :, o:o + width] = chg[sel]
            chg = m(win)
            a, width = first, count
        else:
            chg = m(chg)
    out = refs[-1][rows].clone()
    pos = a[:, None] + torch.arange(width, device=device)
    keep = (pos >= 0) & (pos < out.shape[-1])
    r, j = keep.nonzero(as_tuple=True)
    out[r, :, pos[r, j]] = chg[r, :, j]
    return out if layer_output else model.forward_from_trunk(out)


@torch.no_grad()
def trunk_activations(x: torch.Tensor, trunk: list[nn.Module]) -> list[torch.Tensor]:
    """The input of every trunk module for the sequences themselves, and the last one's output.

    Parameters
    ----------
    x : torch.Tensor
        (N, C, L) the sequences.
    trunk : list of nn.Module
        The plan.

    Returns
    -------
    list of torch.Tensor
        ``len(trunk) + 1`` tensors: ``x``, then each module's output.
    """
    out = [x]
    for m in trunk:
        out.append(m(out[-1]))
    return out


def window_chunks(model: nn.Module, x, rows, start, window, trunk: list[nn.Module], batch_size: int,
                  layer_output: bool = False, reduce=None):
    """:func:`window_outputs` of many variants, ``batch_size`` at a time, on the model's device.

    Parameters
    ----------
    model : nn.Module
        The model, in eval mode.
    x, rows, start, window : array-like
        As :func:`window_outputs` (numpy arrays or tensors).
    trunk : list of nn.Module
        The plan.
    batch_size : int
        Variants per pass.
    layer_output : bool
        As :func:`window_outputs`.
    reduce : callable, optional
        Applied to each chunk's output on the device (e.g. one channel's maximum).

    Returns
    -------
    numpy.ndarray
        The chunks' outputs concatenated, float32.
    """
    device = next(iter(model.parameters()), torch.zeros(0)).device
    ref = torch.as_tensor(x, dtype=torch.float32, device=device)
    win = torch.as_tensor(window, dtype=torch.float32, device=device)
    rows, start = torch.as_tensor(rows, device=device), torch.as_tensor(start, device=device)
    refs = trunk_activations(ref, trunk)          # once for every chunk of variants
    parts = []
    for i in range(0, len(rows), batch_size):
        part = slice(i, i + batch_size)
        out = window_outputs(model, ref, rows[part], start[part], win[part], trunk, layer_output, refs)
        parts.append((reduce(out) if reduce is not None else out).float().cpu().numpy())
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def worth_windows(width: int, length: int) -> bool:
    """Whether variants differing within ``width`` of ``length`` positions gain from the windowed
    forward: a window wider than half the sequence grows to most of it by the last layer, and
    gathering the windows then costs more than the full forward saves.

    Parameters
    ----------
    width, length : int
        The window's and the sequence's lengths.

    Returns
    -------
    bool
    """
    return 2 * width <= length


def _leaves(seq: nn.Sequential) -> int:
    """Modules of a Sequential, nested Sequentials flattened (as :func:`flatten_trunk` walks)."""
    return sum(_leaves(m) if isinstance(m, nn.Sequential) else 1 for m in seq.children())


def _windows(ref: torch.Tensor, rows: torch.Tensor, start: torch.Tensor, width: int) -> torch.Tensor:
    """(m, C, width): ``ref[rows[i], :, start[i]:start[i] + width]``, zeros outside the sequence."""
    lo = max(0, -int(start.min()))
    hi = max(0, int(start.max()) + width - ref.shape[-1])
    padded = F.pad(ref, (lo, hi)) if lo or hi else ref
    return padded.unfold(2, width, 1)[rows, :, start + lo]
