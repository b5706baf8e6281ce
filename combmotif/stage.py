"""What a stage that scans a data set shares: its data, its model and where it writes.

The contribution and interaction stages (and the baselines' comparison) scan
the sequences a model was trained on. This module rebuilds that split from the
checkpoint's record (:class:`DataSpec`, :func:`load_dataset`), holds the
:class:`Stage` base (model, data, results folder, fingerprint, the cached
max-activation search and predictions) and the ``run_search_maxact.sh``
command line.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .config import parse_range
from .data.tasks import SPLITS, config_from_record, load_task_data, read_labelled_csv
from .errors import ConfigError, InputError
from .io import check_output_dir, save_npz
from .layout import layer_dir, stage_dir
from .maxact import search_maxact
from .models.anatomy import Anatomy
from .models.loader import LoadedModel, load_model, model_fingerprint, model_name
from .paths import relative_path, repo_root
from .run import DataSpec

# --------------------------------------------------------------------------- data for a stage


def load_dataset(spec: DataSpec, ckpt: dict | None, seq_len: int, encode=None
                 ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Sequences and labels of the split a stage scans.

    With a CombMotif checkpoint the split is rebuilt exactly as training built it
    (same reader, same split parameters), so "the training set" means the
    sequences the model was fitted on. Without one (an imported Keras model) the
    whole CSV is read and ``encode`` turns its ``utr`` column into model input.

    Parameters
    ----------
    spec : DataSpec
        The stage config's ``data`` section.
    ckpt : dict, optional
        The checkpoint (its ``data`` record names the file and the split).
    seq_len : int
        Input length of the model.
    encode : callable, optional
        ``(utrs, source=...) -> (N, C, L)`` of an imported model.

    Returns
    -------
    X : numpy.ndarray
        (N, C, L) float32.
    y : numpy.ndarray
        (N,) float32 labels.
    meta : dict
        ``path``, ``format``, ``split`` and ``n`` (they enter the stage's fingerprint).
    """
    info = (ckpt or {}).get("data") or {}
    path = spec.path or info.get("path")
    fmt = spec.format if spec.format != "auto" else info.get("format")
    if path is None or fmt is None:
        raise ConfigError("data: give 'path' and 'format' (the model's checkpoint does not record its data set)")
    if not Path(path).is_file():
        raise InputError(f"{path}: data file not found")
    split_info = info.get("split") or {}
    # The recorded split belongs to the file the model was trained on: another file
    # (a user's own CSV) is read whole, never cut with the training's top_n / test_n.
    own_file = spec.path is None or not info.get("path") or \
        Path(spec.path).resolve() == Path(info["path"]).resolve()
    if split_info and fmt == info.get("format") and own_file:
        X, y = _recorded_split(spec, info, str(path), fmt, seq_len)
    else:
        if spec.split != "all":
            why = ("the model does not record how it was split" if not split_info or own_file
                   else f"it is not the file the model was trained on ({info.get('path')})")
            raise ConfigError(f"data: 'data.split' = {spec.split!r} but {why}; set 'data.split: all' "
                              f"to scan the whole of {path}")
        X, y = _whole_file(spec, path, fmt, seq_len, encode)
    if spec.max_sequences is not None:
        X, y = X[: spec.max_sequences], y[: spec.max_sequences]
    if X.shape[-1] != seq_len:
        raise InputError(f"{path}: sequences are {X.shape[-1]} long but the model takes {seq_len}")
    meta = {"path": str(path), "format": fmt, "split": spec.split, "n": int(len(X))}
    return np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32), meta


