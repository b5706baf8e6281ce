"""The one wrapper every command-line entry point goes through."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Callable, Sequence

from .errors import CombMotifError


def run_cli(main: Callable[[argparse.Namespace], int | None], parser: argparse.ArgumentParser,
            argv: Sequence[str] | None = None) -> None:
    """Parse arguments, run ``main`` and turn user errors into one ``error:`` line.

    ``--debug`` (or ``COMBMOTIF_DEBUG=1``) re-raises so the traceback is shown.
    Exit codes: 0 success, 2 user error, 130 interrupted.
    """
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("COMBMOTIF_DEBUG") == "1"
    try:
        code = main(args)
    except CombMotifError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
