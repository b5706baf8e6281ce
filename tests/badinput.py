"""Harness of the bad-input catalogue: run one command in-process and check that it
refuses its input the way every CombMotif command must.

A refusal is: exit status 2, exactly one ``error:`` line on stderr that names the
file, key or value at fault, no traceback, and not one file created, changed or
removed under the watched folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Sequence

REPO = Path(__file__).resolve().parents[1]


def snapshot(roots: Iterable[str | os.PathLike]) -> dict[str, tuple[int, str]]:
    """Every file and folder under ``roots``: relative path -> (size, sha1) or (-1, 'dir')."""
    out: dict[str, tuple[int, str]] = {}
    for root in roots:
        root = Path(root)
        if not root.exists():
            out[str(root)] = (-2, "absent")
            continue
        paths = [root] if root.is_file() else [root, *root.rglob("*")]
        for p in paths:
            if p.is_dir():
                out[str(p)] = (-1, "dir")
            elif p.is_file():
                out[str(p)] = (p.stat().st_size, hashlib.sha1(p.read_bytes()).hexdigest())
            else:
                out[str(p)] = (-3, "other")
    return out


def run_script(script: str | os.PathLike, argv: Sequence[str], cwd: str | os.PathLike | None = None
               ) -> tuple[int, str]:
    """Run a command-line script (``motif_discovery/discover.py`` ...) in this process,
    as ``python script argv...`` would; returns (exit status, stderr)."""
    script = Path(script)
    if not script.is_absolute():
        script = REPO / script
    err = io.StringIO()
    old_argv, old_cwd = sys.argv, os.getcwd()
    code = 0
    try:
        sys.argv = [str(script), *map(str, argv)]
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                runpy.run_path(str(script), run_name="__main__")
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    return code, err.getvalue()


def run_shell(argv: Sequence[str], cwd: str | os.PathLike | None = None, timeout: float = 300
              ) -> tuple[int, str]:
    """Run a shell wrapper (``bash main.sh ...``) as a user would; returns (exit status, stderr)."""
    env = dict(os.environ, COMBMOTIF_VENV=sys.prefix)
    p = subprocess.run(list(map(str, argv)), cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stderr


def assert_refused(code: int, stderr: str, names: Sequence[str] = (),
                   before: dict | None = None, after: dict | None = None) -> str:
    """Check one refusal; returns the error line.

    ``names``: strings the error line must contain (the file, key or value).
    ``before`` / ``after``: :func:`snapshot` of the watched folders around the run.
    """
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert "Traceback" not in stderr, stderr
    assert len(errors) == 1, f"want exactly one error line, got:\n{stderr}"
    assert code == 2, f"exit status {code}, want 2:\n{stderr}"
    for name in names:
        assert str(name) in errors[0], f"{name!r} not named in: {errors[0]}"
    if before is not None:
        changed = sorted(k for k in set(before) | set(after or {}) if before.get(k) != (after or {}).get(k))
        assert not changed, f"files changed by a refused run: {changed[:10]}"
    return errors[0]


def refused(script: str | os.PathLike, argv: Sequence[str], names: Sequence[str] = (),
            watch: Iterable[str | os.PathLike] = (), cwd: str | os.PathLike | None = None) -> str:
    """Run ``script argv`` in-process and assert it refuses (see :func:`assert_refused`)."""
    watch = list(watch)
    before = snapshot(watch)
    code, err = run_script(script, argv, cwd=cwd)
    return assert_refused(code, err, names, before, snapshot(watch))
