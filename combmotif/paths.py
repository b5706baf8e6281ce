"""Paths in what the project writes: relative, so a record works wherever the repository lies.

In memory every path is absolute (:mod:`combmotif.config` resolves config paths
against the config's folder). Written out, a path is relative to the folder of
the file that records it (a checkpoint's data set, a stage's settings) and a
command is written as run from the repository's root, so nothing written holds
an absolute path of the machine that made it. :func:`recorded_path` reads such
a path back, and also an older record's absolute path from another machine.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Sequence


def repo_root() -> Path:
    """The repository's root folder (the parent of the ``combmotif`` package).

    Returns
    -------
    Path
        The absolute root folder.
    """
    return Path(__file__).resolve().parents[1]


def relative_path(path: str | os.PathLike, base: str | os.PathLike) -> str:
    """``path`` written relative to the folder ``base`` (POSIX separators).

    Parameters
    ----------
    path : path-like
        An absolute path, or one relative to the current folder.
    base : path-like
        The folder the written path will be read against.

    Returns
    -------
    str
        E.g. ``../data/synthetic_mrl/data.csv`` for a data set seen from ``model_weights/``.
    """
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
    return Path(rel).as_posix()


def recorded_path(value: str | os.PathLike, base: str | os.PathLike) -> Path:
    """Read back a path that a record holds: relative to the folder ``base``.

    A record written before paths were relative holds an absolute path of the
    machine that made it; where that does not exist here, the longest tail of it
    that exists under this repository is taken instead (so
    ``/elsewhere/repo/data/synthetic_mrl/data.csv`` becomes
    ``<repo>/data/synthetic_mrl/data.csv``), else the path is returned unchanged
    and the caller's "not found" error names it.

    Parameters
    ----------
    value : path-like
        The recorded path.
    base : path-like
        The folder of the file that records it.

    Returns
    -------
    pathlib.Path
        An absolute path.
    """
    p = Path(value)
    if not p.is_absolute():
        return Path(os.path.normpath(Path(base).resolve() / p))
    if p.exists():
        return p
    root = repo_root()
    parts = p.parts[1:]
    for i in range(len(parts)):
        candidate = root.joinpath(*parts[i:])
        if candidate.exists():
            return candidate
    return p


def portable_command(argv: Sequence[str] | None = None) -> str:
    """The command line of this process as a user would type it at the repository's root.

    The interpreter is written ``python``, and every argument that names an
    existing file or folder, or is an absolute path (an output still to be made),
    is rewritten relative to the repository's root, so
    ``cd mrl && python train.py --config ../configs/training/x.yaml`` is recorded
    as ``python mrl/train.py --config configs/training/x.yaml``.

    Parameters
    ----------
    argv : sequence of str, optional
        The script and its arguments (default ``sys.argv``).

    Returns
    -------
    str
        A shell-quoted command line.
    """
    argv = list(sys.argv if argv is None else argv)
    if (argv and Path(argv[0]).name == "__main__.py"
            and Path(argv[0]).resolve().parent == Path(__file__).resolve().parent):
        argv = ["-m", "combmotif", *argv[1:]]   # `python -m combmotif` (the `combmotif` launcher)
    root = repo_root()
    out = ["python"]
    for arg in argv:
        flag, eq, value = arg.partition("=") if arg.startswith("-") else ("", "", arg)
        if value and (eq or not flag) and (os.path.isabs(value) or os.path.exists(value)):
            arg = flag + eq + relative_path(value, root)
        out.append(arg)
    return shlex.join(out)
