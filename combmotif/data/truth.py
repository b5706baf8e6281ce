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

:func:`load_truth` also reads a *hand-written* truth file (YAML or JSON, no
``task``): the motifs a user expects a model of real data to have learned and
the pairs they expect to interact::

    motifs:
      - {name: uAUG, consensus: ATG, effect: -1}       # IUPAC consensus (U read as T)
      - name: PUM
        ppm: [[0.1, 0.1, 0.1, 0.7], ...]              # or a PPM: one row A, C, G, T per position
        sign: negative                                 # effect (a number) or sign; optional
    pairs:
      - {a: PUM, b: let7, class: synergistic, epsilon: -0.3}   # epsilon optional

It is converted to the in-memory form of the generators' layout (``motifA``,
``motifB``, ``interaction`` = epsilon or None, a consensus derived from a PPM),
with ``task`` None: checks that need the planted rule itself (noise ceiling,
``planted_epsilon``, confounding) skip it, every other comparison runs.
"""

from __future__ import annotations

import json
import math
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
    """Return a truth dict from a path or a dict, checking its schema.

    Parameters
    ----------
    truth : path-like or mapping
        A generator's ``truth.json`` (it has ``task``) or a hand-written truth
        file (YAML or JSON; see the module docstring), or the dict of either.
    task : str, optional
        Insist on a generator's truth of this task (``mrl``, ``halflife``): the
        callers that recompute the planted label need one.

    Returns
    -------
    dict
        A generator's truth unchanged; a hand-written one converted to the same
        form (``task`` None, ``hand_written`` True).

    Raises
    ------
    InputError
        A missing or unreadable file, or a missing or bad key; the message names
        the file and the key (``motifs[1].consensus``).
    """
    if isinstance(truth, Mapping):
        src, data = "truth", dict(truth)
    else:
        src = str(truth)
        data = _read_truth_file(Path(truth))
    if "task" not in data:
        if task is not None:
            raise InputError(f"{src}: a hand-written truth (no 'task') has no planted rule; "
                             f"this step needs the truth.json of a synthetic {task} set")
        return _hand_written_truth(data, src)
    for key in _REQUIRED_TOP:
        if key not in data:
            raise InputError(f"{src}: missing key '{key}'")
    if task is not None and data["task"] != task:
        raise InputError(f"{src}: task is {data['task']!r}, expected {task!r}")
    _check_lists(data, src, non_empty=False)
    names = set()
    for i, m in enumerate(data["motifs"]):
        _check_entry(m, f"{src}: motifs[{i}]")
        for key in _REQUIRED_MOTIF:
            if key not in m:
                raise InputError(f"{src}: motifs[{i}] is missing key '{key}'")
        iupac_mask(m["consensus"], source=f"{src}: motifs[{i}]")
        names.add(m["name"])
    for i, p in enumerate(data["pairs"]):
        _check_entry(p, f"{src}: pairs[{i}]")
        for key in _REQUIRED_PAIR:
            if key not in p:
                raise InputError(f"{src}: pairs[{i}] is missing key '{key}'")
        for side in ("motifA", "motifB"):
            if p[side] not in names:
                raise InputError(f"{src}: pairs[{i}].{side} names unknown motif {p[side]!r}")
        if p["class"] not in PAIR_CLASSES:
            raise InputError(f"{src}: pairs[{i}].class must be one of {PAIR_CLASSES}, got {p['class']!r}")
    return data


def is_planted(truth: Mapping[str, Any]) -> bool:
    """Whether a loaded truth comes from a generator (its planted rule can be recomputed)."""
    return truth.get("task") is not None


def _read_truth_file(path: Path) -> dict:
    """JSON for ``.json``, YAML otherwise (YAML also reads JSON); a UTF-8 BOM is allowed."""
    import yaml

    src = str(path)
    if not path.is_file():
        raise InputError(f"{src}: truth file not found" + (" (it is a directory)" if path.is_dir() else ""))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{src}: not UTF-8 text (byte {exc.start})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{src}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"{src}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InputError(f"{src}: top level must be a mapping with 'motifs' (and 'pairs')")
    return data


def _check_lists(data: Mapping[str, Any], src: str, non_empty: bool = True) -> None:
    if not isinstance(data.get("motifs"), list) or (non_empty and not data["motifs"]):
        raise InputError(f"{src}: 'motifs' must be a non-empty list; got {data.get('motifs')!r}")
    if not isinstance(data.get("pairs", []), list):
        raise InputError(f"{src}: 'pairs' must be a list; got {data.get('pairs')!r}")


def _check_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, Mapping):
        raise InputError(f"{where} must be a mapping of keys; got {entry!r}")


_HAND_MOTIF_KEYS = ("name", "consensus", "ppm", "effect", "sign")
_HAND_PAIR_KEYS = ("name", "a", "b", "motifA", "motifB", "class", "epsilon", "interaction")


def _hand_written_truth(data: dict, src: str) -> dict:
    """A hand-written truth -> the generators' in-memory form (see the module docstring)."""
    unknown = [k for k in data if k not in ("motifs", "pairs", "label", "description")]
    if unknown:
        raise InputError(f"{src}: unknown key '{unknown[0]}' (a hand-written truth has motifs, pairs, "
                         f"label, description; a generator's truth.json has 'task')")
    _check_lists(data, src)
    motifs, names = [], set()
    for i, m in enumerate(data["motifs"]):
        where = f"{src}: motifs[{i}]"
        _check_entry(m, where)
        bad = [k for k in m if k not in _HAND_MOTIF_KEYS]
        if bad:
            raise InputError(f"{where}: unknown key '{bad[0]}' (known: {', '.join(_HAND_MOTIF_KEYS)})")
        name = m.get("name")
        if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
            raise InputError(f"{where}.name must be a name without spaces; got {name!r}")
        if name in names:
            raise InputError(f"{where}.name {name!r} is used twice")
        names.add(name)
        if ("consensus" in m) == ("ppm" in m):
            raise InputError(f"{where} ({name}) needs exactly one of 'consensus' and 'ppm'")
        if "ppm" in m:
            ppm = _ppm_rows(m["ppm"], f"{where}.ppm")
            consensus = ppm_consensus(ppm)
        else:
            ppm, consensus = None, m["consensus"]
            if not isinstance(consensus, str):
                raise InputError(f"{where}.consensus must be an IUPAC string; got {consensus!r}")
            iupac_mask(consensus, source=f"{where}.consensus")
            consensus = consensus.strip().upper().replace("U", "T")
        effect, sign = _effect_and_sign(m, where)
        out = {"name": name, "consensus": consensus, "effect": effect, "sign": sign}
        if ppm is not None:
            out["ppm"] = ppm.tolist()
        motifs.append(out)
    pairs = []
    for i, p in enumerate(data.get("pairs") or []):
        where = f"{src}: pairs[{i}]"
        _check_entry(p, where)
        bad = [k for k in p if k not in _HAND_PAIR_KEYS]
        if bad:
            raise InputError(f"{where}: unknown key '{bad[0]}' (known: name, a, b, class, epsilon)")
        sides = []
        for short, long in (("a", "motifA"), ("b", "motifB")):
            if (short in p) == (long in p):
                raise InputError(f"{where} needs the motif name '{short}' (or '{long}')")
            value = p.get(short, p.get(long))
            if value not in names:
                raise InputError(f"{where}.{short if short in p else long} names unknown motif {value!r} "
                                 f"(motifs: {', '.join(sorted(names))})")
            sides.append(value)
        if "class" not in p:
            raise InputError(f"{where} is missing key 'class' (one of {', '.join(PAIR_CLASSES)})")
        if p["class"] not in PAIR_CLASSES:
            raise InputError(f"{where}.class must be one of {', '.join(PAIR_CLASSES)}; got {p['class']!r}")
        if "epsilon" in p and "interaction" in p:
            raise InputError(f"{where}: give 'epsilon' or 'interaction', not both")
        eps = p.get("epsilon", p.get("interaction"))
        if eps is not None and not _is_number(eps):
            raise InputError(f"{where}.epsilon must be a number or absent; got {eps!r}")
        pname = p.get("name", f"{sides[0]}+{sides[1]}")
        if not isinstance(pname, str) or not pname:
            raise InputError(f"{where}.name must be a string; got {pname!r}")
        pairs.append({"name": pname, "motifA": sides[0], "motifB": sides[1], "class": p["class"],
                      "interaction": None if eps is None else float(eps)})
    return {"task": None, "hand_written": True, "source": src, "label": data.get("label"),
            "baseline": None, "motifs": motifs, "pairs": pairs, "features": []}


