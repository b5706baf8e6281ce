"""Motif files: the :class:`Motif` type and its matrices; read MEME, TRANSFAC and JASPAR.

Every reader returns a list of :class:`Motif` whose ``ppm`` is an (L, 4) float
array over A, C, G, T with rows summing to 1. RNA letters are read as DNA (U as
T), and counts, percentages or frequencies are all normalised per position, so
a database written by any tool compares directly with our PPMs.

TRANSFAC and JASPAR go through Biopython's ``Bio.motifs``. MEME files are read
by our own small parser: Biopython's ``minimal`` reader multiplies every
frequency by ``nsites`` and rounds it to an integer count (0.03 at the default
20 sites becomes 0.05), and it refuses files without a background line, which
the MEME format makes optional. Writing MEME is :mod:`combmotif.motifs.meme_writer`.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..sequences import IUPAC

ALPHABET = "ACGT"

#: File suffixes -> format, for ``fmt="auto"`` when the content does not say.
_SUFFIX_FORMAT = {
    ".meme": "meme", ".tf": "transfac", ".transfac": "transfac", ".dat": "transfac",
    ".jaspar": "jaspar", ".pfm": "pfm",
}


@dataclasses.dataclass
class Motif:
    """One position probability matrix.

    Attributes
    ----------
    name : str
        Identifier, unique within a file (MEME's motif id; no whitespace).
    ppm : numpy.ndarray
        (L, 4) float64 over A, C, G, T; each row sums to 1.
    altname : str
        MEME's optional second name (e.g. a gene name).
    nsites : float or None
        Number of sites the matrix was built from, when known.
    source : str
        Where the motif came from (file name or database label).
    meta : dict
        Free annotations: consensus, citation, description, url ...
    """

    name: str
    ppm: np.ndarray
    altname: str = ""
    nsites: float | None = None
    source: str = ""
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ppm = np.asarray(self.ppm, dtype=np.float64)
        if self.ppm.ndim != 2 or self.ppm.shape[1] != 4 or len(self.ppm) == 0:
            raise InputError(f"motif {self.name!r}: PPM must have shape (L, 4); got {self.ppm.shape}")

    def __len__(self) -> int:
        return len(self.ppm)

    @property
    def consensus(self) -> str:
        """Most probable letter per position (first letter on ties, as MEME)."""
        return consensus(self.ppm)

    @property
    def information(self) -> np.ndarray:
        """Information content per position in bits (uniform background)."""
        return information_content(self.ppm)

    @property
    def total_information(self) -> float:
        """Sum of the information content over positions, in bits."""
        return float(self.information.sum())

    def reverse_complement(self) -> "Motif":
        """The motif on the other strand.

        Returns
        -------
        Motif
            A copy with the PPM reversed and complemented.
        """
        return dataclasses.replace(self, ppm=self.ppm[::-1, ::-1].copy(), meta=dict(self.meta))


# --------------------------------------------------------------------------- matrices

def normalize_counts(counts: np.ndarray, what: str = "motif") -> np.ndarray:
    """Counts, percentages or frequencies (L, 4) -> PPM with rows summing to 1.

    Raises :class:`InputError` naming ``what`` for negative, non-finite or all-zero rows.

    Parameters
    ----------
    counts : numpy.ndarray
        (L, 4) matrix over A, C, G, T.
    what : str
        The motif, for the error message.

    Returns
    -------
    numpy.ndarray
        (L, 4) float64 PPM.
    """
    m = np.asarray(counts, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] != 4 or len(m) == 0:
        raise InputError(f"{what}: matrix must have 4 columns (A, C, G, T) and at least one row")
    if not np.isfinite(m).all() or (m < 0).any():
        raise InputError(f"{what}: matrix has negative or non-numeric values")
    sums = m.sum(1, keepdims=True)
    if (sums <= 0).any():
        raise InputError(f"{what}: position {int(np.argmax(sums[:, 0] <= 0)) + 1} has no counts")
    return m / sums


def information_content(ppm: np.ndarray) -> np.ndarray:
    """Bits per position against a uniform background: 2 + sum p log2 p.

    Parameters
    ----------
    ppm : numpy.ndarray
        (..., L, 4) probabilities.

    Returns
    -------
    numpy.ndarray
        (..., L) bits.
    """
    p = np.asarray(ppm, dtype=np.float64)
    plogp = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return 2.0 + plogp.sum(-1)


def consensus(ppm: np.ndarray) -> str:
    """Argmax letter per row; ties go to the first letter in ACGT order (as MEME).

    Parameters
    ----------
    ppm : numpy.ndarray
        (L, 4) probabilities.

    Returns
    -------
    str
        One of A, C, G, T per row.
    """
    return "".join(ALPHABET[i] for i in np.asarray(ppm).argmax(1))


def iupac_to_ppm(pattern: str) -> np.ndarray:
    """IUPAC consensus (``TGTAHATA``; U read as T) -> PPM, uniform over each code's bases.

    Parameters
    ----------
    pattern : str
        IUPAC letters.

    Returns
    -------
    numpy.ndarray
        (L, 4) PPM.
    """
    rows = []
    for c in pattern.upper().replace("U", "T"):
        if c not in IUPAC:
            raise InputError(f"pattern {pattern!r}: {c!r} is not an IUPAC code")
        rows.append([1.0 if b in IUPAC[c] else 0.0 for b in ALPHABET])
    if not rows:
        raise InputError("empty IUPAC pattern")
    return normalize_counts(np.array(rows), f"pattern {pattern!r}")


# --------------------------------------------------------------------------- reading

def read_motifs(path: str | os.PathLike, fmt: str = "auto") -> list[Motif]:
    """Read every motif of a MEME, TRANSFAC, JASPAR or PFM file.

    Parameters
    ----------
    path : path-like
        The motif file.
    fmt : {"auto", "meme", "transfac", "jaspar", "pfm"}
        ``auto`` looks at the first meaningful line, then at the suffix.

    Raises
    ------
    InputError
        The file is missing, in an unknown format, or malformed; the message names the file.

    Returns
    -------
    list of Motif
        In file order.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: motif file not found")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read motif file ({exc})") from None
    if fmt == "auto":
        fmt = sniff_format(text, path)
    readers = {"meme": parse_meme, "transfac": parse_transfac, "jaspar": parse_jaspar,
               "pfm": parse_pfm}
    if fmt not in readers:
        raise InputError(f"{path}: unknown motif format {fmt!r} (known: {', '.join(readers)})")
    try:
        motifs = readers[fmt](text, source=path.name)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    except (ValueError, KeyError, IndexError) as exc:
        # Biopython's parsers raise ValueError (and sometimes worse) on bad input.
        raise InputError(f"{path}: not a valid {fmt.upper()} motif file ({exc})") from None
    if not motifs:
        raise InputError(f"{path}: no motifs found ({fmt.upper()} format)")
    return motifs


