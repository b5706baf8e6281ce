"""The method comparison's config (``configs/others/method_compare*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import check_selection, load_config, path_field
from ..motifs.match import MatchConfig
from ..neuronmotif.ppm import PPMConfig
from ..run import RunConfig, motif_db_field
from .class_optimization import ClassOptConfig
from .common import METHODS
from .max_seqlet import MaxSeqletConfig
from .modisco import ModiscoConfig


@dataclass
class NeuronMotifSection:
    """``methods.neuronmotif``: whether NeuronMotif takes part, its discovery config, and whether to run it.

    Without ``config`` the discovery config is built from the comparison's model,
    name, results folder and seed; with ``run: false`` only finished neurons are compared.
    """

    enabled: bool = True
    config: str | None = path_field(None)   # discovery config: its results folder and settings
    run: bool = True                         # run discovery for selected neurons not yet done


@dataclass
class MaxSeqletSection(MaxSeqletConfig):
    """``methods.max_seqlet``: :class:`~combmotif.baselines.max_seqlet.MaxSeqletConfig` plus ``enabled``."""

    enabled: bool = True


@dataclass
class ModiscoSection(ModiscoConfig):
    """``methods.modisco``: :class:`~combmotif.baselines.modisco.ModiscoConfig` plus ``enabled``."""

    enabled: bool = True


@dataclass
class ClassOptSection(ClassOptConfig):
    """``methods.class_optimization``: :class:`~combmotif.baselines.class_optimization.ClassOptConfig`
    plus ``enabled``."""

    enabled: bool = True


@dataclass
class MethodsConfig:
    """The ``methods`` section: one section per compared method, each with its own ``enabled`` switch."""

    neuronmotif: NeuronMotifSection = field(default_factory=NeuronMotifSection)
    max_seqlet: MaxSeqletSection = field(default_factory=MaxSeqletSection)
    modisco: ModiscoSection = field(default_factory=ModiscoSection)
    class_optimization: ClassOptSection = field(default_factory=ClassOptSection)

    def enabled(self) -> list[str]:
        """The names of the enabled methods, in :data:`~combmotif.baselines.common.METHODS` order.

        Returns
        -------
        list of str
            Method names (``neuronmotif``, ``max_seqlet``, ``modisco``, ``class_optimization``)
            whose section has ``enabled: true``.
        """
        return [m for m in METHODS if getattr(self, m).enabled]


@dataclass
class CompareConfig(RunConfig):
    """``configs/others/method_compare*.yaml``: the run section (:class:`~combmotif.run.RunConfig`) and:"""

    layers: list[int]
    neurons: str | list[int] = "all"                # the same neurons for every layer-wise method
    truth: str | None = path_field(None)            # truth.json of a synthetic set, or a hand-written truth
    # e.g. planted+curated or a list; 'planted' reads truth's folder; files relative to this config
    motif_db: str | list[str] = motif_db_field("curated")
    significance: float = 0.01                      # q below which a database motif counts as matched
    recovery_q: float = 0.05                        # q below which a planted motif counts as recovered
    min_identity: float = 0.8                       # ... or segment consensus identity at least this
    merge_q: float = 0.01                           # near-duplicate database motifs: mutual Tomtom q
    match: MatchConfig = field(default_factory=MatchConfig)
    ppm: PPMConfig = field(default_factory=PPMConfig)   # segment cutting for the baselines' PPMs
    methods: MethodsConfig = field(default_factory=MethodsConfig)

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if not self.layers or any(L < 1 for L in self.layers):
            raise ValueError("'layers' must list conv layer numbers >= 1")
        if not self.methods.enabled():
            raise ValueError("no method enabled under 'methods'")
        for v in (self.significance, self.recovery_q, self.merge_q):
            if not 0 < v <= 1:
                raise ValueError("'significance', 'recovery_q' and 'merge_q' must be in (0, 1]")
        check_selection(self.neurons, "neurons")
        self.validate_run()


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
    cfg = load_config(path, CompareConfig, overrides)
    cfg.match = cfg.match.for_molecule(cfg.molecule)  # strands: auto -> both for DNA, given for RNA
    return cfg
