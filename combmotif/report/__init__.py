"""HTML pages and sequence logos for the results of each stage."""

from .pages import write_layer_report, write_model_index, write_neuron_page

__all__ = ["write_layer_report", "write_model_index", "write_neuron_page"]
