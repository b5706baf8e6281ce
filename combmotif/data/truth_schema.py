"""Small pieces of the truth.json schema shared by its readers: entry checks and pair syntax.

A planted pair acts either whenever both motifs are present anywhere (the
*presence* rule of the first synthetic sets: the pair has no ``arrangements``
key) or only in given *arrangements*, each one order and a range of gaps::

    "arrangements": [{"order": "AB" | "BA" | "any", "gap_min": int, "gap_max": int}, ...]

``order`` AB puts motifA 5' of motifB, BA motifB 5' of motifA, ``any`` either;
the gap is the number of bases between the end of the 5' motif and the start of
the 3' one (0 = adjacent). Several arrangements are an OR: the pair acts when
any of them holds for some occurrence of A and some occurrence of B. The
pair's ``syntax`` says which kind of rule it is: ``presence``, ``hard`` (one
order, one gap), ``soft`` (a gap range), ``order`` (one order, any gap up to a
maximum) or ``or`` (several arrangements).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..errors import InputError

PAIR_CLASSES = ("synergistic", "antagonistic", "additive")
ORDERS = ("AB", "BA", "any")
SYNTAX_KINDS = ("presence", "hard", "soft", "order", "or")
ARRANGEMENT_KEYS = ("order", "gap_min", "gap_max")


def is_number(value: Any) -> bool:
    """Whether ``value`` is a finite int or float (a bool is not a number here).

    Parameters
    ----------
    value : any
        The value to test.

    Returns
    -------
    bool
        True for a finite int or float.
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_lists(data: Mapping[str, Any], src: str, non_empty: bool = True) -> None:
    """Raise :class:`InputError` unless ``motifs`` is a (non-empty) list and ``pairs`` a list.

    Parameters
    ----------
    data : mapping
        A truth or spec dict.
    src : str
        Its file, for the message.
    non_empty : bool, optional
        Insist on at least one motif (default True).
    """
    if not isinstance(data.get("motifs"), list) or (non_empty and not data["motifs"]):
        raise InputError(f"{src}: 'motifs' must be a non-empty list; got {data.get('motifs')!r}")
    if not isinstance(data.get("pairs", []), list):
        raise InputError(f"{src}: 'pairs' must be a list; got {data.get('pairs')!r}")


def check_entry(entry: Any, where: str) -> None:
    """Raise :class:`InputError` unless ``entry`` is a mapping.

    Parameters
    ----------
    entry : any
        A motif, pair or arrangement entry.
    where : str
        ``<file>: pairs[1]``, for the message.
    """
    if not isinstance(entry, Mapping):
        raise InputError(f"{where} must be a mapping of keys; got {entry!r}")


def pair_arrangements(pair: Mapping[str, Any]) -> list[dict]:
    """The arrangements a truth pair acts in; ``[]`` for a presence rule (no ``arrangements``).

    Parameters
    ----------
    pair : mapping
        A truth.json pair entry.

    Returns
    -------
    list of dict
        ``{"order", "gap_min", "gap_max"}`` per arrangement (copies), empty for presence.
    """
    return [{k: a[k] for k in ARRANGEMENT_KEYS} for a in pair.get("arrangements") or []]


def pair_syntax(pair: Mapping[str, Any]) -> str:
    """The kind of a truth pair's rule: its ``syntax``, else ``presence`` (old truth files).

    Parameters
    ----------
    pair : mapping
        A truth.json pair entry.

    Returns
    -------
    str
        One of :data:`SYNTAX_KINDS`.
    """
    return pair.get("syntax") or ("or" if len(pair.get("arrangements") or []) > 1
                                  else "presence" if not pair.get("arrangements") else "soft")


def derive_syntax(arrangements: list[Mapping[str, Any]]) -> str:
    """The syntax kind an arrangement list implies when none is stated.

    Parameters
    ----------
    arrangements : list of mapping
        ``{"order", "gap_min", "gap_max"}`` entries.

    Returns
    -------
    str
        ``presence`` (none), ``or`` (several), ``hard`` (one order, one gap), else ``soft``
        (``order`` is only ever stated: what counts as "any gap" is the author's call).
    """
    if not arrangements:
        return "presence"
    if len(arrangements) > 1:
        return "or"
    a = arrangements[0]
    return "hard" if a["order"] != "any" and a["gap_min"] == a["gap_max"] else "soft"


