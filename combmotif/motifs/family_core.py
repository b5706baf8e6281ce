"""A motif family's core: the columns its members agree on, averaged over the members.

A family's founding segment is one neuron's view of the motif, often with flanks
another neuron does not share (``AATTTATTTAG`` for an AU-rich element whose
members agree on ``ATTTATTT``) or fused with a neighbour the model saw beside it.
Names, labels and cross-model matches should speak of what the members have in
common, so every member is aligned to the founding segment by Tomtom (its optimal
offset and strand), the aligned columns are averaged (each member weighs one),
and the core is the stretch from the first to the last column that at least
``min_support`` of the members (and two at least) cover and that carries ``min_ic`` bits or more.
A family of one segment, or whose core would be shorter than ``min_width``,
keeps its founding segment.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .formats import Motif, information_content
from .match import _config
from .tomtom import tomtom


def aligned_frames(members: Sequence[Motif], leaders: Sequence[Motif], leader_of: Sequence[int],
                   norc: bool = True, backend: str = "auto", n_jobs: int = -1
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each member's offset on its leader, whether it aligns as a reverse complement, and the p-value (one Tomtom call).

    Parameters
    ----------
    members : sequence of Motif
        Unique names.
    leaders : sequence of Motif
        Unique names.
    leader_of : sequence of int
        Index into ``leaders`` of each member's leader.
    norc : bool
        Compare the given strand only (RNA).
    backend : str
        Tomtom backend (:func:`combmotif.motifs.tomtom.tomtom`).
    n_jobs : int
        numba threads for memelite.

    Returns
    -------
    offset : numpy.ndarray
        (n,) int: member column j (after flipping) sits on leader column j + offset.
    flip : numpy.ndarray
        (n,) bool: the member aligns as its reverse complement.
    p : numpy.ndarray
        (n,) Tomtom p-value of the member against its leader.
    """
    n = len(members)
    offset, flip, p = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool), np.ones(n)
    if not n:
        return offset, flip, p
    with warnings.catch_warnings():
        # Few leaders make Tomtom's p-values depend on which are present (it warns so); here they
        # only keep a member that does not align at all out of the core, not a reported figure.
        warnings.filterwarnings("ignore", message="tomtom was given")
        df = tomtom(members, leaders, backend=backend, norc=norc, min_query_ic=0.0, min_query_mean_ic=0.0,
                    thresh=None, n_jobs=n_jobs)
    rows = {(q, t): (o, s, pv) for q, t, o, s, pv in zip(df["Query_ID"], df["Target_ID"],
                                                         df["Optimal_offset"], df["Orientation"],
                                                         df["p-value"])}
    for i, (m, g) in enumerate(zip(members, leader_of)):
        lead = leaders[g]
        o, strand, p[i] = rows.get((m.name, lead.name), (0, "+", 1.0))
        if strand == "-":
            # Tomtom reverse-complements the target; in the leader's own frame the member flips.
            offset[i], flip[i] = len(lead) - len(m) - int(o), True
        else:
            offset[i] = int(o)
    return offset, flip, p


def core_ppm(members: Sequence[np.ndarray], offset: Sequence[int], flip: Sequence[bool],
             min_support: float = 0.5, min_ic: float = 1.0, min_width: int = 4) -> np.ndarray | None:
    """The agreed columns of aligned member PPMs (module docstring).

    Parameters
    ----------
    members : sequence of numpy.ndarray
        (W_i, 4) PPMs over A, C, G, T.
    offset : sequence of int
        Each member's first column in the common frame.
    flip : sequence of bool
        Reverse-complement the member first.
    min_support : float
        Share of the members that must cover a core column.
    min_ic : float
        Bits a column at either end of the core must carry.
    min_width : int
        Shorter cores are refused.

    Returns
    -------
    numpy.ndarray or None
        (W, 4) with rows summing to 1; None when no core of ``min_width`` columns exists.
    """
    if not len(members):
        return None
    mats = [m[::-1, ::-1] if f else m for m, f in zip(members, flip)]
    offset = np.asarray(offset, dtype=np.int64)
    lo = int(offset.min())
    width = int(max(o + len(m) for o, m in zip(offset, mats))) - lo
    total = np.zeros((width, 4))
    count = np.zeros(width)
    for m, o in zip(mats, offset - lo):
        total[o:o + len(m)] += m
        count[o:o + len(m)] += 1
    covered = count > 0
    mean = np.full((width, 4), 0.25)
    mean[covered] = total[covered] / count[covered, None]
    # two members at least: one member's flank is no agreement
    ok = (count >= max(2.0, min_support * len(mats))) & (information_content(mean) >= min_ic)
    idx = np.flatnonzero(ok)
    if not len(idx) or idx[-1] - idx[0] + 1 < min_width:
        return None
    core = mean[idx[0]:idx[-1] + 1]
    return core / core.sum(axis=1, keepdims=True)


