"""Labelled data sets of the predictors: read, check, split and encode.

One :class:`DataConfig` says where the labelled sequences are and how they are
split; :func:`load_task_data` turns it into tensors per split
(:class:`TaskData`). Training, evaluation and the interpretation stages all
read their data here, so "the training set" is the same rows everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch

from ..config import path_field, require
from ..errors import InputError

SPLITS = ("train", "valid", "test")


@dataclass
class DataConfig:
    """Where the labelled sequences are and how they are split.

    ``split``: ``reference`` (MRL: the ``top_n`` best-covered UTRs, the
    ``test_n`` best of them held out, ``valid_frac`` of the rest for early
    stopping), ``random`` (shuffled ``fractions`` of train/valid/test; for
    small sets without read counts), ``file`` (the H5's own train/valid/test
    groups) or ``auto`` (``reference`` for ``mrl_csv``, ``file`` for
    ``saluki_h5``). ``split_seed`` is separate from the training seed so that a
    new training seed never changes which sequences are in the test set.
    """

    format: Literal["mrl_csv", "saluki_h5"]
    path: str = path_field()
    split: Literal["auto", "reference", "random", "file"] = "auto"
    label: str = "rl"
    top_n: int = 280_000
    test_n: int = 20_000
    valid_frac: float = 0.1
    fractions: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    split_seed: int = 0
    seq_len: int | None = None

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.split == "auto":
            self.split = "reference" if self.format == "mrl_csv" else "file"
        if self.format == "saluki_h5" and self.split != "file":
            raise ValueError("'data.split' must be 'file' (or auto) for format saluki_h5: "
                             "the H5 holds its own train/valid/test groups")
        if self.format == "mrl_csv" and self.split == "file":
            raise ValueError("'data.split' 'file' needs format saluki_h5; use reference or random")
        if self.format == "saluki_h5" and self.label != "rl":
            raise ValueError("'data.label' applies to mrl_csv only (an H5 has one target)")
        if self.split == "reference" and self.label != "rl":
            raise ValueError("'data.split' reference ranks rows by read count and needs label rl; "
                             "use split random for another label column")
        if len(self.fractions) != 3 or min(self.fractions) <= 0 or abs(sum(self.fractions) - 1) > 1e-6:
            raise ValueError(f"'data.fractions' must be three positive numbers summing to 1; "
                             f"got {self.fractions}")
        if not 0 <= self.valid_frac < 1:
            raise ValueError(f"'data.valid_frac' must be in [0, 1); got {self.valid_frac}")
        require(self.top_n >= 2, "data.top_n", self.top_n, ">= 2")
        require(1 <= self.test_n < self.top_n, "data.test_n", self.test_n,
                 f">= 1 and below data.top_n ({self.top_n})")
        if self.seq_len is not None and self.seq_len < 1:
            raise ValueError(f"'data.seq_len' must be positive; got {self.seq_len}")
        require(self.split_seed >= 0, "data.split_seed", self.split_seed, "an integer >= 0")
        require(bool(str(self.label).strip()), "data.label", self.label, "a column name")



@dataclass
class TaskData:
    """Tensors per split plus what the checkpoint records about the data.

    ``splits[name] = (X, y)`` with X (N, C, L) float32 and y (N,) float32 on CPU.
    """

    splits: dict[str, tuple[torch.Tensor, torch.Tensor]]
    in_channels: int
    seq_len: int
    info: dict
    task: Literal["mrl", "halflife"]

    @property
    def truth_path(self) -> Path:
        """The ``truth.json`` beside the data file (a synthetic set's folder); it need not exist."""
        return Path(self.info["path"]).parent / "truth.json"


def read_labelled_csv(path: str | Path, label: str) -> pd.DataFrame:
    """Read a CSV with a ``utr`` column and a numeric ``label`` column; drops nothing silently.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    label : str
        The label column (e.g. ``rl``, or ``hrl`` of the human 5'UTR SNV set).

    Returns
    -------
    pandas.DataFrame
        Columns ``utr`` (str) and ``label`` (float64), in file order.

    Raises
    ------
    InputError
        Naming the file, row and column of the first unreadable value.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: data file not found")
    try:
        head = pd.read_csv(path, nrows=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({type(exc).__name__})") from None
    missing = [c for c in ("utr", label) if c not in head.columns]
    if missing:
        raise InputError(f"{path}: missing column {', '.join(repr(c) for c in missing)} "
                         f"(label column is set by data.label)")
    try:
        df = pd.read_csv(path, usecols=["utr", label], dtype={"utr": str}, keep_default_na=False,
                         na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if df.empty:
        raise InputError(f"{path}: no data rows (only a header)")
    y = pd.to_numeric(df[label], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(y.to_numpy(dtype=float)))
    if bad.size:
        row = int(bad[0])
        raise InputError(f"{path}: row {row + 1} (line {row + 2}): column {label!r} is not a number "
                         f"({df[label].iloc[row]!r})")
    if df["utr"].isna().any():
        row = int(np.flatnonzero(df["utr"].isna().to_numpy())[0])
        raise InputError(f"{path}: row {row + 1} (line {row + 2}): empty utr")
    return pd.DataFrame({"utr": df["utr"].astype(str), label: y.astype(np.float64)})


def random_split(n: int, fractions: list[float], seed: int) -> dict[str, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it by ``fractions`` (train, valid, test).

    Parameters
    ----------
    n : int
        Rows to split.
    fractions : list of float
        Train, valid and test fractions (summing to 1).
    seed : int
        Seed of the permutation (the config's ``data.split_seed``).

    Returns
    -------
    dict
        Split name -> sorted row indices.
    """
    perm = np.random.default_rng(seed).permutation(n)
    cuts = np.round(np.cumsum(fractions)[:2] * n).astype(int)
    parts = np.split(perm, cuts)
    if min(len(p) for p in parts) < 2:
        raise InputError(f"{n} rows are too few to split by {fractions}")
    return dict(zip(SPLITS, (np.sort(p) for p in parts)))


def check_utrs(utrs: pd.Series, seq_len: int, path: str | Path) -> None:
    """Refuse UTRs longer than ``seq_len`` (rather than silently cutting them) or
    with letters outside ACGTUN.

    Parameters
    ----------
    utrs : pandas.Series
        The ``utr`` column.
    seq_len : int
        The model's input length.
    path : str or Path
        The file, named in the message; rows are counted as in
        :mod:`combmotif.data.mrl` (1-based data row; the file line is row + 1).

    Raises
    ------
    InputError
        For the first offending row.
    """
    lengths = utrs.str.len().to_numpy()
    if (lengths > seq_len).any():
        row = int(np.argmax(lengths > seq_len))
        raise InputError(f"{path}: row {row + 1} (line {row + 2}): utr is {lengths[row]} nt, longer than "
                         f"data.seq_len={seq_len} ({int((lengths > seq_len).sum())} such rows)")
    bad = utrs.str.contains(r"[^ACGTUNacgtun]", regex=True).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        col = next(i for i, c in enumerate(utrs.iloc[row]) if c not in "ACGTUNacgtun")
        raise InputError(f"{path}: row {row + 1} (line {row + 2}): utr has invalid character "
                         f"{utrs.iloc[row][col]!r} at position {col} (allowed: A, C, G, T, U, N)")


def _mrl_splits(cfg: DataConfig) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    from . import mrl as mrl_data

    seq_len = cfg.seq_len or 50
    # Only the reference split ranks by read counts: a user's own CSV with a random
    # split needs just ``utr`` and the label column.
    df = (mrl_data.read_mrl_csv(cfg.path) if cfg.split == "reference"
          else read_labelled_csv(cfg.path, cfg.label))
    check_utrs(df["utr"], seq_len, cfg.path)
    if cfg.split == "reference":
        if min(len(df), cfg.top_n) <= cfg.test_n:
            raise InputError(f"{cfg.path}: {len(df)} rows, too few for 'data.test_n' = {cfg.test_n} "
                             f"(the reference split tests on the test_n best-read of the "
                             f"data.top_n = {cfg.top_n} best-read rows and trains on the rest)")
        parts = mrl_data.reference_split(df, top_n=cfg.top_n, test_n=cfg.test_n,
                                         valid_frac=cfg.valid_frac, seed=cfg.split_seed)
        split_info = {"kind": "reference", "top_n": cfg.top_n, "test_n": cfg.test_n,
                      "valid_frac": cfg.valid_frac, "seed": cfg.split_seed}
    else:
        try:
            idx = random_split(len(df), cfg.fractions, cfg.split_seed)
        except InputError as exc:
            raise InputError(f"{cfg.path}: {exc} ('data.fractions')") from None
        parts = {k: df.iloc[v] for k, v in idx.items()}
        split_info = {"kind": "random", "fractions": list(cfg.fractions), "seed": cfg.split_seed}
    arrays = {k: (mrl_data.encode_utrs(p["utr"].tolist(), length=seq_len, source=str(cfg.path)),
                  p[cfg.label].to_numpy(dtype=np.float32)) for k, p in parts.items()}
    return arrays, split_info


def _h5_splits(cfg: DataConfig) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    from . import halflife as hl_data

    # read_h5 checks the layout: (N, 6, L) sequences and (N,) labels per split.
    arrays = hl_data.read_h5(cfg.path, splits=SPLITS)
    return arrays, {"kind": "file"}


def check_arrays(arrays: dict[str, tuple[np.ndarray, np.ndarray]], path: str,
                 seq_len: int | None) -> tuple[int, int]:
    """Check shapes and values of every split.

    Parameters
    ----------
    arrays : dict
        Split name -> (X (N, C, L), y (N,)).
    path : str
        The data file, named in the message.
    seq_len : int, optional
        The length the config expects.

    Returns
    -------
    tuple of int
        ``(in_channels, seq_len)`` shared by every split.
    """
    shapes = set()
    for name in SPLITS:
        if name not in arrays:
            raise InputError(f"{path}: no {name!r} split")
        X, y = arrays[name]
        if X.ndim != 3:
            raise InputError(f"{path}: split {name!r} sequences have shape {X.shape}; expected (N, C, L)")
        if y.ndim != 1 or len(y) != len(X):
            raise InputError(f"{path}: split {name!r} has {len(X)} sequences but labels of shape {y.shape}")
        if len(X) < 2:
            raise InputError(f"{path}: split {name!r} has {len(X)} sequences; need at least 2")
        if not np.isfinite(y).all():
            raise InputError(f"{path}: split {name!r} has non-finite labels")
        shapes.add(tuple(X.shape[1:]))
    if len(shapes) != 1:
        raise InputError(f"{path}: splits have different sequence shapes {sorted(shapes)}")
    channels, length = shapes.pop()
    if seq_len is not None and length != seq_len:
        raise InputError(f"{path}: sequences are {length} long but the config says data.seq_len={seq_len}")
    return channels, length


def load_task_data(d: DataConfig) -> TaskData:
    """Read, split, encode and check the data set a config names.

    Parameters
    ----------
    d : DataConfig
        The ``data`` section of a training config (validated).

    Returns
    -------
    TaskData
        Tensors per split and what the checkpoint records about the data.

    Raises
    ------
    InputError
        Naming the file, for anything that does not fit: missing columns,
        invalid letters, wrong H5 shapes, a length other than ``data.seq_len``.
    """
    if Path(d.path).is_dir():
        raise InputError(f"{d.path}: is a folder, not a data file ('data.path')")
    if not Path(d.path).is_file():
        hint = (" (make the synthetic sets with: bash generate_dataset/make_default.sh)"
                if Path(d.path).parent.name.startswith("synthetic") else "")
        raise InputError(f"{d.path}: data file not found{hint}")
    arrays, split_info = _mrl_splits(d) if d.format == "mrl_csv" else _h5_splits(d)
    arrays = {k: (np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32))
              for k, (X, y) in arrays.items()}
    channels, length = check_arrays(arrays, d.path, d.seq_len)
    split_info["sizes"] = {k: int(len(arrays[k][1])) for k in SPLITS}
    info = {"set": Path(d.path).parent.name, "format": d.format, "path": str(d.path),
            "split": split_info, "label": d.label if d.format == "mrl_csv" else "halflife"}
    splits = {k: (torch.from_numpy(X), torch.from_numpy(y)) for k, (X, y) in arrays.items()}
    return TaskData(splits, channels, length, info, "mrl" if d.format == "mrl_csv" else "halflife")
