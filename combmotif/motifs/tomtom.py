"""Tomtom motif comparison with q-values, in MEME's ``tomtom.tsv`` layout.

One function, two backends:

* ``meme``: the MEME suite's ``tomtom`` binary, used when it is on PATH. Its own
  p-, E- and q-values are kept (MEME computes q-values per query).
* ``memelite``: Jacob Schreiber's numba re-implementation (``memelite.tomtom``),
  always available. It gives p-values only; E-value = p x number of targets, and
  q-values are Benjamini-Hochberg, by default per query over its comparisons with
  every target (``q_scope="query"``), which is the family MEME's tomtom corrects
  over (its q-values are computed inside the loop over queries), so a segment gets
  the same kind of q whichever backend is installed. ``q_scope="run"`` corrects
  over *all* query x target comparisons of the call instead (a whole layer's
  segments share one correction): stricter, and blind to short motifs, since a
  perfect 3-mer against ~50 targets has p ~ 0.01 and cannot survive thousands
  of comparisons. MEME's q-values are re-derived the same way under ``run``.

Both use the Euclidean column distance (MEME's ``-dist ed``; memelite implements
only that one) with complete scores, and by default compare only the given
strand (``norc``), as mRNA motifs have no reverse complement.

Uninformative queries are not compared: under Euclidean Tomtom near-uniform
columns match anything. Against curated + ATtRACT (1,362 motifs), random PPMs
with 0.01-0.4 bits per position got best q-values of 1e-4 to 5e-3 (q < 0.05 for
90-100 % of them, also at 7 bits in total over 16 positions), while at 0.9-1.4
bits per position 0-25 % did; at 0.7 bits it varied from 0 to 75 % with the rest of
the batch (bench/motif_matching.py). The cut-offs below are a floor, not a
guarantee: a real segment should also be judged by its logo.
A query is therefore skipped, and listed in ``df.attrs["skipped"]``, when its
total information content is below ``min_query_ic`` (default 4 bits: two fully
determined positions) or its mean per position is below ``min_query_mean_ic``
(default 0.7 bits; a planted 7-mer at 85 % with one flat flank on each side has
about 1.0, the NeuronMotif engine cuts segments at about 1).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..io import write_text
from ..stats import bh_qvalues as benjamini_hochberg  # one BH for the whole project
from .formats import Motif, consensus
from .meme_writer import format_meme

COLUMNS = ["Query_ID", "Target_ID", "Optimal_offset", "p-value", "E-value", "q-value",
           "Overlap", "Query_consensus", "Target_consensus", "Orientation"]
DEFAULT_MIN_QUERY_IC = 4.0        # bits in total
DEFAULT_MIN_QUERY_MEAN_IC = 0.7   # bits per position
DEFAULT_THRESH = 0.5   # MEME tomtom's default: keep matches with q <= 0.5
FORMAT_URL = "https://meme-suite.org/meme/doc/tomtom-output-format.html"
BACKENDS = ("auto", "meme", "memelite")
Q_SCOPES = ("query", "run")


def tomtom(queries: Sequence[Motif], targets: Sequence[Motif], backend: str = "auto",
           norc: bool = True, dist: str = "ed", min_query_ic: float = DEFAULT_MIN_QUERY_IC,
           min_query_mean_ic: float = DEFAULT_MIN_QUERY_MEAN_IC,
           thresh: float | None = DEFAULT_THRESH, evalue: bool = False,
           q_scope: str = "query", n_jobs: int = -1) -> pd.DataFrame:
    """Compare every query motif with every target motif.

    Parameters
    ----------
    queries, targets : sequence of Motif
        Names must be unique within each list (they become Query_ID / Target_ID).
    backend : {"auto", "meme", "memelite"}
        ``auto`` uses the ``tomtom`` binary when it is on PATH, memelite otherwise.
    norc : bool
        Do not compare against reverse complements (default; right for RNA).
    dist : str
        Column distance; only ``ed`` (Euclidean) with memelite.
    min_query_ic, min_query_mean_ic : float
        Queries with less information in total, or per position on average (bits),
        are not compared (see the module docstring).
    thresh : float or None
        Keep rows with q-value (or E-value when ``evalue``) <= ``thresh``; None keeps all.
    q_scope : {"query", "run"}
        The family of the Benjamini-Hochberg correction: each query's comparisons
        (MEME's tomtom) or every comparison of this call (see the module docstring).
    n_jobs : int
        numba threads for memelite (-1: all).

    Returns
    -------
    pandas.DataFrame
        MEME's 10 columns (:data:`COLUMNS`), rows grouped by query in input
        order and sorted by p-value (then overlap, descending, then target).
        ``attrs``: ``comments`` (the trailing ``#`` lines of tomtom.tsv),
        ``backend``, ``n_comparisons``, ``skipped`` (names of queries not compared).
    """
    use = _backend(queries, targets, backend, dist, q_scope)

    keep = [informative_enough(q, min_query_ic, min_query_mean_ic) for q in queries]
    informative = [q for q, k in zip(queries, keep) if k]
    skipped = [q.name for q, k in zip(queries, keep) if not k]
    if not informative:
        df = _empty()
        n = 0
        comments = _comments(use, dist, norc, thresh, evalue, min_query_ic, min_query_mean_ic,
                             0, len(targets))
    elif use == "memelite":
        # The threshold is applied while the table is built: segment-against-segment calls
        # (thousands x thousands) would otherwise hold every comparison as rows first.
        keep_rows = None if thresh is None else (thresh, evalue)
        df, n = _run_memelite(informative, targets, norc, q_scope, n_jobs, keep_rows)
        comments = _comments(use, dist, norc, thresh, evalue, min_query_ic, min_query_mean_ic,
                             n, len(targets), q_scope)
    else:
        df, comments = _run_meme(informative, targets, norc, dist)
        n = len(informative) * len(targets)
        if q_scope == "run" and len(df):
            df["q-value"] = benjamini_hochberg(df["p-value"].to_numpy())
        if thresh is not None and len(df):
            df = df[df["E-value" if evalue else "q-value"] <= thresh]
    df = _sort(df, [q.name for q in informative])
    df.attrs.update(comments=comments, backend=use, n_comparisons=n, skipped=skipped)
    return df


def warm_up() -> None:
    """Compile memelite's numba kernels now, once per environment.

    memelite caches its compiled kernels beside its own source, so the first Tomtom
    call of a new environment spends about two minutes (2 cores) compiling, and every
    later process reads the cache. ``scripts/setup_env.sh`` calls this right after
    installing, so that the cost lands in the set-up it belongs to and not, unannounced,
    in a user's first discovery. Tiny random motifs on both strands reach the kernels
    every call uses (the rare dense-background path compiles on its own when taken).
    """
    rng = np.random.default_rng(0)
    motifs = [Motif(f"m{i}", rng.dirichlet(np.full(4, 0.3), size=w)) for i, w in enumerate((6, 8, 10, 12))]
    for norc in (True, False):
        tomtom(motifs[:2], motifs, backend="memelite", norc=norc, min_query_ic=0.0,
               min_query_mean_ic=0.0, thresh=None, n_jobs=1)


def _backend(queries: Sequence[Motif], targets: Sequence[Motif], backend: str, dist: str, q_scope: str) -> str:
    """Check a :func:`tomtom` call's settings and motif names; the backend to use ("meme" or "memelite")."""
    if backend not in BACKENDS:
        raise ConfigError(f"tomtom_backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if q_scope not in Q_SCOPES:
        raise ConfigError(f"q_scope must be one of {', '.join(Q_SCOPES)}; got {q_scope!r}")
    if not targets:
        raise InputError("tomtom: no target motifs")
    _unique(queries, "query")
    _unique(targets, "target")
    use = backend
    if backend == "auto":
        use = "meme" if shutil.which("tomtom") else "memelite"
    if use == "meme" and not shutil.which("tomtom"):
        raise ConfigError("tomtom_backend 'meme' but no 'tomtom' binary on PATH "
                          "(install the MEME suite or use 'memelite')")
    if use == "memelite" and dist != "ed":
        raise ConfigError(f"tomtom distance {dist!r} needs the MEME binary; memelite only has 'ed'")
    return use


def informative_enough(motif: Motif, min_ic: float = DEFAULT_MIN_QUERY_IC,
                       min_mean_ic: float = DEFAULT_MIN_QUERY_MEAN_IC) -> bool:
    """Whether a query carries enough information to be compared (see the module docstring).

    Parameters
    ----------
    motif : Motif
        The query.
    min_ic : float
        Total information it needs, in bits.
    min_mean_ic : float
        Mean information per position it needs.

    Returns
    -------
    bool
    """
    ic = motif.information
    return bool(ic.sum() >= min_ic and ic.mean() >= min_mean_ic)


# --------------------------------------------------------------------------- backends

MEMELITE_MAX_QUERY = 64   # memelite's work arrays grow with the cube of the longest query


def _memelite_arrays(queries: list[Motif], targets: Sequence[Motif], norc: bool,
                     n_jobs: int) -> tuple[np.ndarray, ...]:
    """memelite's p, offset, overlap and strand, (queries, targets) each.

    memelite allocates work arrays of (longest query)^3 x ~200 floats per thread:
    a whole deep-layer cluster (288 columns) asked for 71 GiB. A query longer than
    :data:`MEMELITE_MAX_QUERY` is therefore compared window by window (windows of
    that length, overlapping by the longest target, so every alignment of a target
    inside the query lies whole in some window; by half a window at most); per target
    the best window counts,
    its p multiplied by the number of windows (Bonferroni), its offset moved into
    the whole query's frame. Shorter queries are compared whole, as before.
    """
    from memelite import tomtom as memelite_tomtom

    width = MEMELITE_MAX_QUERY
    # Targets longer than half a window (segment against segment) cannot lie whole in one; the
    # windows then overlap by half, or a 288-column query would need 225 of them.
    step = max(width // 2, width - max(len(t) for t in targets) + 1)
    pieces, shift, counts = [], [], []
    for q in queries:
        n = len(q)
        starts = [0] if n <= width else sorted({*range(0, n - width + 1, step), n - width})
        pieces += [np.ascontiguousarray(q.ppm[a:a + width].T) for a in starts]
        shift += starts
        counts.append(len(starts))
    ts = [np.ascontiguousarray(t.ppm.T) for t in targets]
    p, _score, offset, overlap, strand = memelite_tomtom(pieces, ts, reverse_complement=not norc, n_jobs=n_jobs)
    if len(pieces) == len(queries):
        return p, offset, overlap, strand
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    cols = np.arange(p.shape[1])
    best = np.array([a + p[a:a + c].argmin(0) for a, c in zip(first, counts)])      # (queries, targets)
    p_best = np.minimum(1.0, p[best, cols] * np.asarray(counts)[:, None])
    # MEME's offset is the query's start relative to the target's: a window starting later is further left
    return (p_best, offset[best, cols] - np.asarray(shift)[best], overlap[best, cols], strand[best, cols])


def _run_memelite(queries: list[Motif], targets: Sequence[Motif], norc: bool,
                  q_scope: str, n_jobs: int, keep_rows: tuple[float, bool] | None = None
                  ) -> tuple[pd.DataFrame, int]:
    p, offset, overlap, strand = _memelite_arrays(queries, targets, norc, n_jobs)
    nq, nt = p.shape
    p = np.clip(p, 0.0, 1.0)
    if q_scope == "run":
        q = benjamini_hochberg(p.ravel()).reshape(p.shape)
    else:
        q = np.stack([benjamini_hochberg(row) for row in p]) if nq else p.copy()
    rc = strand.astype(bool).ravel()
    if keep_rows is None:
        rows = np.arange(nq * nt)
    else:
        limit, by_e = keep_rows
        rows = np.flatnonzero((p.ravel() * nt if by_e else q.ravel()) <= limit)
    qi, ti = rows // nt, rows % nt
    t_cons = np.array([t.consensus for t in targets], dtype=object)
    t_cons_rc = np.array([consensus(t.ppm[::-1, ::-1]) for t in targets], dtype=object)
    df = pd.DataFrame({
        "Query_ID": np.array([m.name for m in queries], dtype=object)[qi],
        "Target_ID": np.array([t.name for t in targets], dtype=object)[ti],
        "Optimal_offset": _as_int(offset, -1)[rows],
        "p-value": p.ravel()[rows],
        "E-value": p.ravel()[rows] * nt,
        "q-value": q.ravel()[rows],
        "Overlap": _as_int(overlap, 0)[rows],
        "Query_consensus": np.array([m.consensus for m in queries], dtype=object)[qi],
        "Target_consensus": np.where(rc[rows], t_cons_rc[ti], t_cons[ti]),
        "Orientation": np.where(rc[rows], "-", "+"),
    })
    return df, nq * nt


def _as_int(values: np.ndarray, missing: int) -> np.ndarray:
    """memelite's offsets/overlaps as int64; a pair it could not align (NaN, inf or a
    value beyond any motif length) gets ``missing``."""
    v = np.asarray(values, dtype=np.float64).ravel()
    bad = ~np.isfinite(v) | (np.abs(v) > 1e6)
    return np.where(bad, missing, v).astype(np.int64)


def _run_meme(queries: list[Motif], targets: Sequence[Motif], norc: bool,
              dist: str) -> tuple[pd.DataFrame, list[str]]:
    # Plain internal IDs keep MEME's parser away from odd characters in our names.
    qmap = {f"q{i}": m.name for i, m in enumerate(queries)}
    tmap = {f"t{i}": m.name for i, m in enumerate(targets)}
    with tempfile.TemporaryDirectory(prefix="combmotif-tomtom-") as tmp:
        qf, tf = Path(tmp) / "queries.meme", Path(tmp) / "targets.meme"
        qf.write_text(format_meme([dataclasses.replace(m, name=k, altname="")
                                   for k, m in zip(qmap, queries)]))
        tf.write_text(format_meme([dataclasses.replace(m, name=k, altname="")
                                   for k, m in zip(tmap, targets)]))
        # -thresh 1 on q-values keeps every comparison; we filter afterwards.
        cmd = ["tomtom", "-no-ssc", "-text", "-verbosity", "1", "-min-overlap", "1",
               "-dist", dist, "-thresh", "1"] + (["-norc"] if norc else []) + [str(qf), str(tf)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError(f"tomtom failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    df = parse_tomtom_tsv(proc.stdout, source="tomtom output")
    comments = df.attrs.get("comments", [])
    df["Query_ID"] = df["Query_ID"].map(qmap)
    df["Target_ID"] = df["Target_ID"].map(tmap)
    if df["Query_ID"].isna().any() or df["Target_ID"].isna().any():
        raise InputError("tomtom output names motifs that were not in its input")
    return df, comments


# --------------------------------------------------------------------------- statistics

# --------------------------------------------------------------------------- tsv

def write_tomtom_tsv(path: str | os.PathLike, df: pd.DataFrame,
                     comments: Sequence[str] | None = None) -> None:
    """Write ``df`` as MEME's tomtom.tsv (atomically).

    Rows are printed as MEME prints them (``%d`` for offset and overlap, ``%g``
    for p, E and q), then, when there are comment lines, one blank line and the
    comments. ``comments`` defaults to ``df.attrs["comments"]``.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    df : pandas.DataFrame
        The table, with MEME's ten columns.
    comments : sequence of str, optional
        The trailing comment lines.
    """
    write_text(path, format_tomtom_tsv(df, comments))


def format_tomtom_tsv(df: pd.DataFrame, comments: Sequence[str] | None = None) -> str:
    """The text :func:`write_tomtom_tsv` writes.

    Parameters
    ----------
    df : pandas.DataFrame
        The table, with MEME's ten columns.
    comments : sequence of str, optional
        The trailing comment lines (default: ``df.attrs["comments"]``).

    Returns
    -------
    str
    """
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"tomtom table lacks column(s) {', '.join(missing)}")
    if comments is None:
        comments = df.attrs.get("comments", [])
    lines = ["\t".join(COLUMNS)]
    for r in df[COLUMNS].itertuples(index=False):
        lines.append(f"{r[0]}\t{r[1]}\t{int(r[2])}\t{r[3]:g}\t{r[4]:g}\t{r[5]:g}\t{int(r[6])}"
                     f"\t{r[7]}\t{r[8]}\t{r[9]}")
    text = "\n".join(lines) + "\n"
    if comments:
        text += "\n" + "\n".join(comments) + "\n"
    return text


def read_tomtom_tsv(path: str | os.PathLike) -> pd.DataFrame:
    """Read a tomtom.tsv (MEME's or ours); trailing ``#`` lines go to ``attrs["comments"]``.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: tomtom table not found")
    return parse_tomtom_tsv(path.read_text(), source=str(path))


def parse_tomtom_tsv(text: str, source: str = "<text>") -> pd.DataFrame:
    """Parse the text of a tomtom.tsv (see :func:`read_tomtom_tsv`).

    Parameters
    ----------
    text : str
        The file's content.
    source : str
        Where it comes from, for the error message.

    Returns
    -------
    pandas.DataFrame
    """
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r").split("\t") != COLUMNS:
        raise InputError(f"{source}: not a tomtom.tsv (first line must be the 10 MEME column names)")
    rows, comments = [], []
    for k, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line:
            continue
        if line.startswith("#"):
            comments.append(line)
            continue
        f = line.split("\t")
        if len(f) != len(COLUMNS):
            raise InputError(f"{source}: line {k} has {len(f)} fields, not {len(COLUMNS)}")
        try:
            rows.append((f[0], f[1], int(f[2]), float(f[3]), float(f[4]), float(f[5]),
                         int(f[6]), f[7], f[8], f[9]))
        except ValueError:
            raise InputError(f"{source}: line {k} has a non-numeric offset, p, E, q or overlap") from None
    df = pd.DataFrame(rows, columns=COLUMNS) if rows else _empty()
    df = df.astype({"Optimal_offset": np.int64, "Overlap": np.int64})
    df.attrs["comments"] = comments
    return df


# --------------------------------------------------------------------------- helpers

def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
        COLUMNS, [object, object, np.int64, float, float, float, np.int64, object, object, object])})


def _sort(df: pd.DataFrame, query_order: list[str]) -> pd.DataFrame:
    """MEME's order: queries as given; per query p ascending, overlap descending, target id."""
    if not len(df):
        return df.reset_index(drop=True)
    rank = {n: i for i, n in enumerate(query_order)}
    key = df["Query_ID"].map(rank)
    out = df.assign(_q=key, _o=-df["Overlap"]).sort_values(
        ["_q", "p-value", "_o", "Target_ID"], kind="stable")
    return out.drop(columns=["_q", "_o"]).reset_index(drop=True)


def _unique(motifs: Sequence[Motif], what: str) -> None:
    names = [m.name for m in motifs]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"tomtom: {what} motif name {dup!r} is used twice")


def _comments(backend: str, dist: str, norc: bool, thresh, evalue: bool, min_ic: float,
              min_mean_ic: float, n_comparisons: int, n_targets: int,
              q_scope: str = "query") -> list[str]:
    """The three trailing lines MEME writes, stating what actually ran."""
    if backend == "memelite":
        import memelite

        version = f"memelite {getattr(memelite, '__version__', '?')}"
    else:
        version = "MEME tomtom (not run: no informative query)"
    family = (f"all {n_comparisons} comparisons" if q_scope == "run"
              else f"each query's {n_targets} comparisons")
    qnote = f"q-values: Benjamini-Hochberg over {family}; E-value = p x {n_targets} targets"

    cmd = (f"tomtom -no-ssc -min-overlap 1 -dist {dist}"
           + (" -evalue" if evalue else "") + (f" -thresh {thresh:g}" if thresh is not None else "")
           + (" -norc" if norc else "") + " queries.meme targets.meme"
           + f" (queries need >= {min_ic:g} bits, >= {min_mean_ic:g} per position)")
    return [f"# Tomtom (Motif Comparison Tool): Version {version} via CombMotif ({qnote})",
            f"# The format of this file is described at {FORMAT_URL}.",
            f"# {cmd}"]
