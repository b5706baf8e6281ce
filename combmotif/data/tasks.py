"""Labelled data sets of the predictors: read, check, split and encode.

One :class:`DataConfig` says where the labelled sequences are and how they are
split; :func:`load_task_data` turns it into tensors per split
(:class:`TaskData`). Training, evaluation and the interpretation stages all
read their data here, so "the training set" is the same rows everywhere.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch

from ..config import path_field, require
from ..errors import InputError
from ..sequences import one_hot

SPLITS = ("train", "valid", "test")
CLASSIFICATION_FORMATS = ("fasta", "class_csv")


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

    Binding-site classification (:mod:`combmotif.data.fasta`): ``fasta``
    (``path`` the positives, ``negatives`` the negatives; plain or ``.gz``) or
    ``class_csv`` (``sequence_column`` and a 0/1 ``label`` column, default
    ``label``). ``seq_len`` defaults to the median length of the positives;
    longer sequences are centre-cropped, shorter ones padded with all-zero
    columns on both sides. ``split: chromosome`` holds out ``test_chroms`` and
    ``valid_chroms`` (chromosome = a header's first token up to ``:``, e.g.
    ``chr1:123-456(+)``); ``auto`` is ``chromosome`` when every header has one,
    else ``random``. ``molecule`` (``auto``: ``rna`` when any sequence has a U)
    is recorded for the interpretation stages.
    """

    format: Literal["mrl_csv", "saluki_h5", "fasta", "class_csv"]
    path: str = path_field()
    split: Literal["auto", "reference", "random", "file", "chromosome"] = "auto"
    label: str | None = None
    negatives: str | None = path_field(None)
    sequence_column: str = "sequence"
    test_chroms: list[str] = field(default_factory=lambda: ["chr1", "chr8"])
    valid_chroms: list[str] = field(default_factory=lambda: ["chr2"])
    molecule: Literal["auto", "dna", "rna"] = "auto"
    top_n: int = 280_000
    test_n: int = 20_000
    valid_frac: float = 0.1
    fractions: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    split_seed: int = 0
    seq_len: int | None = None

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.format in CLASSIFICATION_FORMATS:
            self._validate_classification()
        if self.label is None:
            self.label = "label" if self.format == "class_csv" else "rl"
        if self.split == "auto" and self.format not in CLASSIFICATION_FORMATS:
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

    def _validate_classification(self) -> None:
        """The classification formats' own rules (``fasta``, ``class_csv``)."""
        if self.split in ("reference", "file"):
            raise ValueError(f"'data.split' {self.split!r} does not apply to 'data.format' {self.format}; "
                             "use chromosome, random or auto")
        if self.format == "fasta" and self.negatives is None:
            raise ValueError("'data.negatives' is required for format fasta (the negatives' FASTA)")
        if self.format == "class_csv" and self.negatives is not None:
            raise ValueError("'data.negatives' applies to format fasta only (class_csv has a label column)")
        if self.format == "class_csv" and self.split == "chromosome":
            raise ValueError("'data.split' chromosome needs FASTA headers (format fasta); use random")
        overlap = sorted(set(self.test_chroms) & set(self.valid_chroms))
        if overlap:
            raise ValueError(f"'data.valid_chroms' and 'data.test_chroms' share {overlap}")
        if self.format == "fasta" and self.label not in (None, "rl", "label"):
            raise ValueError("'data.label' applies to class_csv only (FASTA files are the labels)")
        self.label = self.label if self.format == "class_csv" else "label"



@dataclass
class TaskData:
    """Tensors per split plus what the checkpoint records about the data.

    ``splits[name] = (X, y)`` with X (N, C, L) float32 and y (N,) float32 on CPU.
    """

    splits: dict[str, tuple[torch.Tensor, torch.Tensor]]
    in_channels: int
    seq_len: int
    info: dict
    task: Literal["mrl", "halflife", "classification"]

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


