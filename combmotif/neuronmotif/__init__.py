"""NeuronMotif: what each convolutional neuron responds to.

Sampling (:mod:`.sample`, with :mod:`.archive` and :mod:`.randomness`), backward
demixing (:mod:`.demix`), PPMs and motif segments (:mod:`.ppm`), one unit's
analysis and files (:mod:`.units`) and the discovery stage (:mod:`.stage`).
Recovery of planted motifs is in :mod:`combmotif.validation.discovery`.
"""

from .demix import DemixConfig, accept_pattern_groups, demix, pool_features
from .discovery_config import DiscoveryConfig, load_discovery_config
from .ppm import PPMConfig, find_segments, weighted_ppm
from .sample import NeuronSamples, SamplingConfig, enumerate_layer, evolve_layer, sample_layer
from .stage import discover_layer, run_discovery

__all__ = [
    "DemixConfig", "DiscoveryConfig", "NeuronSamples", "PPMConfig", "SamplingConfig",
    "accept_pattern_groups", "demix", "discover_layer", "enumerate_layer", "evolve_layer",
    "find_segments", "load_discovery_config", "pool_features",
    "run_discovery", "sample_layer", "weighted_ppm",
]
