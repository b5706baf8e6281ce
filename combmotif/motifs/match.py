"""Match a layer's NeuronMotif segments to a motif database.

Layout read (written by NeuronMotif or a baseline; :mod:`combmotif.motifs.unit`), for each neuron::

    <layer_dir>/neuron<k>/clusters.json   list of clusters (one dict each)
    <layer_dir>/neuron<k>/ppms.meme       one PPM per cluster, same order
    <layer_dir>/neuron<k>/segments.meme   motif segments cut from those PPMs

Layout written::

    <layer_dir>/neuron<k>/tomtom.tsv      MEME's tomtom.tsv layout, this neuron's rows
    <layer_dir>/matches.csv               best matches per segment, whole layer

All segments of the layer go to Tomtom in one call, so the Benjamini-Hochberg
q-values (memelite backend) correct over every comparison of the layer.

A unit folder follows the one schema of :mod:`combmotif.motifs.unit`, written by
NeuronMotif and the baselines alike: a segment is tied to its cluster and its
start by the cluster's segment records in ``clusters.json``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Literal, Sequence

import pandas as pd

from ..errors import InputError
from ..io import atomic_path
from .formats import Motif, read_motifs
from .tomtom import DEFAULT_MIN_QUERY_IC, DEFAULT_MIN_QUERY_MEAN_IC, DEFAULT_THRESH, tomtom, write_tomtom_tsv

MATCH_COLUMNS = ["neuron", "cluster", "segment", "rank", "target", "target_source", "q", "p",
                 "E", "offset", "overlap", "orientation", "segment_consensus", "target_consensus"]
_NEURON_DIR = re.compile(r"^neuron(\d+)$")


@dataclasses.dataclass
class MatchConfig:
    """Motif-matching settings (embed in a stage config as a nested section)."""

    tomtom_backend: Literal["auto", "meme", "memelite"] = "auto"
    # auto: both strands for a DNA model, the given strand for RNA (the model's molecule:
    # its checkpoint's record, or model.molecule; see :meth:`for_molecule`)
    strands: Literal["auto", "given", "both"] = "auto"
    norc: bool | None = None              # the older key: true = strands given, false = both
    dist: str = "ed"                      # Euclidean; the only one memelite has
    min_query_ic: float = DEFAULT_MIN_QUERY_IC  # bits in total; flatter segments are not compared
    min_query_mean_ic: float = DEFAULT_MIN_QUERY_MEAN_IC  # ... nor those below this per position
    thresh: float = DEFAULT_THRESH        # q-value cut for tomtom.tsv rows (MEME's default)
    q_scope: Literal["query", "run"] = "query"  # BH family: each segment's comparisons (as MEME) or the layer's
    top_k: int = 3                        # matches kept per segment in matches.csv and pages
    significance: float = 0.05            # q below which a match counts as found
    n_jobs: int = -1                      # numba threads for memelite (-1: all)

    def __post_init__(self) -> None:
        # The older ``norc`` key read as ``strands``; kept as given so a config round-trips.
        if self.norc is not None:
            alias = "given" if self.norc else "both"
            if self.strands not in ("auto", alias):
                raise ValueError(f"'norc' = {str(self.norc).lower()} contradicts "
                                 f"'strands' = {self.strands!r} (give only 'strands')")
            self.strands = alias

    @property
    def given_strand(self) -> bool:
        """Whether Tomtom compares the given strand only (what every Tomtom call passes as ``norc``).

        ``auto`` not yet resolved by :meth:`for_molecule` reads as the given strand
        (RNA, the molecule of every model without a record).
        """
        return self.strands != "both"

    def for_molecule(self, molecule: str) -> "MatchConfig":
        """These settings with ``strands: auto`` resolved for a model of ``molecule``.

        Parameters
        ----------
        molecule : str
            ``"dna"`` (both strands) or ``"rna"`` (the given strand).

        Returns
        -------
        MatchConfig
            A copy; ``strands`` is ``given`` or ``both``.
        """
        if molecule not in ("dna", "rna"):
            raise ValueError(f"molecule must be 'dna' or 'rna'; got {molecule!r}")
        strands = self.strands if self.strands != "auto" else ("both" if molecule == "dna" else "given")
        return dataclasses.replace(self, strands=strands, norc=None)

    def strand_text(self) -> str:
        """``given strand only`` or ``both strands`` (pages and logs).

        Returns
        -------
        str
        """
        return "given strand only" if self.given_strand else "both strands (reverse complements too)"

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.top_k < 1:
            raise ValueError("'top_k' must be at least 1")
        if not 0 < self.significance <= 1 or not 0 < self.thresh <= 1:
            raise ValueError("'significance' and 'thresh' must be in (0, 1]")
        # Checked here, when the config is read, so a missing binary stops a run
        # before sampling rather than after it.
        import shutil

        binary = shutil.which("tomtom")
        if self.tomtom_backend == "meme" and not binary:
            raise ValueError("'tomtom_backend' = 'meme' but no 'tomtom' binary on PATH "
                             "(install the MEME suite, or use auto or memelite)")
        if self.dist != "ed" and (self.tomtom_backend == "memelite" or not binary):
            raise ValueError(f"'dist' = {self.dist!r} needs MEME's tomtom binary; memelite has only 'ed'")


@dataclasses.dataclass
class Segment:
    """A motif segment of one cluster: ``motif.ppm`` equals ``ppm[start:start+len]`` of it."""

    name: str
    motif: Motif
    cluster: int | None
    start: int | None


@dataclasses.dataclass
class NeuronResult:
    """What the engine wrote for one neuron, tied together."""

    neuron: int
    path: Path
    clusters: list[dict]
    ppms: list[Motif]
    segments: list[Segment]


# --------------------------------------------------------------------------- reading

def neuron_dirs(layer_dir: str | Path) -> list[tuple[int, Path]]:
    """``(k, path)`` of every finished ``neuron<k>`` folder, by k (partial folders skipped).

    Parameters
    ----------
    layer_dir : str or Path
        ``discovery/conv<L>``.

    Returns
    -------
    list of (int, Path)
    """
    layer_dir = Path(layer_dir)
    if not layer_dir.is_dir():
        raise InputError(f"{layer_dir}: layer folder not found")
    out = []
    for p in layer_dir.iterdir():
        m = _NEURON_DIR.match(p.name)
        if m and p.is_dir():
            out.append((int(m.group(1)), p))
    return sorted(out)


def load_neuron(neuron_dir: str | Path) -> NeuronResult:
    """Read clusters.json, ppms.meme and segments.meme of one neuron folder.

    Missing files read as empty (a neuron with no cluster has nothing to show).

    Parameters
    ----------
    neuron_dir : str or Path
        A ``neuron<k>`` folder.

    Returns
    -------
    NeuronResult
    """
    neuron_dir = Path(neuron_dir)
    m = _NEURON_DIR.match(neuron_dir.name)
    if not m:
        raise InputError(f"{neuron_dir}: not a neuron<k> folder")
    clusters = _read_clusters(neuron_dir / "clusters.json")
    ppms = _read_meme_if_any(neuron_dir / "ppms.meme")
    seg_motifs = _read_meme_if_any(neuron_dir / "segments.meme")
    if clusters and ppms and len(clusters) != len(ppms):
        raise InputError(f"{neuron_dir}: clusters.json has {len(clusters)} clusters but "
                         f"ppms.meme has {len(ppms)} PPMs")
    if not clusters:
        clusters = [{} for _ in ppms]
    segments = _place_segments(seg_motifs, clusters)
    return NeuronResult(int(m.group(1)), neuron_dir, clusters, ppms, segments)


def _read_clusters(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict):
        data = data.get("clusters", [])
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise InputError(f"{path}: expected a list of cluster objects")
    return data


def _read_meme_if_any(path: Path) -> list[Motif]:
    if not path.is_file():
        return []
    text = path.read_text()
    if "MOTIF" not in text:  # a valid file of a neuron without clusters
        return []
    return read_motifs(path, "meme")


def cluster_name(cluster: dict, ppm: Motif | None, index: int) -> str:
    """A cluster's display name: its ``name``/``id``/``motif_id`` key, else its PPM's name.

    Parameters
    ----------
    cluster : dict
        The cluster's entry of ``clusters.json``.
    ppm : Motif, optional
        Its PPM.
    index : int
        Its position, the last resort.

    Returns
    -------
    str
    """
    for key in ("name", "id", "motif_id"):
        if key in cluster:
            return str(cluster[key])
    return ppm.name if ppm is not None else str(index)


def _place_segments(segs: list[Motif], clusters: list[dict]) -> list[Segment]:
    """Tie each segment to its cluster and start through the unit's records
    (:mod:`combmotif.motifs.unit`); a segment without a record stays unplaced."""
    where = {str(d["motif_id"]): (i, d.get("start")) for i, c in enumerate(clusters)
             for d in c.get("segments", []) if "motif_id" in d}
    out = []
    for seg in segs:
        cluster, start = where.get(seg.name, (None, None))
        out.append(Segment(seg.name, seg, cluster, int(start) if start is not None else None))
    return out


# --------------------------------------------------------------------------- matching

def match_layer(layer_dir: str | Path, targets: Sequence[Motif],
                cfg: MatchConfig | dict | None = None) -> pd.DataFrame:
    """Tomtom every segment of a layer against ``targets`` in one call; write the tables.

    Writes ``neuron<k>/tomtom.tsv`` for every neuron folder (header and comment
    lines only when nothing matched) and ``<layer_dir>/matches.csv``; returns
    the matches table (:data:`MATCH_COLUMNS`, ``top_k`` rows per segment at most).

    Parameters
    ----------
    layer_dir : str or Path
        ``discovery/conv<L>``.
    targets : sequence of Motif
        The motif database.
    cfg : MatchConfig or dict, optional
        The matching settings (default: :class:`MatchConfig`).

    Returns
    -------
    pandas.DataFrame
    """
    cfg = _config(cfg)
    layer_dir = Path(layer_dir)
    neurons = [load_neuron(p) for _, p in neuron_dirs(layer_dir)]
    queries, owner = [], {}
    for nr in neurons:
        for seg in nr.segments:
            qid = f"neuron{nr.neuron}/{seg.name}"
            queries.append(dataclasses.replace(seg.motif, name=qid))
            owner[qid] = (nr, seg)
    src = {t.name: t.source for t in targets}
    df = tomtom(queries, targets, backend=cfg.tomtom_backend, norc=cfg.given_strand, dist=cfg.dist,
                min_query_ic=cfg.min_query_ic, min_query_mean_ic=cfg.min_query_mean_ic,
                thresh=cfg.thresh, q_scope=cfg.q_scope, n_jobs=cfg.n_jobs)
    comments = df.attrs.get("comments", [])
    prefix = df["Query_ID"].str.split("/", n=1).str[0] if len(df) else pd.Series([], dtype=object)
    for nr in neurons:
        part = df[prefix == f"neuron{nr.neuron}"].copy()
        part["Query_ID"] = part["Query_ID"].str.split("/", n=1).str[1]
        write_tomtom_tsv(nr.path / "tomtom.tsv", part, comments=comments)

    rows = []
    for qid, hits in df.groupby("Query_ID", sort=False):
        nr, seg = owner[qid]
        for rank, h in enumerate(hits.head(cfg.top_k).itertuples(index=False), start=1):
            rows.append({
                "neuron": nr.neuron,
                "cluster": seg.cluster if seg.cluster is not None else -1,
                "segment": seg.name, "rank": rank, "target": h[1],
                "target_source": src.get(h[1], ""),
                "q": h[5], "p": h[3], "E": h[4], "offset": h[2], "overlap": h[6],
                "orientation": h[9], "segment_consensus": h[7], "target_consensus": h[8]})
    matches = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    if len(matches):
        matches = matches.sort_values(["neuron", "cluster", "segment", "rank"],
                                      kind="stable").reset_index(drop=True)
    write_csv(layer_dir / "matches.csv", matches)
    matches.attrs.update(df.attrs)
    return matches


def read_matches(layer_dir: str | Path) -> pd.DataFrame:
    """The layer's matches.csv (empty table when absent).

    Parameters
    ----------
    layer_dir : str or Path
        ``discovery/conv<L>``.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(layer_dir) / "matches.csv"
    if not path.is_file():
        return pd.DataFrame(columns=MATCH_COLUMNS)
    return pd.read_csv(path, dtype={"segment": str, "target": str, "target_source": str,
                                    "orientation": str}, keep_default_na=False)


def write_csv(path: str | Path, df: pd.DataFrame) -> None:
    """Write a table atomically (CSV, no index).

    Parameters
    ----------
    path : str or Path
        The CSV file.
    df : pandas.DataFrame
        The table.
    """
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def _config(cfg) -> MatchConfig:
    if cfg is None:
        return MatchConfig()
    if isinstance(cfg, dict):
        cfg = MatchConfig(**cfg)
    cfg.validate()
    return cfg
