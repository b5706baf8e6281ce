"""``python -m combmotif.validation {discovery,contribution,interaction} [args...]``."""

from __future__ import annotations

import importlib
import sys

CHECKS = ("discovery", "contribution", "interaction")


def main(argv: list[str] | None = None) -> int:
    """Run one check against planted truth.

    Parameters
    ----------
    argv : list of str, optional
        ``[check, *arguments]``; the arguments go to that check's ``main``.
        Default: ``sys.argv[1:]``.

    Returns
    -------
    int
        The check's exit status (2 for an unknown check).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in CHECKS:
        got = repr(argv[0]) if argv else "nothing"
        print(f"error: python -m combmotif.validation needs one of {', '.join(CHECKS)}; got {got}",
              file=sys.stderr)
        return 2
    module = importlib.import_module(f"combmotif.validation.{argv[0]}")
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
