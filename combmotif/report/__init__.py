"""HTML pages and sequence logos for the results of each stage."""

from .model_page import write_model_index
from .neuron_page import write_neuron_page
from .pages import write_layer_report

__all__ = ["write_layer_report", "write_model_index", "write_neuron_page"]