def require_signs(truth: Mapping[str, Any]) -> None:
    """Raise :class:`InputError` naming the file and motif when a motif has no direction
    (``effect`` or ``sign``), for checks that compare directions."""
    for i, m in enumerate(truth["motifs"]):
        if m.get("sign") is None and m.get("effect") is None:
            raise InputError(f"{truth.get('source', 'truth')}: motifs[{i}] ({m['name']}) needs 'effect' "
                             f"(a number) or 'sign' (positive/negative) for the contribution check")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _effect_and_sign(m: Mapping[str, Any], where: str) -> tuple[float | None, str | None]:
    """``effect`` (a number) and/or ``sign``; the one not given follows from the other.
    Both may be absent: recovery and pair checks need no direction, the contribution
    check asks for it (:func:`require_signs`)."""
    if "effect" not in m and "sign" not in m:
        return None, None
    sign = m.get("sign")
    if sign is not None and sign not in ("positive", "negative"):
        raise InputError(f"{where}.sign must be positive or negative; got {sign!r}")
    if "effect" in m:
        effect = m["effect"]
        if not _is_number(effect) or effect == 0:
            raise InputError(f"{where}.effect must be a non-zero number; got {effect!r}")
        implied = "positive" if effect > 0 else "negative"
        if sign is not None and sign != implied:
            raise InputError(f"{where}: effect {effect} and sign {sign!r} disagree")
        return float(effect), implied
    return (1.0 if sign == "positive" else -1.0), sign


