"""mRNA half-life data in the Saluki H5 layout (Agarwal & Kelley 2022).

An H5 file holds, for every split ``s`` in train/valid/test, a dataset
``{s}_sequence`` of shape (N, 6, L) and ``{s}_label`` of shape (N,). The six
tracks of a transcript of length T <= L:

====  ================================================================
0-3   one-hot A, C, G, U (T); N is an all-zero column
4     codon start: 1 at the first nucleotide of every codon of the ORF
5     splice: 1 at the last nucleotide of every exon that ends in a junction
====  ================================================================

Positions T..L-1 are zero (padding at the 3' end). A transcript longer than L
keeps its last L nucleotides (5' trimming, as Saluki does: the 3' end carries
most of the regulatory signal) and the codon and splice tracks move with it. We
write one-hot tracks as uint8 (gzip-compressed) and always read float32.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import h5py
import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_path
from ..sequences import encode_indices

SPLITS = ("train", "valid", "test")
N_TRACKS = 6
RECORD_COLUMNS = ("utr5", "orf", "utr3", "exon_ends", "half_life")


# ----------------------------------------------------------------------------- H5 I/O

def read_h5(path: str | os.PathLike, splits: Sequence[str] = SPLITS) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read ``{split}_sequence`` (N, 6, L) and ``{split}_label`` (N,) for each split, as float32.

    Parameters
    ----------
    path : path-like
        The H5 file.
    splits : sequence of str, optional
        The splits to read; default ``("train", "valid", "test")``.

    Returns
    -------
    dict of str to (numpy.ndarray, numpy.ndarray)
        ``{split: (X, y)}``: X (N, 6, L) tracks, y (N,) labels (stored (N, 1) is flattened).

    Raises
    ------
    InputError
        Missing or unreadable file, missing dataset, or a dataset of the wrong shape (named, with the shape).
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError(f"{name}: file not found")
    out = {}
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{name}: not a readable HDF5 file ({exc})") from None
    with fh:
        for split in splits:
            skey, lkey = f"{split}_sequence", f"{split}_label"
            for key in (skey, lkey):
                if key not in fh:
                    raise InputError(f"{name}: missing dataset '{key}' (datasets: {', '.join(sorted(fh.keys()))})")
            sds, lds = fh[skey], fh[lkey]
            if sds.ndim != 3 or sds.shape[1] != N_TRACKS:
                raise InputError(f"{name}: dataset '{skey}' has shape {sds.shape}; expected (N, {N_TRACKS}, L)")
            lshape = lds.shape
            if not (len(lshape) == 1 or (len(lshape) == 2 and lshape[1] == 1)) or lshape[0] != sds.shape[0]:
                raise InputError(f"{name}: dataset '{lkey}' has shape {lshape}; expected ({sds.shape[0]},) "
                                 f"to match '{skey}' {sds.shape}")
            x = np.asarray(sds[()], dtype=np.float32)
            y = np.asarray(lds[()], dtype=np.float32).reshape(-1)
            out[split] = (x, y)
    return out


def read_h5_attrs(path: str | os.PathLike) -> dict[str, Any]:
    """The file attributes written by :func:`write_h5` (JSON-encoded values decoded).

    Parameters
    ----------
    path : path-like
        The H5 file.

    Returns
    -------
    dict
        ``{name: value}``; JSON strings decoded, numpy scalars as Python numbers.

    Raises
    ------
    InputError
        ``<path>: file not found``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    out = {}
    with h5py.File(path, "r") as fh:
        for k, v in fh.attrs.items():
            if isinstance(v, bytes):
                v = v.decode()
            if isinstance(v, str):
                try:
                    v = json.loads(v)
                except json.JSONDecodeError:
                    pass
            elif isinstance(v, np.generic):
                v = v.item()
            out[k] = v
    return out


