"""Hand-written truth files: the motifs and pairs a user expects a model of real data to have learned.

The format is described in :mod:`combmotif.data.truth` (its module docstring) and
generate_dataset/README.md; :func:`combmotif.data.truth.load_truth` reads both kinds of truth
and hands a file without ``task`` to :func:`hand_written_truth`.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import InputError
from ..sequences import DNA, IUPAC_OF_BASES
from .planting import iupac_mask
from .truth_schema import PAIR_CLASSES, check_entry, check_lists, is_number

_HAND_MOTIF_KEYS = ("name", "consensus", "ppm", "effect", "sign")
_HAND_PAIR_KEYS = ("name", "a", "b", "motifA", "motifB", "class", "epsilon", "interaction")


def hand_written_truth(data: dict, src: str) -> dict:
    """A hand-written truth -> the generators' in-memory form (format in :mod:`combmotif.data.truth`).

    Parameters
    ----------
    data : dict
        The file's top-level mapping (no ``task``).
    src : str
        The file, for the messages.

    Returns
    -------
    dict
        ``task`` None, ``hand_written`` True, checked ``motifs`` and ``pairs``.

    Raises
    ------
    InputError
        The first bad key or value, naming the file and the key.
    """
    unknown = [k for k in data if k not in ("motifs", "pairs", "label", "description")]
    if unknown:
        raise InputError(f"{src}: unknown key '{unknown[0]}' (a hand-written truth has motifs, pairs, "
                         f"label, description; a generator's truth.json has 'task')")
    check_lists(data, src)
    motifs, names = [], set()
    for i, m in enumerate(data["motifs"]):
        motifs.append(_hand_motif(m, f"{src}: motifs[{i}]", names))
        names.add(motifs[-1]["name"])
    pairs = [_hand_pair(p, f"{src}: pairs[{i}]", names) for i, p in enumerate(data.get("pairs") or [])]
    return {"task": None, "hand_written": True, "source": src, "label": data.get("label"),
            "baseline": None, "motifs": motifs, "pairs": pairs, "features": []}


def _hand_motif(m: Any, where: str, names: set) -> dict:
    """One checked motif entry of a hand-written truth (``names``: the names taken before it)."""
    check_entry(m, where)
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
    check_entry(p, where)
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
    if eps is not None and not is_number(eps):
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
        if not is_number(effect) or effect == 0:
            raise InputError(f"{where}.effect must be a non-zero number; got {effect!r}")
        implied = "positive" if effect > 0 else "negative"
        if sign is not None and sign != implied:
            raise InputError(f"{where}: effect {effect} and sign {sign!r} disagree")
        return float(effect), implied
    return (1.0 if sign == "positive" else -1.0), sign


def _ppm_rows(value: Any, where: str) -> np.ndarray:
    """A hand-written PPM (rows of A, C, G, T counts or probabilities) -> (k, 4) rows summing to 1."""
    if (not isinstance(value, list) or not value
            or not all(isinstance(r, list) and len(r) == 4 and all(is_number(v) for v in r) for r in value)):
        raise InputError(f"{where} must be a list of rows of 4 numbers (A, C, G, T); got {value!r}"[:300])
    m = np.asarray(value, dtype=np.float64)
    sums = m.sum(1)
    if (m < 0).any() or (sums <= 0).any():
        row = int(np.argmax((m < 0).any(1) | (sums <= 0)))
        raise InputError(f"{where}[{row}] must be non-negative numbers with a positive sum; got {value[row]!r}")
    return m / sums[:, None]


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
            out.append(IUPAC_OF_BASES[frozenset(DNA[i] for i in order[:2])])
        else:
            out.append("N")
    return "".join(out)