def read_meme(path: str | os.PathLike) -> list[tuple[str, str, np.ndarray]]:
    """(id, alt name, PPM) of every motif of a MEME file, values exactly as written.

    Parameters
    ----------
    path : path-like
        A MEME file (e.g. a neuron's ``ppms.meme``); one without motifs gives ``[]``.

    Returns
    -------
    list of (str, str, numpy.ndarray)
        Name, alternative name and (W, 4) float64 matrix of each motif, in file order.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        motifs = parse_meme(text, source=path.name, normalize=False)
    except (InputError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: {exc}") from None
    return [(m.name, m.altname, m.ppm) for m in motifs]


def sniff_format(text: str, path: Path | None = None) -> str:
    """Guess a motif file's format from its first meaningful line (else the suffix).

    Parameters
    ----------
    text : str
        The file's content.
    path : Path, optional
        The file, whose suffix decides when the content does not.

    Returns
    -------
    str
        ``meme``, ``transfac``, ``jaspar`` or ``pfm``.
    """
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("MEME version"):
            return "meme"
        if s.startswith(">"):
            return "jaspar"
        if re.match(r"^(AC|ID|VV|NA|DE|P0|PO|XX)(\s|$)", s):
            return "transfac"
        if re.match(r"^[ACGTU]\s*[\[|:]", s):
            return "jaspar"
        if re.match(r"^[-+0-9.eE\s]+$", s):
            return "pfm"
        break
    if path is not None and path.suffix.lower() in _SUFFIX_FORMAT:
        return _SUFFIX_FORMAT[path.suffix.lower()]
    raise InputError(f"{path or '<text>'}: cannot tell the motif format "
                     "(expected MEME, TRANSFAC, JASPAR or PFM)")


def parse_meme(text: str, source: str = "", normalize: bool = True) -> list[Motif]:
    """Parse MEME motif format (minimal or full MEME output).

    Parameters
    ----------
    text : str
        The file's text.
    source : str
        Recorded as each motif's ``source``.
    normalize : bool
        Rescale each row to sum to 1; False keeps the values exactly as written
        (our own files, read back bit for bit).

    Returns
    -------
    list of Motif
    """
    lines = text.splitlines()
    if not any(l.startswith("MEME version") for l in lines):
        raise InputError("not a MEME motif file (no 'MEME version' line)")
    _check_meme_alphabet(lines)
    motifs: list[Motif] = []
    i = 0
    name = alt = None
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("MOTIF"):
            parts = line.split()
            if len(parts) < 2:
                raise InputError(f"line {i + 1}: MOTIF line without a name")
            name, alt = parts[1], " ".join(parts[2:])
        elif line.startswith("letter-probability matrix"):
            if name is None:
                raise InputError(f"line {i + 1}: matrix before any MOTIF line")
            info = dict(re.findall(r"(\w+)=\s*(\S+)", line))
            width = int(info["w"]) if "w" in info else None
            rows, j = _meme_rows(lines, i + 1, width, name)
            if width is not None and len(rows) != width:
                raise InputError(f"motif {name!r}: w= {width} but {len(rows)} rows")
            nsites = float(info["nsites"]) if "nsites" in info else None
            ppm = np.array(rows) if rows else np.zeros((0, 4))
            ppm = normalize_counts(ppm, f"motif {name!r}") if normalize else ppm
            motifs.append(Motif(name, ppm, altname=alt or "", nsites=nsites, source=source))
            name = None
            i = j
            continue
        elif line.startswith("URL") and motifs:
            motifs[-1].meta["url"] = line[3:].strip()
        i += 1
    return motifs


def _meme_rows(lines: list[str], j: int, width: int | None, name: str) -> tuple[list[list[float]], int]:
    """The matrix rows from line ``j`` on (``width`` of them, or up to the first non-row), and the next line."""
    rows: list[list[float]] = []
    while j < len(lines) and (width is None or len(rows) < width):
        vals = lines[j].split()
        if not vals:
            if rows:
                break
            j += 1
            continue
        try:
            row = [float(v) for v in vals]
        except ValueError:
            break
        if len(row) != 4:
            raise InputError(f"line {j + 1}: motif {name!r} row has {len(row)} values, not 4")
        rows.append(row)
        j += 1
    return rows, j


def _check_meme_alphabet(lines: list[str]) -> None:
    for k, line in enumerate(lines):
        if line.startswith("ALPHABET="):
            letters = line.split("=", 1)[1].strip().upper()
            if letters not in ("ACGT", "ACGU"):
                raise InputError(f"alphabet {letters!r} is not DNA or RNA (ACGT/ACGU)")
            return
        if line.startswith("ALPHABET"):
            # A custom alphabet block: its core symbols are the lines up to the
            # first complement/alias definition; we accept the DNA/RNA ones.
            core = [l.split()[0].upper() for l in lines[k + 1:]
                    if l.strip() and not l.startswith("END ALPHABET")][:4]
            if sorted(c[0] for c in core) not in (list("ACGT"), list("ACGU")):
                raise InputError("custom alphabet is not DNA or RNA")
            return
    # MEME assumes DNA when no ALPHABET line is given (version 4 files).


def parse_transfac(text: str, source: str = "") -> list[Motif]:
    """Parse TRANSFAC matrices with Biopython (lower-case or RNA column headers allowed).

    Parameters
    ----------
    text : str
        The file's content.
    source : str
        Where it comes from (kept on each motif).

    Returns
    -------
    list of Motif
    """
    from Bio import motifs as bio_motifs

    record = bio_motifs.parse(io.StringIO(_normalize_transfac(text)), "transfac", strict=False)
    out = []
    for k, m in enumerate(record):
        name = (m.get("ID") or m.get("AC") or f"motif{k + 1}").split()[0]
        counts = np.array([m.counts[b] for b in ALPHABET], dtype=np.float64).T
        meta = {}
        if m.get("DE"):
            meta["description"] = m.get("DE")
        if m.get("AC") and m.get("AC") != name:
            meta["accession"] = m.get("AC")
        out.append(Motif(name, normalize_counts(counts, f"motif {name!r}"), source=source, meta=meta))
    return out


def _normalize_transfac(text: str) -> str:
    """Rewrite P0 headers to the ``A C G T`` Biopython requires, reordering columns if needed.

    Databases converted by other tools write ``P0 a c g t`` (rsa-tools) or ``A C G U``;
    the values are permuted so the columns always come out as A, C, G, T.
    """
    out: list[str] = []
    perm = None
    for line in text.splitlines():
        key = line.split(None, 1)[0] if line.strip() else ""
        if key in ("P0", "PO"):
            letters = [c.upper().replace("U", "T") for c in line.split()[1:5]]
            if sorted(letters) != list(ALPHABET):
                raise InputError(f"TRANSFAC matrix header {line.strip()!r} is not A, C, G, T/U")
            perm = [letters.index(b) for b in ALPHABET]
            out.append(f"{key}      A      C      G      T")
            continue
        if perm is not None and key.isdigit():
            parts = line.split()
            if len(parts) >= 5:
                vals = [parts[1 + p] for p in perm]
                out.append("  ".join([parts[0], *vals, *parts[5:]]))
                continue
        elif perm is not None:
            perm = None
        out.append(line)
    return "\n".join(out) + "\n"


def parse_jaspar(text: str, source: str = "") -> list[Motif]:
    """Parse JASPAR's ``>ID name`` + ``A [ ... ]`` format with Biopython.

    Parameters
    ----------
    text, source
        As :func:`parse_transfac`.

    Returns
    -------
    list of Motif
    """
    from Bio import motifs as bio_motifs

    # An RNA matrix labels its last row U; Biopython wants T.
    text = re.sub(r"^(\s*)U(\s*\[)", r"\1T\2", text, flags=re.M)
    record = bio_motifs.parse(io.StringIO(text), "jaspar")
    out = []
    for k, m in enumerate(record):
        name = getattr(m, "matrix_id", None) or f"motif{k + 1}"
        counts = np.array([m.counts[b] for b in ALPHABET], dtype=np.float64).T
        out.append(Motif(name, normalize_counts(counts, f"motif {name!r}"),
                         altname=getattr(m, "name", "") or "", source=source))
    return out


def parse_pfm(text: str, source: str = "") -> list[Motif]:
    """Parse a bare 4-row (A, C, G, T) count matrix (JASPAR ``.pfm``) with Biopython.

    Parameters
    ----------
    text, source
        As :func:`parse_transfac`.

    Returns
    -------
    list of Motif
    """
    from Bio import motifs as bio_motifs

    m = bio_motifs.read(io.StringIO(text), "pfm")
    counts = np.array([m.counts[b] for b in ALPHABET], dtype=np.float64).T
    name = Path(source).stem if source else "motif1"
    return [Motif(name, normalize_counts(counts, f"motif {name!r}"), source=source)]
