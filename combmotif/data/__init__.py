"""Data layer: the two real layouts and the synthetic sets with planted ground truth.

* :mod:`~combmotif.data.mrl`: GSM3130435 CSV (5'UTR, mean ribosome load, reads),
  reference split, noAUG variant.
* :mod:`~combmotif.data.halflife`: Saluki H5 (six tracks per transcript), record
  conversion.
* :mod:`~combmotif.data.synthetic_mrl`, :mod:`~combmotif.data.synthetic_halflife`:
  generators and ``noiseless`` labels recomputed from ``truth.json``.
* :mod:`~combmotif.data.truth`: truth.json schema, motif scanning, planted.meme
  (:mod:`~combmotif.data.truth_schema`: pair arrangements; :mod:`~combmotif.data.truth_hand`:
  hand-written truth files).
* :mod:`~combmotif.data.spec`: YAML specs of planted rules for the MRL generator, ``random_spec``;
  :mod:`~combmotif.data.grammar`: pairs that act only in some arrangements, the grammar set.
* :mod:`~combmotif.data.synthetic_dna`: the DNA binding-site set with JASPAR motifs planted
  (:mod:`~combmotif.data.jaspar`: the motifs drawn; :mod:`~combmotif.data.pwm_sites`: exact
  log-odds thresholds, both-strand scans, sites sampled from a PPM).
"""

from .halflife import encode_transcript, read_h5, read_records, records_to_h5, write_h5
from .mrl import drop_aug, encode_utrs, read_mrl_csv, reference_split, write_mrl_csv
from .planting import write_meme
from .truth import load_truth, noise_ceiling

__all__ = [
    "read_mrl_csv", "encode_utrs", "reference_split", "drop_aug", "write_mrl_csv",
    "read_h5", "write_h5", "encode_transcript", "records_to_h5", "read_records",
    "load_truth", "noise_ceiling", "write_meme",
]
