"""NeuronMotif against the baselines on one model: runs, one matching step, figures, one page.

``motif_discovery/compare.sh <config>`` (config: ``configs/others/method_compare.yaml``)

1. **Runs** every enabled method on the same layers and neurons (finished
   units are skipped; ``--force`` redoes them), timing each
   (:class:`~combmotif.baselines.compare_runs.Comparison`):
   NeuronMotif (:mod:`combmotif.neuronmotif`, into its usual
   ``results/<model>/discovery``), max-activation seqlets, class
   optimization (``results/<model>/baselines/<method>/conv<L>/neuron<k>``;
   ``output/`` for the model output) and TF-MoDISco (``baselines/modisco/output``).
2. **Matching**: every method's motif segments go to one Tomtom call against
   one database, with q-values per segment over the database (MEME tomtom's
   definition, whichever backend runs), so a q-value depends on the match
   alone, not on how many segments a method produced. Nothing is written into
   the methods' own folders (NeuronMotif's ``matches.csv`` stays as its stage
   wrote it; note that its memelite q-values are corrected over a whole layer
   and are therefore larger).
3. **Tables and figures** in ``results/<model>/compare/``:

   - ``counts.csv``: distinct database motifs matched at q < ``significance``
     (0.01) per method and layer; near-duplicate database motifs are merged
     first (:func:`combmotif.motifs.collect.database_groups`), so a method
     gets one count for "HNRNPA1" however many ATtRACT copies it hits.
   - ``best_q.csv`` + ``best_q.png``: per method, -log10 q of its best match
     to each database motif (group) it found; ``tests.csv``: paired Wilcoxon
     signed-rank tests of NeuronMotif against each baseline on the groups
     both found and on the groups every method found (unit of replication: a
     database motif group), BH-corrected over the baselines.
   - ``overlap.csv`` + ``overlap.png``: which methods found which groups (UpSet plot).
   - ``recovery.csv`` (synthetic sets, with ``truth``): each planted motif per
     method: recovered when one of the method's segments matches it (or a
     database motif merged with it) at q < ``recovery_q`` (0.05), or when a
     segment's consensus has >= ``min_identity`` (80 %) identity to it.
   - ``runtime.csv``: seconds per method and layer (of the run that computed it).
   - ``index.html``: all of the above on one page.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Sequence

import pandas as pd

from ..config import to_dict
from ..io import atomic_path, write_json
from ..motifs.collect import database_groups
from ..motifs.databases import motif_db_text, rebase_motif_db, resolve_motif_db
from ..motifs.formats import Motif
from .common import LABELS, OUTPUT, layer_folder
from .compare_config import CompareConfig
from .compare_runs import Comparison, _data_dir, _layer_order
from .compare_tables import (
    MATCH_COLUMNS,
    SEGMENT_COLUMNS,
    best_per_group,
    count_table,
    layer_segments,
    match_segments,
    overlap_table,
    paired_tests,
)

# --------------------------------------------------------------------------- driver


def match_all(comp: Comparison, targets: Sequence[Motif]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segments and matches of every method and layer present (only the selected neurons).

    All methods' segments go to Tomtom in one call (:func:`match_segments`).

    Parameters
    ----------
    comp : Comparison
        The comparison.
    targets : sequence of Motif
        The database.

    Returns
    -------
    tuple of pandas.DataFrame
        (segments, matches) of every method.
    """
    segs, queries = [], []
    for method in comp.cfg.methods.enabled():
        for layer in comp.layers_of(method):
            if method == "neuronmotif" and layer == OUTPUT:
                continue
            layer_dir = comp.method_dir(method) / layer_folder(layer)
            qs, table = layer_segments(layer_dir, comp.units(method, layer))
            prefix = f"{method}/{layer_folder(layer)}/"
            queries += [dataclasses.replace(q, name=prefix + q.name) for q in qs]
            table = table.copy()
            table.insert(0, "layer", layer_folder(layer))
            table.insert(0, "method", method)
            segs.append(table)
    seg = pd.concat(segs, ignore_index=True) if segs else pd.DataFrame(columns=SEGMENT_COLUMNS)
    seg = seg[SEGMENT_COLUMNS].astype({"neuron": int, "cluster": int, "length": int})
    m = match_segments(queries, targets, comp.cfg.match)
    if len(m):
        parts = m["segment"].str.split("/", n=2)
        m = m.assign(method=parts.str[0], layer=parts.str[1], segment=parts.str[2])
        key = seg.set_index(["method", "layer", "neuron", "segment"])["cluster"]
        idx = pd.MultiIndex.from_frame(m[["method", "layer", "neuron", "segment"]])
        m["cluster"] = key.reindex(idx).fillna(-1).astype(int).to_numpy()
    else:
        m = pd.DataFrame(columns=MATCH_COLUMNS)
    m = m[MATCH_COLUMNS].astype({"neuron": int, "cluster": int, "rank": int})
    for method in comp.cfg.methods.enabled():
        for layer in comp.layers_of(method):
            n_seg = int(((seg["method"] == method) & (seg["layer"] == layer_folder(layer))).sum())
            hit = m[(m["method"] == method) & (m["layer"] == layer_folder(layer))]
            comp.log(f"{LABELS[method]}, {layer_folder(layer)}: {n_seg} segments, "
                     f"{hit[['neuron', 'segment']].drop_duplicates().shape[0]} matched at "
                     f"q <= {comp.cfg.match.thresh}")
    return seg, m.reset_index(drop=True)


