"""Counter-based randomness of the sampler: a 64-bit hash (splitmix64) of seed,
neuron, generation, draw and element, so a neuron's draws do not depend on
which other neurons share its batch."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

_M64 = (1 << 64) - 1


def _signed(v: int) -> int:
    v &= _M64
    return v - (1 << 64) if v >> 63 else v


_C1 = _signed(0xBF58476D1CE4E5B9)
_C2 = _signed(0x94D049BB133111EB)
_GOLD = _signed(0x9E3779B97F4A7C15)


def _srl(x: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's >> is arithmetic)."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def _mix(x: torch.Tensor) -> torch.Tensor:
    """splitmix64 finaliser on int64 tensors (multiplication wraps mod 2^64)."""
    x = (x ^ _srl(x, 30)) * _C1
    x = (x ^ _srl(x, 27)) * _C2
    return x ^ _srl(x, 31)


def _mix_int(v: int) -> int:
    v &= _M64
    v = ((v ^ (v >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    v = ((v ^ (v >> 27)) * 0x94D049BB133111EB) & _M64
    return _signed(v ^ (v >> 31))


def stream_key(*parts: int) -> int:
    """Fold integers (seed, purpose, generation, ...) into one 64-bit stream key.

    Parameters
    ----------
    *parts : int
        The integers naming the stream.

    Returns
    -------
    int
        The key.
    """
    h = 0x243F6A8885A308D3
    for p in parts:
        h = _mix_int((h ^ (int(p) & _M64)) + 0x9E3779B97F4A7C15)
    return h


def _uniform(key: int, neurons: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """Uniform [0, 1) float64 of shape (len(neurons), *shape): one stream per neuron."""
    n = len(neurons)
    kn = _mix(neurons.to(torch.int64) * _GOLD + key)
    count = int(np.prod(shape)) if len(shape) else 1
    idx = torch.arange(1, count + 1, device=neurons.device, dtype=torch.int64)
    x = _mix(kn[:, None] ^ (idx[None, :] * _C1))
    u = _srl(x, 11).to(torch.float64) * (2.0 ** -53)
    return u.view(n, *shape)


def _uniform_flat(key: int, count: int, device: torch.device) -> torch.Tensor:
    return _uniform(key, torch.zeros(1, dtype=torch.int64, device=device), (count,))[0]


# Purposes of the random streams.
_POOL, _PPM_PICK, _PPM_POS, _PPM_BASE, _PPM_TWO, _SHIFT_PICK, _SHIFT_AMT, _PARENTS, _MUTATE, _CUT, _PRIO = range(11)
