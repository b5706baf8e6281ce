"""Reading what the pages show from a unit's files and the stages' tables, and small
HTML helpers shared by the discovery pages."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..motifs.match import NeuronResult
from .html import esc, fmt_num

# Cluster fields of the unit schema (combmotif.motifs.unit) shown first, in this
# order, under these labels; other scalar fields follow with their key as label.
_CLUSTER_FIELDS = [("path", "tree path"), ("size", "size"), ("max_activation", "max activation"),
                   ("consensus_activation", "consensus activation"), ("ratio", "indicator")]
_HIDDEN = {"name", "id", "motif_id", "segments", "ppm", "consensus"}
_SAMPLE_KEYS = ("n_samples",)
_MAXACT_KEYS = ("max_activation",)
_SIGN_KEYS = ("contribution",)   # the contribution stage's column: positive / negative / neutral


def _segment_ranges(nr: NeuronResult, cluster: int) -> list[tuple[int, int]]:
    return [(s.start, s.start + len(s.motif)) for s in nr.segments
            if s.cluster == cluster and s.start is not None]


def _cluster_fields(cluster: dict) -> list[tuple[str, Any]]:
    out, seen = [], set()
    for key, label in _CLUSTER_FIELDS:
        if key in cluster and label not in seen and _showable(cluster[key]):
            out.append((label, cluster[key]))
            seen.add(label)
    known = {k for k, _ in _CLUSTER_FIELDS}
    for key, value in cluster.items():
        if key not in known and key not in _HIDDEN and _showable(value):
            out.append((key.replace("_", " "), value))
    return out


def _showable(v: Any) -> bool:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return True
    return isinstance(v, list) and len(v) <= 12 and all(isinstance(x, (str, int, float)) for x in v)


def _fmt_field(v: Any) -> str:
    if isinstance(v, list):
        return "/".join(str(x) for x in v) if v else "root"
    return fmt_num(v)


def _first(d: dict, keys: Sequence[str]) -> Any:
    for k in keys:
        v = d.get(k)
        if v is not None and v != "" and not (isinstance(v, float) and math.isnan(v)):
            return v
    return None


def _sortnum(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else -1e300


def _count_samples(path: Path) -> int | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return int(len(z[z.files[0]])) if z.files else None
    except (OSError, ValueError):
        return None


def _read_summary(path: Path) -> dict[int, dict]:
    """summary.csv rows by neuron index (the ``neuron`` column, digits of ``neuron7`` allowed)."""
    if not path.is_file():
        return {}
    df = pd.read_csv(path)
    if "neuron" not in df.columns:
        return {}
    out = {}
    for rec in df.to_dict("records"):
        k = _neuron_index(rec["neuron"])
        if k is not None:
            out[k] = rec
    return out


def _read_contribution(path: str | Path, layer: str) -> dict[int, Any]:
    path = Path(path)
    if not path.is_file():
        return {}
    df = pd.read_csv(path)
    if "neuron" not in df.columns:
        return {}
    if "layer" in df.columns:
        want = re.sub(r"\D", "", layer)
        df = df[df["layer"].astype(str).str.replace(r"\D", "", regex=True) == want]
    col = next((c for c in _SIGN_KEYS if c in df.columns), None)
    if col is None:
        return {}
    return {k: v for n, v in zip(df["neuron"], df[col]) if (k := _neuron_index(n)) is not None}


def _contribution_text(sign: Any, knockout: Any) -> str:
    """The neuron page's line on which way the neuron pushes the output (HTML)."""
    parts = []
    if (t := _sign_text(sign)):
        parts.append(f"Contribution to the output: <b>{esc(t)}</b> (sequences that activate it "
                     "vs the others)")
    if (t := _sign_text(knockout)):
        parts.append(f"knockout: <b>{esc(t)}</b> (shuffling the window that drives it)")
    return "; ".join(parts) + "." if parts else ""


def _sign_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (int, float)):
        return "+" if v > 0 else "−" if v < 0 else "0"
    return str(v)


def _neuron_index(v: Any) -> int | None:
    m = re.search(r"(\d+)$", str(v))
    return int(m.group(1)) if m else None


def _tomtom_provenance(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# Tomtom"):
            return "Matching: " + line[2:]
    return ""


def _file_links(folder: Path, names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f'<a href="{esc(prefix + n)}">{esc(n)}</a>' for n in names
                     if (folder / n).is_file())


def _rna(seq: str, rna: bool) -> str:
    return seq.replace("T", "U") if rna else seq


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))
