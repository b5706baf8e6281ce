"""The contribution stage: config, the per-layer run (association + knockout) and its command.

Outputs (``results/<model>/contribution/conv<L>/``): ``neuron_contribution.csv``
(the association, :mod:`.association`) and ``neuron_knockout.csv``
(:mod:`.knockout`), each with a ``<name>.stamp.json`` freshness stamp. The
command draws ``neuron_contribution.png`` from the returned table
(:func:`combmotif.report.plots.plot_contribution`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from ..config import check_selection, parse_range
from ..errors import InputError
from ..io import atomic_path, fault_point
from ..maxact import MaxAct
from ..models.trunk import neuron_max_over_positions, neuron_max_windows
from ..perturb import select_target, target_predictor
from ..run import RunConfig
from ..stage import Stage
from ..stamps import make_stamp, settings_of, unit_is_fresh, write_stamp
from .association import activated, contribution_table
from .knockout import knockout_table


@dataclass
class KnockoutConfig:
    """The ``knockout:`` section: the causal check of each neuron's sign."""

    enabled: bool = True
    sequences: int = 200          # activated sequences per neuron (a seeded draw)
    replicates: int = 3           # dinucleotide shuffles of each window, averaged
    draws: int = 4                # shuffles drawn per replicate to find ones that silence the neuron

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.sequences < 2 or self.replicates < 1 or self.draws < 1:
            raise ValueError("'knockout.sequences' must be >= 2, 'knockout.replicates' and "
                             "'knockout.draws' >= 1")


@dataclass
class ContributionConfig(RunConfig):
    """``configs/contribution/<model>.yaml``: the run section (:class:`~combmotif.run.RunConfig`) and:"""

    neurons: str | int | list = "all"
    threshold: float = 0.7
    values: Literal["prediction", "label"] = "prediction"
    target_index: int = 0
    min_n: int = 10
    alpha: float = 0.05
    min_abs_d: float = 0.0
    activation_tracks: Literal["zero", "keep"] = "zero"
    knockout: KnockoutConfig = field(default_factory=KnockoutConfig)

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.min_abs_d < 0:
            raise ValueError(f"'min_abs_d' must be >= 0; got {self.min_abs_d}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"'threshold' must be in (0, 1]; got {self.threshold}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"'alpha' must be in (0, 1); got {self.alpha}")
        if self.min_n < 2 or self.batch_size < 1:
            raise ValueError("'min_n' must be >= 2 and 'batch_size' >= 1")
        if self.target_index < 0:
            raise ValueError(f"'target_index' must be >= 0; got {self.target_index}")
        check_selection(self.neurons, "neurons")
        self.validate_run()



#: Settings that shape each unit of a layer (beside the weights and data in ``Stage.fingerprint``).
ASSOCIATION_SETTINGS = ("neurons", "threshold", "values", "target_index", "min_n", "alpha", "min_abs_d")
KNOCKOUT_SETTINGS = ("neurons", "threshold", "target_index", "min_n", "alpha", "min_abs_d", "seed",
                     "knockout", "batch_size")


def _stamp_path(csv: Path) -> Path:
    return csv.with_suffix(".stamp.json")


def _unit_stamp(stage: Stage, keys: Sequence[str]) -> dict:
    """What a unit is made from: the weights, data and activation convention, and ``keys``."""
    return make_stamp(stage.fingerprint, settings_of(stage.cfg, keys))


def _unit_is_fresh(csv: Path, stamp: dict, force: bool, name: str, log) -> bool:
    """Whether ``csv`` is finished and was made as ``stamp`` says; says why it is redone."""
    return unit_is_fresh(_stamp_path(csv), stamp, force, output=csv, name=name, log=log)


def run_contribution(stage: Stage, layer: int, force: bool = False, log=print) -> pd.DataFrame:
    """Write ``conv<L>/neuron_contribution.csv`` (the association) and
    ``neuron_knockout.csv`` for one layer; return the association table (the
    command draws it, fresh or skipped: :func:`combmotif.report.plots.plot_contribution`).

    Each of the two is a unit with a freshness stamp (``<name>.stamp.json``: the
    fingerprint of the weights and data, and the settings that shape it), written
    after the unit and removed before it is redone: a finished unit made the same
    way is skipped unless ``force``, one made otherwise is redone, and a unit
    without its stamp (a killed run's) is never taken for finished.

    Parameters
    ----------
    stage : Stage
        The contribution stage.
    layer : int
        1-based conv layer.
    force : bool
        Redo finished units.
    log : callable
        Progress messages.

    Returns
    -------
    pandas.DataFrame
        ``neuron_contribution.csv``.
    """
    cfg: ContributionConfig = stage.cfg
    out = stage.layer_dir(layer)
    csv, ko_csv = out / "neuron_contribution.csv", out / "neuron_knockout.csv"
    assoc_stamp = _unit_stamp(stage, ASSOCIATION_SETTINGS)
    ko_stamp = _unit_stamp(stage, KNOCKOUT_SETTINGS)
    assoc_done = _unit_is_fresh(csv, assoc_stamp, force, f"conv{layer}: {csv.name}", log)
    ko_done = not cfg.knockout.enabled or _unit_is_fresh(ko_csv, ko_stamp, force,
                                                         f"conv{layer}: {ko_csv.name}", log)
    if not ko_done:
        # No old knockout beside new association calls, even if this run is killed.
        _stamp_path(ko_csv).unlink(missing_ok=True)
        ko_csv.unlink(missing_ok=True)
    if assoc_done and ko_done:
        log(f"conv{layer}: contribution already done (use --force to redo)")
        return pd.read_csv(csv)
    res = MaxAct.load(stage.maxact_path(layer))
    X, y, _ = stage.data
    if len(res.seq_max) != len(X):
        raise InputError(f"{stage.maxact_path(layer)}: searched {len(res.seq_max)} sequences but the "
                         f"data set now has {len(X)}; rerun run_search_maxact.sh")
    neurons = parse_range(cfg.neurons, n=res.seq_max.shape[1])
    active = activated(res.seq_max, res.neuron_max, cfg.threshold)
    df = pd.read_csv(csv) if assoc_done else _write_association(stage, layer, y, active, neurons, assoc_stamp)
    if not cfg.knockout.enabled:
        _stamp_path(ko_csv).unlink(missing_ok=True)
        ko_csv.unlink(missing_ok=True)                          # no stale knockout beside new calls
    elif not ko_done:
        ko = stage_knockout(stage, res, active, neurons, target_predictor(stage),
                            select_target(stage.predictions(), cfg.target_index))
        fault_point("knockout")
        with atomic_path(ko_csv) as tmp:
            ko.to_csv(tmp, index=False, float_format="%.6g")
        write_stamp(_stamp_path(ko_csv), ko_stamp)
    return df


