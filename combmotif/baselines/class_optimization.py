"""Class optimization (Simonyan et al. 2013, for DNA: Deep Motif, Lanchantin et al. 2016).

Find the input that a target likes best by gradient ascent on a relaxed
input ``S`` (4 x W, real values) instead of a one-hot sequence::

    S* = argmax_S  f(S) - lambda * ||S||_2^2,   S clipped to [0, 1] after every step

``f`` is the model output (input as long as the model's, ``W = seq_len``)
or one conv-L neuron (input one receptive field long through
:meth:`combmotif.models.anatomy.Anatomy.cut`, the neuron's value at its single
central position, as NeuronMotif defines a neuron). The L2 penalty drives
positions that do not matter towards zero, so what stays high is what the
target needs. ``S*`` becomes a PPM by normalising each position (Deep Motif's
PWM) with a Laplace pseudocount (positions driven to zero become uniform).

Several restarts per target, and every target of a layer, are one tensor:
one forward and one backward pass per step serve all of them. Restarts start
from ``0.25 + U(-init_noise, init_noise)`` drawn from a seeded generator. A
step adds ``lr`` x the restart's gradient divided by its root mean square
(``lr`` shrinking linearly to 0 over the steps): the gradient's direction, as
in plain gradient ascent, with one step size for targets whose gradients
differ by orders of magnitude. (Adam, offered, moves
every element by about ``lr`` whatever its gradient's size; with the simplex
projection that spreads mass over every base with a positive gradient, and on
a linear first-layer filter it stalled at 0.76 of the best k-mer's value.)
The restarts are ranked by the objective; the best ``keep`` per target are exported.

``constraint``: ``clip`` keeps every value in [0, 1] (Deep Motif as
published). ``simplex`` projects each position onto the probability simplex
(Duchi et al. 2008), so the input stays a PPM: a relaxed input can then not
score by switching several bases on at once, which clipping allows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..models.anatomy import Anatomy
from ..neuronmotif.ppm import PPMConfig
from .common import OUTPUT, Pattern, finished, model_device, output_fn, unit_dir, write_unit

METHOD = "class_optimization"


@dataclass
class ClassOptConfig:
    """Settings of the class-optimization baseline (``methods.class_optimization``)."""

    restarts: int = 8              # independent starts per target (one tensor)
    steps: int = 300               # gradient steps
    lr: float = 0.05               # step size (see ``optimizer``)
    l2: float = 0.01               # lambda of the penalty lambda * ||S||^2 (per target)
    init_noise: float = 0.1        # starts: 0.25 + U(-init_noise, init_noise)
    keep: int = 1                  # best restarts exported per target (one PPM each)
    pseudocount: float = 0.05      # Laplace pseudocount added to S before normalising
    output: bool = True            # also optimise the model output (layer "output")
    output_index: int | None = None  # one target of a multi-target model (None: all)
    after_activation: bool = False   # neurons: value after the conv's norm/activation
    max_batch: int = 4096          # relaxed inputs per forward pass at most
    constraint: Literal["clip", "simplex"] = "clip"  # clip to [0, 1] (Deep Motif) or project per position
    optimizer: Literal["normalized", "adam"] = "normalized"  # gradient steps scaled per restart, or Adam

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.restarts < 1 or self.steps < 1 or not 1 <= self.keep <= self.restarts:
            raise ValueError("class_optimization: restarts, steps >= 1 and 1 <= keep <= restarts")
        if self.lr <= 0 or self.l2 < 0 or self.pseudocount <= 0 or not 0 <= self.init_noise <= 0.25:
            raise ValueError("class_optimization: lr, pseudocount > 0; l2 >= 0; init_noise in [0, 0.25]")


def optimize_inputs(fn: Callable[[torch.Tensor], torch.Tensor], targets: Sequence[int], width: int,
                    cfg: ClassOptConfig, seed: int = 0, device="cpu", stream: int = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient ascent for every target at once.

    Parameters
    ----------
    fn : callable
        x (B, 4, width) -> (B, T) scores of all targets (output units or channels).
    targets : sequence of int
        Columns of ``fn``'s output to maximise.
    seed, stream : int
        Each target's starts come from its own generator seeded by (seed, stream,
        target), so a target's result does not depend on which others run with it.

    Returns
    -------
    S : (n_targets, restarts, 4, width) optimised inputs in [0, 1]
    objective : (n_targets, restarts) ``f(S) - l2 * ||S||^2`` at the end
    score : (n_targets, restarts) ``f(S)`` at the end
    """
    targets = torch.as_tensor(list(targets), dtype=torch.long, device=device)
    n_t, r = len(targets), cfg.restarts
    if n_t * r > cfg.max_batch:
        raise InputError(f"{n_t} targets x {r} restarts exceed max_batch {cfg.max_batch}; "
                         "optimise fewer targets per call")
    init = torch.cat([torch.rand(r, 4, width, generator=torch.Generator().manual_seed(
        start_seed(seed, stream, int(t)))) for t in targets.tolist()])
    init = 0.25 + (init * 2 - 1) * cfg.init_noise
    S = init.to(device).requires_grad_(True)
    col = targets.repeat_interleave(r)
    rows = torch.arange(n_t * r, device=device)
    opt = torch.optim.Adam([S], lr=cfg.lr) if cfg.optimizer == "adam" else None
    for step in range(cfg.steps):
        score = fn(S)[rows, col]
        objective = score - cfg.l2 * S.pow(2).sum((1, 2))
        if opt is not None:
            opt.zero_grad()
            (-objective.sum()).backward()
            opt.step()
        else:
            (g,) = torch.autograd.grad(objective.sum(), S)
            with torch.no_grad():
                # Scale-free steps that keep the gradient's direction: each restart's gradient
                # divided by its root mean square, so its typical element moves by lr; the step
                # shrinks linearly to 0 so that S settles instead of circling an optimum.
                rms = g.pow(2).mean((1, 2), keepdim=True).sqrt()
                S.add_(cfg.lr * (1 - step / cfg.steps) * g / (rms + 1e-12))
        with torch.no_grad():
            if cfg.constraint == "simplex":
                S.copy_(project_simplex(S))
            else:
                S.clamp_(0.0, 1.0)
    with torch.no_grad():
        score = fn(S)[rows, col]
        objective = score - cfg.l2 * S.pow(2).sum((1, 2))
    shape = (n_t, r)
    return (S.detach().cpu().numpy().reshape(n_t, r, 4, width),
            objective.cpu().numpy().reshape(shape), score.cpu().numpy().reshape(shape))


