"""JASPAR motifs for the synthetic DNA set: the database offline, informative and dissimilar picks.

The database is read offline from the SQLite file pyjaspar ships
(:func:`combmotif.motifs.databases.jaspar_motifs`: names are matrix IDs such as
``MA0004.1``, alt names the TF names, ``meta`` holds ``tf_family`` and
``tf_class``). :func:`select_motifs` draws the motifs a set plants: informative
(total information and a recognisable sampled site), mutually dissimilar (Tomtom
of each against the whole database, both strands: neither finds the other at
q <= ``max_q``) and from different TF families while the pool allows, in an order
drawn from the seed, so another seed gives other motifs.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..motifs.databases import jaspar_motifs
from ..motifs.formats import Motif
from ..motifs.meme_writer import write_meme
from ..motifs.tomtom import tomtom

#: The database every DNA set draws from and is matched against (``motif_db`` syntax).
JASPAR_SPEC = "jaspar:2024:CORE:vertebrates"


def load_jaspar(spec: str = JASPAR_SPEC) -> list[Motif]:
    """The JASPAR motifs of ``spec`` (offline, pyjaspar), with their TF families.

    Parameters
    ----------
    spec : str
        ``jaspar:<year>[:<collection>[:<tax_group>]]``; default JASPAR 2024 CORE vertebrates
        (879 matrices).

    Returns
    -------
    list of Motif
        Name = matrix ID, altname = TF name, ``meta["tf_family"]``, ``meta["tf_class"]``;
        fresh copies (the database is read once per process and spec).
    """
    return [dataclasses.replace(m, ppm=m.ppm.copy(), meta=copy.deepcopy(m.meta)) for m in _read_jaspar(spec)]


@functools.lru_cache(maxsize=4)
def _read_jaspar(spec: str) -> tuple[Motif, ...]:
    return tuple(jaspar_motifs(spec))


def families(motif: Motif) -> frozenset[str]:
    """A JASPAR motif's TF families (a dimer may have two; empty when JASPAR gives none).

    Parameters
    ----------
    motif : Motif
        A motif from :func:`load_jaspar` (or any motif; then empty).

    Returns
    -------
    frozenset of str
    """
    return frozenset(motif.meta.get("tf_family") or [])


def similar_matrix(queries: Sequence[Motif], database: Sequence[Motif], max_q: float = 0.05) -> np.ndarray:
    """(Q, Q) bool: query i finds query j in a Tomtom search of the whole database, both strands.

    Each query is compared with every database motif (q-values per query over
    the database, as a discovery run's segments are), so "similar" means what a
    match would mean: a segment learnt from i could be called j. The matrix is
    made symmetric (either direction counts).

    Parameters
    ----------
    queries : sequence of Motif
        Candidate motifs; their names must be database names to be found.
    database : sequence of Motif
        The database (targets).
    max_q : float
        q-value at or below which a pair counts as similar.

    Returns
    -------
    numpy.ndarray
        (Q, Q) bool, True on the diagonal.
    """
    names = [q.name for q in queries]
    index = {n: i for i, n in enumerate(names)}
    df = tomtom(queries, database, backend="memelite", norc=False, min_query_ic=0.0,
                min_query_mean_ic=0.0, thresh=max_q)
    df = df[df["Target_ID"].isin(index)]
    sim = np.eye(len(names), dtype=bool)
    sim[df["Query_ID"].map(index).to_numpy(dtype=np.int64), df["Target_ID"].map(index).to_numpy(dtype=np.int64)] = True
    return sim | sim.T


def select_motifs(database: Sequence[Motif], k: int, rng: np.random.Generator,
                  usable: np.ndarray, max_q: float = 0.05, pool_factor: int = 6) -> list[Motif]:
    """Draw ``k`` usable, mutually dissimilar motifs, from different TF families while possible.

    Candidates come in a random order (``rng``); the first ``pool_factor * k`` of
    them are compared once (:func:`similar_matrix`). A greedy pass keeps a candidate
    dissimilar from every kept one whose families are new; a second pass fills up
    with dissimilar candidates of families already used, if the first found too few.

    Parameters
    ----------
    database : sequence of Motif
        The JASPAR motifs (:func:`load_jaspar`).
    k : int
        How many to draw.
    rng : numpy.random.Generator
        Source of the candidate order.
    usable : numpy.ndarray
        (len(database),) bool: which motifs may be planted (length, information).
    max_q : float
        Tomtom q-value at or below which two motifs are too similar.
    pool_factor : int
        Candidates compared per motif wanted.

    Returns
    -------
    list of Motif
        ``k`` motifs in the order they were drawn.

    Raises
    ------
    InputError
        When fewer than ``k`` dissimilar usable motifs exist among the candidates.
    """
    idx = np.flatnonzero(np.asarray(usable, dtype=bool))
    order = idx[rng.permutation(idx.size)][:max(pool_factor * k, k)]
    pool = [database[i] for i in order]
    if len(pool) < k:
        raise InputError(f"select_motifs: only {len(pool)} usable JASPAR motifs, {k} wanted")
    sim = similar_matrix(pool, database, max_q)
    kept: list[int] = []
    used: set[str] = set()
    for new_family_only in (True, False):
        for i, m in enumerate(pool):
            if len(kept) == k:
                break
            fam = families(m)
            if i in kept or sim[i, kept].any() or (new_family_only and fam & used):
                continue
            kept.append(i)
            used |= fam
    if len(kept) < k:
        raise InputError(f"select_motifs: only {len(kept)} mutually dissimilar motifs among "
                         f"{len(pool)} candidates; ask for fewer than {k}")
    return [pool[i] for i in kept]


def write_jaspar_meme(path: str | os.PathLike, motifs: Sequence[Motif]) -> None:
    """Write a JASPAR database as a MEME file (both strands), atomically.

    Parameters
    ----------
    path : path-like
        The file (``jaspar.meme`` of a DNA set).
    motifs : sequence of Motif
        The database (:func:`load_jaspar`).
    """
    write_meme(path, motifs, strands="+ -")


def family_text(motif: Motif) -> str:
    """A motif's families as one cell: ``A; B`` (sorted), ``''`` when none.

    Parameters
    ----------
    motif : Motif
        A JASPAR motif.

    Returns
    -------
    str
    """
    return "; ".join(sorted(families(motif)))
