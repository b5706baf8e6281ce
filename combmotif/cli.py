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
    """Print ``line`` (after the traceback of ``exc`` when ``debug``) and exit with ``code``.

    The one way :func:`run_cli` ends a failed command: a single ``error:`` line on
    stderr, the traceback only on request.

    Parameters
    ----------
    exc : BaseException
        The exception that ended the command.
    debug : bool
        Print its traceback first (``--debug`` or ``COMBMOTIF_DEBUG=1``).
    line : str
        The ``error: ...`` line printed to stderr.
    code : int
        The exit status (:data:`EXIT_USER` or :data:`EXIT_BUG`).

    Raises
    ------
    SystemExit
        Always, with ``code``.
    """
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


# --------------------------------------------------------------------------- the flags every stage shares


def layer_span(text: str) -> list[int]:
    """An argparse ``type=`` for ``--layers``: ``"1-4"`` (inclusive) or ``"3"``.

    Parameters
    ----------
    text : str
        The flag's value.

    Returns
    -------
    list of int
        The 1-based conv layers, shallow first.
    """
    from .errors import ConfigError
    from .stage import layer_range

    first, sep, last = text.partition("-")
    try:
        span = (int(first), int(last) if sep else int(first))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be FIRST-LAST (inclusive) or one layer; got {text!r}") from None
    try:
        return layer_range(*span)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; got {text}") from None


class NeuronSpan:
    """A ``--neurons`` selection: ``"0:64"`` (half-open, as a Python slice), ``"1,3,5"`` or ``"all"``.

    Parameters
    ----------
    text : str
        The flag's value; only its syntax is checked here, the indices against a
        layer by :meth:`indices`.
    """

    def __init__(self, text: str):
        if "-" in text:
            raise argparse.ArgumentTypeError(f"must be FIRST:STOP (half-open), a list 1,3,5 or all; got {text!r}")
        self.text = text
        self.spec = text.replace(":", "-")

    def indices(self, n: int) -> list[int]:
        """The selected neurons of a layer of ``n`` neurons.

        Parameters
        ----------
        n : int
            Neurons in the layer.

        Returns
        -------
        list of int
            The indices; a reversed, empty or out-of-layer selection raises ConfigError.
        """
        from .config import parse_range

        return parse_range(self.spec, n=n)


def add_stage_flags(p: argparse.ArgumentParser, layers: str | None = "required", neurons: bool | str = False,
                    force: bool = True, device: bool = True) -> argparse.ArgumentParser:
    """Add ``config`` and the flags a stage subcommand shares, the same way everywhere.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser, extended in place.
    layers : {"required", "optional", None}
        Whether ``--layers`` is taken, and whether it must be given.
    neurons : bool or "override"
        Whether ``--neurons`` is taken (default ``all``); ``"override"``: taken, default
        None (the config's selection).
    force, device : bool
        Whether ``--force`` and ``--device`` are taken.

    Returns
    -------
    argparse.ArgumentParser
        ``p``.
    """
    p.add_argument("config", help="the stage's config (YAML); paths in it are relative to its folder")
    if layers:
        p.add_argument("--layers", type=layer_span, required=layers == "required", metavar="FIRST-LAST",
                       help="conv layers, inclusive: 1-4 or 3")
    if neurons == "override":   # None when not given: the config's selection stands
        p.add_argument("--neurons", type=NeuronSpan, default=None, metavar="START:STOP",
                       help="override the config's neurons of every layer, half-open: 0:64, or 1,3,5, or all")
    elif neurons:
        p.add_argument("--neurons", type=NeuronSpan, default=NeuronSpan("all"), metavar="START:STOP",
                       help="neurons of each layer, half-open: 0:64, or 1,3,5, or all (default)")
    if force:
        p.add_argument("--force", action="store_true", help="redo units that are already finished")
    if device:
        p.add_argument("--device", help="override the config's device (auto, cpu, cuda)")
    # SUPPRESS: a subcommand's default must not overwrite `combmotif --debug <stage>`.
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")
    return p
