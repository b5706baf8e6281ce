"""Binding-site classification data: FASTA (or a labelled CSV) -> sequences and 0/1 labels.

The readers of ``data.format: fasta`` (positives and negatives, two FASTA files,
plain or ``.gz``) and ``data.format: class_csv`` (one CSV with a sequence column
and a 0/1 label column). Letters may be DNA or RNA: ``U`` reads as ``T`` and
``N`` becomes an all-zero column; any other letter is refused naming the file,
the record and the letter.

Variable lengths become one model length ``seq_len``: a longer sequence keeps
its centre (``(len - seq_len) // 2`` letters cut on the left, the rest on the
right), a shorter one is padded with all-zero columns on both sides
(``(seq_len - len) // 2`` on the left, the rest on the right). Binding-site
data are centred on the site, so the centre is what a fixed window keeps.

Splits by chromosome read it from a header such as ``chr1:123-456(+)``: the
first token of the header up to its first ``:``.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

ALLOWED = "ACGTUN"
_BAD = re.compile(f"[^{ALLOWED}]")


def read_fasta(path: str | Path) -> tuple[list[str], list[str]]:
    """Read a FASTA file (plain or gzip-compressed, one- or multi-line records).

    Parameters
    ----------
    path : str or Path
        The ``.fasta`` / ``.fa`` file, or the same compressed (``.gz``).

    Returns
    -------
    headers : list of str
        Each record's header line without the ``>``.
    seqs : list of str
        Each record's sequence, upper case, letters as in the file (``U`` kept).

    Raises
    ------
    InputError
        Naming the file for a missing or unreadable file, no records, text before
        the first header, an empty record, or a letter outside A, C, G, T, U, N
        (with the record's number and header).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: FASTA file not found")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="ascii") as fh:
            text = fh.read().replace("\r", "")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"{path}: not a readable FASTA file ({type(exc).__name__})") from None
    chunks = text.split("\n>")
    if not chunks[0].lstrip().startswith(">"):
        raise InputError(f"{path}: not a FASTA file (no '>' header before the first sequence)")
    chunks[0] = chunks[0].lstrip()[1:]
    headers, seqs = [], []
    for chunk in chunks:
        head, _, body = chunk.partition("\n")
        headers.append(head.strip())
        seqs.append("".join(body.split()).upper())
    check_letters(headers, seqs, path)
    return headers, seqs


def check_letters(names: list[str], seqs: list[str], path: str | Path, what: str = "record") -> None:
    """Refuse empty sequences and letters outside A, C, G, T, U, N (upper case).

    Parameters
    ----------
    names : list of str
        A name per sequence (FASTA header, or CSV row label) for the message.
    seqs : list of str
        Upper-case sequences.
    path : str or Path
        The file, named in the message.
    what : str, default "record"
        What one sequence is called in the message (``record`` or ``row``).

    Raises
    ------
    InputError
        For the first empty sequence or bad letter: file, record number (1-based),
        name and letter.
    """
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    if len(seqs) == 0:
        raise InputError(f"{path}: no sequences")
    if (lengths == 0).any():
        i = int(np.argmax(lengths == 0))
        raise InputError(f"{path}: {what} {i + 1} ({names[i]!r}) has no sequence")
    # One regex over the joined text finds the first bad letter; its record follows from the offsets.
    hit = _BAD.search("".join(seqs))
    if hit is not None:
        i = int(np.searchsorted(np.cumsum(lengths), hit.start(), side="right"))
        raise InputError(f"{path}: {what} {i + 1} ({names[i]!r}) has invalid letter {hit.group()!r} "
                         f"(allowed: A, C, G, T, U, N)")


