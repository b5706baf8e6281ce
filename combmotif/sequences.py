"""Alphabets, one-hot encoding, decoding, validation, shuffles and IUPAC codes.

Sequences are handled as DNA letters ``ACGT`` internally (U is read as T), the
convention of the MRL data and of every motif database we read. One-hot arrays
are ``(N, 4, L)`` float32, channels-first as torch's Conv1d expects; ``N`` (any
unknown base) is an all-zero column.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from .errors import InputError

DNA = "ACGT"
VALID_LETTERS = set("ACGTUN")

# Byte -> channel index; 4 means "all-zero column" (N), -1 means invalid.
_LUT = np.full(256, -1, dtype=np.int8)
for _i, _c in enumerate(DNA):
    _LUT[ord(_c)] = _i
    _LUT[ord(_c.lower())] = _i
_LUT[ord("U")] = _LUT[ord("u")] = 3
_LUT[ord("N")] = _LUT[ord("n")] = 4

IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "U": "T",
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}
#: The IUPAC letter of each set of bases (U left out: it reads as T).
IUPAC_OF_BASES = {frozenset(bases): code for code, bases in IUPAC.items() if code != "U"}


def centre_fit(seqs: Sequence[str], length: int) -> list[str]:
    """Centre-crop longer sequences and pad shorter ones with ``N`` on both sides.

    Parameters
    ----------
    seqs : sequence of str
        Sequences of any lengths.
    length : int
        The width wanted.

    Returns
    -------
    list of str
        Every sequence exactly ``length`` long: a longer one keeps letters
        ``(len - length) // 2`` onwards; a shorter one gets ``(length - len) // 2``
        ``N`` on the left and the rest on the right (``N`` encodes as an all-zero column).
    """
    out = []
    for s in seqs:
        extra = len(s) - length
        if extra >= 0:
            out.append(s[extra // 2: extra // 2 + length])
        else:
            left = -extra // 2
            out.append("N" * left + s + "N" * (-extra - left))
    return out


def encode_indices(seqs: Sequence[str], length: int | None = None, source: str = "input",
                   pad: str = "right") -> np.ndarray:
    """Integer-encode sequences: (N, L) int8 with A,C,G,T = 0..3 and 4 for N or padding.

    Sequences longer than ``length`` are cut to their first ``length`` letters
    (``pad='right'``), their last (``pad='left'``) or their middle (``pad='centre'``,
    :func:`centre_fit`: how the binding-site classifiers are trained); shorter ones are
    padded with 4 (on both sides for ``centre``).
    Raises :class:`InputError` naming ``source`` and the first bad sequence.

    Parameters
    ----------
    seqs : sequence of str
        Sequences over ACGTUN (any case).
    length : int, optional
        Width of the output (default: the longest sequence).
    source : str
        Where the sequences come from, for the error message.
    pad : {"right", "left", "centre"}
        Which end is padded (and which end is kept when cutting).

    Returns
    -------
    numpy.ndarray
        (N, L) int8 codes.
    """
    seqs = list(seqs)
    if length is None:
        length = max((len(s) for s in seqs), default=0)
    if pad == "centre":
        seqs, pad = centre_fit(seqs, length), "right"
    out = np.full((len(seqs), length), 4, dtype=np.int8)
    if not seqs:
        return out
    # Pad to a common width in one join, then look every byte up at once.
    padded = "".join(s[:length].ljust(length, "N") if pad == "right"
                     else s[-length:].rjust(length, "N") for s in seqs)
    try:
        raw = np.frombuffer(padded.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        bad = next(i for i, s in enumerate(seqs) if not s.isascii())
        raise InputError(f"{source}: sequence {bad} has non-ASCII characters") from None
    idx = _LUT[raw].reshape(len(seqs), length)
    if (idx < 0).any():
        row, col = np.argwhere(idx < 0)[0]
        s = seqs[row]
        pos = col if pad == "right" else col - (length - min(len(s), length))
        raise InputError(f"{source}: sequence {row} has invalid character {padded[row * length + col]!r} "
                         f"at position {pos} (allowed: A, C, G, T, U, N)")
    out[:] = idx
    return out


def one_hot(seqs: Sequence[str], length: int | None = None, source: str = "input",
            pad: str = "right") -> np.ndarray:
    """One-hot encode sequences to (N, 4, L) float32 (see :func:`encode_indices`).

    Parameters
    ----------
    seqs, length, source, pad
        As :func:`encode_indices`.

    Returns
    -------
    numpy.ndarray
        (N, 4, L) float32.
    """
    return indices_to_one_hot(encode_indices(seqs, length, source, pad))


def indices_to_one_hot(idx: np.ndarray) -> np.ndarray:
    """(N, L) integer codes (4 = N) -> (N, 4, L) float32.

    Parameters
    ----------
    idx : numpy.ndarray
        (N, L) integer codes.

    Returns
    -------
    numpy.ndarray
        (N, 4, L) float32, all-zero columns where the code is 4.
    """
    eye = np.concatenate([np.eye(4, dtype=np.float32), np.zeros((1, 4), np.float32)])
    return np.ascontiguousarray(eye[idx.astype(np.int64)].transpose(0, 2, 1))


def onehot_to_codes(oh: np.ndarray) -> np.ndarray:
    """One-hot (or scores: argmax is taken) -> integer codes, 4 where a column is all zero.

    Parameters
    ----------
    oh : numpy.ndarray
        (N, C, L) with C >= 4; only the first four channels (A, C, G, T) are read.

    Returns
    -------
    numpy.ndarray
        (N, L) int8 codes.
    """
    oh = np.asarray(oh)[:, :4]
    total = oh.sum(1)
    exact = (((total == 0) | (total == 1)).all() and (oh.max(1) == total).all()
             and (oh.dtype.kind in "ub" or oh.min() >= 0))
    if exact:
        # Exact one-hot: a weighted sum is several times faster than argmax.
        codes = (oh[:, 1] * 1 + oh[:, 2] * 2 + oh[:, 3] * 3).astype(np.int8)
    else:
        codes = oh.argmax(1).astype(np.int8)
    codes[total == 0] = 4
    return codes


def codes_to_onehot(codes):
    """Torch (N, W) integer codes 0..3 -> (N, 4, W) float32 one-hot on the codes' device.

    The sampler's counterpart of :func:`indices_to_one_hot`, kept in torch so a
    population never leaves the GPU (codes here never hold 4).

    Parameters
    ----------
    codes : torch.Tensor
        (N, W) integer codes.

    Returns
    -------
    torch.Tensor
        (N, 4, W) float32.
    """
    import torch  # only the sampler needs torch here; the data generators do not

    return torch.nn.functional.one_hot(codes.long(), 4).transpose(1, 2).to(torch.float32)


def decode(x: np.ndarray, alphabet: str = DNA) -> list[str]:
    """(N, 4, L) one-hot (or scores: argmax is taken) or (N, L) codes -> strings.

    Columns that are all zero decode to ``N``.

    Parameters
    ----------
    x : numpy.ndarray
        One-hot or scores (N, 4, L), or codes (N, L).
    alphabet : str
        The four letters of codes 0..3 (DNA or RNA).

    Returns
    -------
    list of str
        One string per sequence.
    """
    x = np.asarray(x)
    if x.ndim == 3:
        codes = x.argmax(1)
        codes[x.sum(1) == 0] = 4
    else:
        codes = x
    letters = np.frombuffer((alphabet + "N").encode(), dtype=np.uint8)
    chars = letters[codes.astype(np.int64)]
    return [row.tobytes().decode() for row in chars]


def validate(seqs: Iterable[str], source: str = "input") -> None:
    """Raise :class:`InputError` if any sequence has letters outside ACGTUN.

    Parameters
    ----------
    seqs : iterable of str
        The sequences.
    source : str
        Where they come from, for the error message.
    """
    encode_indices(list(seqs), source=source)


def reverse_complement(seq: str) -> str:
    """Reverse complement over ACGTN (U read as T; the result is upper-case DNA).

    Parameters
    ----------
    seq : str
        The sequence.

    Returns
    -------
    str
        Its reverse complement.
    """
    return seq.upper().replace("U", "T").translate(str.maketrans("ACGTN", "TGCAN"))[::-1]


def iupac_to_regex(pattern: str) -> str:
    """IUPAC consensus (e.g. ``UGUAHAUA``) -> regular expression over ACGT.

    Parameters
    ----------
    pattern : str
        IUPAC letters (U read as T).

    Returns
    -------
    str
        The regular expression.
    """
    out = []
    for c in pattern.upper():
        if c not in IUPAC:
            raise InputError(f"pattern {pattern!r}: {c!r} is not an IUPAC code")
        bases = IUPAC[c]
        out.append(bases if len(bases) == 1 else f"[{bases}]")
    return "".join(out)


def pattern_regex(pattern: str) -> re.Pattern:
    """A motif label pattern: IUPAC letters only, or a regular expression otherwise.

    Parameters
    ----------
    pattern : str
        IUPAC letters or a regular expression (U read as T).

    Returns
    -------
    re.Pattern
        The compiled expression.
    """
    p = pattern.upper().replace("U", "T")
    if re.fullmatch(r"[ACGTRYSWKMBDHVN]+", p):
        return re.compile(iupac_to_regex(p))
    return re.compile(p)


def dinucleotide_shuffle(seq: str, rng: np.random.Generator) -> str:
    """Shuffle ``seq`` preserving its dinucleotide counts exactly (Altschul-Erickson).

    Draws a random Eulerian path on the graph of dinucleotides: a random last
    edge out of every letter is fixed first so the walk cannot strand itself.

    Parameters
    ----------
    seq : str
        The sequence.
    rng : numpy.random.Generator
        Source of the random draws.

    Returns
    -------
    str
        A shuffled sequence with the same dinucleotide counts.
    """
    n = len(seq)
    if n <= 2:
        return seq
    letters = sorted(set(seq))
    if len(letters) == 1:
        return seq
    first, last = seq[0], seq[-1]
    edges: dict[str, list[str]] = {c: [] for c in letters}
    for a, b in zip(seq[:-1], seq[1:]):
        edges[a].append(b)
    while True:
        # Random arborescence towards `last` via random last-exit edges (Wilson-like rejection).
        last_edge: dict[str, str] = {}
        ok = True
        for c in letters:
            if c == last:
                continue
            if not edges[c]:
                ok = False
                break
            last_edge[c] = edges[c][rng.integers(len(edges[c]))]
        if not ok:
            return seq
        if _reaches(last_edge, letters, last):
            break
    walk_edges: dict[str, list[str]] = {}
    for c in letters:
        lst = list(edges[c])
        if c in last_edge:
            lst.remove(last_edge[c])
        order = rng.permutation(len(lst))
        lst = [lst[i] for i in order]
        if c in last_edge:
            lst.append(last_edge[c])
        walk_edges[c] = lst
    out = [first]
    pos = {c: 0 for c in letters}
    cur = first
    for _ in range(n - 1):
        nxt = walk_edges[cur][pos[cur]]
        pos[cur] += 1
        out.append(nxt)
        cur = nxt
    return "".join(out)


def _reaches(last_edge: dict[str, str], letters: list[str], root: str) -> bool:
    for c in letters:
        seen = set()
        cur = c
        while cur != root:
            if cur in seen:
                return False
            seen.add(cur)
            cur = last_edge[cur]
    return True


def dinucleotide_shuffle_codes(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shuffle many equal-length sequences at once, each keeping its dinucleotide counts exactly.

    The Altschul-Erickson shuffle of :func:`dinucleotide_shuffle`, as array
    operations over all rows: per row and letter, a random last exit edge is drawn
    (rows whose last edges do not all lead to the row's final letter are drawn
    again, so the walk cannot strand itself); the other edges of each letter are
    put in random order; then one step of the walk is taken for every row at once.
    The hot paths (knockout windows, pair mutagenesis) shuffle hundreds of
    thousands of short spans: row by row in Python that was most of their time.
    :func:`dinucleotide_shuffle` stays the scalar form, because the synthetic
    generators drew the shipped data sets from its random stream.

    Parameters
    ----------
    codes : numpy.ndarray
        (B, n) integer letters 0-4 (A, C, G, T, N).
    rng : numpy.random.Generator
        Source of the random draws.

    Returns
    -------
    numpy.ndarray
        (B, n) int64, each row a shuffle of its input row with the same dinucleotide counts.
    """
    codes = np.asarray(codes, dtype=np.int64)
    b, n = codes.shape
    if n <= 2 or b == 0:
        return codes.copy()
    k = 5
    rows = np.arange(b)
    first, last = codes[:, 0], codes[:, -1]
    src, dst = codes[:, :-1], codes[:, 1:]
    order = np.argsort(src, axis=1, kind="stable")
    src_s, dst_s = np.take_along_axis(src, order, 1), np.take_along_axis(dst, order, 1)
    count = np.zeros((b, k), dtype=np.int64)
    np.add.at(count, (np.repeat(rows, n - 1), src.ravel()), 1)
    start = np.concatenate([np.zeros((b, 1), np.int64), np.cumsum(count, 1)[:, :-1]], 1)
    present = count > 0
    present[rows, last] = True
    pick = _last_exits(count, start, present, dst_s, last, rng)
    # Every other edge in random order within its letter, the chosen last exit after them.
    key = rng.random((b, n - 1))
    fixed = np.zeros((b, n - 1), dtype=bool)
    has = count > 0
    has[rows, last] = False
    rr, aa = np.nonzero(has)
    fixed[rr, pick[rr, aa]] = True
    key = np.where(fixed, 2.0, key)
    walk = np.take_along_axis(dst_s, np.argsort(src_s * 3.0 + key, axis=1, kind="stable"), 1)
    out = np.empty((b, n), dtype=np.int64)
    out[:, 0] = first
    pos = start.copy()
    cur = first.copy()
    for t in range(1, n):
        p = pos[rows, cur]
        nxt = walk[rows, p]
        pos[rows, cur] = p + 1
        out[:, t] = nxt
        cur = nxt
    return out


