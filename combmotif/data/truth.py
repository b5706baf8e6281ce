"""Planted ground truth shared by both synthetic tasks.

A synthetic set is described completely by its ``truth.json``: a baseline, a
list of motifs (each adds ``effect`` to the label when it occurs in its region),
a list of motif pairs (each adds ``interaction`` when both motifs occur) and,
for the half-life task, whole-sequence features. The label without noise is a
pure function of the final sequence and of ``truth.json`` alone, so every later
stage can recompute it (``noiseless`` in each synthetic module) and ask whether
a model recovered every planted rule.

Everything here works on integer-coded sequences ``(N, L)`` int8 (A,C,G,T =
0..3, 4 = N or padding): matching a motif is one boolean lookup per motif
column over all sequences and windows at once.

truth.json schema (both tasks)::

    {"task": "mrl" | "halflife", "seed", "n", "length", "baseline",
     "label": what the label is, "noise": {"distribution", "sd", ...},
     "motifs": [{"name", "consensus" (IUPAC, DNA letters), "effect",
                 "sign": "positive" | "negative", "frequency" (observed fraction
                 of sequences in which the rule fires), "planted_frequency",
                 "region", "rule" (free text), "mode": "presence",
                 "start_min", "start_max" (allowed window starts, see region),
                 "frame": null | "in" | "out", "cds_start": int | null}],
     "pairs": [{"name", "motifA", "motifB", "class": "synergistic" |
                "antagonistic" | "additive", "interaction", "co_frequency",
                "joint_effect", "rule"}],
     "features": [...task-specific whole-sequence terms...],
     "ceiling": {"split", "n", "r", "r2"}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..io import atomic_path, write_json, write_text
from ..sequences import DNA, IUPAC, encode_indices

_REQUIRED_TOP = ("task", "baseline", "motifs", "pairs")
_REQUIRED_MOTIF = ("name", "consensus", "effect")
_REQUIRED_PAIR = ("name", "motifA", "motifB", "class", "interaction")
PAIR_CLASSES = ("synergistic", "antagonistic", "additive")
# Key order of motif and pair entries in truth.json (for readability; extra keys follow).
MOTIF_KEYS = ("name", "consensus", "effect", "sign", "frequency", "planted_frequency", "region", "rule",
              "mode", "frame", "cds_start", "start_min", "start_max")
PAIR_KEYS = ("name", "motifA", "motifB", "class", "interaction", "joint_effect", "co_frequency",
             "planted_co_frequency", "rule")


# ----------------------------------------------------------------------------- truth.json

def load_truth(truth: str | os.PathLike | Mapping[str, Any], task: str | None = None) -> dict:
    """Return a truth dict from a path to ``truth.json`` or from a dict, checking its schema.

    Raises :class:`InputError` naming the file and the missing or inconsistent key.
    """
    if isinstance(truth, Mapping):
        src, data = "truth", dict(truth)
    else:
        src = str(truth)
        path = Path(truth)
        if not path.is_file():
            raise InputError(f"{src}: truth file not found")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{src}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise InputError(f"{src}: top level must be an object")
    for key in _REQUIRED_TOP:
        if key not in data:
            raise InputError(f"{src}: missing key '{key}'")
    if task is not None and data["task"] != task:
        raise InputError(f"{src}: task is {data['task']!r}, expected {task!r}")
    names = set()
    for i, m in enumerate(data["motifs"]):
        for key in _REQUIRED_MOTIF:
            if key not in m:
                raise InputError(f"{src}: motifs[{i}] is missing key '{key}'")
        iupac_mask(m["consensus"], source=f"{src}: motifs[{i}]")
        names.add(m["name"])
    for i, p in enumerate(data["pairs"]):
        for key in _REQUIRED_PAIR:
            if key not in p:
                raise InputError(f"{src}: pairs[{i}] is missing key '{key}'")
        for side in ("motifA", "motifB"):
            if p[side] not in names:
                raise InputError(f"{src}: pairs[{i}].{side} names unknown motif {p[side]!r}")
        if p["class"] not in PAIR_CLASSES:
            raise InputError(f"{src}: pairs[{i}].class must be one of {PAIR_CLASSES}, got {p['class']!r}")
    return data


def write_truth(path: str | os.PathLike, truth: Mapping[str, Any]) -> None:
    """Write ``truth.json`` atomically (after checking its schema)."""
    load_truth(truth)
    write_json(path, dict(truth))


def order_keys(entry: Mapping[str, Any], keys: Sequence[str]) -> dict:
    """``entry`` with ``keys`` first (in that order), then any other keys."""
    out = {k: entry[k] for k in keys if k in entry}
    out.update({k: v for k, v in entry.items() if k not in out})
    return out


def write_set(out_dir: str | os.PathLike, truth: Mapping[str, Any], write_data: Callable[[Path], None]) -> None:
    """Write a synthetic set folder atomically: ``write_data(folder)`` plus truth.json and
    planted.meme. The folder appears complete or not at all (an old one is replaced)."""
    load_truth(truth)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        write_data(tmp)
        write_truth(tmp / "truth.json", truth)
        write_meme(tmp / "planted.meme", truth["motifs"])


def noise_ceiling(noiseless: np.ndarray, labels: np.ndarray) -> dict:
    """Pearson r (and r^2) between noise-free and measured labels: the best any model can do."""
    a = np.asarray(noiseless, dtype=np.float64).ravel()
    b = np.asarray(labels, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size < 2:
        raise InputError(f"noise_ceiling: need two equal-length arrays of >= 2 values, got {a.shape}, {b.shape}")
    r = float(np.corrcoef(a, b)[0, 1])
    return {"r": r, "r2": r * r}


def pair_class(effect_a: float, effect_b: float, interaction: float) -> str:
    """Class of a pair from its planted terms: synergistic when the joint term pushes the
    same way as the main effects, antagonistic when against them, additive when zero."""
    if interaction == 0:
        return "additive"
    main = effect_a + effect_b
    return "synergistic" if np.sign(interaction) == np.sign(main) else "antagonistic"


# ----------------------------------------------------------------------------- motif scanning

def iupac_mask(consensus: str, source: str = "consensus") -> np.ndarray:
    """IUPAC consensus -> (k, 5) bool: which code (A,C,G,T,N) each position accepts.

    N in a *sequence* (code 4) never matches, so a motif is never called on
    unknown bases or padding.
    """
    cons = str(consensus).upper().replace("U", "T")
    if not cons:
        raise InputError(f"{source}: empty consensus")
    mask = np.zeros((len(cons), 5), dtype=bool)
    for j, c in enumerate(cons):
        if c not in IUPAC:
            raise InputError(f"{source}: {c!r} in {consensus!r} is not an IUPAC code")
        for b in IUPAC[c]:
            mask[j, DNA.index(b)] = True
    return mask


def code_bits(codes: np.ndarray) -> np.ndarray:
    """(N, L) codes -> (N, L) uint8 bit per base (A=1, C=2, G=4, T=8; N/padding = 16)."""
    return np.left_shift(np.uint8(1), np.asarray(codes).astype(np.uint8))


def scan(codes: np.ndarray, consensus: str, bits: np.ndarray | None = None) -> np.ndarray:
    """Where ``consensus`` matches: (N, L-k+1) bool, True at every window start that matches.

    One vectorised bitwise test per motif column (k is at most a dozen), never a
    loop over sequences or positions. ``bits`` (from :func:`code_bits`) may be
    passed to share that conversion between motifs.
    """
    if bits is None:
        bits = code_bits(codes)
    allowed = (iupac_mask(consensus)[:, :4] * np.array([1, 2, 4, 8])).sum(1).astype(np.uint8)
    k = len(allowed)
    n, length = bits.shape
    width = length - k + 1
    if width <= 0:
        return np.zeros((n, 0), dtype=bool)
    hit = (bits[:, :width] & allowed[0]) != 0
    for j in range(1, k):
        hit &= (bits[:, j:j + width] & allowed[j]) != 0
    return hit


def window_mask(width: int, lo: np.ndarray | int, hi: np.ndarray | int,
                frame: str | None = None, cds_start: int | None = None) -> np.ndarray:
    """(N, width) or (1, width) bool of allowed window starts ``lo <= p <= hi`` (per sequence).

    ``frame='in'`` keeps starts with ``(cds_start - p) % 3 == 0`` (in frame with a
    CDS beginning at ``cds_start``); ``frame='out'`` keeps the others.
    """
    p = np.arange(width)[None, :]
    lo = np.atleast_1d(np.asarray(lo))[:, None]
    hi = np.atleast_1d(np.asarray(hi))[:, None]
    ok = (p >= lo) & (p <= hi)
    if frame is not None:
        cds = np.atleast_1d(np.asarray(cds_start))[:, None]
        inframe = (cds - p) % 3 == 0
        if frame == "in":
            ok &= inframe
        elif frame == "out":
            ok &= ~inframe
        else:
            raise InputError(f"frame must be 'in', 'out' or null, got {frame!r}")
    return ok


def motif_hits(codes: np.ndarray, motif: Mapping[str, Any], lo: np.ndarray | int | None = None,
               hi: np.ndarray | int | None = None, cds_start: np.ndarray | int | None = None,
               bits: np.ndarray | None = None) -> np.ndarray:
    """(N, W) bool of the matches of a truth.json motif that count under its rule.

    ``lo``/``hi`` (inclusive window starts, scalars or per-sequence arrays)
    default to the motif's ``start_min``/``start_max``; ``cds_start`` to its
    ``cds_start``; ``bits`` as in :func:`scan`.
    """
    hit = scan(codes, motif["consensus"], bits)
    width = hit.shape[1]
    lo = motif.get("start_min", 0) if lo is None else lo
    hi = motif.get("start_max", width - 1) if hi is None else hi
    lo = 0 if lo is None else lo
    hi = width - 1 if hi is None else hi
    frame = motif.get("frame")
    cds = motif.get("cds_start") if cds_start is None else cds_start
    return hit & window_mask(width, lo, hi, frame, cds)


def additive_label(present: Mapping[str, np.ndarray], truth: Mapping[str, Any]) -> np.ndarray:
    """baseline + sum of motif effects where present + pair interactions where both are present."""
    n = len(next(iter(present.values()))) if present else 0
    y = np.full(n, float(truth["baseline"]), dtype=np.float64)
    for m in truth["motifs"]:
        y += float(m["effect"]) * present[m["name"]]
    for p in truth["pairs"]:
        y += float(p["interaction"]) * (present[p["motifA"]] & present[p["motifB"]])
    return y


def to_codes(x: Any, length: int | None = None, source: str = "input") -> np.ndarray:
    """Strings, (N, 4, L) one-hot or (N, L) codes -> (N, L) int8 codes (4 = N or padding)."""
    if isinstance(x, np.ndarray) or hasattr(x, "numpy"):
        arr = np.asarray(x)
        if arr.ndim == 3:
            if arr.shape[1] < 4:
                raise InputError(f"{source}: one-hot array needs >= 4 channels, got shape {arr.shape}")
            codes = onehot_to_codes(arr[:, :4, :])
        elif arr.ndim == 2 and np.issubdtype(arr.dtype, np.integer):
            codes = arr.astype(np.int8)
        elif arr.ndim == 1:
            return to_codes([str(s) for s in arr], length, source)
        else:
            raise InputError(f"{source}: expected strings, (N,4,L) one-hot or (N,L) codes, got shape {arr.shape}")
        if length is not None:
            codes = codes[:, :length]
        return codes
    if isinstance(x, str):
        x = [x]
    return encode_indices(list(x), length, source)


def onehot_to_codes(oh: np.ndarray) -> np.ndarray:
    """(N, 4, L) one-hot (or scores: argmax) -> (N, L) int8 codes, 4 where the column is all zero."""
    oh = np.asarray(oh)
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


# ----------------------------------------------------------------------------- planting

def choose_planted(rng: np.random.Generator, n: int, motifs: Sequence[dict],
                   pairs: Sequence[dict]) -> np.ndarray:
    """(n, len(motifs)) bool: which sequences receive which motif.

    Each motif is drawn at its ``planted_frequency``; each pair is then forced
    into a further ``planted_co_frequency`` of sequences (both members at once)
    so that pair effects can be estimated.
    """
    names = [m["name"] for m in motifs]
    chosen = rng.random((n, len(motifs))) < np.array([m["planted_frequency"] for m in motifs])
    for p in pairs:
        both = rng.random(n) < p["planted_co_frequency"]
        chosen[:, names.index(p["motifA"])] |= both
        chosen[:, names.index(p["motifB"])] |= both
    return chosen


def random_layout(rng: np.random.Generator, chosen: np.ndarray, lengths: Sequence[int],
                  span: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping random start positions for the chosen motifs of every sequence.

    ``chosen`` is (N, M) bool (motif m is planted in sequence i), ``lengths`` the
    M motif lengths, ``span`` the region length (scalar or per sequence). Motifs
    go in a random order with random gaps between them (cut points drawn
    uniformly from the free space), so positions are spread over the whole
    region and never overlap. Where the chosen motifs do not fit, the last ones
    in the random order are dropped.

    Returns ``(starts, kept)``: (N, M) int offsets from the region start and the
    (N, M) bool of motifs actually placed.
    """
    chosen = np.asarray(chosen, dtype=bool)
    n, m = chosen.shape
    lens = np.asarray(lengths, dtype=np.int64)[None, :]
    span = np.broadcast_to(np.asarray(span, dtype=np.int64), (n,))
    order = np.argsort(rng.random((n, m)), axis=1)            # random order per sequence
    rows = np.arange(n)[:, None]
    ch = chosen[rows, order]
    ln = np.where(ch, lens[0][order], 0)
    # Drop the tail of the order while the chosen motifs overflow the region.
    fits = np.cumsum(ln, axis=1) <= span[:, None]
    ch &= fits
    ln = np.where(ch, ln, 0)
    free = span - ln.sum(1)
    cuts = np.sort((rng.random((n, m)) * (free[:, None] + 1)).astype(np.int64), axis=1)
    before = np.cumsum(ln, axis=1) - ln                        # length of motifs placed earlier
    starts_ordered = cuts + before
    starts = np.empty_like(starts_ordered)
    kept = np.empty_like(ch)
    starts[rows, order] = starts_ordered
    kept[rows, order] = ch
    return starts, kept


