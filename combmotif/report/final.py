"""The final report step: rewrite every page from what the stages have written.

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
from pathlib import Path
from typing import Callable, Sequence

from ..motifs.collect import layer_dirs
from ..motifs.databases import resolve_motif_db
from ..motifs.match import read_matches
from .model_page import write_model_index
from .pages import write_layer_report


def write_reports(cfg, config_dir: Path | None = None, layers: Sequence[int] | None = None,
                  log: Callable[[str], None] | None = None) -> Path:
    """Rewrite the discovery pages and the front page of the model of a discovery config.

    Parameters
    ----------
    cfg : combmotif.neuronmotif.stage.DiscoveryConfig
        The discovery config (results folder, model name, motif database, matching, report).
    config_dir : Path, optional
        Folder relative motif files of ``motif_db`` are resolved against (the config's).
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
    targets = resolve_motif_db(cfg.motif_db, data_dir=cfg.data_dir, base_dir=config_dir)
    for layer, layer_dir in layer_dirs(model_dir):
        if layers is not None and layer not in layers:
            continue
        if not (layer_dir / "matches.csv").is_file():
            log(f"conv{layer}: not matched yet (run discovery with pages on); skipped")
            continue
        contribution = model_dir / "contribution" / f"conv{layer}" / "neuron_contribution.csv"
        write_layer_report(layer_dir, read_matches(layer_dir), targets, cfg.matching, model=cfg.model_name,
                           png=cfg.report.png, contribution_csv=contribution if contribution.is_file() else None)
        log(f"conv{layer}: pages rewritten")
    return write_model_index(model_dir, significance=cfg.matching.significance)
