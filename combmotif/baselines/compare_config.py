"""The method comparison's config (``configs/others/method_compare*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoint import check_device
from ..config import check_selection, load_config, path_field
from ..models.loader import ModelSpec
from ..motifs.match import MatchConfig
from ..neuronmotif.ppm import PPMConfig
from ..stage import DataSpec
from .class_optimization import ClassOptConfig
from .common import METHODS
from .max_seqlet import MaxSeqletConfig
from .modisco import ModiscoConfig


@dataclass
class NeuronMotifSection:
    enabled: bool = True
    config: str | None = path_field(None)   # discovery config: its results folder and settings
    run: bool = True                         # run discovery for selected neurons not yet done


@dataclass
class MaxSeqletSection(MaxSeqletConfig):
    enabled: bool = True


@dataclass
class ModiscoSection(ModiscoConfig):
    enabled: bool = True


@dataclass
class ClassOptSection(ClassOptConfig):
    enabled: bool = True


@dataclass
class MethodsConfig:
    neuronmotif: NeuronMotifSection = field(default_factory=NeuronMotifSection)
    max_seqlet: MaxSeqletSection = field(default_factory=MaxSeqletSection)
    modisco: ModiscoSection = field(default_factory=ModiscoSection)
    class_optimization: ClassOptSection = field(default_factory=ClassOptSection)

    def enabled(self) -> list[str]:
        return [m for m in METHODS if getattr(self, m).enabled]


@dataclass
class CompareConfig:
    """``configs/others/method_compare*.yaml``."""

    model: ModelSpec
    layers: list[int]
    name: str | None = None
    output_dir: str | None = path_field(None)      # results root (default: <repo>/results)
    seed: int = 0
    device: str = "auto"
    neurons: str | list[int] = "all"                # the same neurons for every layer-wise method
    data: DataSpec = field(default_factory=DataSpec)
    truth: str | None = path_field(None)            # truth.json of a synthetic set, or a hand-written truth
    motif_db: str | list[str] = "curated"           # e.g. planted+curated or a list; 'planted' reads truth's folder
    significance: float = 0.01                      # q below which a database motif counts as matched
    recovery_q: float = 0.05                        # q below which a planted motif counts as recovered
    min_identity: float = 0.8                       # ... or segment consensus identity at least this
    merge_q: float = 0.01                           # near-duplicate database motifs: mutual Tomtom q
    match: MatchConfig = field(default_factory=MatchConfig)
    ppm: PPMConfig = field(default_factory=PPMConfig)   # segment cutting for the baselines' PPMs
    methods: MethodsConfig = field(default_factory=MethodsConfig)
    batch_size: int = 1024

    def validate(self) -> None:
        if not self.layers or any(L < 1 for L in self.layers):
            raise ValueError("'layers' must list conv layer numbers >= 1")
        if not self.methods.enabled():
            raise ValueError("no method enabled under 'methods'")
        for v in (self.significance, self.recovery_q, self.merge_q):
            if not 0 < v <= 1:
                raise ValueError("'significance', 'recovery_q' and 'merge_q' must be in (0, 1]")
        check_selection(self.neurons, "neurons")
        check_device(self.device)


def load_compare_config(path: str | Path, overrides: dict | None = None) -> CompareConfig:
    """Read ``configs/others/method_compare*.yaml`` into a checked :class:`CompareConfig`.

    Parameters
    ----------
    path : str or Path
        The comparison's YAML file (its relative paths resolve against its folder).
    overrides : dict, optional
        Values that replace the file's, key by key.

    Returns
    -------
    CompareConfig
    """
    return load_config(path, CompareConfig, overrides)