def runtime_table(comp: Comparison, records: Sequence[dict] = ()) -> pd.DataFrame:
    """Seconds per method and layer: this run's records, else what an earlier run stored.

    Parameters
    ----------
    comp : Comparison
        The comparison.
    records : sequence of dict
        This run's timings (:meth:`Comparison.run`).

    Returns
    -------
    pandas.DataFrame
        method, layer, units, computed, seconds, seconds_per_unit, device.
    """
    rows = {}
    for f in sorted((comp.out / "runtime").glob("*.json")):
        r = json.loads(f.read_text())
        rows[(r["method"], layer_folder(r["layer"]))] = r
    for r in records:
        if r["computed"]:
            rows[(r["method"], layer_folder(r["layer"]))] = r
    out = []
    for method in comp.cfg.methods.enabled():
        for layer in comp.layers_of(method):
            r = rows.get((method, layer_folder(layer)))
            sec = r["seconds"] if r else None
            n = r["computed"] if r else None
            out.append({"method": method, "layer": layer_folder(layer),
                        "units": r["units"] if r else None, "computed": n,
                        "seconds": round(sec, 3) if sec is not None else None,
                        "seconds_per_unit": round(sec / n, 4) if sec is not None and n else None,
                        "device": r.get("device", "") if r else ""})
    return pd.DataFrame(out, columns=["method", "layer", "units", "computed", "seconds", "seconds_per_unit",
                                      "device"])



def write_table(path: Path, df: pd.DataFrame) -> None:
    """Write one comparison table as CSV, atomically.

    Parameters
    ----------
    path : Path
        The CSV file.
    df : pandas.DataFrame
        The table (its index is not written).
    """
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def build_comparison(comp: Comparison, records: Sequence[dict] = ()) -> dict[str, pd.DataFrame]:
    """Match every method's segments, build and write the tables and the settings.

    The check against planted truth, the figures and the page follow in
    :func:`combmotif.report.compare_page.write_comparison_report`, which needs
    ``comp.groups`` and ``comp.db_summary`` set here.

    Parameters
    ----------
    comp : Comparison
        The comparison (methods already run).
    records : sequence of dict
        This run's timings.

    Returns
    -------
    dict of str to pandas.DataFrame
        Every table written (segments, matches, best_q, counts, tests, overlap, runtime).
    """
    cfg = comp.cfg
    targets = resolve_motif_db(cfg.motif_db, data_dir=_data_dir(comp))
    # Files named as seen from the comparison's folder: the record holds no path of this machine.
    db_summary = f"{motif_db_text(rebase_motif_db(cfg.motif_db, comp.out, relative=True))} ({len(targets)} motifs)"
    comp.log(f"database: {db_summary}; grouping near-duplicates")
    groups = database_groups(targets, merge_q=cfg.merge_q, cfg=cfg.match)
    methods = cfg.methods.enabled()
    segments, matches = match_all(comp, targets)
    # A group is shown by its member matched best by any method (else its first member).
    representative: dict[int, str] = {}
    for t in matches.sort_values(["q", "target"], kind="stable")["target"]:
        representative.setdefault(groups[t], t)
    for name, g in groups.items():
        representative.setdefault(g, name)
    layers = sorted({layer_folder(L) for m in methods for L in comp.layers_of(m)},
                    key=lambda s: _layer_order(OUTPUT if s == OUTPUT else int(s[4:])))
    best = best_per_group(matches, groups, cfg.significance)
    tables = {
        "segments": segments, "matches": matches, "best_q": best,
        "counts": count_table(matches, groups, cfg.significance, methods, layers),
        "tests": paired_tests(best, methods),
        "overlap": overlap_table(best, methods, representative),
        "runtime": runtime_table(comp, records),
    }
    comp.groups, comp.db_summary = groups, db_summary
    out = comp.out
    out.mkdir(parents=True, exist_ok=True)
    for key, df in tables.items():
        write_table(out / f"{key}.csv", df)
    write_json(out / "settings.json", to_dict(cfg, relative_to=out) | {"database": db_summary})
    return tables


def run_compare(cfg: CompareConfig, force: bool = False, run: bool = True, log=None, source: str = "config"
                ) -> tuple[Comparison, dict[str, pd.DataFrame]]:
    """Check every input (:meth:`Comparison.preflight`), run the methods (unless ``run``
    is False), then :func:`build_comparison` (the page: the command's next step).

    ``source``: the config file, for messages (its ``motif_db`` files were
    resolved against its folder when it was read).

    Parameters
    ----------
    cfg : CompareConfig
        The comparison config.
    force : bool
        Redo finished units.
    run : bool
        Run the methods (False: compare what exists).
    log : callable, optional
        Receives progress lines.
    source : str
        The config file, for messages.

    Returns
    -------
    tuple
        The :class:`Comparison` and :func:`build_comparison`'s tables.
    """
    comp = Comparison(cfg, log)
    comp.preflight(source)
    records = comp.run(force) if run else []
    return comp, build_comparison(comp, records)
