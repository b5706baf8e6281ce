"""How many CPU cores this process may use, for the process pools (PNG logos, syntax).

``os.cpu_count`` counts the whole machine's cores; a container, a batch scheduler or
``taskset`` narrows the process's affinity mask, and a pool sized by the machine would
start dozens of processes on two cores.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Cores in this process's affinity mask (``os.cpu_count`` where there is none).

    Returns
    -------
    int
        At least 1.
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