def _recorded_split(spec: DataSpec, info: dict, path: str, fmt: str, seq_len: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The ``spec.split`` rows of the training's own split of its own file."""
    record = dict(info)
    if fmt == "mrl_csv":
        record["label"] = spec.label or info.get("label") or "rl"
    try:
        # The one rebuild of a recorded split (regression and classification sets alike:
        # a FASTA record also names its negatives, chromosomes and molecule).
        dc = config_from_record(record, path=path, seq_len=seq_len)
    except ValueError as exc:
        raise ConfigError(f"data: {exc}") from None
    data = load_task_data(dc)
    names = SPLITS if spec.split == "all" else (spec.split,)
    X = np.concatenate([data.splits[s][0].numpy() for s in names])
    y = np.concatenate([data.splits[s][1].numpy() for s in names])
    return X, y


def _whole_file(spec: DataSpec, path: str, fmt: str, seq_len: int, encode
                ) -> tuple[np.ndarray, np.ndarray]:
    """Every row of ``path`` (a file the model does not record a split of)."""
    if fmt == "saluki_h5":
        from .data.halflife import read_h5
        parts = read_h5(path)
        X = np.concatenate([parts[s][0] for s in parts])
        y = np.concatenate([parts[s][1] for s in parts])
        return X, y
    df = read_labelled_csv(path, spec.label or "rl")
    if encode is None:
        from .data.mrl import encode_utrs
        X = encode_utrs(df["utr"].tolist(), length=seq_len, source=str(path))
    else:
        X = np.asarray(encode(df["utr"].tolist(), source=str(path)))
    y = df[spec.label or "rl"].to_numpy(np.float32)
    return X, y


# --------------------------------------------------------------------------- a stage run


class Stage:
    """What the contribution and interaction stages share: the model, the scanned
    sequences and where outputs go (``results/<model>/<stage>/``)."""

    def __init__(self, cfg, config_path: str | Path, stage: str):
        torch.manual_seed(cfg.seed)
        self.cfg = cfg
        self.stage = stage
        self.config_path = str(config_path)
        self.out = stage_dir(cfg.results_dir, model_name(cfg.model, cfg.name), stage)
        check_output_dir(self.out.parent.parent, self.config_path, "results_dir")   # before the model is loaded
        self.loaded: LoadedModel = load_model(cfg.model, cfg.device)
        self.name = self.out.parent.name
        check_output_dir(self.out, self.config_path, "results_dir")
        self.device = next(self.loaded.module.parameters()).device
        self._data = None
        self._fingerprint: str | None = None

    def check_layers(self, layers: Sequence[int], key: str | None = "neurons") -> dict[int, list[int]]:
        """Check, before any work, that the model has every layer and that the config's
        neuron selection ``key`` fits each; returns layer -> selected neurons.

        Parameters
        ----------
        layers : sequence of int
            The conv layers (1-based) the stage will scan.
        key : str or None, default "neurons"
            The config attribute holding the neuron selection; ``None`` selects every neuron.

        Returns
        -------
        dict of int to list of int
            Each layer's selected neuron indices (:func:`combmotif.config.parse_range`).

        Raises
        ------
        combmotif.errors.CombMotifError
            Naming the config file, the model file or the key and value.
        """
        anatomy = Anatomy(self.loaded.module)
        out = {}
        for L in layers:
            if not 1 <= L <= len(anatomy):
                raise InputError(f"layer {L} does not exist: {self.cfg.model.checkpoint or self.cfg.model.keras_hdf5}"
                                 f" has conv1..conv{len(anatomy)}")
            n = anatomy.layer(L).out_channels
            spec = getattr(self.cfg, key) if key else "all"
            try:
                out[L] = parse_range(spec, n)
            except ConfigError as exc:
                raise ConfigError(f"{self.config_path}: '{key}' = {spec!r} for conv{L}: {exc}") from None
        return out

    def check_target(self) -> None:
        """Check the config's ``target_index`` against the model's outputs (one tiny forward pass)."""
        index = self.cfg.target_index
        out = np.asarray(self.loaded.predict(np.zeros((1, self.loaded.in_channels, self.loaded.seq_len),
                                                      np.float32)))
        n = 1 if out.ndim == 1 else out.shape[1]
        if not 0 <= index < n:
            raise ConfigError(f"{self.config_path}: 'target_index' = {index} but the model has "
                              f"{n} output(s)")

    @property
    def fingerprint(self) -> str:
        """Hash of the weights, the scanned data and the activation convention:
        a cached search or prediction with another fingerprint is stale."""
        if self._fingerprint is None:
            h = hashlib.sha1()
            h.update(model_fingerprint(self.loaded.module).encode())
            _, _, meta = self.data
            # The data file relative to the repository: a clone at another path gets
            # the same fingerprint, and so byte-identical outputs.
            h.update(repr((relative_path(meta["path"], repo_root()), meta["split"], meta["n"],
                           self.cfg.activation_tracks)).encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def _fresh(self, path: Path) -> bool:
        if not path.is_file():
            return False
        with np.load(path) as z:
            return "fingerprint" in z.files and str(z["fingerprint"]) == self.fingerprint

    @property
    def data(self) -> tuple[np.ndarray, np.ndarray, dict]:
        """``(X, y, meta)`` of the scanned split (:func:`load_dataset`), read on first use and kept."""
        if self._data is None:
            self._data = load_dataset(self.cfg.data, self.loaded.ckpt, self.loaded.seq_len,
                                      encode=self.loaded.encode)
        return self._data

    def layer_dir(self, layer: int) -> Path:
        """The stage's folder of one layer, ``results/<model>/<stage>/conv<layer>``.

        Parameters
        ----------
        layer : int
            The conv layer (1-based).

        Returns
        -------
        pathlib.Path
            The folder (not created here).
        """
        return layer_dir(self.out, layer)

    def maxact_path(self, layer: int) -> Path:
        """The cached max-activation search of one layer (written by :meth:`search`).

        Parameters
        ----------
        layer : int
            The conv layer (1-based).

        Returns
        -------
        pathlib.Path
            ``<layer_dir>/maxact.npz``; it need not exist yet.
        """
        return self.layer_dir(layer) / "maxact.npz"

    def search(self, layers: Sequence[int], force: bool = False, progress: bool = True) -> list[Path]:
        """Max-activation search for ``layers`` (one pass for all); skips finished layers.

        A layer is finished when its ``maxact.npz`` carries this stage's
        :attr:`fingerprint`; a stale or missing one is recomputed.

        Parameters
        ----------
        layers : sequence of int
            The conv layers (1-based) to search.
        force : bool, default False
            Recompute every layer, finished or not.
        progress : bool, default True
            Show a progress bar.

        Returns
        -------
        list of pathlib.Path
            The ``maxact.npz`` file of each layer, in the order of ``layers``.
        """
        todo = [L for L in layers if force or not self._fresh(self.maxact_path(L))]
        if todo:
            X, _, _ = self.data
            found = search_maxact(self.loaded.module, X, todo, self.cfg.batch_size, self.device,
                                  zero_extra_tracks=self.cfg.activation_tracks == "zero", progress=progress)
            for L, res in found.items():
                res.save(self.maxact_path(L), self.fingerprint)
        return [self.maxact_path(L) for L in layers]

    def predictions(self) -> np.ndarray:
        """Model predictions of the scanned set on the label scale (cached per stage).

        Read from ``predictions_<split>.npz`` when its fingerprint is current, else
        computed and written there.

        Returns
        -------
        numpy.ndarray
            (N,) or (N, T) predictions, one per scanned sequence.
        """
        path = self.out / f"predictions_{self.cfg.data.split}.npz"
        if self._fresh(path):
            with np.load(path) as z:
                return z["pred"]
        X, _, _ = self.data
        pred = self.loaded.predict(X, batch_size=self.cfg.batch_size)
        save_npz(path, pred=pred, fingerprint=np.array(self.fingerprint))
        return pred


# --------------------------------------------------------------------------- command line


def layer_range(first: int, last: int) -> list[int]:
    """Layers ``first..last`` inclusive, as the stage wrappers take them.

    Parameters
    ----------
    first, last : int
        1-based conv layers.

    Returns
    -------
    list of int
        ``[first, ..., last]``.
    """
    if first < 1 or last < first:
        raise ConfigError(f"layer range {first}..{last} is empty or starts below 1")
    return list(range(first, last + 1))