def check_arrangements(pair: Mapping[str, Any], where: str) -> None:
    """Raise :class:`InputError` naming the key when a truth pair's ``arrangements``/``syntax`` are bad.

    Parameters
    ----------
    pair : mapping
        A truth.json pair entry (a pair without ``arrangements`` is a presence rule and passes).
    where : str
        ``<file>: pairs[1]``, for the message.
    """
    arr = pair.get("arrangements")
    if arr is None:
        if pair.get("syntax", "presence") != "presence":
            raise InputError(f"{where}.syntax is {pair['syntax']!r} but the pair has no 'arrangements'")
        return
    if not isinstance(arr, list) or not arr:
        raise InputError(f"{where}.arrangements must be a non-empty list; got {arr!r}")
    for j, a in enumerate(arr):
        at = f"{where}.arrangements[{j}]"
        check_entry(a, at)
        if a.get("order") not in ORDERS:
            raise InputError(f"{at}.order must be one of {', '.join(ORDERS)}; got {a.get('order')!r}")
        lo, hi = a.get("gap_min"), a.get("gap_max")
        if not all(isinstance(g, int) and not isinstance(g, bool) for g in (lo, hi)) or not 0 <= lo <= hi:
            raise InputError(f"{at}: gap_min, gap_max must be integers with 0 <= gap_min <= gap_max; "
                             f"got {lo!r}, {hi!r}")
    syntax = pair.get("syntax", derive_syntax(arr))
    if syntax not in SYNTAX_KINDS[1:]:
        raise InputError(f"{where}.syntax must be one of {', '.join(SYNTAX_KINDS[1:])} for a pair with "
                         f"arrangements; got {syntax!r}")
    if (syntax == "or") != (len(arr) > 1):
        raise InputError(f"{where}.syntax {syntax!r} does not fit {len(arr)} arrangement(s) "
                         "('or' means several)")
    if syntax in ("hard", "order") and arr[0]["order"] == "any":
        raise InputError(f"{where}.syntax {syntax!r} needs one order (AB or BA), got 'any'")
    if syntax == "hard" and arr[0]["gap_min"] != arr[0]["gap_max"]:
        raise InputError(f"{where}.syntax 'hard' needs one gap; got {arr[0]['gap_min']}-{arr[0]['gap_max']}")


def rule_text(pair: Mapping[str, Any]) -> str:
    """The pair's rule in words (truth.json ``rule``).

    Parameters
    ----------
    pair : mapping
        A truth pair: ``motifA``, ``motifB``, ``interaction`` and optionally ``arrangements``, ``syntax``.

    Returns
    -------
    str
        E.g. ``adds +0.8 when H1 is 5' of H2 with exactly 2 nt between them (hard syntax)``.
    """
    a, b, eps = pair["motifA"], pair["motifB"], pair["interaction"]
    arr = pair_arrangements(pair)
    if not arr:
        return f"adds {eps:+g} when {a} and {b} are both present (anywhere, any order)"
    parts = []
    for x in arr:
        gap = (f"exactly {x['gap_min']} nt" if x["gap_min"] == x["gap_max"]
               else f"{x['gap_min']}-{x['gap_max']} nt")
        first, second = (a, b) if x["order"] != "BA" else (b, a)
        where = f"{first} is 5' of {second}" if x["order"] != "any" else f"{a} and {b} (either order) are"
        parts.append(f"{where} with {gap} between them")
    kind = pair_syntax(pair)
    tail = ""
    if kind == "order":
        o = arr[0]["order"]
        tail = f"; never when {b if o == 'AB' else a} is 5' of {a if o == 'AB' else b}"
    return f"adds {eps:+g} when " + ", or ".join(parts) + tail + f" ({kind.upper() if kind == 'or' else kind} syntax)"