def project_simplex(S: torch.Tensor) -> torch.Tensor:
    """Euclidean projection of every column of S (..., 4, W) onto the probability simplex.

    Sort-based (Held et al. 1974; Duchi et al. 2008): subtract the threshold tau
    that makes the positive parts sum to one. Used by the ``simplex`` constraint
    so a relaxed input stays a PPM.

    Parameters
    ----------
    S : torch.Tensor
        (..., 4, W) relaxed inputs; the bases are the second-to-last axis.

    Returns
    -------
    torch.Tensor
        Same shape as ``S``: non-negative, each position's four values summing to 1.
    """
    u = S.sort(dim=-2, descending=True).values
    css = u.cumsum(-2) - 1
    k = torch.arange(1, S.shape[-2] + 1, device=S.device, dtype=S.dtype).view(-1, 1)
    cond = (u - css / k) > 0
    rho = cond.to(S.dtype).cumsum(-2).argmax(-2, keepdim=True)   # last index where cond holds
    tau = css.gather(-2, rho) / (rho + 1).to(S.dtype)
    return (S - tau).clamp_min(0)


def start_seed(seed: int, stream: int, target: int) -> int:
    """A 63-bit generator seed for one target's restarts (splitmix64 of the three keys).

    A target's starts then depend only on (seed, stream, target), not on which
    other targets are optimised in the same batch.

    Parameters
    ----------
    seed : int
        The run's seed.
    stream : int
        Which family of targets: the conv layer number, 0 for the model output.
    target : int
        The neuron (channel) or output index.

    Returns
    -------
    int
        A seed in [0, 2**63), for ``torch.Generator().manual_seed``.
    """
    x = (int(seed) * 0x9E3779B97F4A7C15 + int(stream) * 0xBF58476D1CE4E5B9 + int(target) + 1) & (2**64 - 1)
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
    return (x ^ (x >> 31)) >> 1


def relaxed_to_ppm(S: np.ndarray, pseudocount: float = 0.05) -> np.ndarray:
    """(..., 4, W) relaxed input -> (..., W, 4) PPM: (S + pc) normalised per position.

    Deep Motif's PWM of an optimised input; the pseudocount makes positions
    driven to zero by the L2 penalty uniform.

    Parameters
    ----------
    S : numpy.ndarray
        (..., 4, W) relaxed inputs (non-negative).
    pseudocount : float
        Added to every value before normalising (default 0.05).

    Returns
    -------
    numpy.ndarray
        (..., W, 4) float64 PPM, rows summing to 1.
    """
    p = np.swapaxes(np.asarray(S, dtype=np.float64), -1, -2) + pseudocount
    return p / p.sum(-1, keepdims=True)


def best_patterns(S: np.ndarray, objective: np.ndarray, score: np.ndarray, cfg: ClassOptConfig
                  ) -> list[list[Pattern]]:
    """Per target, the ``keep`` best restarts as patterns (objective descending).

    Parameters
    ----------
    S : numpy.ndarray
        (n_targets, restarts, 4, width) optimised inputs (:func:`optimize_inputs`).
    objective : numpy.ndarray
        (n_targets, restarts) final objective ``f(S) - l2 * ||S||^2``; ranks the restarts.
    score : numpy.ndarray
        (n_targets, restarts) final ``f(S)``; becomes the pattern's score.
    cfg : ClassOptConfig
        Supplies ``keep`` and ``pseudocount``.

    Returns
    -------
    list of list of Pattern
        One list per target, ``cfg.keep`` patterns each: PPM of the restart
        (:func:`relaxed_to_ppm`), size 1, score ``f(S)``, and info ``objective``
        and ``restart`` (the restart's index).
    """
    order = np.argsort(-objective, axis=1, kind="stable")[:, :cfg.keep]
    ppms = relaxed_to_ppm(S, cfg.pseudocount)
    out = []
    for t in range(len(S)):
        out.append([Pattern(ppms[t, i], 1, float(score[t, i]),
                            {"objective": float(objective[t, i]), "restart": int(i)}) for i in order[t]])
    return out