def _class_splits(cfg: DataConfig) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    """Read, split and encode a classification set; ``split_info`` also holds ``seq_len`` and
    ``molecule`` (moved into the data record by :func:`load_task_data`)."""
    from . import fasta

    for key in ("path", "negatives"):
        value = getattr(cfg, key)
        if value is not None and Path(value).is_dir():
            raise InputError(f"{value}: is a folder, not a data file ('data.{key}')")
    seqs, y, chroms = fasta.read_classification(cfg.format, cfg.path, cfg.negatives,
                                                cfg.sequence_column, cfg.label)
    source = str(cfg.path) if cfg.negatives is None else f"{cfg.path} + {cfg.negatives}"
    kind = cfg.split
    if kind == "auto":
        kind = "chromosome" if all(c is not None for c in chroms) else "random"
    if kind == "chromosome":
        missing = next((i for i, c in enumerate(chroms) if c is None), None)
        if missing is not None:
            raise InputError(f"{source}: record {missing + 1} has no chromosome in its header "
                             f"(expected e.g. 'chr1:123-456(+)'); use data.split: random")
        idx = fasta.chromosome_split(chroms, cfg.test_chroms, cfg.valid_chroms, source)
        split_info = {"kind": "chromosome", "test_chroms": list(cfg.test_chroms),
                      "valid_chroms": list(cfg.valid_chroms)}
    else:
        try:
            idx = random_split(len(seqs), cfg.fractions, cfg.split_seed)
        except InputError as exc:
            raise InputError(f"{source}: {exc} ('data.fractions')") from None
        split_info = {"kind": "random", "fractions": list(cfg.fractions), "seed": cfg.split_seed}
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    if not (y == 1).any() or (y == 1).all():
        raise InputError(f"{source}: {int((y == 1).sum())} positives and {int((y == 0).sum())} "
                         "negatives; a classifier needs both")
    seq_len = cfg.seq_len or int(np.median(lengths[y == 1]))
    if cfg.seq_len is None:
        print(f"data: seq_len {seq_len} (median length of the positives; lengths "
              f"{lengths.min()}-{lengths.max()}; longer centre-cropped, shorter padded both sides)",
              file=sys.stderr, flush=True)
    molecule = cfg.molecule if cfg.molecule != "auto" else fasta.molecule_of(seqs)
    X = one_hot(seqs, seq_len, source, pad="centre")
    arrays = {k: (X[v], y[v]) for k, v in idx.items()}
    split_info["classes"] = {k: {"pos": int(arrays[k][1].sum()), "neg": int(len(v) - arrays[k][1].sum())}
                             for k, v in idx.items()}
    return arrays, dict(split_info, seq_len=seq_len, molecule=molecule)


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
    readers = {"mrl_csv": _mrl_splits, "saluki_h5": _h5_splits}
    arrays, split_info = readers.get(d.format, _class_splits)(d)
    arrays = {k: (np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32))
              for k, (X, y) in arrays.items()}
    classify = d.format in CLASSIFICATION_FORMATS
    extra = {k: split_info.pop(k) for k in ("seq_len", "molecule") if k in split_info}
    channels, length = check_arrays(arrays, d.path, extra.get("seq_len", d.seq_len))
    split_info["sizes"] = {k: int(len(arrays[k][1])) for k in SPLITS}
    info = {"set": Path(d.path).parent.name, "format": d.format, "path": str(d.path),
            "split": split_info, "label": d.label if d.format != "saluki_h5" else "halflife",
            "task": "classification" if classify else "regression"}
    if classify:
        info.update(extra, negatives=None if d.negatives is None else str(d.negatives),
                    sequence_column=d.sequence_column, pad="centre")
    splits = {k: (torch.from_numpy(X), torch.from_numpy(y)) for k, (X, y) in arrays.items()}
    task = "classification" if classify else "mrl" if d.format == "mrl_csv" else "halflife"
    return TaskData(splits, channels, length, info, task)


def config_from_record(info: dict, path: str | None = None, seq_len: int | None = None) -> DataConfig:
    """The :class:`DataConfig` that rebuilds a checkpoint's split from its ``data`` record.

    Parameters
    ----------
    info : dict
        The checkpoint's ``data`` record (``format``, ``path``, ``split``, ``label``;
        classification sets also ``negatives``, ``sequence_column``, ``seq_len``, ``molecule``),
        with paths already resolved (:func:`combmotif.checkpoint.load_checkpoint` does it).
    path : str, optional
        The data file; ``None`` uses the record's.
    seq_len : int, optional
        The model's input length; ``None`` uses the record's.

    Returns
    -------
    DataConfig
        Validated; :func:`load_task_data` of it gives the same rows per split as training.

    Raises
    ------
    ValueError
        When the record does not make a valid config (callers add the file).
    """
    split = dict(info.get("split") or {})
    fmt = info.get("format")
    kind = split.get("kind", "file" if fmt == "saluki_h5" else "random")
    keys = {"top_n": 280_000, "test_n": 20_000, "valid_frac": 0.1}
    extra = {k: split[k] for k in keys if k in split}
    if fmt in CLASSIFICATION_FORMATS:
        extra.update(negatives=info.get("negatives"), molecule=info.get("molecule", "auto"),
                     sequence_column=info.get("sequence_column", "sequence"))
        extra.update({k: list(split[k]) for k in ("test_chroms", "valid_chroms") if k in split})
    label = info.get("label") if fmt in ("mrl_csv", "class_csv") else None
    dc = DataConfig(format=fmt, path=path or info.get("path"), split=kind, label=label,
                    fractions=list(split.get("fractions", [0.8, 0.1, 0.1])),
                    split_seed=split.get("seed", 0), seq_len=seq_len or info.get("seq_len"), **extra)
    dc.validate()
    return dc
