"""Alias of ``motif_pairs.py`` (the seeds' name): ``python motif_pair_scr.py <layer> <first> <last> <config>``."""

from combmotif.interaction.stage import main_pairs

if __name__ == "__main__":
    main_pairs()
