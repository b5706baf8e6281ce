"""The one schema of a discovery unit (one neuron, or one output target, of one method).

A unit folder ``<layer>/neuron<k>/`` holds, whoever wrote it (NeuronMotif or a baseline):

``clusters.json``  ``{"layer", "neuron", "method", ..., "clusters": [...]}``; each cluster has
                   ``id``, ``motif_id``, ``size``, ``max_activation``, ``consensus`` and
                   ``segments``: ``[{"motif_id", "start", "end", "ic_mean", "quality",
                   "consensus", ...}]`` (start and end: the segment's rows of the cluster PPM)
``ppms.meme``      one PPM per cluster, in the same order, named by its ``motif_id``
``segments.meme``  one PPM per segment, named by its ``motif_id``

:func:`combmotif.motifs.match.load_neuron` reads it and ties each segment to its
cluster and start through these records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..io import write_json, write_text
from .formats import Motif
from .meme_writer import format_meme


def write_unit_files(folder: Path, record: dict, ppms: Sequence[np.ndarray],
                     cluster_note: Callable[[dict], str], segment_note: Callable[[dict], str]) -> None:
    """Write ``clusters.json``, ``ppms.meme`` and ``segments.meme`` of one unit into ``folder``.

    Parameters
    ----------
    folder : Path
        An existing folder (the caller's temporary unit folder, renamed when complete).
    record : dict
        The unit's header fields and its ``clusters`` (see the module docstring).
    ppms : sequence of (W, 4) arrays
        One PPM per cluster, in the order of ``record["clusters"]``.
    cluster_note, segment_note : callable
        A cluster's (a segment's) record -> its MEME description line.
    """
    write_json(folder / "clusters.json", record)
    motifs, segs = [], []
    for c, ppm in zip(record["clusters"], ppms):
        motifs.append(Motif(c["motif_id"], ppm, altname=cluster_note(c), nsites=c["size"]))
        for d in c["segments"]:
            segs.append(Motif(d["motif_id"], np.asarray(ppm)[d["start"]:d["end"]], altname=segment_note(d),
                              nsites=c["size"]))
    write_text(folder / "ppms.meme", format_meme(motifs, compact=True))
    write_text(folder / "segments.meme", format_meme(segs, compact=True))
