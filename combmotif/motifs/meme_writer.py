"""Writing motifs in MEME format: the one MEME writer of the package."""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Iterable, Sequence

import numpy as np

from ..errors import InputError
from ..io import write_text
from .formats import ALPHABET, Motif


def format_meme(motifs: Sequence[Motif], strands: str = "+",
                background: Sequence[float] | None = None, digits: int = 6,
                compact: bool = False) -> str:
    """Motifs -> MEME motif format text (version 4 minimal, DNA alphabet).

    Parameters
    ----------
    motifs : sequence of Motif
        Names must be unique and free of whitespace.
    strands : str
        ``"+"`` marks RNA-like single-stranded motifs; MEME tools then only
        scan or compare the given strand when asked with ``-norc``.
    background : sequence of float, optional
        A, C, G, T background; uniform by default.
    digits : int
        Decimals of the matrix values.
    compact : bool
        The layout NeuronMotif's ``ppms.meme`` and the generators' ``planted.meme``
        have always had (background ``A 0.25 ...``, rows indented by one space,
        integer ``nsites``, no URL, one final newline), kept so those files stay
        byte-identical.

    Returns
    -------
    str
        The file's text.
    """
    _check_names(motifs)
    bg = np.full(4, 0.25) if background is None else np.asarray(background, float)
    bg_text = " ".join(f"{b} {v:g}" if compact else f"{b} {v:.{digits}f}" for b, v in zip(ALPHABET, bg))
    out = ["MEME version 4", "", "ALPHABET= ACGT", "", f"strands: {strands}", "",
           "Background letter frequencies", bg_text, ""]
    indent = " " if compact else ""
    for m in motifs:
        head = f"MOTIF {m.name}" + (f" {m.altname}" if m.altname else "")
        nsites = m.nsites if m.nsites is not None else 20
        out.append(head)
        out.append(f"letter-probability matrix: alength= 4 w= {len(m)} "
                   f"nsites= {int(nsites) if compact else format(nsites, 'g')} E= 0")
        out.extend(indent + " ".join(f"{v:.{digits}f}" for v in row) for row in m.ppm)
        if m.meta.get("url") and not compact:
            out.append(f"URL {m.meta['url']}")
        out.append("")
    return "\n".join(out) + ("" if compact else "\n")


def write_meme(path: str | os.PathLike, motifs: Sequence[Motif], strands: str = "+",
               background: Sequence[float] | None = None) -> None:
    """Write motifs to ``path`` in MEME format, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    motifs : sequence of Motif
        The motifs (names unique, without spaces).
    strands : str
        The MEME ``strands:`` line.
    background : sequence of float, optional
        A, C, G, T background frequencies (default uniform).
    """
    write_text(path, format_meme(motifs, strands=strands, background=background))


def _check_names(motifs: Iterable[Motif]) -> None:
    seen = set()
    for m in motifs:
        if not m.name or re.search(r"\s", m.name):
            raise InputError(f"motif name {m.name!r} must be non-empty and without spaces")
        if m.name in seen:
            raise InputError(f"motif name {m.name!r} is used twice")
        seen.add(m.name)


def unique_names(motifs: Sequence[Motif]) -> list[Motif]:
    """Copies of ``motifs`` with whitespace-free, unique names: repeats become ``X.2``, ``X.3`` ...

    Parameters
    ----------
    motifs : sequence of Motif
        The motifs.

    Returns
    -------
    list of Motif
        Renamed copies, in the same order.
    """
    taken: set[str] = set()
    out = []
    for m in motifs:
        base = re.sub(r"\s+", "_", m.name.strip()) or "motif"
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}.{k}"
        taken.add(name)
        out.append(dataclasses.replace(m, name=name, meta=dict(m.meta)))
    return out
