"""Resolve the config value ``motif_db`` into a list of target motifs.

Accepted forms, combinable with ``+`` (the parts are merged in order):

``curated``
    Our table of well-known mRNA elements (:mod:`combmotif.motifs.curated`);
    the default for mRNA models.
``planted``
    ``planted.meme`` of a synthetic data set; the caller passes the set's folder.
``jaspar:<year>[:<collection>[:<tax_group>]]``
    A JASPAR release read offline from the SQLite file pyjaspar ships, e.g.
    ``jaspar:2024:CORE:vertebrates``.
anything else
    A motif file (MEME, TRANSFAC, JASPAR), relative to ``base_dir`` when not absolute.

Example: ``planted+curated`` or ``curated+../shared/motif_db/ATtRACT_2017_12.tf``.
A YAML list is the same merge with one part per item, taken whole (no ``+``
splitting), so a file path that contains ``+`` can be given::

    motif_db: [planted, curated, ../motifs/RBP+miRNA.meme]

Names are made unique across the merged parts (``X``, ``X.2`` ...), and each
motif's ``source`` says which part it came from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError, InputError
from ..paths import relative_path
from .curated import curated_motifs
from .formats import ALPHABET, Motif, normalize_counts, read_motifs
from .meme_writer import unique_names

DEFAULT_MRNA_DB = "curated"


def motif_db_parts(spec: str | Sequence[str]) -> list[str]:
    """The parts of a ``motif_db`` value: a string split at ``+``, a list item by item.

    Parameters
    ----------
    spec : str or sequence of str
        ``"planted+curated"`` or ``["planted", "curated", "my+file.meme"]``.

    Returns
    -------
    list of str
        Non-empty parts, stripped, in order.

    Raises
    ------
    ConfigError
        No part at all, or a list item that is not a string.
    """
    if isinstance(spec, (list, tuple)):
        bad = [v for v in spec if not isinstance(v, str)]
        if bad:
            raise ConfigError(f"motif_db: list items must be strings; got {bad[0]!r}")
        parts = [p.strip() for p in spec if p.strip()]
    else:
        parts = [p.strip() for p in str(spec).split("+") if p.strip()]
    if not parts:
        raise ConfigError("motif_db is empty")
    return parts


def _is_source_name(part: str) -> bool:
    return part in ("curated", "planted") or part.lower().startswith("jaspar:")


def rebase_motif_db(spec: Any, base_dir: str | os.PathLike, relative: bool = False) -> Any:
    """A ``motif_db`` value with its file parts made absolute against ``base_dir``
    (when a config is read), or written relative to it (when a record is written).

    Parameters
    ----------
    spec : str or list of str
        The value; source names (``curated``, ``planted``, ``jaspar:...``) stay as they are.
    base_dir : path-like
        The config's folder, or the folder of the record being written.
    relative : bool
        Write absolute file parts relative to ``base_dir`` instead.

    Returns
    -------
    str or list of str
        The same shape (a ``+``-joined string stays one); anything unreadable is
        returned unchanged for :func:`check_motif_db` to name.
    """
    def one(part: str) -> str:
        p = part.strip()
        if not p or _is_source_name(p):
            return part
        if relative:
            return relative_path(p, base_dir) if Path(p).is_absolute() else part
        return part if Path(p).is_absolute() else str((Path(base_dir) / p).resolve())

    if isinstance(spec, (list, tuple)):
        return [one(v) if isinstance(v, str) else v for v in spec]
    if isinstance(spec, str):
        return "+".join(one(p) for p in spec.split("+"))
    return spec


def motif_db_text(spec: str | Sequence[str]) -> str:
    """A ``motif_db`` value as one line for logs and pages (list parts joined by ``' + '``).

    Parameters
    ----------
    spec : str or sequence of str
        The ``motif_db`` value.

    Returns
    -------
    str
    """
    return " + ".join(spec) if isinstance(spec, (list, tuple)) else str(spec)


def resolve_motif_db(spec: str | Sequence[str], data_dir: str | os.PathLike | None = None,
                     base_dir: str | os.PathLike | None = None) -> list[Motif]:
    """Turn a ``motif_db`` value into target motifs.

    Parameters
    ----------
    spec : str or sequence of str
        See the module docstring; parts joined with ``+``, or a list of parts.
    data_dir : path-like, optional
        Folder of the synthetic data set, holding ``planted.meme`` (needed by ``planted``).
    base_dir : path-like, optional
        Folder that relative file paths are resolved against (the config's folder).

    Returns
    -------
    list of Motif
        Every target, names made unique.

    Raises
    ------
    ConfigError
        An unknown JASPAR release or ``planted`` without a data set.
    InputError
        A motif file is missing or malformed.
    """
    motifs: list[Motif] = []
    for part in motif_db_parts(spec):
        motifs.extend(_resolve_part(part, data_dir, base_dir))
    return unique_names(motifs)


def _resolve_part(part: str, data_dir, base_dir) -> list[Motif]:
    if part == "curated":
        return curated_motifs()
    if part == "planted":
        if data_dir is None:
            raise ConfigError("motif_db 'planted' needs the synthetic data set's folder "
                              "(none given: is this model trained on a synthetic set?)")
        path = Path(data_dir) / "planted.meme"
        if not path.is_file():
            raise ConfigError(f"motif_db 'planted': {path} not found")
        return _tag(read_motifs(path, "meme"), "planted")
    if part.lower().startswith("jaspar:"):
        return jaspar_motifs(part)
    path = Path(part)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if not path.exists():
        # A misspelt source name ("plantd") would otherwise read as a missing file.
        raise InputError(f"{part!r}: motif file {path} not found, and not a source name "
                         f"(curated, planted, jaspar:<year>[:<collection>[:<tax_group>]])")
    return _tag(read_motifs(path), path.name)


def check_motif_db(spec: str | Sequence[str], source: str, key: str = "motif_db",
                   data_dir: str | os.PathLike | None = None) -> list[Motif]:
    """:func:`resolve_motif_db` before any work, its errors naming the config and key.

    Parameters
    ----------
    spec : str or sequence of str
        The ``motif_db`` value.
    source : str
        The config file it came from.
    key : str
        The key holding it.
    data_dir : path-like, optional
        As for :func:`resolve_motif_db`. File parts of ``spec`` are already absolute
        (a config's ``motif_db`` is resolved against its folder when it is read).

    Returns
    -------
    list of Motif
        The target motifs.

    Raises
    ------
    InputError
        ``<source>: '<key>' = '<spec>': <why>`` for an unknown source, a missing,
        unreadable or empty motif file, or an unknown JASPAR release.
    """
    from ..errors import CombMotifError

    try:
        return resolve_motif_db(spec, data_dir=data_dir)
    except CombMotifError as exc:
        raise InputError(f"{source}: '{key}' = {motif_db_text(spec)!r}: {exc}") from None


def _tag(motifs: list[Motif], source: str) -> list[Motif]:
    for m in motifs:
        m.source = source
    return motifs


def jaspar_motifs(spec: str) -> list[Motif]:
    """``jaspar:2024:CORE:vertebrates`` -> motifs from pyjaspar's bundled SQLite (no network).

    Motif names are the matrix IDs (``MA0004.1``) and alt names the TF names, as in
    JASPAR's own MEME files; ``nsites`` the matrix's site count and ``meta`` its
    ``tf_family`` and ``tf_class`` (lists). Only the latest version of each matrix is returned.

    Parameters
    ----------
    spec : str
        ``jaspar:<year>[:<collection>[:<tax_group>]]``.

    Returns
    -------
    list of Motif
    """
    fields = spec.split(":")
    if len(fields) < 2 or not fields[1].strip():
        raise ConfigError(f"motif_db {spec!r}: expected jaspar:<year>[:<collection>[:<tax_group>]]")
    year = fields[1].strip().upper().removeprefix("JASPAR")
    collection = fields[2].strip() if len(fields) > 2 and fields[2].strip() else "CORE"
    tax = fields[3].strip() if len(fields) > 3 and fields[3].strip() else None
    try:
        from pyjaspar import jaspardb
    except ImportError:  # pragma: no cover - pyjaspar is in requirements.txt
        raise ConfigError(f"motif_db {spec!r}: pyjaspar is not installed") from None
    release = f"JASPAR{year}"
    # jaspardb() prints (does not raise) on an unknown release, so check first.
    known = _jaspar_releases()
    if release not in known:
        raise ConfigError(f"motif_db {spec!r}: unknown JASPAR release {release} "
                          f"(available offline: {', '.join(sorted(known))})")
    db = jaspardb(release=release)
    kwargs = {"collection": collection}
    if tax:
        kwargs["tax_group"] = [tax.lower()]
    found = db.fetch_motifs(**kwargs)
    if not found:
        raise ConfigError(f"motif_db {spec!r}: no matrices in {release} for collection "
                          f"{collection!r}" + (f" and tax group {tax!r}" if tax else ""))
    out = []
    for m in found:
        counts = np.array([m.counts[b] for b in ALPHABET], dtype=np.float64).T
        # The TF family and class (lists: a dimer has two) let a match count for a family.
        out.append(Motif(m.matrix_id, normalize_counts(counts, f"{release} {m.matrix_id}"),
                         altname=(m.name or "").replace(" ", "_"), source=release.lower(),
                         nsites=float(counts[0].sum()),
                         meta={"description": m.name or "", "tf_family": list(m.tf_family or []),
                               "tf_class": list(m.tf_class or [])}))
    return out


def _jaspar_releases() -> list[str]:
    from pyjaspar import jaspar_releases

    return list(jaspar_releases)


def describe(motifs: list[Motif]) -> str:
    """One line: how many motifs from which sources (for logs).

    Parameters
    ----------
    motifs : list of Motif
        The motifs.

    Returns
    -------
    str
    """
    counts: dict[str, int] = {}
    for m in motifs:
        counts[m.source or "?"] = counts.get(m.source or "?", 0) + 1
    return ", ".join(f"{n} {src}" for src, n in counts.items())
