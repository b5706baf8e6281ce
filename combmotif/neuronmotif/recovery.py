"""Moved to :mod:`combmotif.validation.discovery` and :mod:`combmotif.validation.recovered`.

Re-exported here for the old import path during the refactor (issue 14).
"""

from ..validation.discovery import load_truth, recovery_hits, recovery_table, tomtom_table  # noqa: F401
from ..validation.recovered import find_in, motif_identity  # noqa: F401