def _last_exits(count: np.ndarray, start: np.ndarray, present: np.ndarray, dst_s: np.ndarray,
                last: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per row and letter, the index (into the row's edges sorted by source) of its last exit.

    The last exit edge of every letter but the row's final one is drawn until they form a
    tree towards the final letter (every letter reaches it by last exits). Each round draws
    ``tries`` candidate sets per open row and keeps the first that is a tree (the first
    success of i.i.d. draws is a draw of the accepted ones, so still uniform): most rows
    pass at once, but some compositions accept one draw in ten, and a round per draw for
    those few rows cost most of the shuffle.
    """
    b, k = count.shape
    n = dst_s.shape[1] + 1
    pick = np.zeros((b, k), dtype=np.int64)
    todo, tries = np.arange(b), 2
    while len(todo):
        m = len(todo)
        cnt, st = count[todo][:, None, :], start[todo][:, None, :]
        cand = st + np.minimum((rng.random((m, tries, k)) * cnt).astype(np.int64), np.maximum(cnt - 1, 0))
        fin = last[todo][:, None, None]
        exit_to = np.where(cnt > 0, dst_s[todo[:, None, None], np.minimum(cand, n - 2)], fin)
        exit_to[np.arange(m), :, last[todo]] = last[todo][:, None]
        flat = exit_to.reshape(m * tries, k)
        every = np.arange(m * tries)[:, None]
        cur = flat[every, np.broadcast_to(np.arange(k), flat.shape)]
        for _ in range(k - 1):
            cur = flat[every, cur]
        ok = ~(present[todo][:, None, :] & (cur.reshape(m, tries, k) != fin)).any(2)
        hit = ok.any(1)
        pick[todo[hit]] = cand[np.flatnonzero(hit), ok.argmax(1)[hit]]
        todo, tries = todo[~hit], 16
    return pick
