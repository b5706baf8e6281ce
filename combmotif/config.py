"""The one config loader: YAML -> validated, nested dataclasses.

Each stage declares its config as dataclasses (fields with defaults are
optional, fields without are required) and calls :func:`load_config`. Every
error names the file and the dotted key:

    error: configs/training/mrl.yaml: unknown key 'train.epoch' (known: batch_size, epochs, ...)

Fields declared with :func:`path_field` are resolved relative to the directory
of the config file, so a config works from whichever folder the user runs it.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, Callable, Literal, TypeVar, Union, get_args, get_origin

import yaml

from .errors import ConfigError

T = TypeVar("T")

_PATH_META = "combmotif_path"


_RESOLVE_META = "combmotif_resolve"


def resolved_field(default: Any, resolve: Callable[[Any, Path], Any],
                   relative: Callable[[Any, Path], Any], **kw: Any) -> Any:
    """A dataclass field whose value holds paths in its own shape (e.g. ``motif_db``).

    Parameters
    ----------
    default : Any
        The default value.
    resolve : callable
        ``(value, config folder) -> value`` with its paths absolute; called once, when
        the config is read, so no later code needs the config's folder.
    relative : callable
        ``(value, folder) -> value`` with its paths relative to ``folder``, for
        records written by :func:`to_dict`.
    **kw
        Passed to :func:`dataclasses.field`.

    Returns
    -------
    dataclasses.Field
    """
    return dataclasses.field(default=default, metadata={_RESOLVE_META: (resolve, relative)}, **kw)


def path_field(default: Any = dataclasses.MISSING, **kw: Any) -> Any:
    """A dataclass field holding a file path, resolved against the config's folder.

    :func:`from_dict` makes a relative value absolute against the config file's
    folder; :func:`to_dict` writes it back relative to the record's folder.

    Parameters
    ----------
    default : Any, optional
        The default value (often ``None``); without it the key is required.
    **kw
        Passed to :func:`dataclasses.field`.

    Returns
    -------
    dataclasses.Field
        The field, marked as a path in its metadata.
    """
    meta = {_PATH_META: True}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta, **kw)
    return dataclasses.field(default=default, metadata=meta, **kw)


def require(ok: bool, key: str, value: Any, rule: str) -> None:
    """Raise the one config error line for ``key``: ``'key' must be RULE; got VALUE``.

    Parameters
    ----------
    ok : bool
        Whether the value is acceptable.
    key : str
        Dotted config key, e.g. ``train.lr``.
    value : Any
        The value found.
    rule : str
        What the value must be, e.g. ``">= 1"``.

    Raises
    ------
    ValueError
        When ``ok`` is false; :func:`load_config` adds the file name.
    """
    if not ok:
        raise ValueError(f"'{key}' must be {rule}; got {value!r}")


def parse_range(spec: str | int | list, n: int | None = None) -> list[int]:
    """Parse a neuron selection: ``"0-64"`` (half-open, as the seed configs), ``"1,3,5"``,
    ``"all"``, an int or a list of ints.

    Parameters
    ----------
    spec : str, int or list of int
        The selection.
    n : int, optional
        Neurons in the layer: needed by ``"all"``; every index is checked against it.

    Returns
    -------
    list of int
        The selected indices, in the order given; never empty.

    Raises
    ------
    ConfigError
        An unreadable part, a reversed or empty range (``"5-2"``, ``"3-3"``), an
        empty selection or an index outside ``0..n-1``. The message names the
        selection, not the file: callers add where it came from.
    """
    # An empty selection is always a mistake: accepting it would "finish" a stage
    # with empty tables written over the results of an earlier run.
    if isinstance(spec, bool):
        raise ConfigError(f"cannot read neuron selection {spec!r}")
    if isinstance(spec, int):
        out = [spec]
    elif isinstance(spec, list):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
            raise ConfigError(f"neuron selection {spec!r} must list integers")
        out = list(spec)
    else:
        text = str(spec).strip()
        if text == "all":
            if n is None:
                raise ConfigError("'all' needs the number of neurons")
            return list(range(n))
        out = _parse_range_text(text)
    if not out:
        raise ConfigError(f"neuron selection {spec!r} selects no neuron")
    bad = [i for i in out if i < 0 or (n is not None and i >= n)]
    if bad:
        where = f" (layer has {n})" if n is not None else ""
        raise ConfigError(f"neuron index {bad[0]} out of range{where}")
    return out


def _parse_range_text(text: str) -> list[int]:
    """Indices of a comma list of ``N`` and half-open ``FIRST-END`` parts (unchecked against a layer)."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(v) for v in part.split("-", 1))
                if hi <= lo:
                    raise ConfigError(f"neuron range {part!r} in {text!r} is empty or reversed "
                                      f"(ranges are half-open: '2-5' means 2, 3, 4)")
                out.extend(range(lo, hi))
            elif part:
                out.append(int(part))
        except ValueError:
            raise ConfigError(f"cannot read neuron selection {text!r}: {part!r} is not N, "
                              f"FIRST-END (half-open), a comma list or 'all'") from None
    return out