def family_cores(segments: Sequence[Motif], group: np.ndarray, leaders: Sequence[int],
                 min_support: float = 0.5, min_ic: float = 1.0, cfg=None, align_p: float = 0.05
                 ) -> list[Motif]:
    """Each family's representative: its members' core, else its leader; named ``<leader>.core``.

    Parameters
    ----------
    segments : sequence of Motif
        Every grouped segment.
    group : numpy.ndarray
        (n,) family index of each segment.
    leaders : sequence of int
        The founding segment of each family.
    min_support, min_ic : float
        As :func:`core_ppm`.
    cfg : combmotif.motifs.match.MatchConfig, optional
        Tomtom backend and strand settings.
    align_p : float
        A member whose Tomtom alignment to the leader has a p-value at or above this
        (it joined by a shared IUPAC stretch, not as a whole) stays out of the core.

    Returns
    -------
    list of Motif
        In family order; ``nsites`` is the number of members averaged.
    """
    cfg = _config(cfg)
    multi = [g for g in range(len(leaders)) if np.count_nonzero(group == g) > 1]
    slot = {g: k for k, g in enumerate(multi)}
    idx = np.array([i for g in multi for i in np.flatnonzero(group == g).tolist()], dtype=np.int64)
    offset, flip, p = aligned_frames([segments[i] for i in idx], [segments[leaders[g]] for g in multi],
                                  [slot[int(group[i])] for i in idx], norc=cfg.given_strand,
                                  backend=cfg.tomtom_backend, n_jobs=cfg.n_jobs)
    fam = np.array([group[i] for i in idx], dtype=np.int64)
    out = []
    for g, lead in enumerate(leaders):
        rows = np.flatnonzero((fam == g) & ((p < align_p) | (idx == lead)))
        core = core_ppm([segments[idx[k]].ppm for k in rows], offset[rows], flip[rows],
                        min_support, min_ic) if len(rows) else None
        ppm = segments[lead].ppm if core is None else core
        out.append(Motif(f"{segments[lead].name}.core", ppm.copy(), nsites=float(max(len(rows), 1))))
    return out


def core_matches(reps: Sequence[Motif], targets: Sequence[Motif] | None, q_max: float, cfg=None,
                 floor: bool = False) -> dict[str, list[tuple[str, float]]]:
    """Motif name -> its database matches with q < ``q_max``, best first (one Tomtom call).

    Parameters
    ----------
    reps : sequence of Motif
        The motifs to name (families' cores, syntax dictionary motifs).
    targets : sequence of Motif
        The motif database.
    q_max : float
        Matches at or above this q are dropped.
    cfg : combmotif.motifs.match.MatchConfig, optional
        Tomtom backend, strands, distance and q scope (as discovery's matching).
    floor : bool
        Leave motifs under the matching's information floor (``min_query_ic``,
        ``min_query_mean_ic``) unnamed, as discovery's own matching does.

    Returns
    -------
    dict of str to list of (str, float)
    """
    cfg = _config(cfg)
    if not reps or not targets:
        return {}
    df = tomtom(list(reps), list(targets), backend=cfg.tomtom_backend, norc=cfg.given_strand,
                dist=cfg.dist, min_query_ic=cfg.min_query_ic if floor else 0.0,
                min_query_mean_ic=cfg.min_query_mean_ic if floor else 0.0, thresh=q_max,
                q_scope=cfg.q_scope, n_jobs=cfg.n_jobs)
    df = df[df["q-value"] < q_max].sort_values(["q-value", "Target_ID"], kind="stable")
    out: dict[str, list[tuple[str, float]]] = {}
    for r, t, q in zip(df["Query_ID"], df["Target_ID"], df["q-value"]):
        out.setdefault(str(r), []).append((str(t), float(q)))
    return out
