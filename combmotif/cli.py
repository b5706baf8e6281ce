"""The one wrapper every command-line entry point goes through."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Callable, NoReturn, Sequence

from .errors import CombMotifError

#: Exit status of a user error (bad input, bad config, bad arguments).
EXIT_USER = 2
#: Exit status of an unexpected exception (a bug): still one line without --debug.
EXIT_BUG = 1


def _one_line_usage_error(parser: argparse.ArgumentParser) -> None:
    """Make argparse report a bad command line as one ``error:`` line (no usage block),
    like every other user error; ``--help`` still prints the usage."""

    def error(message: str) -> NoReturn:
        print(f"error: {parser.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_USER)

    parser.error = error  # type: ignore[method-assign]
    for action in parser._actions:  # sub-commands report through their own parser
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _one_line_usage_error(sub)


def run_cli(main: Callable[[argparse.Namespace], int | None], parser: argparse.ArgumentParser,
            argv: Sequence[str] | None = None) -> None:
    """Parse arguments, run ``main`` and turn every failure into one ``error:`` line.

    A :class:`~combmotif.errors.CombMotifError` (or an ``OSError`` naming a file,
    such as an output folder that is a file) is a user error: exit 2. Any other
    exception is a bug: one ``error: internal error ...`` line and exit 1.
    ``--debug`` (or ``COMBMOTIF_DEBUG=1``) prints the traceback as well.
    Exit codes: 0 success, 1 bug, 2 user error, 130 interrupted.

    Parameters
    ----------
    main : callable
        Receives the parsed arguments; returns an exit code or None (0).
    parser : argparse.ArgumentParser
        The command's parser; ``--debug`` is added here.
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).
    """
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    _one_line_usage_error(parser)
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("COMBMOTIF_DEBUG") == "1"
    try:
        code = main(args)
    except CombMotifError as exc:
        fail(exc, debug, f"error: {exc}", EXIT_USER)
    except OSError as exc:
        # Permission denied, a folder where a file is needed, a full disk: the
        # user's environment, not our bug. The file name is what they need.
        where = f"{exc.filename}: " if exc.filename else ""
        fail(exc, debug, f"error: {where}{exc.strerror or exc}", EXIT_USER)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last guard: never a bare traceback
        first = str(exc).splitlines()[0] if str(exc) else ""
        fail(exc, debug, f"error: internal error ({type(exc).__name__}: {first}); "
             f"rerun with --debug for the traceback", EXIT_BUG)
    sys.exit(code or 0)


def fail(exc: BaseException, debug: bool, line: str, code: int) -> NoReturn:
    """Print ``line`` (after the traceback of ``exc`` when ``debug``) and exit with ``code``."""
    if debug:
        traceback.print_exception(exc)
    print(line, file=sys.stderr)
    sys.exit(code)


def number_in(kind: Callable[[str], float], low: float | None = None, high: float | None = None, *,
              low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type=`` that reads a number and refuses it outside the bounds.

    NaN and infinities are refused too: they pass no range a flag is checked
    against and end as NaN labels or a traceback deep inside the run. argparse
    names the flag, so a bad value gives ``error: prog: argument --flag: must
    be in (0, 1); got 1.5``, exit 2, before any work.

    Parameters
    ----------
    kind : int or float
        How to read the text.
    low, high : float, optional
        Bounds (``None``: unbounded on that side).
    low_open, high_open : bool
        Whether the bound itself is excluded.

    Returns
    -------
    callable
        ``text -> number``, raising :class:`argparse.ArgumentTypeError`.
    """
    if low is not None and high is not None:
        rule = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        rule = f"{'>' if low_open else '>='} {low:g}"
    elif high is not None:
        rule = f"{'<' if high_open else '<='} {high:g}"
    else:
        rule = "(finite)"
    noun = "an integer" if kind is int else "a number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {noun}; got {text!r}") from None
        ok = (value == value and abs(value) != float("inf")
              and (low is None or (value > low if low_open else value >= low))
              and (high is None or (value < high if high_open else value <= high)))
        if not ok:
            raise argparse.ArgumentTypeError(f"must be {noun} {rule}; got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its own messages
    return parse
