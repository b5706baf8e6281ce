"""The one trunk forward: conv outputs of full-length, padded sequences.

One forward of the full-length, padded trunk serves every consumer: the
max-activation search and fragment location (:func:`layer_outputs`), the
contribution knockout (:func:`neuron_max_over_positions`), the gradient
baselines (:func:`neuron_max_fn`) and the checks (:func:`conv_outputs`).
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .anatomy import Anatomy


def trunk_prefix(model: nn.Module, layer: int) -> nn.Sequential:
    """The model's conv trunk up to and including conv ``layer``, padding kept.

    Parameters
    ----------
    model : nn.Module
        Any module whose trunk :func:`flatten_trunk` finds.
    layer : int
        1-based conv layer.

    Returns
    -------
    nn.Sequential
        The trunk's own modules (not copies): (N, C_in, L) -> (N, C, L') pre-activation.
    """
    anatomy = Anatomy(model)
    return nn.Sequential(*[m for _, m in anatomy.trunk[: anatomy.layer(layer).position + 1]])


def zero_extra_tracks(x: torch.Tensor, in_channels: int) -> torch.Tensor:
    """``x`` with every input track beyond A, C, G, T set to 0 (added if ``x`` has only 4).

    Activations then describe the sequence alone, as NeuronMotif's samples do
    (the half-life model's codon and splice tracks read as "none here").

    Parameters
    ----------
    x : torch.Tensor
        (N, 4 or in_channels, L) input; differentiable.
    in_channels : int
        Input tracks of the model.

    Returns
    -------
    torch.Tensor
        (N, in_channels, L); ``x`` itself when the model has 4 tracks.
    """
    if in_channels <= 4:
        return x
    return torch.cat([x[:, :4], x.new_zeros(x.shape[0], in_channels - 4, x.shape[2])], 1)


def conv_outputs(model: nn.Module, x: torch.Tensor, L: int) -> torch.Tensor:
    """Full-trunk conv ``L`` output of ``model`` on ``x``, without gradients (for checks and tests).

    Parameters
    ----------
    model : nn.Module
        The model, in whatever train/eval mode it is.
    x : torch.Tensor
        (N, C_in, L_in) input.
    L : int
        1-based conv layer.

    Returns
    -------
    torch.Tensor
        (N, C, L') pre-activation output.
    """
    with torch.no_grad():
        return trunk_prefix(model, L)(x)


@torch.inference_mode()
def layer_outputs(model: nn.Module, X: np.ndarray | torch.Tensor, layers: Sequence[int],
                  batch_size: int = 1024, device: str | torch.device = "cpu",
                  zero_extra: bool = True, progress: bool = False,
                  rows: np.ndarray | None = None
                  ) -> Iterator[tuple[int, dict[int, torch.Tensor]]]:
    """Conv outputs of several layers for chunks of whole sequences, one trunk pass per chunk.

    Parameters
    ----------
    model : nn.Module
        The model; its trunk runs in eval mode (dropout off) and the modules'
        modes are restored afterwards.
    X : numpy.ndarray or torch.Tensor
        (N, C_in, L) inputs.
    layers : sequence of int
        1-based conv layers to return.
    batch_size : int
        Sequences per chunk.
    device : str or torch.device
        Where the chunk runs.
    zero_extra : bool
        Zero input tracks beyond A, C, G, T (:func:`zero_extra_tracks`).
    progress : bool
        Show a progress bar on a terminal.
    rows : numpy.ndarray, optional
        Restrict the pass to these rows of ``X`` without copying them all first;
        ``first_row`` then counts within ``rows``.

    Yields
    ------
    tuple of (int, dict)
        ``(first_row, {layer: (n, C, P) pre-activation conv output})`` per chunk.
    """
    anatomy = Anatomy(model)
    want = {anatomy.layer(L).position: L for L in layers}
    modules = [m for _, m in anatomy.trunk[: max(want) + 1]]
    n = len(X) if rows is None else len(rows)
    was_training = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        for start in tqdm(range(0, n, batch_size), desc="conv outputs", leave=False,
                          disable=None if progress else True):  # None: quiet off a terminal
            chunk = X[start:start + batch_size] if rows is None else X[rows[start:start + batch_size]]
            h = torch.as_tensor(np.asarray(chunk), dtype=torch.float32).to(device)
            if zero_extra:
                h = zero_extra_tracks(h, h.shape[1])
            out = {}
            for i, m in enumerate(modules):
                h = m(h)
                if i in want:
                    out[want[i]] = h
            yield start, out
    finally:
        for m, mode in zip(modules, was_training):
            m.train(mode)


def neuron_max_over_positions(model: nn.Module, X: np.ndarray, layer: int, neuron: int,
                              batch_size: int = 1024, device: str | torch.device = "cpu",
                              zero_extra: bool = True) -> np.ndarray:
    """One neuron's maximum over positions per sequence, as the max-activation search computes it.

    Parameters
    ----------
    model : nn.Module
        The model.
    X : numpy.ndarray
        (N, C_in, L) inputs.
    layer, neuron : int
        1-based conv layer and channel.
    batch_size, device, zero_extra
        As for :func:`layer_outputs`.

    Returns
    -------
    numpy.ndarray
        (N,) float32.
    """
    parts = [outs[layer][:, neuron].amax(dim=1).float().cpu().numpy()
             for _, outs in layer_outputs(model, X, [layer], batch_size, device, zero_extra)]
    return np.concatenate(parts)


@torch.no_grad()
def neuron_max_windows(model: nn.Module, x: np.ndarray, rows: np.ndarray, start: np.ndarray,
                       window: np.ndarray, layer: int, neuron: int, batch_size: int = 4096,
                       device: str | torch.device = "cpu", zero_extra: bool = True) -> np.ndarray | None:
    """:func:`neuron_max_over_positions` of variants that differ from their sequence within one window.

    Only what each window reaches is recomputed
    (:func:`combmotif.models.substitution.window_outputs`).

    Parameters
    ----------
    model : nn.Module
        The model (its trunk in eval mode).
    x : numpy.ndarray
        (N, C_in, L) the sequences.
    rows, start : numpy.ndarray
        (m,) each variant's sequence and window start.
    window : numpy.ndarray
        (m, C_in, w) each variant's input over its window.
    layer, neuron : int
        1-based conv layer and channel.
    batch_size, device, zero_extra
        As for :func:`layer_outputs`.

    Returns
    -------
    numpy.ndarray or None
        (m,) float32; None when the trunk does not allow the windowed forward or the
        windows are too wide to gain (:func:`~combmotif.models.substitution.worth_windows`).
    """
    from .substitution import substitution_plan, window_chunks, worth_windows

    trunk = substitution_plan(model, layer)
    if trunk is None or not worth_windows(np.shape(window)[-1], np.shape(x)[-1]):
        return None
    ref = torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)
    win = torch.as_tensor(np.asarray(window), dtype=torch.float32, device=device)
    if zero_extra:
        ref, win = zero_extra_tracks(ref, ref.shape[1]), zero_extra_tracks(win, win.shape[1])
    return window_chunks(model, ref, rows, start, win, trunk, batch_size, layer_output=True,
                         reduce=lambda out: out[:, neuron].amax(dim=1))


def neuron_max_fn(model: nn.Module, layer: int, in_channels: int
                  ) -> Callable[[torch.Tensor], torch.Tensor]:
    """Differentiable ``x -> (N, C)``: each conv-``layer`` channel's maximum over positions.

    The full-length counterpart of a NeuronMotif neuron: its gradient flows to
    the window where the neuron fires most in each sequence.

    Parameters
    ----------
    model : nn.Module
        The model (its mode is left as it is).
    layer : int
        1-based conv layer.
    in_channels : int
        Input tracks of the model; extra tracks are held at 0.

    Returns
    -------
    callable
        ``x`` (N, 4 or in_channels, L) -> (N, C).
    """
    prefix = trunk_prefix(model, layer)

    def fn(x: torch.Tensor) -> torch.Tensor:
        # Extra tracks at 0, as NeuronMotif's neurons and max_seqlet see them.
        return prefix(zero_extra_tracks(x, in_channels)).amax(-1)
    return fn
