"""Checks of the pipeline's outputs against planted truth (top layer).

``combmotif validate {discovery,contribution,interaction,jaspar} <config> ...`` (also
``python -m combmotif.validation ...``) runs :func:`.discovery.report_recovery`,
:func:`.contribution.check_contribution`, :func:`.interaction.check_interaction` or
:func:`.jaspar.report_jaspar` (the DNA set's planted JASPAR motifs matched back by ID or family). The one definition of
a "recovered" planted motif is in :mod:`combmotif.validation.recovered`.
"""
