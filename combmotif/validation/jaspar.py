"""Were the planted JASPAR motifs matched back to their own JASPAR matrix, or one of its TF family?

    combmotif validate jaspar <config> [--truth truth.json] [--db jaspar.meme] [--results DIR ...] [--q 0.05]

For the DNA set (:mod:`combmotif.data.synthetic_dna`): every discovered motif
(a NeuronMotif segment, a baseline's segment, any (name, PPM)) is compared by
Tomtom with the whole JASPAR database on both strands (q-values per discovered
motif over the database, as discovery's matching does). A planted motif is
*matched by ID* when some discovered motif finds the planted matrix ID at q <
``q``, *by family* when it finds instead a matrix sharing a TF family with it
(pyjaspar's ``tf_family``; a dimer counts for each of its families). The
orientation is Tomtom's: ``+`` the discovered motif reads like the JASPAR
matrix, ``-`` like its reverse complement (for a DNA model both are right; the
table says which). One function, :func:`jaspar_recovery`, scores NeuronMotif and
each baseline alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..motifs.formats import Motif, read_motifs
from ..motifs.tomtom import tomtom

RECOVERY_COLUMNS = ["motif", "tf", "family", "role", "matched", "by", "target", "target_tf", "q",
                    "orientation", "top_hit"]


def _families(motif: Motif) -> frozenset[str]:
    return frozenset(motif.meta.get("tf_family") or [])


def jaspar_recovery(motifs: Sequence[Motif], truth: Mapping[str, Any] | str | Path,
                    jaspar_motifs: Sequence[Motif], q: float = 0.05, backend: str = "auto",
                    n_jobs: int = -1) -> pd.DataFrame:
    """One row per planted motif: matched back to its own JASPAR ID, to its TF family, or not.

    Parameters
    ----------
    motifs : sequence of Motif
        Discovered motifs (names unique); uninformative ones are skipped by Tomtom's
        information floor, as in discovery's matching.
    truth : mapping or path
        The DNA set's truth (motif ``name`` = JASPAR matrix ID, ``altname``, ``tf_family``);
        a motif without ``tf_family`` takes the database's.
    jaspar_motifs : sequence of Motif
        The database (``meta["tf_family"]`` from :func:`combmotif.data.jaspar.load_jaspar`;
        see :func:`with_families` for one read from a MEME file).
    q : float
        Tomtom q-value below which a match counts.
    backend : str
        Tomtom backend (``auto``, ``meme``, ``memelite``).
    n_jobs : int
        numba threads for memelite.

    Returns
    -------
    pandas.DataFrame
        :data:`RECOVERY_COLUMNS`: ``matched`` is ``id``, ``family`` or ``no``; ``by`` the
        discovered motif, ``target``/``target_tf`` the JASPAR matrix it found (the planted
        one for ``id``), ``q`` and ``orientation`` (``+``/``-``) of that match, ``top_hit``
        whether that matrix is the discovered motif's best match. ``attrs["share"]``:
        ``{"id": share matched by ID, "id_or_family": share matched either way}``.

    Raises
    ------
    InputError
        A planted motif that is not in the database, or a bad truth.
    """
    from ..data.truth import load_truth

    planted = load_truth(truth)["motifs"]
    db = {m.name: m for m in jaspar_motifs}
    missing = [m["name"] for m in planted if m["name"] not in db]
    if missing:
        raise InputError(f"jaspar_recovery: planted motif(s) {', '.join(missing)} not in the JASPAR database "
                         f"({len(db)} motifs)")
    hits = _hits(motifs, jaspar_motifs, q, backend, n_jobs)
    evidence = _assign(hits, planted, db)
    table = pd.DataFrame([_row(m, evidence, db) for m in planted], columns=RECOVERY_COLUMNS)
    n = max(len(table), 1)
    table.attrs["share"] = {"id": float((table["matched"] == "id").sum() / n),
                            "id_or_family": float((table["matched"] != "no").sum() / n)}
    return table


def _hits(motifs: Sequence[Motif], database: Sequence[Motif], q: float, backend: str, n_jobs: int) -> pd.DataFrame:
    """Tomtom rows at q < ``q`` (both strands), with ``top_hit`` marking each query's best target."""
    if not motifs:
        return pd.DataFrame(columns=["Query_ID", "Target_ID", "q-value", "p-value", "Orientation", "top_hit"])
    df = tomtom(list(motifs), list(database), backend=backend, norc=False, thresh=q, n_jobs=n_jobs)
    df = df[df["q-value"] < q].copy()
    # Tomtom's rows come grouped by query, best (lowest p) first.
    df["top_hit"] = ~df["Query_ID"].duplicated()
    return df


