"""Moved: the discovery stage to :mod:`combmotif.neuronmotif.stage`, one unit's analysis and
files to :mod:`combmotif.neuronmotif.units`. Re-exported here for the old import path
during the refactor (issue 14).
"""

from .stage import (DEMIX_KEPT, REPO_ROOT, SAMPLES_KEPT, DiscoveryConfig, LayersConfig,  # noqa: F401
                    ReportConfig, discover_layer, load_discovery_config, load_kept_samples, load_model,
                    made_with_other_weights, match_and_report, preflight, run_discovery, save_kept_samples)
from .units import (SUMMARY_COLUMNS, NeuronResult, analyse_neuron, previous_layer_ppms,  # noqa: F401
                    write_neuron, write_summary)
