"""Baselines NeuronMotif is compared with, writing NeuronMotif's per-neuron layout.

- :mod:`.max_seqlet`: top activating windows of a neuron stacked into a PPM
  (DeepBind / Basset), from the data set or from NeuronMotif's sample archive;
- :mod:`.modisco`: TF-MoDISco (modisco-lite) on gradient or ISM contributions;
- :mod:`.class_optimization`: gradient ascent on a relaxed input (Deep Motif);
- :mod:`.compare`: run all of them and NeuronMotif on the same layers, match
  every method's segments against one database, and report.
"""

from .class_optimization import ClassOptConfig, optimize_inputs, relaxed_to_ppm, run_class_optimization
from .common import Pattern, write_unit
from .contributions import gradient_contributions, ism_contributions
from .max_seqlet import MaxSeqletConfig, archive_seqlets, dataset_seqlets, run_max_seqlet
from .modisco import ModiscoConfig, modisco_sizes, modisco_unit, run_modisco

__all__ = [
    "ClassOptConfig", "MaxSeqletConfig", "ModiscoConfig", "Pattern", "archive_seqlets", "dataset_seqlets",
    "gradient_contributions", "ism_contributions", "modisco_sizes", "modisco_unit", "optimize_inputs",
    "relaxed_to_ppm", "run_class_optimization", "run_max_seqlet", "run_modisco", "write_unit",
]
