"""Motif families across a whole model: the distinct motifs its neurons learned.

NeuronMotif cuts one learned motif into many segments: every neuron and every
cluster that holds it gives one, with other flanks and another sharpness
(``ACTTTCCT``, ``CTTTCCTR``, ``GCTTTCCT``). Labels, syntax rules and pair tests
must speak of the motif, not of its copies, so the informative segments of every
layer (:func:`~combmotif.motifs.tomtom.informative_enough`) are grouped into
families:

1. segments are ranked by quality (NeuronMotif's ``q=`` in the MEME description,
   else total information), those longer than two labels (``2 * label_max_length``:
   composites of several motifs) after all others;
2. Tomtom similarity between segments (:func:`~combmotif.motifs.collect.similar_pairs`:
   mutual q < ``merge_q``, alignment over ``min_cover`` of the longer one);
3. each segment, best first, joins the first family whose *leader* (its
   founding, best-quality segment) it is similar to, or whose usable IUPAC pattern
   lies inside its own (or the reverse); otherwise it founds a new family.
   Comparing with the leader only, never with any member, keeps a family
   from chaining through composite segments (``GAGCAACATG`` would join the
   ``GAGCAAC`` and ``ATG`` families into one under single linkage). A segment whose
   database matches (q < ``q_max`` in discovery's Tomtom) all name other database
   motifs than the family's first named member's best (not one group of near-duplicate
   database motifs, ``collected_motifs.csv``) does not join it: two motifs the database tells
   apart stay apart even when a shared half makes their segments look alike
   (``TCGGTCG`` for repC beside ``TAGGTCA`` for repD);
4. the family's *representative* is its core (:mod:`combmotif.motifs.family_core`):
   the columns its members agree on, averaged over the members aligned to the leader,
   not the leader's own flanks or a neighbour fused to it.

Families are numbered ``F1, F2, ...`` by size (ties: best leader first).
A family is named after a database motif only when its representative matches
it at q < ``q_max``: Tomtom of the cores against the discovery's motif database
when it is given (as discovery's pages step does); a core without such a match
(or without the database) takes its leader's best row in discovery's
``conv<L>/matches.csv``; otherwise ``F<i>-<consensus>``. Its IUPAC pattern
(:func:`combmotif.interaction.labels.ppm_iupac`) is a usable label only when it
holds at least ``min_letters`` informative letters (a two-base code counts half).

Outputs (``results/<model>/discovery/``): ``families.csv`` (:data:`FAMILY_COLUMNS`),
``families.meme`` (the representatives, named by family id), ``families.json``
(the families and ``segment -> family``) and ``families.stamp.json``
(:mod:`combmotif.stamps`; the families are recomputed when a layer's segments,
clusters or matches change or the settings do).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import layout
from ..io import write_json
from ..stamps import make_stamp, unit_is_fresh, write_stamp
from .collect import layer_dirs, similar_pairs
from .family_core import core_matches, family_cores
from .formats import Motif
from .match import MatchConfig, _config, load_neuron, neuron_dirs, read_matches, write_csv
from .meme_writer import write_meme
from .patterns import pattern_letters, patterns_overlap  # noqa: F401 (re-exported)
from .tomtom import informative_enough

FAMILY_COLUMNS = ["family", "name", "named", "target", "q", "consensus", "pattern", "letters",
                  "usable", "note", "representative", "n_members", "n_neurons", "layers",
                  "neurons", "members", "leader"]
# Bumped when the grouping changes, so families made by an older rule are redone.
GROUPING_VERSION = 3


@dataclasses.dataclass
class FamilySettings:
    """How segments are grouped and how a family's label pattern is made."""

    merge_q: float = 0.01          # Tomtom q both directions must beat (collect.similar_pairs)
    min_cover: float = 0.75        # alignment share of the longer segment
    q_max: float = 0.05            # a representative's database match below this names the family
    label_ic: float = 0.5          # ppm_iupac: columns below this many bits are N
    label_max_length: int = 8      # ppm_iupac: the most informative window of this length
    min_letters: float = 4.0       # fewer informative letters: not usable as a label
    min_overlap: int = 5           # usable patterns overlapping this much (compatibly) are one motif
    core_support: float = 0.5      # family_core: share of members covering a core column
    core_ic: float = 1.0           # family_core: bits at either end of the core (two letters half and half: < 1)


@dataclasses.dataclass
class Family:
    """One model-wide motif family."""

    id: str
    name: str
    representative: Motif
    pattern: str
    letters: float
    members: list[str]
    neurons: list[str]
    target: str = ""
    q: float = float("nan")
    usable: bool = True
    note: str = ""
    leader: str = ""               # the founding segment (the representative is the members' core)
    matches: list = dataclasses.field(default_factory=list)   # (database motif, q) with q < q_max

    @property
    def consensus(self) -> str:
        """Argmax letters of the representative PPM."""
        return self.representative.consensus

    @property
    def layers(self) -> list[int]:
        """The conv layers holding a member, ascending."""
        return sorted({int(n.split("/")[0].removeprefix("conv")) for n in self.neurons})


