"""Compare what two or more interpreted models learned (``combmotif compare-models <config>``).

Each model is named by its interpretation configs (discovery, and optionally
contribution and interaction), so its results folder, name, molecule and
matching settings come from the one config loader. Its model-wide motif families
(``discovery/families.*``) are matched across models by Tomtom
(:func:`combmotif.motifs.collect.similar_pairs`, the one near-duplicate test):
cross-model groups, each shared or model-specific; beside them the significance
of each family's database matches, its contribution sign and its pair classes.

Modules: :mod:`.config` (the config and the models it names), :mod:`.groups`
(cross-model groups of families), :mod:`.tables` (significance, signs, pairs),
:mod:`.stage` (run them, write the outputs). Figures and page: :mod:`combmotif.report.compare_models_page`;
the check against planted truth: :mod:`combmotif.validation.compare_models`.
"""
