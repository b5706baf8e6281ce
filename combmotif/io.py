"""Atomic output: a unit is written under a temporary name and renamed into place.

A killed run therefore never leaves a half-written file where a finished one is
expected, and a rerun can skip every unit whose final name exists. Temporaries
are named ``.partial-<name>.pid<pid>.<random>``: a rerun removes those of dead
runs (:func:`clean_partials`) and keeps a live concurrent writer's. Stages mark
a finished unit with a freshness stamp (:mod:`combmotif.stamps`) and
:func:`fault_point` lets the crash tests kill a run at a named phase.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    Works for files and for directories (whatever the caller creates at the
    yielded path). On an exception the temporary is removed and ``path`` is
    left untouched. The temporary's name holds the writer's pid, so
    :func:`clean_partials` can tell a dead run's leftovers from a live writer's.

    A folder replaces an existing one atomically, also under concurrent writers:
    the two are exchanged in one step where the system can (Linux
    ``renameat2``), else the old one is renamed aside and the new one renamed in
    (retried while another writer gets in between); the old one is then removed.
    A reader never sees a half-written folder.

    Parameters
    ----------
    path : str or os.PathLike
        The file or folder to write.

    Yields
    ------
    Path
        The temporary path to write to.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_own_partials(path)
    tmp = _temp_name(path, "partial")
    try:
        yield tmp
        if tmp.is_dir():
            _move_folder_in(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        _remove(tmp)


#: Prefix of every temporary the project writes (files, folders, folders moved aside).
PARTIAL_PREFIX = ".partial-"
_PID = re.compile(r"\.pid(\d+)\.[^.]+$")


def _temp_name(path: Path, kind: str) -> Path:
    """An unused name beside ``path``: ``.partial-<name>.pid<pid>.<random>`` (``.partial-old-`` for
    a folder moved aside); the name is reserved by creating it, then freed for the caller."""
    prefix = PARTIAL_PREFIX + ("old-" if kind == "old" else "")
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{path.name}.pid{os.getpid()}.", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    return Path(tmp)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    elif p.exists() or p.is_symlink():
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _move_folder_in(tmp: Path, path: Path) -> None:
    """Put folder ``tmp`` at ``path``; whatever folder was there is removed afterwards."""
    while True:
        try:
            os.rename(tmp, path)        # ``path`` absent (or an empty folder)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise                   # e.g. ``path`` is a file
        if _exchange(tmp, path):        # one step: readers see the old folder or the new one
            return                      # ``tmp`` now holds the old folder; the caller removes it
        aside = _temp_name(path, "old")
        try:
            os.rename(path, aside)
        except FileNotFoundError:       # another writer moved it aside first
            continue
        try:
            os.rename(tmp, path)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            # another writer's folder got in between: go round and replace it
        finally:
            _remove(aside)


def _renameat2():
    """libc's ``renameat2`` (Linux, glibc >= 2.28), or None."""
    global _RENAMEAT2
    if _RENAMEAT2 is None:
        import ctypes
        import ctypes.util

        fn = False
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).renameat2
                fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            except (OSError, AttributeError):
                fn = False
        _RENAMEAT2 = fn
    return _RENAMEAT2 or None


