"""The sampler's archive: unique positive sequences per neuron, binned by
activation and capped per bin (hashes of 2-bit packed codes; no strings)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from .randomness import _M64, stream_key


def content_hash(codes: np.ndarray, salt: int = 0) -> np.ndarray:
    """64-bit hash of each row of (N, RF) codes (2-bit packed, 32 bases per word).

    Parameters
    ----------
    codes : numpy.ndarray
        (N, RF) integer codes 0..3.
    salt : int
        Mixed into the hash (different runs, different hashes).

    Returns
    -------
    numpy.ndarray
        (N,) uint64 hashes.
    """
    codes = np.asarray(codes, dtype=np.uint64)
    n, rf = codes.shape
    nch = max(1, math.ceil(rf / 32))
    padded = np.zeros((n, nch * 32), dtype=np.uint64)
    padded[:, :rf] = codes
    shifts = (np.arange(32, dtype=np.uint64) * np.uint64(2))
    words = (padded.reshape(n, nch, 32) << shifts).sum(axis=2, dtype=np.uint64)
    h = np.full(n, np.uint64(stream_key(salt, rf) & _M64), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in range(nch):  # at most RF / 32 words
            h = _np_mix(h ^ words[:, c])
    return h


def _np_mix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def cap_bins(owner: np.ndarray, act: np.ndarray, prio: np.ndarray, n_owners: int,
             bins: int, cap: int) -> np.ndarray:
    """Boolean mask keeping at most ``cap`` entries per (owner, activation bin).

    Bins are ``bins`` equal-width intervals of (0, max] of each owner's
    activations; within a bin the entries with the lowest ``prio`` (a 40-bit
    hash, so a reproducible random subset) are kept. Each owner's best entry
    is always kept.

    Parameters
    ----------
    owner : numpy.ndarray
        (N,) owner (neuron) of each entry.
    act : numpy.ndarray
        (N,) activations.
    prio : numpy.ndarray
        (N,) priorities; lower is kept first.
    n_owners : int
        Number of owners.
    bins : int
        Activation bins per owner.
    cap : int
        Entries kept per bin.

    Returns
    -------
    numpy.ndarray
        (N,) bool mask of the entries kept.
    """
    if len(act) == 0:
        return np.zeros(0, dtype=bool)
    mx = np.zeros(n_owners, dtype=np.float64)
    np.maximum.at(mx, owner, act.astype(np.float64))
    rel = act / np.maximum(mx[owner], 1e-30)
    b = np.clip(np.ceil(rel * bins).astype(np.int64) - 1, 0, bins - 1)
    group = owner.astype(np.int64) * bins + b
    # One int64 sort key: group in the high bits, the 40-bit priority below.
    order = np.argsort((group << 40) | (np.asarray(prio, dtype=np.int64) & ((1 << 40) - 1)), kind="stable")
    g_sorted = group[order]
    first = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, len(g_sorted)])
    rank = np.arange(len(g_sorted)) - np.repeat(starts, counts)
    keep = np.zeros(len(act), dtype=bool)
    keep[order[rank < cap]] = True
    keep |= act >= mx[owner]
    return keep


class Archive:
    """Unique positive sequences of many neurons, binned and capped.

    Entries are kept sorted by ``key = owner << 48 | content-hash`` so a new
    batch is deduplicated by binary search and merged without re-sorting.
    Two different sequences of one neuron collide with probability ~n^2 / 2^49
    (1e-8 for 2,000 sequences); a collision only drops one sample.
    The caller applies the cap (:meth:`apply_cap`) at fixed points (every few
    generations and at the end), never depending on how many neurons share
    the archive, so a neuron's archive is the same whether it ran alone or
    with its whole layer.
    """

    def __init__(self, n_owners: int, rf: int, bins: int, cap: int, salt: int = 0):
        if n_owners >= 1 << 15:
            raise ConfigError(f"too many neurons in one run ({n_owners}); at most 32767")
        self.n_owners, self.rf, self.bins, self.cap, self.salt = n_owners, rf, bins, cap, salt
        self.keys = np.zeros(0, dtype=np.int64)
        self.codes = np.zeros((0, rf), dtype=np.int8)
        self.act = np.zeros(0, dtype=np.float32)
        self.best = np.zeros(n_owners, dtype=np.float64)

    def hash(self, codes: np.ndarray) -> np.ndarray:
        """48-bit content hashes (int64) of (N, RF) codes: the dedup key and cap priority.

        Parameters
        ----------
        codes : numpy.ndarray
            (N, RF) integer codes.

        Returns
        -------
        numpy.ndarray
            (N,) int64 hashes.
        """
        return (content_hash(codes, self.salt) >> np.uint64(16)).astype(np.int64)

    def add(self, codes: np.ndarray, act: np.ndarray, owner: np.ndarray,
            hashes: np.ndarray | None = None) -> None:
        """Add (N, RF) int8 codes with activations for owners 0..n_owners-1.

        Parameters
        ----------
        codes : numpy.ndarray
            (N, RF) int8 codes.
        act : numpy.ndarray
            (N,) activations; entries that are not positive are ignored.
        owner : numpy.ndarray
            (N,) owner of each entry.
        hashes : numpy.ndarray, optional
            :meth:`hash` of ``codes``, when already computed.
        """
        pos = act > 0
        if not pos.any():
            return
        codes, act, owner = codes[pos], act[pos].astype(np.float32), owner[pos].astype(np.int64)
        np.maximum.at(self.best, owner, act.astype(np.float64))
        h = self.hash(codes) if hashes is None else hashes[pos]
        keys = (owner << 48) | h
        keys, first = np.unique(keys, return_index=True)
        codes, act = codes[first], act[first]
        at = np.searchsorted(self.keys, keys)
        known = np.zeros(len(keys), dtype=bool)
        inside = at < len(self.keys)
        known[inside] = self.keys[at[inside]] == keys[inside]
        if known.all():
            return
        new = ~known
        self.keys = np.insert(self.keys, at[new], keys[new])
        self.codes = np.insert(self.codes, at[new], codes[new], axis=0)
        self.act = np.insert(self.act, at[new], act[new])

    def apply_cap(self) -> None:
        """Keep at most ``cap`` entries per (owner, activation bin) (:func:`cap_bins`)."""
        owner = self.keys >> 48
        keep = cap_bins(owner, self.act, (self.keys & ((1 << 48) - 1)) >> 8, self.n_owners, self.bins, self.cap)
        self.keys, self.codes, self.act = self.keys[keep], self.codes[keep], self.act[keep]

    def of(self, owner: int) -> tuple[np.ndarray, np.ndarray]:
        """Codes and activations of one owner, best first (ties: by key).

        Parameters
        ----------
        owner : int
            The neuron.

        Returns
        -------
        tuple of numpy.ndarray
            (n, RF) codes and (n,) activations.
        """
        lo, hi = np.searchsorted(self.keys, [owner << 48, (owner + 1) << 48])
        act = self.act[lo:hi]
        order = np.argsort(-act, kind="stable")
        return self.codes[lo:hi][order], act[order]