def _assign(hits: pd.DataFrame, planted: Sequence[Mapping[str, Any]], db: Mapping[str, Motif]) -> pd.DataFrame:
    """Each discovered motif's evidence for at most one planted motif: the planted ID it finds
    with the lowest q, else the planted family it finds with the lowest q.

    A segment of one planted motif often also finds matrices of another planted
    motif's family (an E-box is in many bHLH and zinc-finger matrices); without
    this rule it would be counted for both.
    """
    parts = []
    for m in planted:
        name = m["name"]
        fam = frozenset(m.get("tf_family") or _families(db[name]))
        kin = [t for t, x in db.items() if t != name and _families(x) & fam]
        parts.append(hits[hits["Target_ID"] == name].assign(planted=name, kind=0))
        parts.append(hits[hits["Target_ID"].isin(kin)].assign(planted=name, kind=1))
    ev = pd.concat(parts, ignore_index=True) if parts else hits.assign(planted="", kind=0)
    ev = ev.sort_values(["Query_ID", "kind", "q-value", "p-value", "planted"], kind="stable")
    return ev[~ev["Query_ID"].duplicated()]


def _row(planted: Mapping[str, Any], evidence: pd.DataFrame, db: Mapping[str, Motif]) -> dict:
    """The best evidence assigned to one planted motif: its own ID first, then its family (lowest q, then p)."""
    name = planted["name"]
    fam = frozenset(planted.get("tf_family") or _families(db[name]))
    row = {"motif": name, "tf": planted.get("altname") or db[name].altname, "family": "; ".join(sorted(fam)),
           "role": planted.get("role", ""), "matched": "no", "by": "", "target": "", "target_tf": "",
           "q": np.nan, "orientation": "", "top_hit": False}
    mine = evidence[evidence["planted"] == name]
    if len(mine):
        best = mine.sort_values(["kind", "q-value", "p-value", "Query_ID"], kind="stable").iloc[0]
        row.update(matched="id" if best["kind"] == 0 else "family", by=best["Query_ID"],
                   target=best["Target_ID"], target_tf=db[best["Target_ID"]].altname, q=float(best["q-value"]),
                   orientation=best["Orientation"], top_hit=bool(best["top_hit"]))
    return row


def with_families(motifs: Sequence[Motif], reference: Sequence[Motif] | None = None) -> list[Motif]:
    """``motifs`` (e.g. read from jaspar.meme) with ``meta["tf_family"]`` taken from pyjaspar by matrix ID.

    Parameters
    ----------
    motifs : sequence of Motif
        Database motifs named by JASPAR matrix ID.
    reference : sequence of Motif, optional
        Motifs carrying the families (default: :func:`combmotif.data.jaspar.load_jaspar`).

    Returns
    -------
    list of Motif
        The same motifs (changed in place); one not in ``reference`` keeps its meta.
    """
    if reference is None:
        from ..data.jaspar import load_jaspar

        reference = load_jaspar()
    fam = {m.name: m.meta for m in reference}
    for m in motifs:
        if m.name in fam:
            m.meta.setdefault("tf_family", fam[m.name].get("tf_family", []))
            m.meta.setdefault("tf_class", fam[m.name].get("tf_class", []))
    return list(motifs)