_RENAMEAT2 = None
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system or the file system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    import ctypes

    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOENT,):          # ``b`` vanished (another writer moved it aside): retry
        return False
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (another user's counts as alive).

    Parameters
    ----------
    pid : int
        Process id.

    Returns
    -------
    bool
        False only when no such process exists.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_partials(folder: str | os.PathLike, depth: int = 1) -> list[Path]:
    """Remove the temporaries (``.partial-*``) that dead runs left in ``folder`` and in its
    sub-folders down to ``depth`` levels; a live writer's temporaries are kept.

    A stage calls this on the unit folders it is about to write, so a killed
    run's half-written units never survive a rerun.

    Parameters
    ----------
    folder : path-like
        A stage's output folder (need not exist).
    depth : int
        How many levels of sub-folders to visit (0: ``folder`` only).

    Returns
    -------
    list of pathlib.Path
        The temporaries removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(PARTIAL_PREFIX):
            if _is_stale(entry.name):
                _remove(entry)
                removed.append(entry)
        elif depth > 0 and entry.is_dir() and not entry.is_symlink():
            removed += clean_partials(entry, depth - 1)
    return removed


def _is_stale(name: str) -> bool:
    """Whether the temporary ``name`` belongs to a run that is gone."""
    m = _PID.search(name)
    # no pid in the name: written before names held one, so by a run long gone
    return m is None or (int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))))


def _clean_own_partials(path: Path) -> None:
    """Remove dead runs' temporaries of ``path`` itself, so that rewriting a unit also
    clears what a killed writer of that unit left."""
    starts = tuple(f"{PARTIAL_PREFIX}{kind}{path.name}." for kind in ("", "old-"))
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(starts)]
    except OSError:
        return
    for name in names:
        if _is_stale(name):
            _remove(path.parent / name)


def fault_point(phase: str) -> None:
    """Kill this process with SIGKILL at ``phase`` when ``COMBMOTIF_FAULT`` names it.

    The crash tests make a kill land at a known point of a real run:
    ``COMBMOTIF_FAULT=<phase>`` kills at the first time ``phase`` is reached,
    ``COMBMOTIF_FAULT=<phase>:<n>`` at the n-th. Unset, this does nothing.

    Parameters
    ----------
    phase : str
        Name of this point of the run.
    """
    want = os.environ.get("COMBMOTIF_FAULT")
    if not want:
        return
    name, _, nth = want.partition(":")
    if name != phase:
        return
    _FAULT_COUNTS[phase] = _FAULT_COUNTS.get(phase, 0) + 1
    if _FAULT_COUNTS[phase] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


_FAULT_COUNTS: dict[str, int] = {}


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`atomic_path`).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    text : str
        Its content.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON with a final newline, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    obj : object
        JSON-serialisable data (paths, NumPy scalars and arrays included).
    """
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write ``arrays`` as a compressed npz file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    **arrays : numpy.ndarray
        The arrays, by name.
    """
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def check_output_dir(path: str | os.PathLike, source: str, key: str) -> Path:
    """Refuse, before any work, an output location that cannot become a writable folder.

    The folder need not exist yet; its nearest existing ancestor must be a
    writable folder (not a file). Nothing is created here.

    Parameters
    ----------
    path : path-like
        The output folder.
    source : str
        Where the value came from (the config file, or ``"--out"``), for the message.
    key : str
        The config key or flag that holds it.

    Returns
    -------
    pathlib.Path
        ``path`` unchanged.

    Raises
    ------
    combmotif.errors.InputError
        ``error: <source>: '<key>' = <path>: ...`` when the path is a file, lies
        under a file, or its existing ancestor is not writable.
    """
    from .errors import InputError

    p = Path(path)
    probe = p
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "is a file" if probe == p else f"lies under {probe}, which is a file"
        raise InputError(f"{source}: '{key}' = {p}: {what}; an output location must be a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{source}: '{key}' = {p}: {probe} is not writable")
    return p


def load_npz_fields(path: str | os.PathLike, cls: type, missing: str) -> dict[str, np.ndarray]:
    """The arrays of an npz file written from dataclass ``cls``, one per field.

    Parameters
    ----------
    path : path-like
        The npz file.
    cls : type
        A dataclass whose field names are the npz keys to read.
    missing : str
        What the user should run when the file is absent (ends the error line).

    Returns
    -------
    dict of str to numpy.ndarray
        Field name -> array; the caller casts scalars and builds ``cls``.

    Raises
    ------
    combmotif.errors.InputError
        When ``path`` is not a file.
    """
    import dataclasses

    from .errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {missing}")
    with np.load(path) as z:
        return {f.name: z[f.name] for f in dataclasses.fields(cls)}


def read_table(path: str | os.PathLike):
    """A pair or rule table as text: patterns and names such as "NA" stay strings.

    Parameters
    ----------
    path : str or Path
        A CSV file (``candidates.csv``, ``syntax_rules.csv``, spacing ``summary.csv``...).

    Returns
    -------
    pandas.DataFrame
        Every column as ``str``; only empty cells are missing.
    """
    import pandas as pd  # here: the base modules stay light to import

    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
