"""Checks of the pipeline's outputs against planted truth (top layer).

``combmotif validate {discovery,contribution,interaction} <config> ...`` (also
``python -m combmotif.validation ...``) runs :func:`.discovery.report_recovery`,
:func:`.contribution.check_contribution` or :func:`.interaction.check_interaction`. The one definition of
a "recovered" planted motif is in :mod:`combmotif.validation.recovered`.
"""
