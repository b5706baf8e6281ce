"""Checks of the pipeline's outputs against planted truth (top layer).

``python -m combmotif.validation {discovery,contribution,interaction} ...``
dispatches to ``combmotif.validation.<name>.main(argv)``. The one definition of
a "recovered" planted motif is in :mod:`combmotif.validation.recovered`.
"""