def discovered_motifs(folder: str | Path) -> list[Motif]:
    """Every segment of a method's results folder: ``<folder>/<layer>/neuron<k>/segments.meme``.

    Parameters
    ----------
    folder : str or Path
        A discovery folder, or a baseline's (``results/<model>/baselines/<method>``).

    Returns
    -------
    list of Motif
        Named ``<layer>/neuron<k>/<segment>`` (unique across the folder).
    """
    out = []
    for path in sorted(Path(folder).glob("*/neuron*/segments.meme")):
        if "MOTIF" not in path.read_text():
            continue
        for m in read_motifs(path, "meme"):
            m.name = f"{path.parent.parent.name}/{path.parent.name}/{m.name}"
            out.append(m)
    return out


def method_folders(config: str | Path, results: Sequence[str | Path] | None = None) -> dict[str, Path]:
    """The folders to score: ``results`` as given, else the config's discovery folder and every
    baseline folder beside it (``results/<model>/baselines/<method>``).

    Parameters
    ----------
    config : str or Path
        A discovery config.
    results : sequence of path, optional
        Folders to score instead.

    Returns
    -------
    dict of str to Path
        Method name (``neuronmotif``, a baseline's folder name, or the folder's name) -> folder.
    """
    from ..neuronmotif.discovery_config import load_discovery_config

    if results:
        return {Path(r).name: Path(r) for r in results}
    ddir = load_discovery_config(config).discovery_dir()
    found = {"neuronmotif": ddir}
    base = ddir.parent / "baselines"
    if base.is_dir():
        found.update({p.name: p for p in sorted(base.iterdir()) if p.is_dir()})
    return found


def report_jaspar(config: str | Path, truth: str | Path | None = None, results: Sequence[str | Path] | None = None,
                  db: str | Path | None = None, q: float = 0.05) -> int:
    """Print, per method, which planted JASPAR motifs were matched back (:func:`jaspar_recovery`),
    then one summary row per method.

    Parameters
    ----------
    config : str or Path
        The discovery config (its ``data_dir`` holds truth.json and jaspar.meme).
    truth : str or Path, optional
        truth.json (default: the config's ``data_dir``).
    results : sequence of path, optional
        Method folders (default: :func:`method_folders`).
    db : str or Path, optional
        The JASPAR MEME file (default: ``jaspar.meme`` beside truth.json).
    q : float
        Tomtom q-value below which a match counts.

    Returns
    -------
    int
        0.
    """
    from ..data.truth import load_truth
    from ..neuronmotif.discovery_config import load_discovery_config

    cfg = load_discovery_config(config)
    if truth is None:
        if cfg.data_dir is None:
            raise InputError(f"{config}: no data_dir to find truth.json in; give --truth")
        truth = Path(cfg.data_dir) / "truth.json"
    planted = load_truth(truth)
    db = Path(db) if db else Path(truth).parent / "jaspar.meme"
    if not db.is_file():
        raise InputError(f"--db {db}: JASPAR MEME file not found (the DNA set writes jaspar.meme)")
    database = with_families(read_motifs(db, "meme"))
    folders = method_folders(config, results)
    summary = []
    pd.set_option("display.width", 250)
    for method, folder in folders.items():
        motifs = discovered_motifs(folder)
        if not motifs:
            print(f"{method}: {folder}: no segments (skipped)")
            continue
        table = jaspar_recovery(motifs, planted, database, q, cfg.matching.tomtom_backend, cfg.matching.n_jobs)
        print(f"\n{method}: {folder} ({len(motifs)} segments; Tomtom vs {db.name}, both strands, q < {q:g})")
        print(table.assign(family=table["family"].str.slice(0, 32)).to_string(index=False, float_format="%.2g"))
        hit = table[table["matched"] != "no"]
        summary.append({"method": method, "segments": len(motifs), "planted": len(table),
                        "by_id": int((table["matched"] == "id").sum()), "by_id_or_family": len(hit),
                        "share": table.attrs["share"]["id_or_family"],
                        "orientation": f"+{int((hit['orientation'] == '+').sum())} "
                                       f"-{int((hit['orientation'] == '-').sum())}"})
    if summary:
        print(f"\nplanted JASPAR motifs matched back at q < {q:g} (own ID, or its TF family):")
        print(pd.DataFrame(summary).to_string(index=False, float_format="%.2f"))
    return 0