def plant(codes: np.ndarray, rows: np.ndarray, starts: np.ndarray, consensus: str,
          rng: np.random.Generator) -> None:
    """Write one instance of ``consensus`` into ``codes[rows, starts:starts+k]`` in place.

    Degenerate IUPAC positions are filled with a base drawn uniformly from the
    allowed ones, independently per instance.
    """
    mask = iupac_mask(consensus)[:, :4]
    k = len(mask)
    rows = np.asarray(rows)
    if rows.size == 0:
        return
    # For each motif column: pick uniformly among allowed bases.
    counts = mask.sum(1)
    pick = (rng.random((rows.size, k)) * counts[None, :]).astype(np.int64)
    allowed = [np.flatnonzero(mask[j]) for j in range(k)]
    lut = np.full((k, 4), -1, dtype=np.int8)
    for j in range(k):
        lut[j, :len(allowed[j])] = allowed[j]
    bases = lut[np.arange(k)[None, :], pick]
    cols = np.asarray(starts)[:, None] + np.arange(k)[None, :]
    codes[rows[:, None], cols] = bases


# ----------------------------------------------------------------------------- MEME output

def consensus_ppm(consensus: str, pseudocount: float = 1e-3) -> np.ndarray:
    """(k, 4) letter-probability matrix: uniform over each IUPAC code's bases, plus a tiny pseudocount."""
    mask = iupac_mask(consensus)[:, :4].astype(np.float64)
    ppm = mask / mask.sum(1, keepdims=True) + pseudocount
    return ppm / ppm.sum(1, keepdims=True)


def meme_text(motifs: Sequence[Mapping[str, Any]], pseudocount: float = 1e-3, nsites: int = 20) -> str:
    """MEME (version 4, minimal) text with one letter-probability matrix per motif."""
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: +", "",
             "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    for m in motifs:
        name = str(m["name"])
        if not name or any(c.isspace() for c in name):
            raise InputError(f"motif name {name!r} must be non-empty without spaces")
        ppm = consensus_ppm(m["consensus"], pseudocount)
        lines.append(f"MOTIF {name} {str(m['consensus']).upper()}")
        lines.append(f"letter-probability matrix: alength= 4 w= {len(ppm)} nsites= {nsites} E= 0")
        lines.extend(" " + " ".join(f"{v:.6f}" for v in row) for row in ppm)
        lines.append("")
    return "\n".join(lines)


def write_meme(path: str | os.PathLike, motifs: Sequence[Mapping[str, Any]], pseudocount: float = 1e-3) -> None:
    """Write ``planted.meme`` atomically (see :func:`meme_text`)."""
    write_text(path, meme_text(motifs, pseudocount))