def read_class_csv(path: str | Path, sequence_column: str, label: str) -> tuple[list[str], np.ndarray]:
    """Read a CSV of sequences with a 0/1 label column.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    sequence_column : str
        The column holding the sequences (``data.sequence_column``).
    label : str
        The column holding 0 (negative) or 1 (positive) (``data.label``).

    Returns
    -------
    seqs : list of str
        Upper-case sequences in file order.
    y : numpy.ndarray
        (N,) float32 labels, 0 or 1.

    Raises
    ------
    InputError
        Naming the file for a missing column, a label other than 0/1 (with its row),
        or a bad letter.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: data file not found")
    try:
        df = pd.read_csv(path, dtype={sequence_column: str}, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({type(exc).__name__})") from None
    missing = [c for c in (sequence_column, label) if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column {', '.join(map(repr, missing))} "
                         f"(set by data.sequence_column / data.label)")
    y = pd.to_numeric(df[label], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isin(y, (0.0, 1.0)))
    if bad.size:
        row = int(bad[0])
        raise InputError(f"{path}: row {row + 1} (line {row + 2}): column {label!r} must be 0 or 1; "
                         f"got {df[label].iloc[row]!r}")
    seqs = df[sequence_column].astype(str).str.strip().str.upper().tolist()
    check_letters([f"line {i + 2}" for i in range(len(seqs))], seqs, path, what="row")
    return seqs, y.astype(np.float32)


def molecule_of(seqs: list[str]) -> str:
    """``"rna"`` when any sequence has a ``U``, else ``"dna"``.

    Parameters
    ----------
    seqs : list of str
        Upper-case sequences.

    Returns
    -------
    str
        ``"rna"`` or ``"dna"``.
    """
    return "rna" if any("U" in s for s in seqs) else "dna"


def chromosome_of(headers: list[str]) -> list[str | None]:
    """The chromosome of each FASTA header: its first token up to the first ``:``.

    Parameters
    ----------
    headers : list of str
        Header lines without ``>`` (e.g. ``chr1:243666886-243667086(-)``).

    Returns
    -------
    list of str or None
        ``"chr1"`` for ``chr1:123-456(+)``; ``None`` when the first token has no ``:``
        (or nothing before it).
    """
    out: list[str | None] = []
    for h in headers:
        token = h.split()[0] if h.split() else ""
        chrom, colon, _ = token.partition(":")
        out.append(chrom if colon and chrom else None)
    return out


def chromosome_split(chroms: list[str], test_chroms: list[str], valid_chroms: list[str],
                     source: str = "data") -> dict[str, np.ndarray]:
    """Held-out chromosomes: test and valid rows by chromosome, every other chromosome trains.

    Parameters
    ----------
    chroms : list of str
        The chromosome of each row.
    test_chroms : list of str
        Chromosomes of the test split.
    valid_chroms : list of str
        Chromosomes of the validation split (disjoint from ``test_chroms``).
    source : str, default "data"
        Named in the message.

    Returns
    -------
    dict
        ``{"train", "valid", "test"}`` -> sorted row indices; no chromosome is in two splits.

    Raises
    ------
    InputError
        When a split would have fewer than 2 rows.
    """
    arr = np.asarray(chroms, dtype=object)
    test = np.isin(arr, list(test_chroms))
    valid = np.isin(arr, list(valid_chroms)) & ~test
    parts = {"train": np.flatnonzero(~test & ~valid), "valid": np.flatnonzero(valid),
             "test": np.flatnonzero(test)}
    for name, rows in parts.items():
        if len(rows) < 2:
            which = {"test": f"data.test_chroms={list(test_chroms)}",
                     "valid": f"data.valid_chroms={list(valid_chroms)}"}.get(name, "the other chromosomes")
            raise InputError(f"{source}: the chromosome split leaves {len(rows)} sequences in {name!r} "
                             f"({which}; chromosomes present: {', '.join(sorted(set(chroms))[:12])})")
    return parts


def read_classification(fmt: str, path: str, negatives: str | None, sequence_column: str,
                        label: str) -> tuple[list[str], np.ndarray, list[str | None]]:
    """Sequences, 0/1 labels and chromosomes (``None`` where unknown) of a classification set.

    Parameters
    ----------
    fmt : {"fasta", "class_csv"}
        ``data.format``.
    path : str
        Positives FASTA (``fasta``) or the CSV (``class_csv``).
    negatives : str or None
        Negatives FASTA (``fasta`` only).
    sequence_column : str
        CSV sequence column (``class_csv``).
    label : str
        CSV 0/1 label column (``class_csv``).

    Returns
    -------
    seqs : list of str
        Positives first, then negatives (FASTA), or file order (CSV).
    y : numpy.ndarray
        (N,) float32 0/1.
    chroms : list of str or None
        Chromosome of each row from its FASTA header; all ``None`` for a CSV, whose
        optional ``chrom`` column is not read.
    """
    if fmt == "class_csv":
        seqs, y = read_class_csv(path, sequence_column, label)
        return seqs, y, [None] * len(seqs)
    h_pos, s_pos = read_fasta(path)
    h_neg, s_neg = read_fasta(negatives)
    y = np.concatenate([np.ones(len(s_pos), np.float32), np.zeros(len(s_neg), np.float32)])
    return s_pos + s_neg, y, chromosome_of(h_pos + h_neg)