def _write_association(stage: Stage, layer: int, y, active: np.ndarray, neurons: Sequence[int],
                       stamp: dict) -> pd.DataFrame:
    cfg: ContributionConfig = stage.cfg
    out = stage.layer_dir(layer)
    csv = out / "neuron_contribution.csv"
    values = stage.predictions() if cfg.values == "prediction" else y
    values = select_target(values, cfg.target_index)
    df = contribution_table(values, active, layer, neurons, cfg.min_n, cfg.alpha, cfg.threshold,
                            cfg.values, cfg.target_index, cfg.min_abs_d)
    _stamp_path(csv).unlink(missing_ok=True)
    with atomic_path(csv) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    write_stamp(_stamp_path(csv), stamp)
    return df


def stage_knockout(stage: Stage, res: MaxAct, active: np.ndarray, neurons: Sequence[int], predict,
              original: np.ndarray) -> pd.DataFrame:
    """:func:`knockout_table` with the stage's settings. The shuffles are seeded per
    layer and neuron, so any ``predict`` (the model, or the planted rule) sees the same variants.

    Parameters
    ----------
    stage : Stage
        The contribution stage.
    res : MaxAct
        The layer's max-activation search.
    active : numpy.ndarray
        (N, C) bool from :func:`~combmotif.contribution.association.activated`.
    neurons : sequence of int
        0-based neurons.
    predict : callable
        (n, C, L) -> (n,).
    original : numpy.ndarray
        ``predict`` of the whole scanned set.

    Returns
    -------
    pandas.DataFrame
        ``neuron_knockout.csv``.
    """
    cfg: ContributionConfig = stage.cfg
    X, _, _ = stage.data
    return knockout_table(predict, X, res, active, res.layer, neurons, cfg.knockout.sequences,
                          cfg.knockout.replicates, cfg.alpha, cfg.min_abs_d, cfg.threshold,
                          cfg.target_index, cfg.min_n, cfg.seed, neuron_max=knockout_neuron_max(stage, res.layer),
                          draws=cfg.knockout.draws, original=original)


def knockout_neuron_max(stage: Stage, layer: int):
    """``(x, k) -> (n,)``: neuron k's maximum over positions, computed as the search computed it.

    Parameters
    ----------
    stage : Stage
        The stage (its model, device, batch size and ``activation_tracks``).
    layer : int
        1-based conv layer.

    Returns
    -------
    callable
        ``(x, k) -> (n,)`` float32.
    """
    cfg: ContributionConfig = stage.cfg

    def fn(x: np.ndarray, k: int) -> np.ndarray:
        return neuron_max_over_positions(stage.loaded.module, x, layer, k, cfg.batch_size, stage.device,
                                         cfg.activation_tracks == "zero")

    def windows(x: np.ndarray, rows: np.ndarray, start: np.ndarray, window: np.ndarray, k: int):
        return neuron_max_windows(stage.loaded.module, x, rows, start, window, layer, k,
                                  max(4096, cfg.batch_size), stage.device, cfg.activation_tracks == "zero")
    fn.windows = windows      # shuffles of one window each: only what the window reaches is recomputed
    return fn


def summary_line(df: pd.DataFrame, layer: int, knockout: pd.DataFrame | None = None) -> str:
    """One line counting a layer's neurons per sign (and the knockout's).

    Parameters
    ----------
    df : pandas.DataFrame
        ``neuron_contribution.csv``.
    layer : int
        1-based conv layer.
    knockout : pandas.DataFrame, optional
        ``neuron_knockout.csv``.

    Returns
    -------
    str
    """
    c = df["contribution"].value_counts()
    line = (f"conv{layer}: {len(df)} neurons: {c.get('positive', 0)} positive, "
            f"{c.get('negative', 0)} negative, {c.get('neutral', 0)} neutral")
    if knockout is not None and len(knockout):
        k = knockout["contribution"].value_counts()
        line += (f"; knockout: {k.get('positive', 0)} positive, {k.get('negative', 0)} negative, "
                 f"{k.get('neutral', 0)} neutral")
    return line