def segment_quality(motif: Motif) -> float:
    """NeuronMotif's segment quality (``q=`` in the MEME description), else total information.

    Parameters
    ----------
    motif : Motif
        A segment.

    Returns
    -------
    float
    """
    found = re.search(r"(?:^|,)q=([-+0-9.eE]+)", motif.altname or "")
    return float(found.group(1)) if found else motif.total_information


def model_segments(model_dir: str | Path, cfg: MatchConfig | dict | None = None
                   ) -> tuple[list[Motif], dict[str, str]]:
    """Every informative segment of every discovered layer, and the neuron of each.

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.
    cfg : MatchConfig or dict, optional
        Its ``min_query_ic`` / ``min_query_mean_ic`` are the information floor.

    Returns
    -------
    segments : list of Motif
        In layer, neuron, file order.
    where : dict of str to str
        Segment motif_id -> ``conv<L>/neuron<k>``.
    """
    cfg = _config(cfg)
    segments, where = [], {}
    for layer, path in layer_dirs(model_dir):
        for k, ndir in neuron_dirs(path):
            for seg in load_neuron(ndir).segments:
                if informative_enough(seg.motif, cfg.min_query_ic, cfg.min_query_mean_ic):
                    segments.append(seg.motif)
                    where[seg.name] = f"conv{layer}/neuron{k}"
    return segments, where


def group_segments(segments: list[Motif], settings: FamilySettings,
                   cfg: MatchConfig | dict | None = None, named: list | None = None
                   ) -> tuple[np.ndarray, list[int]]:
    """Leader grouping: each segment, best first, joins the first similar leader.

    Parameters
    ----------
    segments : list of Motif
        Unique names.
    settings : FamilySettings
        Similarity and pattern settings.
    cfg : MatchConfig or dict, optional
        Tomtom backend and strand settings.
    named : list, optional
        Each segment's database motif groups (its matches at q < ``q_max``, best first), or
        None: a family takes the best group of its first named segment, and a named segment
        joins a family only when one of its groups is the family's.

    Returns
    -------
    group : numpy.ndarray
        (n,) group index of each segment.
    leaders : list of int
        The founding segment of each group, in founding order.
    """
    from ..interaction.labels import ppm_iupac  # runtime: interaction imports this module

    n = len(segments)
    patterns = [ppm_iupac(m.ppm, settings.label_ic, max_length=settings.label_max_length)
                for m in segments]
    usable = np.array([pattern_letters(p) >= settings.min_letters for p in patterns])
    similar = np.zeros((n, n), dtype=bool)
    pairs = similar_pairs(segments, settings.merge_q, settings.min_cover, cfg)
    similar[pairs[:, 0], pairs[:, 1]] = True
    similar |= similar.T
    # A segment longer than two labels is a composite of several motifs (a whole deep
    # cluster PPM can be informative end to end): it may join a family but founds one only
    # after every short segment had its turn, so a representative is one motif.
    long_cut = 2 * settings.label_max_length
    order = sorted(range(n), key=lambda i: (len(segments[i]) > long_cut, -segment_quality(segments[i]),
                                            -segments[i].total_information, i))
    named = list(named) if named is not None else [None] * n
    group = np.full(n, -1, dtype=np.int64)
    leaders: list[int] = []
    held: list = []            # each family's database motif group, once a named segment joined
    for i in order:
        for g, r in enumerate(leaders):
            if named[i] and held[g] is not None and held[g] not in named[i]:
                continue
            if similar[i, r] or (usable[i] and usable[r] and patterns_overlap(
                    patterns[i], patterns[r], settings.min_overlap, settings.min_letters)):
                group[i] = g
                held[g] = held[g] if held[g] is not None or not named[i] else named[i][0]
                break
        else:
            group[i] = len(leaders)
            leaders.append(i)
            held.append(named[i][0] if named[i] else None)
    return group, leaders


