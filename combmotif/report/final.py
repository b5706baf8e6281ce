"""The report steps: discovery's matching and pages, and the final rewrite of every page.

:func:`match_and_report` runs after discovery (the command calls it; the stage
itself writes no page).

Discovery writes its pages when it finishes; the contribution stage runs after
it, so those pages lack the neurons' contribution signs until they are
rewritten. :func:`write_reports` reads every stage's outputs under
``results/<model>/`` (discovery's ``matches.csv`` and unit folders, the
contribution tables, the interaction and comparison folders) and rewrites the
layer indexes, the neuron pages and the model's front page; nothing is
recomputed (no sampling, no Tomtom).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from .. import layout
from ..io import clean_partials, fault_point
from ..layout import contribution_table
from ..motifs.collect import layer_dirs
from ..motifs.databases import resolve_motif_db
from ..motifs.match import read_matches
from .model_page import write_model_index
from .pages import write_layer_report


def write_reports(cfg, layers: Sequence[int] | None = None, log: Callable[[str], None] | None = None) -> Path:
    """Rewrite the discovery pages and the front page of the model of a discovery config.

    Parameters
    ----------
    cfg : combmotif.neuronmotif.stage.DiscoveryConfig
        The discovery config (results folder, model name, motif database, matching, report);
        its ``motif_db`` files were resolved against the config's folder when it was read.
    layers : sequence of int, optional
        Layers whose pages to rewrite (default: every discovered layer).
    log : callable, optional
        Receives one line per layer (default: standard error).

    Returns
    -------
    Path
        The model's front page.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    model_dir = cfg.discovery_dir().parent
    targets = resolve_motif_db(cfg.motif_db, data_dir=cfg.data_dir)
    matching, rna = _for_model(cfg)
    for layer, layer_dir in layer_dirs(model_dir):
        if layers is not None and layer not in layers:
            continue
        if not (layer_dir / "matches.csv").is_file():
            log(f"conv{layer}: not matched yet (run discovery with pages on); skipped")
            continue
        contribution = contribution_table(model_dir, layer)
        write_layer_report(layer_dir, read_matches(layer_dir), targets, matching, model=cfg.model_name,
                           rna=rna, png=cfg.report.png,
                           contribution_csv=contribution if contribution.is_file() else None)
        log(f"conv{layer}: pages rewritten")
    return write_model_index(model_dir, significance=matching.significance)


def match_and_report(cfg, layers: Sequence[int], log: Callable[[str], None] | None = None) -> Path:
    """Tomtom every segment of ``layers`` against ``cfg.motif_db`` in one call per layer, write
    ``tomtom.tsv``/``matches.csv``, the neuron pages, the layer indexes, the collected table
    and the model's front page; return the front page's path.

    Parameters
    ----------
    cfg : combmotif.neuronmotif.discovery_config.DiscoveryConfig
        The discovery settings.
    layers : sequence of int
        Conv layers to match and write pages for.
    log : callable, optional
        Receives one line per layer (default: standard error).

    Returns
    -------
    Path
        The model's front page.
    """
    from ..motifs.collect import collect_model
    from ..motifs.databases import motif_db_text, resolve_motif_db
    from ..motifs.families import FamilySettings, ensure_families
    from ..motifs.match import match_layer
    from ..neuronmotif.syntax_layer import write_layer_syntax

    # Looked up at call time: tests stub the front page writer on its module.
    from .model_page import write_model_index

    log = log or (lambda msg: print(msg, file=sys.stderr))
    ddir = cfg.discovery_dir()
    model_dir = ddir.parent
    targets = resolve_motif_db(cfg.motif_db, data_dir=cfg.data_dir)
    matching, rna = _for_model(cfg)
    if cfg.report.png:
        # The PNGs are most of the page time (0.2-0.6 s per cluster logo); the pages'
        # interactive logos do not need them.
        log("pages: a PNG logo per cluster (0.2-0.6 s each) is most of the page time; "
            "'report: {png: false}' in the config skips them (the pages keep their interactive logos)")
    clean_partials(model_dir, depth=0)     # the front page and collected tables of a killed run
    for layer in layers:
        layer_dir = layout.layer_dir(ddir, layer)
        clean_partials(layer_dir, depth=1)
        t0 = time.perf_counter()
        matches = match_layer(layer_dir, targets, matching)
        # The syntax needs the layer's tomtom.tsv (names) and the shallower layers' syntax
        # (first occurrences); the pages show it, so it comes between the two.
        rules = write_layer_syntax(layer_dir, matching, targets=targets)
        contribution = contribution_table(model_dir, layer)
        write_layer_report(layer_dir, matches, targets, matching, model=cfg.model_name,
                           rna=rna, png=cfg.report.png,
                           contribution_csv=contribution if contribution.is_file() else None)
        n_sig = int(matches.loc[matches["q"] < matching.significance, "neuron"].nunique()) \
            if len(matches) else 0
        log(f"conv{layer}: matched against {motif_db_text(cfg.motif_db)} ({len(targets)} motifs, "
            f"{matching.strand_text()}): {n_sig} neurons "
            f"with a match at q < {matching.significance}; {len(rules)} syntax rules; "
            f"pages in {time.perf_counter() - t0:.1f} s")
        fault_point("pages")
    collect_model(model_dir, targets, matching)
    # Model-wide motif families (labels and pair candidates speak of them); cheap, and
    # recomputed only when a layer's segments or matches changed.
    ensure_families(model_dir, FamilySettings(q_max=matching.significance), matching, log=log,
                    targets=targets)
    return write_model_index(model_dir, significance=matching.significance)


def _for_model(cfg):
    """The matching settings with ``strands: auto`` resolved for the config's model, and
    whether pages show U (an RNA model) or T (DNA)."""
    molecule = getattr(cfg, "molecule", "rna")  # stand-in configs (tests) have no model
    return cfg.matching.for_molecule(molecule), molecule != "dna"
