"""The model comparison's config (``configs/others/compare_models_*.yaml``) and the models it names.

::

    name: halflife_human_vs_mouse   # results/compare_models/<name>/ (default: the labels joined by _vs_)
    results_dir: null               # results root of the comparison (default: the first model's)
    models:
      - label: human                # short name on the page and in the column names (default: model name)
        discovery: ../interpreting/hl_predictor.yaml      # required: results folder, name, molecule
        contribution: ../contribution/hl_predictor.yaml   # optional: contribution signs
        interaction: ../interaction/hl_predictor.yaml     # optional: pair classes
      - label: mouse
        discovery: ../interpreting/hl_predictor_mouse.yaml
    layers: null                    # conv layers whose neurons count (null: every discovered layer)
    match_q: 0.05                   # families of two models match: mutual Tomtom q below this
    min_cover: 0.5                  # ... over at least this share of the longer representative
    site_check: true                # groups some models lack: does the lacking model use the motif's sites?
    site_check_min_neurons: 5       # ... groups whose holders' families have this many neurons
    site_check_min_relative: 0.5    # ... learned by sites: q < alpha and |push| >= this x the holders'
    site_check_min_sd: 0.05         # ... and >= this many SD of the model's predictions (both sides)
    site_check_sequences: 100       # ... sequences per pattern and model (its interaction config's data)
    site_check_replicates: 3        # ... destruction draws per sequence
    alpha: 0.05                     # ... BH q threshold over one model's checks
    seed: 0                         # ... seed of the destruction draws
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import layout
from ..config import load_config, path_field
from ..errors import ConfigError
from ..motifs.match import MatchConfig

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class ModelEntry:
    """One compared model: its interpretation configs and a label."""

    discovery: str = path_field()                  # interpreting config: results folder, families
    contribution: str | None = path_field(None)    # contribution config: neuron signs
    interaction: str | None = path_field(None)     # interaction config: pair classes
    label: str | None = None                       # default: the model's name


@dataclass
class CompareModelsConfig:
    """``configs/others/compare_models_*.yaml`` (see the module docstring)."""

    models: list[ModelEntry]
    name: str | None = None
    results_dir: str | None = path_field(None)
    layers: list[int] | None = None
    match_q: float = 0.05
    # Lower than database dedupe's 0.75: two models' representatives of one motif differ in
    # flank length (a repeat: TGTTTGTT in one, TGTTTGTTTGTTTGTT in the other, 11 of 16 aligned).
    min_cover: float = 0.5
    # Site check (compare_models/site_check.py): a motif a model folded into another motif's
    # neurons has no family there; its push on the model's own sequences says whether it is used.
    site_check: bool = True
    site_check_min_neurons: int = 5
    site_check_min_relative: float = 0.5
    site_check_min_sd: float = 0.05
    site_check_sequences: int = 100
    site_check_replicates: int = 3
    alpha: float = 0.05
    seed: int = 0

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if len(self.models) < 2:
            raise ValueError(f"'models' must list at least two models; got {len(self.models)}")
        if self.layers is not None and (not self.layers or any(L < 1 for L in self.layers)):
            raise ValueError(f"'layers' must list conv layer numbers >= 1 (or be null); got {self.layers}")
        if not 0 < self.match_q <= 1:
            raise ValueError(f"'match_q' must be in (0, 1]; got {self.match_q}")
        if not 0 < self.min_cover <= 1:
            raise ValueError(f"'min_cover' must be in (0, 1]; got {self.min_cover}")
        if self.site_check_min_neurons < 1 or self.site_check_sequences < 2 or self.site_check_replicates < 1:
            raise ValueError("'site_check_min_neurons' and 'site_check_replicates' must be >= 1 and "
                             f"'site_check_sequences' >= 2; got {self.site_check_min_neurons}, "
                             f"{self.site_check_replicates}, {self.site_check_sequences}")
        if not (self.site_check_min_relative >= 0 and self.site_check_min_sd >= 0) or not 0 < self.alpha < 1:
            raise ValueError(f"'site_check_min_relative' and 'site_check_min_sd' must be >= 0 and 'alpha' in "
                             f"(0, 1); got {self.site_check_min_relative}, {self.site_check_min_sd}, {self.alpha}")
        if self.name is not None and not _LABEL.match(self.name):
            raise ValueError(f"'name' must be a plain file name (letters, digits, _ . -); got {self.name!r}")
        for i, m in enumerate(self.models):
            if m.label is not None and not _LABEL.match(m.label):
                raise ValueError(f"'models[{i}].label' must be letters, digits, _ . -; got {m.label!r}")


@dataclass
class ComparedModel:
    """One model as the comparison reads it: everything resolved from its configs."""

    label: str
    name: str
    model_dir: Path
    molecule: str
    matching: MatchConfig
    data_dir: str | None
    discovery_config: str
    motif_db: str | list[str] = "curated"
    contribution_dir: Path | None = None
    target_index: int = 0
    interaction_dir: Path | None = None
    interaction_config: str | None = None
    layers: list[int] | None = field(default=None)


def load_compare_models_config(path: str | Path, overrides: dict | None = None
                               ) -> tuple[CompareModelsConfig, list[ComparedModel]]:
    """Read the comparison's config and every model's interpretation configs.

    Parameters
    ----------
    path : str or Path
        The comparison's YAML file (its relative paths resolve against its folder).
    overrides : dict, optional
        Values that replace the file's, key by key.

    Returns
    -------
    cfg : CompareModelsConfig
        The checked config (``name`` and ``results_dir`` filled in).
    models : list of ComparedModel
        In config order.

    Raises
    ------
    combmotif.errors.ConfigError
        One line naming the file and key: a bad value, an unreadable model config,
        two models with one label or one results folder.
    """
    cfg = load_config(path, CompareModelsConfig, overrides)
    models = [_compared(path, i, entry, cfg.layers) for i, entry in enumerate(cfg.models)]
    labels = [m.label for m in models]
    for i, m in enumerate(models):
        if labels.index(m.label) != i:
            raise ConfigError(f"{path}: 'models[{i}].label' = {m.label!r} is used twice "
                              f"(give each model its own label)")
        if [o.model_dir for o in models].index(m.model_dir) != i:
            raise ConfigError(f"{path}: 'models[{i}]' reads {m.model_dir}, as an earlier model does")
    if cfg.results_dir is None:
        cfg.results_dir = str(models[0].model_dir.parent)
    if cfg.name is None:
        cfg.name = "_vs_".join(labels)
    return cfg, models


def _compared(path: str | Path, i: int, entry: ModelEntry, layers: list[int] | None) -> ComparedModel:
    """One :class:`ComparedModel` from its configs; their errors name the comparison's key."""
    from ..contribution.stage import ContributionConfig
    from ..interaction.stage import InteractionConfig
    from ..neuronmotif.discovery_config import load_discovery_config

    key = f"models[{i}]"
    try:
        disc = load_discovery_config(entry.discovery)
        contrib = load_config(entry.contribution, ContributionConfig) if entry.contribution else None
        inter = load_config(entry.interaction, InteractionConfig) if entry.interaction else None
    except ConfigError as exc:
        raise ConfigError(f"{path}: '{key}': {exc}") from None
    name = disc.model_name
    for part, other in (("contribution", contrib), ("interaction", inter)):
        if other is not None and other.model_name != name:
            raise ConfigError(f"{path}: '{key}.{part}' interprets model {other.model_name!r}, "
                              f"'{key}.discovery' model {name!r}")
    model_dir = layout.model_dir(disc.results_dir, name)
    return ComparedModel(
        label=entry.label or name, name=name, model_dir=model_dir, molecule=disc.molecule,
        matching=dataclasses.replace(disc.matching), data_dir=disc.data_dir,
        discovery_config=str(entry.discovery), motif_db=disc.motif_db,
        contribution_dir=contrib.stage_dir("contribution") if contrib else None,
        target_index=contrib.target_index if contrib else 0,
        interaction_dir=inter.stage_dir("interaction") if inter else None,
        interaction_config=str(entry.interaction) if inter else None, layers=layers)
