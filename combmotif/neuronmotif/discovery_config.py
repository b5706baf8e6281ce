"""The discovery config (``configs/interpreting/*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..config import check_selection, load_config, parse_range, path_field
from ..errors import ConfigError
from ..motifs.match import MatchConfig
from ..run import RunConfig, check_run_values, motif_db_field
from .demix import DemixConfig
from .ppm import PPMConfig
from .sample import SamplingConfig


@dataclass
class LayersConfig:
    """Which neurons to interpret: ``ind`` for every layer, ``per_layer`` overrides."""

    ind: str | list[int] = "all"
    per_layer: dict[str, str | list[int]] = field(default_factory=dict)

    def neurons(self, layer: int, n: int) -> list[int]:
        """The neurons of ``layer`` to interpret: its ``per_layer`` selection, else ``ind``.

        Parameters
        ----------
        layer : int
            The conv layer (1-based); ``per_layer`` keys ``conv<L>`` and ``<L>`` both name it.
        n : int
            Neurons in the layer.

        Returns
        -------
        list of int
            The selected indices, in the order given (:func:`combmotif.config.parse_range`).

        Raises
        ------
        combmotif.errors.ConfigError
            ``'layers' of conv<layer>: ...`` when the selection is unreadable, empty or
            outside ``0..n-1``.
        """
        spec = self.ind
        for key, value in self.per_layer.items():
            if str(key).removeprefix("conv") == str(layer):
                spec = value
        try:
            return parse_range(spec, n)
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"'layers' of conv{layer}: {exc}") from None

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        check_selection(self.ind, "layers.ind")
        for key, spec in self.per_layer.items():
            if not str(key).removeprefix("conv").isdigit():
                raise ValueError(f"'layers.per_layer' key {key!r} must be a layer: conv<L> or <L>")
            check_selection(spec, f"layers.per_layer.{key}")


@dataclass
class ReportConfig:
    """Pages written after matching."""

    enabled: bool = True     # match every layer against motif_db and write the HTML pages
    png: bool = False        # also a logomaker PNG beside every interactive logo (about 0.3 s each)
    svg: bool = True         # also vector (SVG) logos of every cluster and matched segment (about 1 ms each)
    # a layer's Tomtom and pages in a worker process while the next layer samples;
    # auto: on for 2+ layers with a GPU or at least 4 cores
    overlap: bool | Literal["auto"] = "auto"


@dataclass
class DiscoveryConfig(RunConfig):
    """A discovery config file (``configs/interpreting/*.yaml``): the run section
    (:class:`~combmotif.run.RunConfig`; ``data`` is unused: NeuronMotif samples its sequences) and:"""

    # curated | planted | jaspar:2024:CORE:vertebrates | a file (relative to this config); join with + or list
    motif_db: str | list[str] = motif_db_field("curated")
    data_dir: str | None = path_field(None)  # the synthetic set's folder (planted.meme) for motif_db 'planted'
    matching: MatchConfig = field(default_factory=MatchConfig)
    report: "ReportConfig" = field(default_factory=lambda: ReportConfig())
    layers: LayersConfig = field(default_factory=LayersConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    demix: DemixConfig = field(default_factory=DemixConfig)
    ppm: PPMConfig = field(default_factory=PPMConfig)
    # sequences per forward chunk; auto: from the device's free memory (CUDA), 2048 on CPU
    batch_size: int | Literal["auto"] = 1024

    def validate_run(self) -> None:
        """Check the run section's values; ``batch_size`` may also be ``auto``.

        Raises
        ------
        ValueError
            A bad ``name``, ``seed``, ``batch_size`` or ``device``.
        """
        check_run_values(self.name, self.seed, self.device,
                         None if self.batch_size == "auto" else self.batch_size)

    def discovery_dir(self) -> Path:
        """The discovery folder.

        Returns
        -------
        pathlib.Path
            ``<results_dir>/<model>/discovery/`` (:mod:`combmotif.layout`).
        """
        return self.stage_dir("discovery")


def load_discovery_config(path: str | Path, overrides: dict | None = None) -> DiscoveryConfig:
    """Read a discovery config (see :func:`combmotif.config.load_config`).

    Parameters
    ----------
    path : str or Path
        The YAML file; relative paths in it resolve against its folder.
    overrides : dict, optional
        Keys set over the file's (e.g. ``{"device": "cpu"}``).

    Returns
    -------
    DiscoveryConfig
        The checked config.
    """
    cfg = load_config(path, DiscoveryConfig, overrides)
    # strands: auto -> both for a DNA model, the given strand for RNA; every Tomtom
    # call of discovery, its pages, syntax, families and checks reads this one value.
    cfg.matching = cfg.matching.for_molecule(cfg.molecule)
    return cfg