def check_selection(spec: str | int | list, key: str) -> None:
    """Check a neuron selection's form when a config is read (the layer sizes come later).

    Parameters
    ----------
    spec : str, int or list of int
        The selection (see :func:`parse_range`).
    key : str
        The config key holding it, for the message.

    Raises
    ------
    ValueError
        ``'<key>' = <spec>: <why>``: an unreadable, reversed or empty selection
        (a dataclass ``validate`` raises it; :func:`from_dict` adds the file).
    """
    if isinstance(spec, str) and spec.strip() == "all":
        return
    try:
        parse_range(spec)
    except ConfigError as exc:
        raise ValueError(f"'{key}' = {spec!r}: {exc}") from None


def load_yaml(path: str | Path) -> dict:
    """Read a YAML config file into a mapping, with one clear error for every way it can be wrong.

    Parameters
    ----------
    path : str or Path
        The config file (UTF-8; a byte-order mark is ignored).

    Returns
    -------
    dict
        The top-level mapping; ``{}`` for an empty file.

    Raises
    ------
    combmotif.errors.ConfigError
        ``<path>: ...`` when the path is a folder or missing, the file is not UTF-8 or not
        valid YAML, or its top level is not a mapping.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file")
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))  # a BOM is not a key
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the config as UTF-8") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys")
    return data


def load_config(path: str | Path, cls: type[T], overrides: dict | None = None) -> T:
    """Read ``path`` into an instance of dataclass ``cls``.

    ``overrides`` (a nested dict) is merged over the file, for command-line flags.

    Parameters
    ----------
    path : str or Path
        The YAML config file; its relative paths resolve against its folder.
    cls : type
        The config dataclass.
    overrides : dict, optional
        Nested values merged key by key over the file's (a nested mapping merges,
        any other value replaces).

    Returns
    -------
    T
        The checked ``cls`` instance (its ``validate`` has run).

    Raises
    ------
    combmotif.errors.ConfigError
        One line naming the file: unreadable file, unknown, renamed or missing key,
        a value of the wrong type, or a setting ``validate`` rejects.
    """
    path = Path(path)
    data = load_yaml(path)
    if overrides:
        data = _merge(data, overrides)
    return from_dict(data, cls, source=str(path), base_dir=path.resolve().parent)


def from_dict(data: dict, cls: type[T], source: str = "<dict>", base_dir: Path | None = None,
              prefix: str = "") -> T:
    """Build dataclass ``cls`` from a mapping: the core of :func:`load_config`, for nested sections too.

    Every key must be a field of ``cls``; values are coerced to the field's type
    (nested dataclasses recursively), :func:`path_field` values are made absolute
    against ``base_dir``, and the instance's ``validate`` (if any) runs.

    Parameters
    ----------
    data : dict
        The values read.
    cls : type
        The config dataclass.
    source : str, default "<dict>"
        Where the values came from (the config file), for messages.
    base_dir : Path, optional
        The folder relative paths resolve against; ``None`` keeps them as given.
    prefix : str, default ""
        Dotted key of the section (``"train."``), for messages.

    Returns
    -------
    T
        The checked ``cls`` instance.

    Raises
    ------
    combmotif.errors.ConfigError
        ``<source>: ...`` when ``data`` is not a mapping, a key is unknown, renamed or
        missing, a value has the wrong type, or the constructor or ``validate`` rejects it.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: '{prefix.rstrip('.') or '<top>'}' must be a mapping")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in data if k not in fields]
    renamed = getattr(cls, "_renamed_keys", {})
    for k in unknown:
        if k in renamed:
            # A key an older config used: say what it is called now rather than "unknown".
            raise ConfigError(f"{source}: '{prefix}{k}' is now '{renamed[k]}'")
    if unknown:
        raise ConfigError(f"{source}: unknown key '{prefix}{unknown[0]}' "
                          f"(known: {', '.join(sorted(fields))})")
    kwargs = {}
    for name, f in fields.items():
        key = prefix + name
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{source}: missing required key '{key}'")
            continue
        value = _coerce(data[name], hints[name], source, key, base_dir)
        if f.metadata.get(_PATH_META) and value is not None and base_dir is not None:
            value = str((base_dir / value).resolve()) if not Path(value).is_absolute() else value
        if f.metadata.get(_RESOLVE_META) and value is not None and base_dir is not None:
            value = f.metadata[_RESOLVE_META][0](value, base_dir)
        kwargs[name] = value
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {exc}") from None
    check = getattr(obj, "validate", None)
    if callable(check):
        try:
            check()
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return obj


