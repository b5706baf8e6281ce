"""Mean-ribosome-load data in the GSM3130435 CSV layout (Sample et al. 2019).

The layout is one row per 5'UTR with at least the columns ``utr`` (the
sequence), ``rl`` (mean ribosome load) and ``total_reads``; the published file
also carries a leading unnamed index column and the polysome-fraction columns,
which are kept as they are. A model reads UTRs of up to its ``seq_len`` (50 nt,
the published length); shorter ones are zero-padded at the 3' end and training
refuses a longer one, naming its row (which end to keep depends on the data:
cut them yourself). U is read as T and sequences are upper-cased on reading, so
a file written back has DNA letters.

The reference split of Sample et al.: sort by ``total_reads``, keep the
280,000 best-read UTRs, test on the 20,000 with most reads and train on the
rest (we carve a seeded random validation fraction from the training part).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_path
from ..sequences import one_hot

REQUIRED_COLUMNS = ("utr", "rl", "total_reads")
UTR_LENGTH = 50

_VALID = np.zeros(256, dtype=bool)
for _c in "ACGTUNacgtun":
    _VALID[ord(_c)] = True


def read_mrl_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read a GSM3130435-layout CSV; check columns, numbers and sequence letters.

    Parameters
    ----------
    path : path-like
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        Every column of the file; ``utr`` upper-cased with U written as T, ``rl``
        and ``total_reads`` numeric. A leading unnamed column (the layout's index)
        becomes the index.

    Raises
    ------
    InputError
        Missing file or column, a non-numeric or missing ``rl``/``total_reads``,
        or a UTR with a character outside ACGTUN; the message names the file,
        the row (1-based data row; the file line is row + 1) and the cause.
    """
    path = Path(path)
    name = str(path)
    if path.is_dir():
        raise InputError(f"{name}: is a folder, not a CSV file")
    if not path.is_file():
        raise InputError(f"{name}: file not found")
    try:
        df = pd.read_csv(path, dtype={"utr": str}, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if len(df.columns) and (str(df.columns[0]).startswith("Unnamed: 0") or df.columns[0] == ""):
        df = df.set_index(df.columns[0])
        df.index.name = None
    for col in REQUIRED_COLUMNS:
        if col not in df.columns:
            raise InputError(f"{name}: missing column '{col}' (columns: {', '.join(map(str, df.columns))})")
    if df.empty:
        raise InputError(f"{name}: no data rows (only a header)")
    for col in ("rl", "total_reads"):
        df[col] = _numeric_column(df[col], name, col)
    df["utr"] = _clean_utrs(df["utr"], name)
    return df


def _numeric_column(col: pd.Series, name: str, key: str) -> pd.Series:
    num = pd.to_numeric(col, errors="coerce")
    # "inf" parses as a number but would turn every loss into NaN.
    bad = np.flatnonzero(~np.isfinite(num.to_numpy(dtype=np.float64)))
    if bad.size:
        row = int(bad[0])
        value = col.iloc[row]
        shown = repr(value) if isinstance(value, str) else "empty" if pd.isna(value) else str(value)
        raise InputError(f"{name}: row {row + 1} (line {row + 2}): column '{key}' is not a number "
                         f"({shown})")
    return num


def _clean_utrs(col: pd.Series, name: str) -> pd.Series:
    """Check every UTR's letters at once (one byte lookup over the joined column)."""
    missing = np.flatnonzero(col.isna().to_numpy())
    if missing.size:
        row = int(missing[0])
        raise InputError(f"{name}: row {row + 1} (line {row + 2}): empty utr")
    utrs = col.astype(str)
    joined = "".join(utrs.tolist())
    raw = np.frombuffer(joined.encode("utf-8", errors="replace"), dtype=np.uint8)
    if len(raw) == len(joined):
        bad_pos = np.flatnonzero(~_VALID[raw])
    else:  # non-ASCII somewhere: fall back to characters
        bad_pos = np.array([i for i, c in enumerate(joined) if c not in "ACGTUNacgtun"][:1])
    if bad_pos.size:
        ends = np.cumsum(utrs.str.len().to_numpy())
        row = int(np.searchsorted(ends, bad_pos[0], side="right"))
        start = ends[row - 1] if row else 0
        col_i = int(bad_pos[0] - start)
        char = utrs.iloc[row][col_i]
        raise InputError(f"{name}: row {row + 1} (line {row + 2}): utr has invalid character {char!r} "
                         f"at position {col_i} (allowed: A, C, G, T, U, N)")
    return utrs.str.upper().str.replace("U", "T", regex=False)


def encode_utrs(utrs, length: int = UTR_LENGTH, source: str = "utrs") -> np.ndarray:
    """One-hot (N, 4, length) float32 of the first ``length`` nt of each UTR (N -> zero column,
    shorter UTRs zero-padded at the 3' end).

    Parameters
    ----------
    utrs : iterable of str
        The UTR sequences (ACGTUN, any case).
    length : int, optional
        Width of the encoding; default 50 (``UTR_LENGTH``, the published length).
    source : str, optional
        Where the UTRs come from, for error messages; default ``"utrs"``.

    Returns
    -------
    numpy.ndarray
        (N, 4, length) float32 one-hot A, C, G, T.

    Raises
    ------
    InputError
        ``<source>: ...`` naming the first UTR with an invalid character.
    """
    return one_hot(list(utrs), length, source)


def reference_split(df: pd.DataFrame, top_n: int = 280_000, test_n: int = 20_000,
                    valid_frac: float = 0.1, seed: int = 0) -> dict[str, pd.DataFrame]:
    """The Sample et al. split: top ``top_n`` by reads; test = the ``test_n`` with most reads.

    Rows are sorted by ``total_reads`` descending (ties keep file order); the
    first ``top_n`` are kept (all of them when the file has fewer); the first
    ``test_n`` of those are the test set and the rest the training set, from
    which a seeded random ``valid_frac`` is set aside as validation. Each part
    keeps the original index; test is ordered by reads, train and valid by
    reads too (validation membership is random, order is not). Same input and
    seed give the same split.

    Parameters
    ----------
    df : pandas.DataFrame
        The data, with a numeric ``total_reads`` column (e.g. from :func:`read_mrl_csv`).
    top_n : int, optional
        Rows kept, those with most reads; default 280,000.
    test_n : int, optional
        Rows of the test set, taken from the top of the kept ones; default 20,000.
    valid_frac : float, optional
        Fraction of the training part set aside for validation, in [0, 1); default 0.1.
    seed : int, optional
        Seed of the validation draw; default 0.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``{"train": ..., "valid": ..., "test": ...}``, row subsets of ``df`` with its index and columns.

    Raises
    ------
    InputError
        ``reference_split: ...`` when ``total_reads`` is missing, ``valid_frac`` is outside
        [0, 1), ``top_n`` or ``test_n`` is not positive, or no rows are left for training.
    """
    if "total_reads" not in df.columns:
        raise InputError("reference_split: missing column 'total_reads'")
    if not 0 <= valid_frac < 1:
        raise InputError(f"reference_split: valid_frac must be in [0, 1), got {valid_frac}")
    if test_n < 1 or top_n < 1:
        raise InputError(f"reference_split: top_n and test_n must be positive (got {top_n}, {test_n})")
    order = np.argsort(-df["total_reads"].to_numpy(dtype=np.float64), kind="stable")
    kept = df.iloc[order[:top_n]]
    if len(kept) <= test_n:
        raise InputError(f"reference_split: {len(kept)} rows kept but test_n={test_n}; "
                         "need more rows than the test set")
    test = kept.iloc[:test_n]
    rest = kept.iloc[test_n:]
    n_valid = int(round(valid_frac * len(rest)))
    rng = np.random.default_rng(seed)
    is_valid = np.zeros(len(rest), dtype=bool)
    is_valid[rng.choice(len(rest), size=n_valid, replace=False)] = True
    return {"train": rest.iloc[~is_valid], "valid": rest.iloc[is_valid], "test": test}


def has_aug(utrs: pd.Series | list, length: int = UTR_LENGTH) -> np.ndarray:
    """(N,) bool: the first ``length`` nt contain ATG (U read as T).

    An upstream AUG in the part of the UTR a model sees changes translation, so
    the noAUG variant of the data drops these (:func:`drop_aug`).

    Parameters
    ----------
    utrs : pandas.Series or list of str
        The UTR sequences (any case).
    length : int, optional
        How many leading nucleotides are searched; default 50 (``UTR_LENGTH``).

    Returns
    -------
    numpy.ndarray
        (N,) bool, True where ATG occurs in the first ``length`` nt.
    """
    s = pd.Series(list(utrs) if not isinstance(utrs, pd.Series) else utrs, dtype=object).astype(str)
    return s.str[:length].str.upper().str.replace("U", "T", regex=False).str.contains("ATG", regex=False).to_numpy()


def drop_aug(df: pd.DataFrame, length: int = UTR_LENGTH) -> pd.DataFrame:
    """The noAUG variant: ``df`` without UTRs whose first ``length`` nt contain ATG.

    Parameters
    ----------
    df : pandas.DataFrame
        The data, with a ``utr`` column.
    length : int, optional
        How many leading nucleotides are searched; default 50 (``UTR_LENGTH``).

    Returns
    -------
    pandas.DataFrame
        The rows of ``df`` without an ATG there, index and columns unchanged.
    """
    return df[~has_aug(df["utr"], length)]


def write_mrl_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` in the GSM3130435 layout (leading unnamed index column), atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The data, with at least ``utr``, ``rl`` and ``total_reads``; every column and the index are written.
    path : path-like
        The CSV file to write (replaced only once it is complete).

    Raises
    ------
    InputError
        ``<path>: cannot write MRL CSV without column '<col>'``.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{path}: cannot write MRL CSV without column '{missing[0]}'")
    with atomic_path(path) as tmp:
        out = df.copy()
        out.index.name = None
        out.to_csv(tmp, index=True)