def build_families(model_dir: str | Path, settings: FamilySettings | None = None,
                   cfg: MatchConfig | dict | None = None, targets: list[Motif] | None = None
                   ) -> list[Family]:
    """The model's motif families (module docstring), largest first.

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>`` (its ``discovery/conv<L>`` folders are read).
    settings : FamilySettings, optional
        Grouping, naming and pattern settings.
    cfg : MatchConfig or dict, optional
        The discovery's matching settings (information floor, Tomtom backend).
    targets : list of Motif, optional
        The discovery's motif database: the cores are matched against it for their
        names. Without it a family takes its leader's match from discovery.

    Returns
    -------
    list of Family
    """
    from ..interaction.labels import ppm_iupac  # runtime: interaction imports this module

    settings = settings or FamilySettings()
    cfg = _config(cfg)
    segments, where = model_segments(model_dir, cfg)
    if not segments:
        return []
    found = _database_hits(model_dir, settings.q_max)
    db_group = _target_groups(model_dir)
    named = [[db_group.get(t, t) for t, _ in found.get(m.name, [])] or None for m in segments]
    group, leaders = group_segments(segments, settings, cfg, named)
    reps = family_cores(segments, group, leaders, settings.core_support, settings.core_ic, cfg)
    # A core too short or too soft to match the database keeps its leader's match from discovery.
    by_core = core_matches(reps, targets, settings.q_max, cfg) if targets is not None else {}
    hits = {r.name: by_core.get(r.name) or found.get(segments[i].name, []) for r, i in zip(reps, leaders)}
    sizes = np.bincount(group, minlength=len(leaders))
    ranked = sorted(range(len(leaders)), key=lambda g: (-sizes[g], g))
    families, used = [], set()
    for fid, g in enumerate(ranked, start=1):
        rep = reps[g]
        members = [segments[i].name for i in np.flatnonzero(group == g)]
        pattern = ppm_iupac(rep.ppm, settings.label_ic, max_length=settings.label_max_length)
        letters = pattern_letters(pattern)
        target, q = (hits.get(rep.name) or [("", float("nan"))])[0]
        name = target if target and target not in used else (
            f"{target}.F{fid}" if target else f"F{fid}-{pattern or rep.consensus[:12]}")
        used.add(name)
        usable = letters >= settings.min_letters
        note = "" if usable else (f"pattern {pattern or '(empty)'} has {letters:g} informative letters "
                                  f"(< {settings.min_letters:g}): not used as a label")
        families.append(Family(f"F{fid}", name, dataclasses.replace(rep), pattern, letters, members,
                               list(dict.fromkeys(where[m] for m in members)), target, q, usable, note,
                               leader=segments[leaders[g]].name, matches=list(hits.get(rep.name, []))))
    return families


def _target_groups(model_dir: str | Path) -> dict[str, str]:
    """Database motif -> its group of near-duplicates (``collected_motifs.csv``); a motif not there is its own."""
    path = layout.collected_motifs(model_dir)
    if not Path(path).is_file():
        return {}
    df = pd.read_csv(path, dtype=str).fillna("")
    return {t: f"g{g}" for g, names in zip(df["group"], df["targets_matched"]) for t in names.split(";") if t}


def _database_hits(model_dir: str | Path, q_max: float) -> dict[str, list[tuple[str, float]]]:
    """Segment motif_id -> its (database target, q) with q < ``q_max``, best first (discovery's matches)."""
    out: dict[str, list[tuple[str, float]]] = {}
    for _, path in layer_dirs(model_dir):
        m = read_matches(path)
        if not len(m):
            continue
        m = m[pd.to_numeric(m["q"], errors="coerce") < q_max].sort_values("q", kind="stable")
        for seg, target, q in zip(m["segment"].astype(str), m["target"].astype(str), m["q"]):
            out.setdefault(seg, []).append((target, float(q)))
    return out


def families_table(families: list[Family]) -> pd.DataFrame:
    """``families.csv``: one row per family (:data:`FAMILY_COLUMNS`).

    Parameters
    ----------
    families : list of Family
        From :func:`build_families`.

    Returns
    -------
    pandas.DataFrame
    """
    rows = [{"family": f.id, "name": f.name, "named": bool(f.target), "target": f.target,
             "q": f.q, "consensus": f.consensus, "pattern": f.pattern, "letters": f.letters,
             "usable": f.usable, "note": f.note, "representative": f.representative.name,
             "n_members": len(f.members), "n_neurons": len(f.neurons),
             "layers": ";".join(f"conv{L}" for L in f.layers), "neurons": ";".join(f.neurons),
             "members": ";".join(f.members), "leader": f.leader} for f in families]
    return pd.DataFrame(rows, columns=FAMILY_COLUMNS)


def families_paths(model_dir: str | Path) -> dict[str, Path]:
    """The family files of a model: ``csv``, ``meme``, ``json``, ``stamp``.

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.

    Returns
    -------
    dict of str to Path
    """
    disc = layout.model_stage_dir(model_dir, "discovery")
    return {k: disc / f"families.{ext}" for k, ext in
            (("csv", "csv"), ("meme", "meme"), ("json", "json"), ("stamp", "stamp.json"))}


