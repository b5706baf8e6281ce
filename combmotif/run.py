"""The run section every stage config shares: one set of keys, one meaning, one default.

::

    model:                      # the model to interpret (training: its architecture)
      checkpoint: ../../model_weights/mrl_predictor-best.pth
    data: {split: train}        # the sequences a stage scans (training: the data set)
    results_dir: ../../results  # results root: <results_dir>/<name>/<stage>/ (default <repo>/results)
    name: mrl_predictor         # default: model.name, else the checkpoint's stem minus -best, else the Keras stem
    seed: 0
    device: auto                # auto, cpu, cuda, cuda:1
    batch_size: 1024            # sequences per forward pass

Stage configs subclass :class:`RunConfig`; the fields are keyword-only, so a
stage's own required keys may follow them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .checkpoint import check_device
from .config import path_field, resolved_field
from .layout import stage_dir
from .models.loader import ModelSpec, model_molecule, model_name
from .motifs.databases import rebase_motif_db

#: Keys renamed when the run section became one: the old key's one error line names the new one.
RENAMED_KEYS = {"output_dir": "results_dir"}


def motif_db_field(default: str = "curated"):
    """The ``motif_db`` field: its file parts resolve against the config's folder when it is read.

    Parameters
    ----------
    default : str
        The default database (see :mod:`combmotif.motifs.databases`).

    Returns
    -------
    dataclasses.Field
    """
    return resolved_field(default, resolve=rebase_motif_db,
                          relative=lambda spec, base: rebase_motif_db(spec, base, relative=True))


@dataclass
class DataSpec:
    """Which sequences a stage scans.

    ``path``/``format`` default to the data set the checkpoint was trained on;
    ``split`` picks the same train/valid/test split the training used (or
    ``all``). ``max_sequences`` keeps the first N of the split, for quick runs.
    """

    path: str | None = path_field(None)
    format: Literal["auto", "mrl_csv", "saluki_h5"] = "auto"
    split: Literal["train", "valid", "test", "all"] = "train"
    label: str | None = None
    max_sequences: int | None = None

    def validate(self) -> None:
        """Check the section when the config is read.

        Raises
        ------
        ValueError
            ``max_sequences`` below 1.
        """
        if self.max_sequences is not None and self.max_sequences < 1:
            raise ValueError("'data.max_sequences' must be positive")


@dataclass(kw_only=True)
class RunConfig:
    """The shared run section (see the module docstring for the keys)."""

    model: ModelSpec
    data: DataSpec = field(default_factory=DataSpec)
    results_dir: str | None = path_field(None)
    name: str | None = None
    seed: int = 0
    device: str = "auto"
    batch_size: int = 1024

    _renamed_keys = RENAMED_KEYS

    def validate_run(self) -> None:
        """Check the run section's values (stage ``validate`` methods call it).

        Raises
        ------
        ValueError
            A bad ``name``, ``seed``, ``batch_size`` or ``device``.
        """
        check_run_values(self.name, self.seed, self.device, self.batch_size)

    def validate(self) -> None:
        """Check the config when it is read (stage configs extend it and call :meth:`validate_run`).

        Raises
        ------
        ValueError
            A bad run-section value.
        """
        self.validate_run()

    @property
    def model_name(self) -> str:
        """The model's name (:func:`combmotif.models.loader.model_name`)."""
        return model_name(self.model, self.name)

    @property
    def molecule(self) -> str:
        """``"dna"`` or ``"rna"``: what the model reads (:func:`combmotif.models.loader.model_molecule`)."""
        return model_molecule(self.model)

    @property
    def model_file(self) -> Path:
        """The checkpoint or Keras file of the model."""
        return Path(self.model.checkpoint or self.model.keras_hdf5)

    def stage_dir(self, stage: str) -> Path:
        """``<results_dir>/<model name>/<stage>/`` (:func:`combmotif.layout.stage_dir`).

        Parameters
        ----------
        stage : str
            The stage's folder name.

        Returns
        -------
        pathlib.Path
        """
        return stage_dir(self.results_dir, self.model_name, stage)


def check_run_values(name: str | None, seed: int, device: str, batch_size: int | None) -> None:
    """Check the run section's values, for configs that hold them (training included).

    Parameters
    ----------
    name : str or None
        The model's name: a plain file name.
    seed : int
        Must be >= 0.
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    batch_size : int or None
        Must be >= 1 (None: the config has none).

    Raises
    ------
    ValueError
        The first bad value, as ``'key' must be ...; got value``.
    """
    if name is not None and (not name or "/" in name or "\\" in name or name.startswith(".")):
        raise ValueError(f"'name' must be a plain file name; got {name!r}")
    if seed < 0:
        raise ValueError(f"'seed' must be an integer >= 0; got {seed!r}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"'batch_size' must be >= 1; got {batch_size}")
    check_device(device)
