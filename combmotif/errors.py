"""Exceptions that mean "the user gave us something wrong".

Anything raised as a :class:`CombMotifError` is printed by the CLI guard as one
``error: ...`` line and a non-zero exit; any other exception is a bug and keeps
its traceback.
"""


class CombMotifError(Exception):
    """Base class of user-facing errors (bad file, bad key, bad sequence)."""


class ConfigError(CombMotifError):
    """A config file is missing, malformed, or has an unknown/missing key."""


class InputError(CombMotifError):
    """An input file or sequence does not have the expected layout or content."""