def write_h5(path: str | os.PathLike, splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
             attrs: Mapping[str, Any] | None = None) -> None:
    """Write splits ``{name: (X (N, 6, L), y (N,))}`` in the Saluki layout, atomically.

    Parameters
    ----------
    path : path-like
        The H5 file to write (replaced only once it is complete).
    splits : mapping of str to (array-like, array-like)
        ``{split: (X, y)}``: X (N, 6, L) stored as uint8 when all 0/1, else float32; y N float32 labels.
    attrs : mapping or None, optional
        File attributes (stored as JSON strings), e.g. provenance; default None writes none.

    Raises
    ------
    InputError
        ``<path>: split '<split>' ...`` when X is not (N, 6, L) or there are not N labels.
    """
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as fh:
            for split, (x, y) in splits.items():
                x = np.asarray(x)
                y = np.asarray(y, dtype=np.float32).reshape(-1)
                if x.ndim != 3 or x.shape[1] != N_TRACKS:
                    raise InputError(f"{path}: split '{split}' sequence has shape {x.shape}; expected (N, 6, L)")
                if len(y) != len(x):
                    raise InputError(f"{path}: split '{split}' has {len(x)} sequences but {len(y)} labels")
                binary = x.dtype in (np.uint8, np.bool_) or bool(np.isin(x, (0, 1)).all())
                x = x.astype(np.uint8 if binary else np.float32, copy=False)
                chunks = (max(1, min(len(x), 64)), N_TRACKS, x.shape[2]) if len(x) else None
                fh.create_dataset(f"{split}_sequence", data=x, chunks=chunks,
                                  compression="gzip" if len(x) else None, compression_opts=1 if len(x) else None,
                                  shuffle=False)
                fh.create_dataset(f"{split}_label", data=y)
            for k, v in (attrs or {}).items():
                fh.attrs[k] = json.dumps(v, default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


# ----------------------------------------------------------------------------- encoding

def encode_codes(codes: np.ndarray, tx_len: np.ndarray, cds_start: np.ndarray, n_codons: np.ndarray,
                 junc_row: np.ndarray, junc_pos: np.ndarray, length: int) -> np.ndarray:
    """Six-track encoding of integer-coded transcripts, all at once.

    Parameters
    ----------
    codes : (N, T) int8 codes (0..3 = A,C,G,T, 4 = N), transcript i in ``codes[i, :tx_len[i]]``.
    tx_len, cds_start, n_codons : (N,) transcript length, 0-based ORF start, codons in the ORF.
    junc_row, junc_pos : flat lists of (transcript, 0-based exon-end position) pairs.
    length : L.

    Returns
    -------
    (N, 6, L) uint8. Transcripts longer than L lose their first ``tx_len - L``
    nucleotides; marks that fall before the kept part are dropped.
    """
    codes = np.asarray(codes)
    n = len(codes)
    tx_len = np.asarray(tx_len, dtype=np.int64)
    shift = np.maximum(tx_len - length, 0)
    out = np.zeros((n, N_TRACKS, length), dtype=np.uint8)
    if n == 0:
        return out
    if not shift.any():
        width = min(codes.shape[1], length)
        gathered = np.full((n, length), 4, dtype=codes.dtype)
        gathered[:, :width] = codes[:, :width]
        inside = np.arange(length)[None, :] < tx_len[:, None]
    else:
        src = shift[:, None] + np.arange(length)[None, :]
        inside = src < tx_len[:, None]
        gathered = np.take_along_axis(codes, np.minimum(src, codes.shape[1] - 1), axis=1)
    gathered = np.where(inside, gathered, 4)
    # One broadcast comparison fills the four base channels (N and padding match none).
    np.equal(gathered[:, None, :], np.arange(4, dtype=gathered.dtype)[None, :, None], out=out[:, :4, :],
             casting="unsafe")
    # Codon starts: cds_start + 3k for k < n_codons, flattened with repeat/cumsum.
    n_codons = np.asarray(n_codons, dtype=np.int64)
    crow = np.repeat(np.arange(n), n_codons)
    first = np.repeat(np.cumsum(n_codons) - n_codons, n_codons)
    cpos = np.repeat(np.asarray(cds_start, dtype=np.int64), n_codons) + 3 * (np.arange(len(crow)) - first)
    _mark(out, 4, crow, cpos - shift[crow], length)
    junc_row = np.asarray(junc_row, dtype=np.int64)
    junc_pos = np.asarray(junc_pos, dtype=np.int64)
    if junc_row.size:
        _mark(out, 5, junc_row, junc_pos - shift[junc_row], length)
    return out


def _mark(out: np.ndarray, track: int, row: np.ndarray, pos: np.ndarray, length: int) -> None:
    ok = (pos >= 0) & (pos < length)
    out[row[ok], track, pos[ok]] = 1


def encode_transcripts(utr5s: Sequence[str], orfs: Sequence[str], utr3s: Sequence[str],
                       exon_ends: Sequence[Sequence[int]], length: int, source: str = "transcripts") -> np.ndarray:
    """Six-track (N, 6, L) uint8 encoding of many transcripts (see :func:`encode_transcript`).

    Parameters
    ----------
    utr5s, orfs, utr3s : sequence of str
        Each transcript's 5' UTR, ORF and 3' UTR (ACGTUN, any case).
    exon_ends : sequence of sequence of int
        Per transcript, 0-based positions of exon last nucleotides (splice track).
    length : int
        L; longer transcripts lose their 5' end, shorter ones are padded at the 3' end.
    source : str, optional
        What the transcripts are, for error messages; default ``"transcripts"``.

    Returns
    -------
    numpy.ndarray
        (N, 6, L) uint8: A, C, G, U one-hot, codon start, splice.

    Raises
    ------
    InputError
        For inputs of different lengths, an invalid character or an exon end outside its transcript.
    """
    utr5s, orfs, utr3s = list(utr5s), list(orfs), list(utr3s)
    exon_ends = [list(e) for e in exon_ends]
    n = len(utr5s)
    if not (len(orfs) == len(utr3s) == len(exon_ends) == n):
        raise InputError(f"{source}: utr5, orf, utr3 and exon_ends must have the same length")
    txs = [a + b + c for a, b, c in zip(utr5s, orfs, utr3s)]
    tx_len = np.array([len(t) for t in txs], dtype=np.int64)
    codes = encode_indices(txs, int(tx_len.max()) if n else 0, source)
    cds_start = np.array([len(u) for u in utr5s], dtype=np.int64)
    n_codons = np.array([len(o) // 3 for o in orfs], dtype=np.int64)
    junc_row = np.repeat(np.arange(n), [len(e) for e in exon_ends])
    junc_pos = np.array([p for e in exon_ends for p in e], dtype=np.int64)
    bad = np.flatnonzero((junc_pos < 0) | (junc_pos >= tx_len[junc_row]))
    if bad.size:
        i = int(junc_row[bad[0]])
        raise InputError(f"{source}: transcript {i}: exon end {int(junc_pos[bad[0]])} outside the "
                         f"transcript (length {int(tx_len[i])})")
    return encode_codes(codes, tx_len, cds_start, n_codons, junc_row, junc_pos, length)


def encode_transcript(utr5: str, orf: str, utr3: str, exon_ends: Sequence[int], length: int) -> np.ndarray:
    """Six-track (6, L) float32 encoding of one transcript ``utr5 + orf + utr3``.

    Tracks: A, C, G, U one-hot; codon start (1 at the first nt of each of the ``len(orf) // 3`` codons);
    splice (1 at each ``exon_ends`` position). Zero-padded at the 3' end; trimmed from the 5' end past L.

    Parameters
    ----------
    utr5, orf, utr3, exon_ends, length
        As :func:`encode_transcripts`, for one transcript.

    Returns
    -------
    numpy.ndarray
        (6, L) float32 tracks.

    Raises
    ------
    InputError
        For an invalid character or an exon end outside the transcript.
    """
    return encode_transcripts([utr5], [orf], [utr3], [exon_ends], length, "transcript")[0].astype(np.float32)


# ----------------------------------------------------------------------------- records

def parse_exon_ends(value: Any) -> list[int]:
    """``"12,80,200"`` (also ``;``/space separated), a list, or empty -> list of ints.

    Parameters
    ----------
    value : str, list, tuple, numpy.ndarray, float or None
        An ``exon_ends`` field (a string may be wrapped in ``[...]``); None, NaN or ``""`` for none.

    Returns
    -------
    list of int
        The positions in the given order; empty for no value (ValueError for a non-number).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        return [int(v) for v in value]
    text = str(value).strip().strip("[]")
    if not text:
        return []
    return [int(float(v)) for v in text.replace(";", ",").replace(" ", ",").split(",") if v]


def read_records(path: str | os.PathLike) -> pd.DataFrame:
    """Read transcript records from a CSV or TSV (tab-separated when the name ends in .tsv/.txt
    or the header has tabs) with columns utr5, orf, utr3, exon_ends, half_life; every record is checked.

    Parameters
    ----------
    path : path-like
        The table; ``exon_ends`` lists 0-based positions, comma/semicolon/space-separated (may be empty).

    Returns
    -------
    pandas.DataFrame
        ``utr5``, ``orf``, ``utr3`` (str), ``exon_ends`` (list of int), ``half_life`` (float), extra columns as str.

    Raises
    ------
    InputError
        ``<path>: ...`` for a missing, unreadable or empty file or a missing column;
        ``<path>: row <r> (line <l>): ...`` for a bad half_life, exon_ends or sequence.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError(f"{name}: file not found")
    with open(path, encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    sep = "\t" if (path.suffix.lower() in (".tsv", ".txt") or "\t" in header) else ","
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: not a readable table ({str(exc).splitlines()[0]})") from None
    for col in RECORD_COLUMNS:
        if col not in df.columns:
            raise InputError(f"{name}: missing column '{col}' (columns: {', '.join(df.columns)})")
    if df.empty:
        raise InputError(f"{name}: no records (only a header)")
    hl = pd.to_numeric(df["half_life"], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(hl.to_numpy(dtype=np.float64)))  # "inf" parses, then poisons training
    if bad.size:
        row = int(bad[0])
        raise InputError(f"{name}: row {row + 1} (line {row + 2}): half_life is not a number "
                         f"({df['half_life'].iloc[row]!r})")
    df["half_life"] = hl.astype(float)
    ends = []
    for row, v in enumerate(df["exon_ends"].tolist()):
        try:
            ends.append(parse_exon_ends(v))
        except ValueError:
            raise InputError(f"{name}: row {row + 1} (line {row + 2}): exon_ends {v!r} is not a "
                             "list of integers") from None
    df["exon_ends"] = ends
    # Check every transcript here, so that a bad record is blamed on this file and its
    # line, not on the H5 being written from it.
    tx = df["utr5"] + df["orf"] + df["utr3"]
    bad = np.flatnonzero(tx.str.contains(r"[^ACGTUNacgtun]", regex=True).to_numpy())
    if bad.size:
        row = int(bad[0])
        for col in ("utr5", "orf", "utr3"):
            wrong = [c for c in df[col].iloc[row] if c not in "ACGTUNacgtun"]
            if wrong:
                raise InputError(f"{name}: row {row + 1} (line {row + 2}): column '{col}' has invalid "
                                 f"character {wrong[0]!r} (allowed: A, C, G, T, U, N)")
    for row, (length, e) in enumerate(zip(tx.str.len().tolist(), ends)):
        outside = [p for p in e if not 0 <= p < length]
        if outside:
            raise InputError(f"{name}: row {row + 1} (line {row + 2}): exon end {outside[0]} lies "
                             f"outside the transcript utr5+orf+utr3 ({length} nt)")
    return df


def records_to_h5(records: Iterable[Mapping[str, Any]] | pd.DataFrame, path: str | os.PathLike, length: int,
                  split_fracs: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, chunk: int = 1024,
                  attrs: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Encode transcript records and write them as a Saluki H5 file (atomically).

    ``half_life`` is written unchanged as the label (pass log half-lives for a log-scale model).
    Records go to train/valid/test at random (seeded), each in input order, ``chunk`` at a time.

    Parameters
    ----------
    records : iterable of mapping, or pandas.DataFrame
        Records with ``utr5``, ``orf``, ``utr3``, ``exon_ends`` and ``half_life``.
    path : path-like
        The H5 file to write (replaced only once it is complete).
    length : int
        L, the encoded width (see :func:`encode_transcript`).
    split_fracs : sequence of float, optional
        Train, valid and test fractions summing to 1; default ``(0.8, 0.1, 0.1)``.
    seed, chunk : int, optional
        Seed of the split assignment (default 0); records encoded per batch (default 1024).
    attrs : mapping or None, optional
        File attributes added to (or overriding) ``length``, ``split_fracs``, ``seed``, ``counts``.

    Returns
    -------
    dict of str to int
        ``{"train": n, "valid": n, "test": n}``, the records per split.

    Raises
    ------
    InputError
        For bad ``split_fracs`` or ``length``, or ``<path>: record <i>: ...`` naming a bad record.
    """
    if isinstance(records, pd.DataFrame):
        recs = records.to_dict("records")
    else:
        recs = list(records)
    if len(split_fracs) != 3 or any(f < 0 for f in split_fracs) or not np.isclose(sum(split_fracs), 1.0):
        raise InputError(f"split_fracs must be three non-negative fractions summing to 1, got {tuple(split_fracs)}")
    if length < 1:
        raise InputError(f"length must be positive, got {length}")
    for i, r in enumerate(recs):
        for col in RECORD_COLUMNS:
            if col not in r:
                raise InputError(f"{path}: record {i} is missing '{col}'")
    n = len(recs)
    rng = np.random.default_rng(seed)
    n_valid = int(round(split_fracs[1] * n))
    n_test = int(round(split_fracs[2] * n))
    perm = rng.permutation(n)
    which = np.zeros(n, dtype=np.int8)                       # 0 train, 1 valid, 2 test
    which[perm[:n_valid]] = 1
    which[perm[n_valid:n_valid + n_test]] = 2
    counts = {}
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as fh:
            for s, split in enumerate(SPLITS):
                idx = np.flatnonzero(which == s)
                counts[split] = int(idx.size)
                _write_split(fh, split, recs, idx, length, chunk, path)
            meta = {"length": length, "split_fracs": list(split_fracs), "seed": seed, "counts": counts}
            meta.update(attrs or {})
            for k, v in meta.items():
                fh.attrs[k] = json.dumps(v, default=_json_default)
    return counts


def _write_split(fh: Any, split: str, recs: Sequence[Mapping[str, Any]], idx: np.ndarray, length: int,
                 chunk: int, path: Any) -> None:
    """Encode records ``idx`` into ``<split>_sequence`` and ``<split>_label`` of the open H5 ``fh``."""
    sds = fh.create_dataset(f"{split}_sequence", shape=(idx.size, N_TRACKS, length), dtype=np.uint8,
                            chunks=(max(1, min(idx.size, 64)), N_TRACKS, length) if idx.size else None,
                            compression="gzip" if idx.size else None,
                            compression_opts=1 if idx.size else None)
    labels = np.empty(idx.size, dtype=np.float32)
    for a in range(0, idx.size, chunk):
        sub_idx = idx[a:a + chunk]
        sub = [recs[i] for i in sub_idx]
        try:
            x = encode_transcripts([str(r["utr5"]) for r in sub], [str(r["orf"]) for r in sub],
                                   [str(r["utr3"]) for r in sub],
                                   [parse_exon_ends(r["exon_ends"]) for r in sub], length)
        except (InputError, ValueError):
            _raise_first_bad(recs, sub_idx, path)
            raise
        sds[a:a + len(sub)] = x
        try:
            labels[a:a + len(sub)] = [float(r["half_life"]) for r in sub]
        except (TypeError, ValueError):
            raise InputError(f"{path}: non-numeric half_life in {split} records {a}..") from None
    fh.create_dataset(f"{split}_label", data=labels)


def _raise_first_bad(recs: Sequence[Mapping[str, Any]], idx: np.ndarray, path: Any) -> None:
    """Error path only: find the first bad record of a chunk and name it by its input index."""
    for i in idx:
        r = recs[i]
        try:
            encode_transcripts([str(r["utr5"])], [str(r["orf"])], [str(r["utr3"])],
                               [parse_exon_ends(r["exon_ends"])], 1, source="x")
        except (InputError, ValueError) as exc:
            if isinstance(exc, InputError):
                cause = str(exc).split(": ", 1)[-1].replace("sequence 0 has", "transcript (utr5+orf+utr3) has")
                cause = cause.replace("transcript 0: ", "")
            else:
                cause = f"exon_ends is not a list of integers ({exc})"
            raise InputError(f"{path}: record {int(i)}: {cause}") from None
