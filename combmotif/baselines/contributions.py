"""Contribution maps of a model target: mean-centred gradients and in-silico mutagenesis.

TF-MoDISco (:mod:`combmotif.baselines.modisco`) and the interaction stage's
attribution patterns read these (N, L, 4) hypothetical contributions. A target
is a scalar per sequence (:func:`target_fn`): the model output, or a conv neuron's
maximum over positions. An output target of a model with a plain conv trunk also
carries ``substitutions``, the windowed forward of :mod:`combmotif.models.substitution`,
which ISM takes instead of running every variant through the whole model.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..models.substitution import substitution_outputs, substitution_plan
from ..models.trunk import neuron_max_fn, zero_extra_tracks
from .common import OUTPUT, output_fn


def gradient_contributions(fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray,
                           batch_size: int = 256, device="cpu") -> np.ndarray:
    """Mean-centred gradients (N, L, 4) of the scalar ``fn(x)`` (B,) w.r.t. the A/C/G/T channels.

    Parameters
    ----------
    fn : callable
        Differentiable x (B, C, L) -> (B,) target (:func:`target_fn`).
    X : numpy.ndarray
        (N, C, L) one-hot inputs; tracks beyond ACGT are passed but not attributed.
    batch_size, device
        Sequences per backward pass (default 256); where ``fn`` runs (default ``"cpu"``).

    Returns
    -------
    numpy.ndarray
        (N, L, 4) float32 hypothetical contributions (centring removes a gradient's per-position constant).
    """
    out = np.empty((len(X), X.shape[2], 4), np.float32)
    for i in range(0, len(X), batch_size):
        x = torch.as_tensor(X[i:i + batch_size], dtype=torch.float32, device=device).requires_grad_(True)
        fn(x).sum().backward()
        g = x.grad[:, :4]
        out[i:i + len(x)] = (g - g.mean(1, keepdim=True)).transpose(1, 2).cpu().numpy()
    return out


@torch.no_grad()
def ism_contributions(fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray,
                      batch_size: int = 4096, device="cpu") -> np.ndarray:
    """Mean-centred single-base substitution effects (N, L, 4): ``fn`` with base b at l.

    Parameters
    ----------
    fn : callable
        x (B, C, L) -> (B,) target (:func:`target_fn`).
    X : numpy.ndarray
        (N, C, L) one-hot inputs; tracks beyond ACGT are kept in every variant.
    batch_size, device
        Variants per forward pass (default 4096, at least one sequence's 3 L); where ``fn`` runs.

    Returns
    -------
    numpy.ndarray
        (N, L, 4) float32: the target with base b at position l, minus its mean over b.

    Raises
    ------
    combmotif.errors.InputError
        When the inputs are longer than 2000 nt (use gradients instead).
    """
    n, channels, length = X.shape
    if length > 2000:
        raise InputError(f"ism on {length}-nt inputs needs {3 * length} model calls per sequence; use gradients")
    out = np.empty((n, length, 4), np.float32)
    # A target that knows its model's trunk recomputes only the window a base reaches
    # (combmotif.models.substitution); a variant is then a few columns, not a sequence.
    fast = getattr(fn, "substitutions", None)
    per_chunk = max(1, batch_size // (3 * length))
    eye = torch.eye(4, device=device)
    with torch.no_grad():               # forward passes only: no graph to keep
        for i in range(0, n, per_chunk):
            x = torch.as_tensor(X[i:i + per_chunk], dtype=torch.float32, device=device)
            # Its own base at l gives the sequence itself: one call, then the other bases only.
            y = fn(x)[:, None, None].expand(len(x), length, 4).clone()
            sub = (x[:, :4].transpose(1, 2) != 1).nonzero()            # (m, 3): sequence, l, base
            if fast is not None:
                y[sub[:, 0], sub[:, 1], sub[:, 2]] = fast(x, sub)
            else:
                v = x[sub[:, 0]]
                v[torch.arange(len(sub), device=device), :4, sub[:, 1]] = eye[sub[:, 2]]
                y[sub[:, 0], sub[:, 1], sub[:, 2]] = fn(v)
            out[i:i + len(x)] = (y - y.mean(-1, keepdim=True)).cpu().numpy()
    return out


def target_fn(model: nn.Module, target: tuple[int | str, int], in_channels: int
              ) -> Callable[[torch.Tensor], torch.Tensor]:
    """x -> (B,) scalar: the model output ``index`` or conv-L neuron k's maximum over positions.

    Parameters
    ----------
    model : nn.Module
        The model.
    target : tuple of (int or str, int)
        ``(layer, k)`` from :func:`parse_target`: ``("output", index)`` or (L, neuron).
    in_channels : int
        Input tracks of the model; extra tracks are held at 0 when x has only A, C, G, T.

    Returns
    -------
    callable
        Differentiable x (B, 4 or in_channels, L) -> (B,).
    """
    layer, k = target
    if layer == OUTPUT:
        f = output_fn(model, in_channels)

        def out(x: torch.Tensor) -> torch.Tensor:
            return f(x)[:, k]
        trunk = substitution_plan(model)
        if trunk is not None:
            # ISM's variants through only the windows each base reaches (same values).
            def substitutions(x: torch.Tensor, sub: torch.Tensor) -> torch.Tensor:
                y = substitution_outputs(model, zero_extra_tracks(x, in_channels), sub, trunk)
                return y.reshape(len(y), -1)[:, k]
            out.substitutions = substitutions
        return out
    g = neuron_max_fn(model, int(layer), in_channels)
    return lambda x: g(x)[:, k]
