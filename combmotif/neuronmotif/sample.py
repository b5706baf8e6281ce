"""Sampling sequences that activate a layer's neurons (NeuronMotif, step 1).

Two samplers, both over *all selected neurons of a layer at once*:

* :func:`enumerate_layer` — every one of the 4^RF sequences when the receptive
  field is small (RF <= ``enumerate_max_rf``); one forward pass per chunk
  gives every neuron's activation.
* :func:`evolve_layer` — the genetic algorithm of NeuronMotif. The whole
  layer is one population tensor ``(n_neurons * population, 4, RF)``; each
  generation costs one forward and one backward pass for every neuron
  together (each sequence's fitness is its own neuron's channel, gathered),
  the fitness reuses the forward pass of the gradient, and each neuron stops
  on its own after ``patience`` generations without improvement.

Per generation and neuron: the top ``elite`` fraction is kept, a ``shift``
fraction are elites circularly shifted by up to the product of the pooling
sizes below the layer (undoing the pooling invariance), and the remaining
``crossover`` fraction are one-point crossovers of roulette-selected (by
activation) parents, each parent first mutated by drawing every base from the
positive part of ``x + alpha * gain`` normalised per position, where ``gain``
is the gradient's first-order gain of each substitution. Every positive
sequence met goes to an archive of unique sequences (integer codes, 2-bit
packed and hashed; no strings) in ``bins`` equal-width activation bins over
(0, current max], at most ``bin_cap`` per bin.

The initial populations come from one shared *screening pool*: random
sequences plus, when the previous layer's PPMs are given (NeuronMotif's
seeding), sequences carrying one or two samples of those PPMs. One forward
pass scores the pool for every neuron; each neuron starts from its own best.

Randomness is counter-based (a 64-bit hash of seed, neuron, generation, draw
and element), so a neuron's trajectory does not depend on which other neurons
share its batch: running one neuron alone replays the same draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from ..sequences import codes_to_onehot
from .archive import Archive, _np_mix, cap_bins
from .randomness import (
    _CUT,
    _M64,
    _MUTATE,
    _PARENTS,
    _POOL,
    _PPM_BASE,
    _PPM_PICK,
    _PPM_POS,
    _PPM_TWO,
    _PRIO,
    _SHIFT_AMT,
    _SHIFT_PICK,
    _uniform,
    _uniform_flat,
    stream_key,
)

# --------------------------------------------------------------------------- settings


@dataclass
class SamplingConfig:
    """Sampler settings (the ``sampling:`` section of a discovery config)."""

    enumerate_max_rf: int = 10
    population: int = 64
    max_generations: int = 80
    patience: int = 10
    min_improvement: float = 0.001
    alpha: float = 0.1
    random_mutation: float = 0.01
    elite: float = 0.1
    shift: float = 0.2
    crossover: float = 0.7
    bins: int = 20
    bin_cap: int = 150
    screen: int = 131072
    seed_from_previous: bool = True
    seeded_fraction: float = 0.5
    after_activation: bool = False
    extra_tracks: list[float] | None = None

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if abs(self.elite + self.shift + self.crossover - 1.0) > 1e-6:
            raise ValueError("sampling.elite + sampling.shift + sampling.crossover must sum to 1 "
                             f"(got {self.elite + self.shift + self.crossover:g})")
        for key in ("population", "max_generations", "patience", "bins", "bin_cap", "screen"):
            if getattr(self, key) < 1:
                raise ValueError(f"sampling.{key} must be >= 1")
        if not 0 <= self.seeded_fraction <= 1:
            raise ValueError("sampling.seeded_fraction must be in [0, 1]")
        if self.alpha < 0 or self.random_mutation < 0:
            raise ValueError("sampling.alpha and sampling.random_mutation must be >= 0")


@dataclass
class NeuronSamples:
    """The archive of one neuron: unique positive sequences, best first."""

    neuron: int
    codes: np.ndarray          # (A, RF) int8, A,C,G,T = 0..3
    act: np.ndarray            # (A,) float32, > 0
    method: str                # "enumerate" or "ga"
    generations: int           # GA generations run (0 for enumeration)
    evaluations: int           # sequences evaluated for this neuron (fwd+bwd for GA)

    @property
    def max_activation(self) -> float:
        """The best activation found (0 when there is no sample)."""
        return float(self.act[0]) if len(self.act) else 0.0


# --------------------------------------------------------------------------- network passes


def _forward(cut: torch.nn.Module, codes: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Activations (N, C) of all channels, no gradient, in chunks."""
    outs = []
    with torch.no_grad():
        for s in range(0, len(codes), batch_size):
            outs.append(cut(codes_to_onehot(codes[s:s + batch_size])))
    return torch.cat(outs) if outs else torch.zeros(0, cut.out_channels, device=codes.device)


