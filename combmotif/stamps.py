"""The one freshness stamp: what a finished unit was made from.

A stage writes a unit (a neuron's folder, a layer's table) under a temporary
name, renames it into place, and writes its stamp last: a JSON object with the
fingerprint of the weights (and data) and the settings that shape the unit. A
rerun compares the stamp it would write with the one on disk: equal means the
unit is finished and made the same way, so it is skipped; anything else (no
stamp: a killed run's unit; other weights; other settings) means it is redone,
and :func:`settings_changes` says why.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .io import write_json


def make_stamp(fingerprint: str, settings: Mapping[str, Any], **extra: Any) -> dict:
    """The stamp of a unit: the fingerprint, any extras and the settings, JSON-normalised.

    Parameters
    ----------
    fingerprint : str
        Hash of the weights (and, for stages that scan data, the data):
        :func:`combmotif.models.loader.model_fingerprint` or ``Stage.fingerprint``.
    settings : mapping
        The config values that shape the unit (plain values or dicts).
    **extra
        Further entries that shape the unit (e.g. the labels a pair unit used).

    Returns
    -------
    dict
        ``{"fingerprint": ..., **extra, "settings": {...}}`` as it reads back from
        JSON (tuples become lists), so a stamp made now equals the same stamp read
        from disk.
    """
    # Extras before the settings: the order stamps had before there was one stamp, so
    # units finished by an earlier version still read as fresh byte for byte.
    return json.loads(json.dumps({"fingerprint": fingerprint, **extra, "settings": dict(settings)}))


def settings_of(cfg: Any, keys: Sequence[str]) -> dict:
    """The config values ``keys`` of ``cfg`` as plain values, for :func:`make_stamp`.

    Parameters
    ----------
    cfg : dataclass instance
        A loaded stage config.
    keys : sequence of str
        The settings that shape a unit.

    Returns
    -------
    dict
        ``{key: value}`` with nested sections as dicts.
    """
    from .config import to_dict

    return {k: to_dict(getattr(cfg, k)) for k in keys}


def stamp_digest(stamp: Mapping[str, Any]) -> str:
    """SHA-1 of a stamp, for stages that keep it as one key inside an npz.

    Parameters
    ----------
    stamp : mapping
        A stamp from :func:`make_stamp`.

    Returns
    -------
    str
        40 hex digits; equal stamps give equal digests.
    """
    return hashlib.sha1(json.dumps(stamp, sort_keys=True).encode()).hexdigest()


def write_stamp(path: str | os.PathLike, stamp: Mapping[str, Any]) -> None:
    """Write ``stamp`` at ``path`` atomically: call it last, when the unit is whole.

    Parameters
    ----------
    path : path-like
        The stamp file (beside the unit).
    stamp : mapping
        From :func:`make_stamp`.
    """
    write_json(path, stamp)


def read_stamp(path: str | os.PathLike) -> dict | None:
    """The stamp (a JSON object) at ``path``.

    Parameters
    ----------
    path : path-like
        The stamp file.

    Returns
    -------
    dict or None
        None when the file is absent or unreadable (a unit without a stamp is unfinished).
    """
    try:
        stamp = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def settings_changes(old: dict, new: dict, prefix: str = "") -> str:
    """``"threshold 0.7 -> 0.5, ppm.ic_threshold 1.0 -> 0.8"``: the entries (nested dicts
    joined with dots) that differ between two stamps or config records.

    Parameters
    ----------
    old, new : dict
        What a unit was made with, and what the run would make it with.
    prefix : str
        Key prefix (for the recursion).

    Returns
    -------
    str
        The differences, ``""`` when there are none.
    """
    out = []
    for k in sorted(set(old) | set(new), key=str):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            sub = settings_changes(a, b, f"{prefix}{k}.")
            if sub:
                out.append(sub)
        elif a != b:
            out.append(f"{prefix}{k} {_short(a)} -> {_short(b)}")
    return ", ".join(out)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:10] + "..." + text[-10:]   # hashes and label texts


def unit_is_fresh(stamp_path: str | os.PathLike, stamp: Mapping[str, Any], force: bool = False,
                  output: str | os.PathLike | None = None, name: str = "unit",
                  log: Callable[[str], Any] | None = None) -> bool:
    """Whether a unit is finished and was made as ``stamp`` says.

    Parameters
    ----------
    stamp_path : path-like
        The unit's stamp file.
    stamp : mapping
        The stamp this run would write.
    force : bool
        Redo regardless.
    output : path-like, optional
        The unit's main file or folder: missing means not finished, whatever the stamp.
    name : str
        The unit's name in the message.
    log : callable, optional
        Told why a unit made with other settings is redone.

    Returns
    -------
    bool
        True when the unit can be skipped.
    """
    made = read_stamp(stamp_path)
    if force or made is None or (output is not None and not Path(output).exists()):
        return False
    if made != stamp:
        if log is not None:
            log(f"{name} was made with other settings "
                f"({settings_changes(made, dict(stamp)) or 'another stamp'}); redoing it")
        return False
    return True
