"""Planted ground truth shared by both synthetic tasks.

A synthetic set is described completely by its ``truth.json``: a baseline, a
list of motifs (each adds ``effect`` to the label when it occurs in its region),
a list of motif pairs (each adds ``interaction`` when both motifs occur) and,
for the half-life task, whole-sequence features. The label without noise is a
pure function of the final sequence and of ``truth.json`` alone, so every later
stage can recompute it (``noiseless`` in each synthetic module) and ask whether
a model recovered every planted rule.

Scanning and planting motifs and writing ``planted.meme`` are in
:mod:`combmotif.data.planting`; pair arrangements (syntax) in
:mod:`combmotif.data.truth_schema` (schema) and :mod:`combmotif.data.grammar`
(scanning, planting); hand-written truth files in :mod:`combmotif.data.truth_hand`.
A pair without ``arrangements`` (every older truth file) acts whenever both
motifs are present.

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
                "joint_effect", "rule", and for a pair that acts only in some
                arrangements: "syntax": "hard" | "soft" | "order" | "or",
                "arrangements": [{"order": "AB" | "BA" | "any", "gap_min",
                "gap_max"}], "rule_frequency", "control_frequency",
                "control_gap_max"}],
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
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..io import atomic_path, write_json
from .planting import iupac_mask, write_meme
from .truth_hand import hand_written_truth, ppm_consensus, require_signs
from .truth_schema import PAIR_CLASSES, check_arrangements, check_entry, check_lists

__all__ = ["load_truth", "is_planted", "write_truth", "order_keys", "write_set", "noise_ceiling",
           "planted_rules", "pair_class", "ppm_consensus", "require_signs", "PAIR_CLASSES",
           "MOTIF_KEYS", "PAIR_KEYS"]

_REQUIRED_TOP = ("task", "baseline", "motifs", "pairs")
_REQUIRED_MOTIF = ("name", "consensus", "effect")
_REQUIRED_PAIR = ("name", "motifA", "motifB", "class", "interaction")
# Key order of motif and pair entries in truth.json (for readability; extra keys follow).
MOTIF_KEYS = ("name", "consensus", "effect", "sign", "frequency", "planted_frequency", "region", "rule",
              "mode", "frame", "cds_start", "start_min", "start_max")
PAIR_KEYS = ("name", "motifA", "motifB", "class", "interaction", "joint_effect", "co_frequency",
             "planted_co_frequency", "rule", "syntax", "arrangements", "rule_frequency", "control_frequency",
             "control_gap_max")


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
        return hand_written_truth(data, src)
    for key in _REQUIRED_TOP:
        if key not in data:
            raise InputError(f"{src}: missing key '{key}'")
    if task is not None and data["task"] != task:
        raise InputError(f"{src}: task is {data['task']!r}, expected {task!r}")
    check_lists(data, src, non_empty=False)
    names = set()
    for i, m in enumerate(data["motifs"]):
        check_entry(m, f"{src}: motifs[{i}]")
        for key in _REQUIRED_MOTIF:
            if key not in m:
                raise InputError(f"{src}: motifs[{i}] is missing key '{key}'")
        iupac_mask(m["consensus"], source=f"{src}: motifs[{i}]")
        names.add(m["name"])
    for i, p in enumerate(data["pairs"]):
        check_entry(p, f"{src}: pairs[{i}]")
        for key in _REQUIRED_PAIR:
            if key not in p:
                raise InputError(f"{src}: pairs[{i}] is missing key '{key}'")
        for side in ("motifA", "motifB"):
            if p[side] not in names:
                raise InputError(f"{src}: pairs[{i}].{side} names unknown motif {p[side]!r}")
        if p["class"] not in PAIR_CLASSES:
            raise InputError(f"{src}: pairs[{i}].class must be one of {PAIR_CLASSES}, got {p['class']!r}")
        check_arrangements(p, f"{src}: pairs[{i}]")
        if p.get("arrangements") and data["task"] != "mrl":
            raise InputError(f"{src}: pairs[{i}].arrangements: only the mrl task has pair arrangements")
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