def _ppm_rows(value: Any, where: str) -> np.ndarray:
    """A hand-written PPM (rows of A, C, G, T counts or probabilities) -> (k, 4) rows summing to 1."""
    if (not isinstance(value, list) or not value
            or not all(isinstance(r, list) and len(r) == 4 and all(_is_number(v) for v in r) for r in value)):
        raise InputError(f"{where} must be a list of rows of 4 numbers (A, C, G, T); got {value!r}"[:300])
    m = np.asarray(value, dtype=np.float64)
    sums = m.sum(1)
    if (m < 0).any() or (sums <= 0).any():
        row = int(np.argmax((m < 0).any(1) | (sums <= 0)))
        raise InputError(f"{where}[{row}] must be non-negative numbers with a positive sum; got {value[row]!r}")
    return m / sums[:, None]


# IUPAC code of each set of bases (the inverse of IUPAC).
_CODE_OF = {frozenset(bases): code for code, bases in IUPAC.items() if code != "U"}


def ppm_consensus(ppm: np.ndarray) -> str:
    """IUPAC consensus of a PPM (Cavener's rule): a base with p > 0.5 and more than twice
    the next; else two bases together > 0.75 as their two-base code; else N.

    Parameters
    ----------
    ppm : ndarray, shape (k, 4)
        Rows A, C, G, T summing to 1.

    Returns
    -------
    str
        k IUPAC letters (DNA).
    """
    out = []
    for row in np.asarray(ppm, dtype=np.float64):
        order = np.argsort(-row, kind="stable")
        first, second = row[order[0]], row[order[1]]
        if first > 0.5 and first > 2 * second:
            out.append(DNA[order[0]])
        elif first + second > 0.75:
            out.append(_CODE_OF[frozenset(DNA[i] for i in order[:2])])
        else:
            out.append("N")
    return "".join(out)


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