def neuron_fn(model: nn.Module, layer: int, after_activation: bool = False
              ) -> tuple[Callable[[torch.Tensor], torch.Tensor], int, int]:
    """The conv-L layer as a function of one receptive field, for optimising its neurons.

    Parameters
    ----------
    model : nn.Module
        The model.
    layer : int
        1-based conv layer.
    after_activation : bool
        Take the value after the layer's norm/activation instead of the raw conv (default False).

    Returns
    -------
    fn : callable
        The cut sub-model (:meth:`combmotif.models.anatomy.Anatomy.cut`), on the
        model's device: x (B, 4, RF) -> (B, C) conv-L values at the central position.
    rf : int
        Receptive field of the layer (the input width).
    n_channels : int
        Neurons (channels) of the layer.
    """
    cut = Anatomy(model).cut(layer, after_activation).to(model_device(model))
    return cut, cut.rf, cut.out_channels


def run_class_optimization(model: nn.Module, out_dir: str | Path, cfg: ClassOptConfig,
                           layers: Sequence[int], neurons: Callable[[int, int], Sequence[int]],
                           in_channels: int, seq_len: int, seed: int = 0,
                           ppm_cfg: PPMConfig | None = None, force: bool = False) -> list[dict]:
    """Optimise the selected neurons of ``layers`` (and the output when ``cfg.output``).

    Writes ``<out_dir>/{conv<L>,output}/neuron<k>/`` (:func:`combmotif.baselines.common.write_unit`);
    finished units are skipped unless ``force``.

    Parameters
    ----------
    model : nn.Module
        The model; set to eval mode.
    out_dir : str or Path
        The method's folder, ``results/<model>/baselines/class_optimization``.
    cfg : ClassOptConfig
        The method's settings.
    layers : sequence of int
        1-based conv layers whose neurons are optimised.
    neurons : callable
        ``neurons(layer, n_channels)`` -> the neuron selection of a layer.
    in_channels : int
        Input tracks of the model (extra tracks held at 0 for the output).
    seq_len : int
        Input length of the model (the width of the output's relaxed input).
    seed : int
        Seed of the restarts' starts (default 0).
    ppm_cfg : PPMConfig, optional
        Segment rule of the unit files; default ``PPMConfig()``.
    force : bool
        Recompute finished units (default False).

    Returns
    -------
    list of dict
        One run record per layer (the output last): ``method``, ``layer``,
        ``units`` (selected), ``computed`` (not skipped) and ``seconds`` (None
        when nothing was computed).

    Raises
    ------
    combmotif.errors.InputError
        When ``cfg.output_index`` is not an output of the model, or
        ``cfg.restarts`` exceeds ``cfg.max_batch``.
    """
    device = model_device(model)
    model.eval()
    records = []
    jobs: list[tuple[int | str, Callable, int, list[int]]] = []
    for layer in layers:
        fn, rf, n_ch = neuron_fn(model, layer, cfg.after_activation)
        jobs.append((layer, fn, rf, list(neurons(layer, n_ch))))
    if cfg.output:
        fn = output_fn(model, in_channels)
        with torch.no_grad():
            n_out = fn(torch.zeros(1, 4, seq_len, device=device)).shape[1]
        sel = list(range(n_out)) if cfg.output_index is None else [cfg.output_index]
        if max(sel) >= n_out:
            raise InputError(f"class_optimization.output_index {cfg.output_index}: the model has {n_out} outputs")
        jobs.append((OUTPUT, fn, seq_len, sel))
    for layer, fn, width, sel in jobs:
        todo = [k for k in sel if force or not finished(unit_dir(out_dir, layer, k))]
        t0 = time.perf_counter()
        chunk = max(1, cfg.max_batch // cfg.restarts)
        for i in range(0, len(todo), chunk):
            part = todo[i:i + chunk]
            S, obj, score = optimize_inputs(fn, part, width, cfg, seed, device,
                                            stream=0 if layer == OUTPUT else int(layer))
            for k, pats in zip(part, best_patterns(S, obj, score, cfg)):
                write_unit(unit_dir(out_dir, layer, k), METHOD, layer, k, pats, ppm_cfg,
                           {"width": width, "restarts": cfg.restarts, "steps": cfg.steps, "l2": cfg.l2,
                            "objective_all": [round(float(v), 6) for v in obj[part.index(k)]]})
        records.append({"method": METHOD, "layer": layer, "units": len(sel), "computed": len(todo),
                        "seconds": time.perf_counter() - t0 if todo else None})
    return records