def _forward_backward(cut: torch.nn.Module, codes: torch.Tensor, channel: torch.Tensor,
                      batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each sequence's own neuron's activation and its gradient w.r.t. the one-hot input.

    One forward and one backward pass per chunk serve every neuron: the
    sequences' outputs are gathered at their own channel and summed, so the
    gradient of row i is d a_{channel[i]}(x_i) / d x_i.
    """
    acts, grads = [], []
    for s in range(0, len(codes), batch_size):
        x = codes_to_onehot(codes[s:s + batch_size]).requires_grad_(True)
        with torch.enable_grad():
            a = cut(x).gather(1, channel[s:s + batch_size, None]).squeeze(1)
            (g,) = torch.autograd.grad(a.sum(), x)
        acts.append(a.detach())
        grads.append(g)
    return torch.cat(acts), torch.cat(grads)


# --------------------------------------------------------------------------- enumeration


def all_sequences(rf: int, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """Codes of sequences ``start..stop-1`` in base-4 order (first position most significant).

    Parameters
    ----------
    rf : int
        Sequence length.
    start, stop : int
        Range of sequence numbers.
    device : torch.device
        Where the codes are made.

    Returns
    -------
    torch.Tensor
        (stop - start, rf) int8 codes.
    """
    idx = torch.arange(start, stop, device=device, dtype=torch.int64)
    shifts = 2 * torch.arange(rf - 1, -1, -1, device=device, dtype=torch.int64)
    return ((idx[:, None] >> shifts[None, :]) & 3).to(torch.int8)


def enumerate_layer(cut: torch.nn.Module, neurons: Sequence[int], cfg: SamplingConfig, seed: int,
                    batch_size: int = 4096, progress: Callable[[dict], None] | None = None
                    ) -> list[NeuronSamples]:
    """Evaluate all 4^RF sequences once for every neuron; archive the positives per bin.

    Parameters
    ----------
    cut : ConvCut
        Sub-model RF-long one-hot -> conv L channels (see :mod:`combmotif.models.anatomy`).
    neurons : sequence of int
        Channels to sample.
    cfg : SamplingConfig
        The sampling settings.
    seed : int
        Run seed.
    batch_size : int
        Sequences per forward pass.
    progress : callable, optional
        Called with ``{"stage", "done", "total"}`` after each batch.

    Returns
    -------
    list of NeuronSamples
        One per neuron, in the order of ``neurons``.
    """
    rf = cut.rf
    device = next(iter(cut.buffers())).device
    total = 4 ** rf
    channels = torch.as_tensor(list(neurons), dtype=torch.int64, device=device)
    acts = torch.empty(total, len(neurons), dtype=torch.float32)
    for s in range(0, total, batch_size):
        e = min(total, s + batch_size)
        acts[s:e] = _forward(cut, all_sequences(rf, s, e, device), batch_size)[:, channels].cpu()
        if progress:
            progress({"stage": "enumerate", "done": e, "total": total})
    acts_np = acts.numpy()
    out = []
    for j, k in enumerate(neurons):  # one vectorised pass per neuron over all sequences
        col = acts_np[:, j]
        idx = np.flatnonzero(col > 0)
        a = col[idx]
        prio = (_np_mix(idx.astype(np.uint64) ^ np.uint64(stream_key(seed, _PRIO, k) & _M64))
                >> np.uint64(24)).astype(np.int64)
        keep = cap_bins(np.zeros(len(idx), dtype=np.int64), a, prio, 1, cfg.bins, cfg.bin_cap)
        idx, a = idx[keep], a[keep]
        order = np.lexsort((idx, -a))
        idx, a = idx[order], a[order]
        shifts = 2 * np.arange(rf - 1, -1, -1, dtype=np.int64)
        codes = ((idx[:, None].astype(np.int64) >> shifts[None, :]) & 3).astype(np.int8)
        out.append(NeuronSamples(int(k), codes, a.astype(np.float32), "enumerate", 0, total))
    return out


# --------------------------------------------------------------------------- screening pool


def screening_pool(rf: int, n: int, seed: int, layer: int, device: torch.device,
                   ppms: Sequence[np.ndarray] | None = None, seeded_fraction: float = 0.5
                   ) -> torch.Tensor:
    """Shared candidate sequences: random, plus samples of the previous layer's PPMs.

    A seeded sequence is random background with one (or, half of the time, a
    second) sequence drawn from a randomly chosen PPM placed at a random
    offset, as deeper neurons combine the patterns of shallower ones.

    Parameters
    ----------
    rf : int
        Sequence length.
    n : int
        Pool size.
    seed : int
        Run seed.
    layer : int
        The layer (part of the random streams).
    device : torch.device
        Where the pool is made.
    ppms : sequence of numpy.ndarray, optional
        The previous layer's (W, 4) PPMs.
    seeded_fraction : float
        Share of the pool seeded from the PPMs.

    Returns
    -------
    torch.Tensor
        (n, rf) codes.
    """
    u = _uniform_flat(stream_key(seed, _POOL, layer), n * rf, device).view(n, rf)
    codes = (u * 4).long().clamp_max(3)
    ppms = [p for p in (ppms or []) if len(p)]
    n_seed = int(round(n * seeded_fraction)) if ppms else 0
    if n_seed:
        width = min(rf, min(len(p) for p in ppms))
        # PPMs wider than the window are cut to their centre.
        stack = torch.stack([torch.as_tensor(_centre(p, width), dtype=torch.float64) for p in ppms]).to(device)
        cdf = stack.cumsum(-1)
        cdf = cdf / cdf[..., -1:]
        for rep in range(2):
            pick = (_uniform_flat(stream_key(seed, _PPM_PICK, layer, rep), n_seed, device) * len(ppms)).long()
            pick = pick.clamp_max(len(ppms) - 1)
            off = (_uniform_flat(stream_key(seed, _PPM_POS, layer, rep), n_seed, device)
                   * (rf - width + 1)).long().clamp_max(rf - width)
            ub = _uniform_flat(stream_key(seed, _PPM_BASE, layer, rep), n_seed * width, device).view(n_seed, width)
            bases = (cdf[pick] <= ub[..., None]).sum(-1).clamp_max(3)
            cols = off[:, None] + torch.arange(width, device=device)[None, :]
            rows = codes[:n_seed]
            if rep == 1:  # a second motif in half of the seeded sequences
                two = _uniform_flat(stream_key(seed, _PPM_TWO, layer), n_seed, device) < 0.5
                bases = torch.where(two[:, None], bases, rows.gather(1, cols))
            rows.scatter_(1, cols, bases)
    return codes.to(torch.int8)


def _centre(ppm: np.ndarray, width: int) -> np.ndarray:
    start = (len(ppm) - width) // 2
    return np.asarray(ppm, dtype=np.float64)[start:start + width]


# --------------------------------------------------------------------------- genetic algorithm

# Generations between two applications of the archive cap (bounded memory; a
# fixed schedule keeps each neuron's archive independent of its batch mates).
_CAP_EVERY = 4


def _next_generation(codes: torch.Tensor, act: torch.Tensor, grad: torch.Tensor, channels: torch.Tensor,
                     gen: int, cfg: SamplingConfig, seed: int, max_shift: int) -> torch.Tensor:
    """One GA step for every active neuron. codes (n, pop, RF) long; act (n, pop); grad (n, pop, 4, RF)."""
    n, pop, rf = codes.shape
    dev = codes.device
    n_elite = max(1, int(round(pop * cfg.elite)))
    n_shift = int(round(pop * cfg.shift)) if max_shift > 0 and rf > 1 else 0
    n_shift = min(n_shift, pop - n_elite)
    n_cross = pop - n_elite - n_shift

    order = torch.argsort(act, dim=1, descending=True, stable=True)
    elites = codes.gather(1, order[:, :n_elite, None].expand(-1, -1, rf))
    parts = [elites]

    if n_shift:
        pick = (_uniform(stream_key(seed, _SHIFT_PICK, gen), channels, (n_shift,)) * n_elite).long()
        src = elites.gather(1, pick.clamp_max(n_elite - 1)[..., None].expand(-1, -1, rf))
        s = (_uniform(stream_key(seed, _SHIFT_AMT, gen), channels, (n_shift,)) * (2 * max_shift)).long()
        s = s.clamp_max(2 * max_shift - 1) - max_shift
        s = torch.where(s >= 0, s + 1, s)  # -S..-1, 1..S: never the identity
        pos = (torch.arange(rf, device=dev)[None, None, :] - s[..., None]) % rf
        parts.append(src.gather(2, pos))

    if n_cross:
        w = act.clamp_min(0).double()
        w = torch.where(w.sum(1, keepdim=True) > 0, w, torch.ones_like(w))
        cdf = w.cumsum(1)
        cdf = cdf / cdf[:, -1:]
        u = _uniform(stream_key(seed, _PARENTS, gen), channels, (2 * n_cross,))
        parents = torch.searchsorted(cdf, u.contiguous(), right=True).clamp_max(pop - 1)
        x = codes.gather(1, parents[..., None].expand(-1, -1, rf))
        g = grad.gather(1, parents[..., None, None].expand(-1, -1, 4, rf))
        # First-order gain of substituting each base, relative to the current one.
        gain = (g - g.gather(2, x[:, :, None, :])).clamp_min(0)
        scale = gain.amax(dim=(2, 3), keepdim=True).clamp_min(1e-12)
        onehot = torch.nn.functional.one_hot(x, 4).permute(0, 1, 3, 2).to(g.dtype)
        prob = onehot + cfg.alpha * gain / scale + (cfg.random_mutation / 3.0) * (1 - onehot)
        cdf_b = prob.double().cumsum(2)
        ub = _uniform(stream_key(seed, _MUTATE, gen), channels, (2 * n_cross, rf)) * cdf_b[:, :, -1, :]
        mutated = (cdf_b <= ub[:, :, None, :]).sum(2).clamp_max(3)
        cut = 1 + (_uniform(stream_key(seed, _CUT, gen), channels, (n_cross,)) * max(rf - 1, 1)).long()
        left = torch.arange(rf, device=dev)[None, None, :] < cut[..., None]
        parts.append(torch.where(left, mutated[:, :n_cross], mutated[:, n_cross:]))
    return torch.cat(parts, 1)


def _initial_population(cut: torch.nn.Module, channels: torch.Tensor, cfg: SamplingConfig, seed: int, layer: int,
                        batch_size: int, seed_ppms, archive: Archive) -> tuple[torch.Tensor, int]:
    """Score the shared screening pool for every neuron, archive it, and start each neuron
    from its best pool sequences; returns the (n, pop, RF) population and the pool size."""
    rf, pop, n = cut.rf, cfg.population, len(channels)
    device = channels.device
    # Shared screening pool: one forward pass scores it for every neuron.
    pool = screening_pool(rf, cfg.screen, seed, layer, device,
                          seed_ppms if cfg.seed_from_previous else None, cfg.seeded_fraction)
    pool_act = _forward(cut, pool, batch_size)[:, channels]              # (M, n)
    pool_np = pool.cpu().numpy()
    pa = pool_act.cpu().numpy()
    # Cap the pool's (sequence, neuron) pairs before archiving them: the same
    # per-neuron bins and priorities as the archive, without hashing every pair.
    pool_hash = archive.hash(pool_np)
    rows, cols = np.nonzero(pa > 0)
    keep = cap_bins(cols, pa[rows, cols], pool_hash[rows] >> 8, n, cfg.bins, cfg.bin_cap)
    rows, cols = rows[keep], cols[keep]
    archive.add(pool_np[rows], pa[rows, cols], cols, pool_hash[rows])
    # Each neuron starts from its best pool sequences (ties are duplicate sequences in practice).
    top = torch.topk(pool_act.T, min(pop, len(pool)), dim=1).indices              # (n, pop)
    if top.shape[1] < pop:  # a screening pool smaller than the population: repeat it
        top = top.repeat(1, math.ceil(pop / top.shape[1]))[:, :pop]
    return pool.long()[top], len(pool)


def evolve_layer(cut: torch.nn.Module, neurons: Sequence[int], cfg: SamplingConfig, seed: int,
                 layer: int = 0, batch_size: int = 4096, seed_ppms: Sequence[np.ndarray] | None = None,
                 progress: Callable[[dict], None] | None = None) -> list[NeuronSamples]:
    """Genetic algorithm for all ``neurons`` of the layer in one batched population.

    Parameters
    ----------
    cut : ConvCut
        Sub-model RF-long one-hot -> conv L channels (see :mod:`combmotif.models.anatomy`).
    neurons : sequence of int
        Channels to sample.
    seed_ppms : list of (W, 4) arrays, optional
        The previous layer's PPMs, used to seed the screening pool.
    progress : callable, optional
        Called with ``{"stage", "generation", "active", "finished"}`` after each generation.

    Returns
    -------
    list of NeuronSamples
        One per neuron, in the order of ``neurons``.
    """
    rf = cut.rf
    device = next(iter(cut.buffers())).device
    n = len(neurons)
    channels = torch.as_tensor(list(neurons), dtype=torch.int64, device=device)
    max_shift = min(cut.info.shift, rf - 1) if cut.info.shift > 1 else 0
    pop = cfg.population
    archive = Archive(n, rf, cfg.bins, cfg.bin_cap, salt=seed)
    evaluations = np.zeros(n, dtype=np.int64)

    population, screened = _initial_population(cut, channels, cfg, seed, layer, batch_size, seed_ppms, archive)
    evaluations += screened
    if progress:
        progress({"stage": "screened", "generation": 0, "active": n, "finished": 0})

    best = archive.best.copy()
    stale = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    generations = np.zeros(n, dtype=np.int64)
    for gen in range(cfg.max_generations):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        sel = torch.as_tensor(idx, device=device)
        codes = population[sel]                                           # (na, pop, RF)
        ch = channels[sel]
        act, grad = _forward_backward(cut, codes.reshape(-1, rf), ch.repeat_interleave(pop), batch_size)
        evaluations[idx] += pop
        generations[idx] += 1
        archive.add(codes.reshape(-1, rf).to(torch.int8).cpu().numpy(), act.cpu().numpy(),
                    np.repeat(idx, pop))
        if (gen + 1) % _CAP_EVERY == 0:
            archive.apply_cap()
        improved = archive.best > best * (1 + cfg.min_improvement) + 1e-12
        stale = np.where(improved, 0, stale + 1)
        best = np.maximum(best, archive.best)
        active &= ~(stale >= cfg.patience)
        if progress:
            progress({"stage": "ga", "generation": gen + 1, "active": int(active.sum()),
                      "finished": int(n - active.sum())})
        still = active[idx]
        if gen + 1 == cfg.max_generations or not still.any():
            break
        keep = torch.as_tensor(np.flatnonzero(still), device=device)
        nxt = _next_generation(codes[keep], act.view(len(idx), pop)[keep],
                               grad.view(len(idx), pop, 4, rf)[keep], ch[keep], gen, cfg, seed, max_shift)
        population[sel[keep]] = nxt
    archive.apply_cap()
    out = []
    for j, k in enumerate(neurons):
        c, a = archive.of(j)
        out.append(NeuronSamples(int(k), c, a, "ga", int(generations[j]), int(evaluations[j])))
    return out


def sample_layer(cut: torch.nn.Module, neurons: Sequence[int], cfg: SamplingConfig, seed: int,
                 layer: int = 0, batch_size: int = 4096, seed_ppms: Sequence[np.ndarray] | None = None,
                 progress: Callable[[dict], None] | None = None) -> list[NeuronSamples]:
    """Enumerate when RF <= ``enumerate_max_rf``, else run the batched GA.

    Parameters
    ----------
    cut, neurons, cfg, seed, layer, batch_size, seed_ppms, progress
        As :func:`evolve_layer` (``layer`` and ``seed_ppms`` are unused when enumerating).

    Returns
    -------
    list of NeuronSamples
        One per neuron, in the order of ``neurons``.
    """
    if cut.rf <= cfg.enumerate_max_rf:
        return enumerate_layer(cut, neurons, cfg, seed, batch_size, progress)
    return evolve_layer(cut, neurons, cfg, seed, layer, batch_size, seed_ppms, progress)
