"""``python -m combmotif.validation {discovery,contribution,interaction,jaspar,compare-models} <config> [flags]``:
the same command as ``combmotif validate ...`` (one parser, in :mod:`combmotif.__main__`)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Run one check against planted truth (exits with its status).

    Parameters
    ----------
    argv : list of str, optional
        ``[check, config, flags...]``, as ``combmotif validate`` takes them.
        Default: ``sys.argv[1:]``.
    """
    from combmotif.__main__ import main as combmotif_main

    combmotif_main(["validate", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
