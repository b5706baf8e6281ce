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
    log, targets, matching, rna = _setup(cfg, log)
    model_dir = cfg.discovery_dir().parent
    for layer, layer_dir in layer_dirs(model_dir):
        if layers is not None and layer not in layers:
            continue
        if not (layer_dir / "matches.csv").is_file():
            log(f"conv{layer}: not matched yet (run discovery with pages on); skipped")
            continue
        contribution = contribution_table(model_dir, layer)
        write_layer_report(layer_dir, read_matches(layer_dir), targets, matching, model=cfg.model_name,
                           rna=rna, png=cfg.report.png, svg=cfg.report.svg,
                           contribution_csv=contribution if contribution.is_file() else None)
        log(f"conv{layer}: pages rewritten")
    return write_model_index(model_dir, significance=matching.significance)


def match_and_report(cfg, layers: Sequence[int], log: Callable[[str], None] | None = None) -> Path:
    """Tomtom every segment of ``layers`` against ``cfg.motif_db`` in one call per layer, write
    ``tomtom.tsv``/``matches.csv``, the neuron pages, the layer indexes, the collected table
    and the model's front page; return the front page's path.

    :func:`match_layers` then :func:`finish_report`; discovery's command may run the first
    one layer at a time beside the sampling (:mod:`combmotif.report.pipeline`).

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
    log, targets, _, _ = _setup(cfg, log)
    png_hint(cfg, log)
    match_layers(cfg, layers, log=log, targets=targets)
    return finish_report(cfg, log=log, targets=targets)


def png_hint(cfg, log: Callable[[str], None] | None = None) -> None:
    """Say, once per run, that the PNG logos (``report.png``) are most of the page time.

    Parameters
    ----------
    cfg : combmotif.neuronmotif.discovery_config.DiscoveryConfig
        The discovery settings.
    log : callable, optional
        Receives the line (default: standard error).
    """
    if cfg.report.png:
        # 0.2-0.6 s per cluster logo; the pages' interactive logos do not need them.
        (log or stderr)(
            "pages: a PNG logo per cluster (0.2-0.6 s each) is most of the page time; "
            "'report: {png: false}' in the config skips them (the pages keep their interactive logos)")


def match_layers(cfg, layers: Sequence[int], log: Callable[[str], None] | None = None, targets=None) -> None:
    """Match ``layers`` (ascending: a layer's syntax reads the shallower layers'), then write
    their syntax and pages.

    Parameters
    ----------
    cfg : combmotif.neuronmotif.discovery_config.DiscoveryConfig
        The discovery settings.
    layers : sequence of int
        Conv layers, each already discovered.
    log : callable, optional
        Receives one line per layer (default: standard error).
    targets : list of Motif, optional
        ``cfg.motif_db`` already resolved (else resolved here).
    """
    from ..motifs.databases import motif_db_text
    from ..motifs.match import match_layer
    from ..neuronmotif.syntax_layer import write_layer_syntax

    log, targets, matching, rna = _setup(cfg, log, targets)
    ddir = cfg.discovery_dir()
    for layer in layers:
        layer_dir = layout.layer_dir(ddir, layer)
        clean_partials(layer_dir, depth=1)
        t0 = time.perf_counter()
        matches = match_layer(layer_dir, targets, matching)
        # The syntax needs the layer's tomtom.tsv (names) and the shallower layers' syntax
        # (first occurrences); the pages show it, so it comes between the two.
        rules = write_layer_syntax(layer_dir, matching, targets=targets)
        contribution = contribution_table(ddir.parent, layer)
        write_layer_report(layer_dir, matches, targets, matching, model=cfg.model_name,
                           rna=rna, png=cfg.report.png, svg=cfg.report.svg,
                           contribution_csv=contribution if contribution.is_file() else None)
        n_sig = int(matches.loc[matches["q"] < matching.significance, "neuron"].nunique()) \
            if len(matches) else 0
        log(f"conv{layer}: matched against {motif_db_text(cfg.motif_db)} ({len(targets)} motifs, "
            f"{matching.strand_text()}): {n_sig} neurons "
            f"with a match at q < {matching.significance}; {len(rules)} syntax rules; "
            f"pages in {time.perf_counter() - t0:.1f} s")
        fault_point("pages")


def finish_report(cfg, log: Callable[[str], None] | None = None, targets=None, groups=None) -> Path:
    """The model-wide tables after the layers' pages: the collected matches, the motif
    families, the front page.

    Parameters
    ----------
    cfg : combmotif.neuronmotif.discovery_config.DiscoveryConfig
        The discovery settings.
    log : callable, optional
        Receives the families' line (default: standard error).
    targets : list of Motif, optional
        ``cfg.motif_db`` already resolved (else resolved here).
    groups : dict of str to int, optional
        :func:`~combmotif.motifs.collect.database_groups` of ``targets`` (else computed here).

    Returns
    -------
    Path
        The model's front page.
    """
    from ..motifs.collect import collect_model
    from ..motifs.families import FamilySettings, ensure_families

    # Looked up at call time: tests stub the front page writer on its module.
    from .model_page import write_model_index

    log, targets, matching, _ = _setup(cfg, log, targets)
    model_dir = cfg.discovery_dir().parent
    clean_partials(model_dir, depth=0)     # the front page and collected tables of a killed run
    collect_model(model_dir, targets, matching, groups=groups)
    # Model-wide motif families (labels and pair candidates speak of them); cheap, and
    # recomputed only when a layer's segments or matches changed.
    ensure_families(model_dir, FamilySettings(q_max=matching.significance), matching, log=log,
                    targets=targets)
    return write_model_index(model_dir, significance=matching.significance)


def stderr(msg: str) -> None:
    """The report steps' default log: one line on standard error, flushed (a worker
    process's lines then keep their place among the sampler's).

    Parameters
    ----------
    msg : str
        The line.
    """
    print(msg, file=sys.stderr, flush=True)


def _setup(cfg, log=None, targets=None):
    """What every report step starts from: the log, the resolved database, the matching
    settings for the model and whether it is RNA."""
    log = log or stderr
    targets = targets if targets is not None else resolve_motif_db(cfg.motif_db, data_dir=cfg.data_dir)
    return (log, targets, *_for_model(cfg))


def _for_model(cfg):
    """The matching settings with ``strands: auto`` resolved for the config's model, and
    whether pages show U (an RNA model) or T (DNA)."""
    molecule = getattr(cfg, "molecule", "rna")  # stand-in configs (tests) have no model
    return cfg.matching.for_molecule(molecule), molecule != "dna"
