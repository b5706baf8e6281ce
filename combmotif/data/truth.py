"""Planted ground truth shared by both synthetic tasks.

A synthetic set is described completely by its ``truth.json``: a baseline, a
list of motifs (each adds ``effect`` to the label when it occurs in its region),
a list of motif pairs (each adds ``interaction`` when both motifs occur) and,
for the half-life task, whole-sequence features. The label without noise is a
pure function of the final sequence and of ``truth.json`` alone, so every later
stage can recompute it (``noiseless`` in each synthetic module) and ask whether
a model recovered every planted rule.

Scanning and planting motifs and writing ``planted.meme`` are in
:mod:`combmotif.data.planting`.

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

import copy
import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..io import atomic_path, write_json
from ..sequences import DNA, IUPAC
from .planting import iupac_mask, write_meme

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
    """Whether a loaded truth comes from a generator (its planted rule can be recomputed).

    Checks that need the planted rule (noise ceiling, planted epsilon, confounding) skip other truths.

    Parameters
    ----------
    truth : mapping
        A truth dict as :func:`load_truth` returns it.

    Returns
    -------
    bool
        True for a generator's truth.json (``task`` set), False for a hand-written truth.
    """
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
        motifs.append(_hand_motif(m, f"{src}: motifs[{i}]", names))
        names.add(motifs[-1]["name"])
    pairs = [_hand_pair(p, f"{src}: pairs[{i}]", names) for i, p in enumerate(data.get("pairs") or [])]
    return {"task": None, "hand_written": True, "source": src, "label": data.get("label"),
            "baseline": None, "motifs": motifs, "pairs": pairs, "features": []}


def _hand_motif(m: Any, where: str, names: set) -> dict:
    """One checked motif entry of a hand-written truth (``names``: the names taken before it)."""
    _check_entry(m, where)
    bad = [k for k in m if k not in _HAND_MOTIF_KEYS]
    if bad:
        raise InputError(f"{where}: unknown key '{bad[0]}' (known: {', '.join(_HAND_MOTIF_KEYS)})")
    name = m.get("name")
    if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
        raise InputError(f"{where}.name must be a name without spaces; got {name!r}")
    if name in names:
        raise InputError(f"{where}.name {name!r} is used twice")
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
    return out


def _hand_pair(p: Any, where: str, names: set) -> dict:
    """One checked pair entry of a hand-written truth (``names``: every motif's name)."""
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
    return {"name": pname, "motifA": sides[0], "motifB": sides[1], "class": p["class"],
            "interaction": None if eps is None else float(eps)}


def require_signs(truth: Mapping[str, Any]) -> None:
    """Raise :class:`InputError` naming the file and motif when a motif has no direction
    (``effect`` or ``sign``), for checks that compare directions.

    Parameters
    ----------
    truth : mapping
        A truth dict as :func:`load_truth` returns it (``source`` names its file, if any).

    Raises
    ------
    InputError
        ``<source>: motifs[<i>] (<name>) needs 'effect' ... or 'sign' ...`` for the first motif without either.
    """
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
    """Write ``truth.json`` atomically (after checking its schema).

    Parameters
    ----------
    path : path-like
        The JSON file to write.
    truth : mapping
        The truth dict (schema in the module docstring).

    Raises
    ------
    InputError
        When ``truth`` fails the :func:`load_truth` checks; nothing is written then.
    """
    load_truth(truth)
    write_json(path, dict(truth))


def order_keys(entry: Mapping[str, Any], keys: Sequence[str]) -> dict:
    """``entry`` with ``keys`` first (in that order), then any other keys: truth.json's readable order.

    Parameters
    ----------
    entry : mapping
        A motif or pair entry.
    keys : sequence of str
        The leading keys, e.g. ``MOTIF_KEYS`` or ``PAIR_KEYS``; those absent from ``entry`` are skipped.

    Returns
    -------
    dict
        A new dict with the same items, reordered.
    """
    out = {k: entry[k] for k in keys if k in entry}
    out.update({k: v for k, v in entry.items() if k not in out})
    return out


def write_set(out_dir: str | os.PathLike, truth: Mapping[str, Any], write_data: Callable[[Path], None]) -> None:
    """Write a synthetic set folder atomically: ``write_data(folder)`` plus truth.json and
    planted.meme. The folder appears complete or not at all (an old one is replaced).

    Parameters
    ----------
    out_dir : path-like
        The set's folder.
    truth : mapping
        The set's truth dict; its motifs also make planted.meme.
    write_data : callable
        Called with the (temporary) folder as a :class:`pathlib.Path`; writes the data file(s) into it.

    Raises
    ------
    InputError
        When ``truth`` fails the :func:`load_truth` checks; nothing is written then.
    """
    load_truth(truth)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        write_data(tmp)
        write_truth(tmp / "truth.json", truth)
        write_meme(tmp / "planted.meme", truth["motifs"])


def noise_ceiling(noiseless: np.ndarray, labels: np.ndarray) -> dict:
    """Pearson r (and r^2) between noise-free and measured labels: the best any model can do.

    Parameters
    ----------
    noiseless, labels : numpy.ndarray
        The noise-free and the measured labels, as many of each (flattened).

    Returns
    -------
    dict
        ``{"r": float, "r2": float}``; NaN when either array is constant.

    Raises
    ------
    InputError
        ``noise_ceiling: need two equal-length arrays of >= 2 values, ...``.
    """
    a = np.asarray(noiseless, dtype=np.float64).ravel()
    b = np.asarray(labels, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size < 2:
        raise InputError(f"noise_ceiling: need two equal-length arrays of >= 2 values, got {a.shape}, {b.shape}")
    r = float(np.corrcoef(a, b)[0, 1])
    return {"r": r, "r2": r * r}


def planted_rules(motifs: Sequence[Mapping[str, Any]], pairs: Sequence[Mapping[str, Any]],
                  defaults: Callable[[dict], dict]) -> tuple[list[dict], list[dict], dict[str, float]]:
    """A generator's rule tables, ready to plant: fresh copies with defaults and pair classes.

    Parameters
    ----------
    motifs, pairs : sequence of mapping
        The generator's module-level MOTIFS and PAIRS (never modified).
    defaults : callable
        Completes one motif entry (region, sign, rule text ...).

    Returns
    -------
    motifs, pairs : list of dict
        Copies; each pair gets its ``class`` from :func:`pair_class`.
    effects : dict
        Motif name -> effect.
    """
    motifs = [defaults(m) for m in copy.deepcopy(list(motifs))]
    pairs = copy.deepcopy(list(pairs))
    effects = {m["name"]: m["effect"] for m in motifs}
    for p in pairs:
        p["class"] = pair_class(effects[p["motifA"]], effects[p["motifB"]], p["interaction"])
    return motifs, pairs, effects


def pair_class(effect_a: float, effect_b: float, interaction: float) -> str:
    """Class of a pair from its planted terms: synergistic when the joint term pushes the
    same way as the main effects, antagonistic when against them, additive when zero.

    Parameters
    ----------
    effect_a, effect_b : float
        The two motifs' main effects.
    interaction : float
        The pair's interaction term (added when both motifs occur).

    Returns
    -------
    str
        ``"synergistic"``, ``"antagonistic"`` or ``"additive"``.
    """
    if interaction == 0:
        return "additive"
    main = effect_a + effect_b
    return "synergistic" if np.sign(interaction) == np.sign(main) else "antagonistic"