def discovery_digest(model_dir: str | Path) -> str:
    """SHA-1 over every layer's segments, clusters and matches and the database groups: what the families are made of.

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.

    Returns
    -------
    str
        40 hex digits.
    """
    h = hashlib.sha1()
    collected = layout.collected_motifs(model_dir)
    h.update(collected.read_bytes() if collected.is_file() else b"-")
    for layer, path in layer_dirs(model_dir):
        files = [path / "matches.csv"] + [nd / f for _, nd in neuron_dirs(path)
                                          for f in ("segments.meme", "clusters.json")]
        for f in files:
            h.update(f"{f.relative_to(path.parent)}\0".encode())
            h.update(f.read_bytes() if f.is_file() else b"-")
    return h.hexdigest()


def write_families(model_dir: str | Path, families: list[Family], stamp: dict | None = None) -> None:
    """Write ``families.csv``, ``families.meme``, ``families.json`` (and the stamp, last).

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.
    families : list of Family
        From :func:`build_families`.
    stamp : dict, optional
        From :func:`combmotif.stamps.make_stamp`.
    """
    paths = families_paths(model_dir)
    paths["stamp"].unlink(missing_ok=True)   # unmarked until the files are whole again
    write_csv(paths["csv"], families_table(families))
    write_meme(paths["meme"], [dataclasses.replace(f.representative, name=f.id, altname=f.name)
                               for f in families])
    body = families_table(families).to_dict(orient="records")
    for row, f in zip(body, families):
        row.update(q=None if np.isnan(f.q) else f.q, members=f.members, neurons=f.neurons,
                   layers=f.layers, ppm=np.round(f.representative.ppm, 6).tolist(),
                   matches=[[t, q] for t, q in f.matches])
    write_json(paths["json"], {"families": body,
                               "segment_family": {m: f.id for f in families for m in f.members}})
    if stamp is not None:
        write_stamp(paths["stamp"], stamp)


def ensure_families(model_dir: str | Path, settings: FamilySettings | None = None,
                    cfg: MatchConfig | dict | None = None, force: bool = False,
                    log=None, targets: list[Motif] | None = None) -> list[Family]:
    """The model's families, recomputed only when the discovery or the settings changed.

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.
    settings : FamilySettings, optional
        Grouping, naming and pattern settings.
    cfg : MatchConfig or dict, optional
        The discovery's matching settings.
    force : bool
        Recompute regardless.
    log : callable, optional
        Told when they are recomputed.
    targets : list of Motif, optional
        The discovery's motif database, to name the families' cores (:func:`build_families`).

    Returns
    -------
    list of Family
        Empty when the model has no discovery.
    """
    settings = settings or FamilySettings()
    cfg = _config(cfg)
    if not layer_dirs(model_dir):
        return []
    paths = families_paths(model_dir)
    floor = {"min_query_ic": cfg.min_query_ic, "min_query_mean_ic": cfg.min_query_mean_ic}
    database = hashlib.sha1("\0".join(f"{t.name}:{t.ppm.round(4).tobytes().hex()}" for t in targets)
                            .encode()).hexdigest() if targets is not None else None
    stamp = make_stamp(discovery_digest(model_dir), {**dataclasses.asdict(settings), **floor,
                                                     "grouping": GROUPING_VERSION, "database": database})
    if unit_is_fresh(paths["stamp"], stamp, force, output=paths["json"], name="families", log=log):
        return read_families(model_dir)
    families = build_families(model_dir, settings, cfg, targets)
    write_families(model_dir, families, stamp)
    if log is not None:
        n_use = sum(f.usable for f in families)
        log(f"families: {len(families)} motif families ({n_use} usable as labels, "
            f"{sum(bool(f.target) for f in families)} named after a database motif) -> {paths['csv']}")
    return families


def read_families(model_dir: str | Path) -> list[Family]:
    """The families written by :func:`write_families` (empty when there are none).

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.

    Returns
    -------
    list of Family
    """
    path = families_paths(model_dir)["json"]
    if not path.is_file():
        return []
    out = []
    for r in json.loads(path.read_text())["families"]:
        rep = Motif(r["representative"], np.array(r["ppm"], dtype=np.float64))
        out.append(Family(r["family"], r["name"], rep, r["pattern"], float(r["letters"]),
                          list(r["members"]), list(r["neurons"]), r["target"],
                          float("nan") if r["q"] is None else float(r["q"]), bool(r["usable"]),
                          r["note"], r.get("leader", r["representative"]),
                          [(str(t), float(q)) for t, q in r.get("matches", [])]))
    return out


def family_of(model_dir: str | Path) -> dict[str, str]:
    """Segment motif_id -> family id, from ``families.json`` (empty when not written).

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.

    Returns
    -------
    dict of str to str
    """
    path = families_paths(model_dir)["json"]
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text())["segment_family"])
