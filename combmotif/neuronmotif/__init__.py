"""NeuronMotif: what each convolutional neuron responds to.

Sampling (:mod:`.sample`), backward demixing (:mod:`.demix`), PPMs and motif
segments (:mod:`.ppm`), the per-layer driver (:mod:`.discover`) and recovery
of planted motifs (:mod:`.recovery`).
"""

from .demix import DemixConfig, accept_pattern_groups, demix, pool_features
from .discover import DiscoveryConfig, discover_layer, load_discovery_config, run_discovery
from .ppm import PPMConfig, find_segments, information_content, weighted_ppm
from .recovery import recovery_hits, recovery_table
from .sample import NeuronSamples, SamplingConfig, enumerate_layer, evolve_layer, sample_layer

__all__ = [
    "DemixConfig", "DiscoveryConfig", "NeuronSamples", "PPMConfig", "SamplingConfig",
    "accept_pattern_groups", "demix", "discover_layer", "enumerate_layer", "evolve_layer",
    "find_segments", "information_content", "load_discovery_config", "pool_features",
    "recovery_hits", "recovery_table", "run_discovery", "sample_layer", "weighted_ppm",
]
