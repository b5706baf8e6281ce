"""The discovery config (``configs/interpreting/*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoint import check_device
from ..config import check_selection, load_config, parse_range, path_field
from ..errors import ConfigError
from ..models.loader import ModelSpec
from ..motifs.match import MatchConfig
from ..paths import repo_root
from .demix import DemixConfig
from .ppm import PPMConfig
from .sample import SamplingConfig

REPO_ROOT = repo_root()


@dataclass
class LayersConfig:
    """Which neurons to interpret: ``ind`` for every layer, ``per_layer`` overrides."""

    ind: str | list[int] = "all"
    per_layer: dict[str, str | list[int]] = field(default_factory=dict)

    def neurons(self, layer: int, n: int) -> list[int]:
        spec = self.ind
        for key, value in self.per_layer.items():
            if str(key).removeprefix("conv") == str(layer):
                spec = value
        try:
            return parse_range(spec, n)
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"'layers' of conv{layer}: {exc}") from None

    def validate(self) -> None:
        check_selection(self.ind, "layers.ind")
        for key, spec in self.per_layer.items():
            if not str(key).removeprefix("conv").isdigit():
                raise ValueError(f"'layers.per_layer' key {key!r} must be a layer: conv<L> or <L>")
            check_selection(spec, f"layers.per_layer.{key}")


@dataclass
class ReportConfig:
    """Pages written after matching."""

    enabled: bool = True     # match every layer against motif_db and write the HTML pages
    png: bool = True         # a logomaker PNG beside every interactive logo (about 0.3 s each)


@dataclass
class DiscoveryConfig:
    """A discovery config file (``configs/interpreting/*.yaml``)."""

    model: ModelSpec
    name: str | None = None
    output_dir: str | None = path_field(None)
    motif_db: str | list[str] = "curated"  # curated | planted | jaspar:2024:CORE:vertebrates | a file; join with + or list
    data_dir: str | None = path_field(None)  # the synthetic set's folder (planted.meme) for motif_db 'planted'
    matching: MatchConfig = field(default_factory=MatchConfig)
    report: "ReportConfig" = field(default_factory=lambda: ReportConfig())
    seed: int = 0
    device: str = "auto"
    batch_size: int = 2048
    layers: LayersConfig = field(default_factory=LayersConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    demix: DemixConfig = field(default_factory=DemixConfig)
    ppm: PPMConfig = field(default_factory=PPMConfig)

    def validate(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"'batch_size' must be >= 1; got {self.batch_size}")
        check_device(self.device)

    @property
    def model_file(self) -> Path:
        return Path(self.model.checkpoint or self.model.keras_hdf5)

    @property
    def model_name(self) -> str:
        return self.name or self.model.name or self.model_file.stem.removesuffix("-best")

    def discovery_dir(self) -> Path:
        root = Path(self.output_dir) if self.output_dir else REPO_ROOT / "results"
        return root / self.model_name / "discovery"


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
    return load_config(path, DiscoveryConfig, overrides)
