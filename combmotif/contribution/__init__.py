"""Which way does each neuron's motif push the prediction?

For conv layer ``L`` and neuron ``k`` a sequence is *activated* when the
neuron's maximum over all its windows reaches ``threshold`` x the neuron's
maximum over the whole set (default 0.7, as the seeds). The model's
predictions (default; the observed labels on request) of activated and
non-activated sequences are compared (:mod:`.association`):

- effect: difference of means (activated - not activated), on the label scale;
- Cohen's d with the pooled standard deviation;
- Welch's t-test (primary p) and the Mann-Whitney U test (rank-based check);
- Benjamini-Hochberg q-values over all neurons of the layer that were tested.

A neuron is ``positive``/``negative`` when q < alpha and both groups hold at
least ``min_n`` sequences, ``neutral`` otherwise; the ``reason`` column says
why a neuron was not tested. The unit of replication is one sequence.

This is an association: when motifs co-occur (planted pairs, or a 7-mer
leaving less room for uAUGs) the sequences activating a neuron differ in more
than its motif. So a second, causal measure is computed by default
(:mod:`.knockout`): for up to ``knockout.sequences`` activated sequences, the
window that drives the neuron (its receptive field at the maximum) is
dinucleotide-shuffled ``knockout.replicates`` times, other tracks left as
they are, and the model predicts again. Per sequence the push of the window is
``f(original) - mean f(shuffled)``; per neuron its mean, ``dz`` (mean / sd),
a Wilcoxon signed-rank test against 0, BH over the layer's neurons, and the
same positive / negative / neutral call (q < alpha and |dz| >= min_abs_d).

Outputs (``results/<model>/contribution/conv<L>/``, :mod:`.stage`):
``neuron_contribution.csv`` (drawn as ``neuron_contribution.png`` by the
command, :func:`combmotif.report.plots.plot_contribution`); ``neuron_knockout.csv``
with the knockout. The check against planted signs
is :mod:`combmotif.validation.contribution`.
"""

from ..perturb import select_target
from .association import CLASS_COLOURS, CSV_COLUMNS, activated, call_signs, contribution_table
from .knockout import KNOCKOUT_COLUMNS, knockout_table, knockout_windows, shuffle_windows
from .stage import (
                    ASSOCIATION_SETTINGS,
                    KNOCKOUT_SETTINGS,
                    ContributionConfig,
                    KnockoutConfig,
                    knockout_neuron_max,
                    run_contribution,
                    stage_knockout,
                    summary_line,
)

__all__ = ["ASSOCIATION_SETTINGS", "CLASS_COLOURS", "CSV_COLUMNS", "KNOCKOUT_COLUMNS", "KNOCKOUT_SETTINGS",
           "ContributionConfig", "KnockoutConfig", "activated", "call_signs", "contribution_table",
           "knockout_table", "knockout_windows", "knockout_neuron_max",
           "run_contribution", "select_target", "shuffle_windows", "stage_knockout", "summary_line"]
