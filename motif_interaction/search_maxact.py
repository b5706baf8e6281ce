"""Max-activation search over the training set for conv layers first..last.

    python search_maxact.py <first> <last> <config>

All logic lives in :mod:`combmotif.stage` and :mod:`combmotif.maxact`.
"""

from combmotif.interaction import InteractionConfig
from combmotif.stage import main_search

if __name__ == "__main__":
    main_search(config_cls=InteractionConfig, stage_name="interaction")