def to_dict(obj: Any, relative_to: str | Path | None = None) -> Any:
    """Dataclass -> plain dict (for writing the config used next to outputs).

    Parameters
    ----------
    obj : dataclass instance or any
        A loaded config (anything else is returned unchanged).
    relative_to : path-like, optional
        The folder of the file the dict is written to: every :func:`path_field`
        is then written relative to it, so the record holds no absolute path of
        this machine and still works from a clone at another path.

    Returns
    -------
    dict or any
        Plain, JSON-able values.
    """
    if not dataclasses.is_dataclass(obj):
        return obj
    out = dataclasses.asdict(obj)
    if relative_to is not None:
        _relative_paths(obj, out, relative_to)
    return out


def _relative_paths(obj: Any, out: dict, base: str | Path) -> None:
    from .paths import relative_path

    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.metadata.get(_PATH_META) and isinstance(value, str):
            out[f.name] = relative_path(value, base)
        elif f.metadata.get(_RESOLVE_META) and value is not None:
            out[f.name] = f.metadata[_RESOLVE_META][1](value, base)
        elif dataclasses.is_dataclass(value):
            _relative_paths(value, out[f.name], base)


def _coerce_union(value: Any, tp: Any, source: str, key: str, base_dir: Path | None) -> Any:
    """The first alternative of ``tp`` that takes ``value``; else one line naming them all."""
    args = get_args(tp)
    if value is None and type(None) in args:
        return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return _coerce(value, arg, source, key, base_dir)
        except ConfigError as exc:
            errors.append(str(exc))
    head, tail = f"{source}: '{key}' ", f"; got {value!r}"
    if errors and all(e.startswith(head) and e.endswith(tail) for e in errors):
        # "must be true or false, or one of auto; got ..."
        wants = [e[len(head):len(e) - len(tail)] for e in errors]
        wants[1:] = [w.removeprefix("must be ") for w in wants[1:]]
        raise ConfigError(head + ", or ".join(wants) + tail)
    raise ConfigError(errors[0] if errors else f"{source}: '{key}' has a bad value {value!r}")


def _coerce(value: Any, tp: Any, source: str, key: str, base_dir: Path | None) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(value if value is not None else {}, tp, source, base_dir, key + ".")
    if origin in (Union, types.UnionType):
        return _coerce_union(value, tp, source, key, base_dir)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise ConfigError(f"{source}: '{key}' must be one of {', '.join(map(str, choices))}; "
                              f"got {value!r}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: '{key}' must be a list; got {value!r}")
        (item_tp, *_) = get_args(tp) or (Any,)
        return [_coerce(v, item_tp, source, f"{key}[{i}]", base_dir) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: '{key}' must be a mapping; got {value!r}")
        _, val_tp = get_args(tp) or (Any, Any)
        return {k: _coerce(v, val_tp, source, f"{key}.{k}", base_dir) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: '{key}' must be true or false; got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: '{key}' must be an integer; got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+\s*", value):
            # YAML 1.1 (PyYAML) reads 1e-3 as a string; YAML 1.2 and every user read a number.
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: '{key}' must be a number; got {value!r}")
        if value != value:  # NaN passes every range check written as a comparison
            raise ConfigError(f"{source}: '{key}' must be a number; got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{source}: '{key}' must be a string; got {value!r}")
        return str(value)
    return value


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
