"""Which motif pairs act together? Mutagenesis of fragments and an epistasis test.

For a neuron of conv layer ``L``, its *fragments* are the windows of the
scanned sequences that drive it above ``fragment_threshold`` x its maximum
(:func:`combmotif.interaction.fragments.locate_fragments`). A *combination label* names two
motifs, A and B, each as one or more patterns (IUPAC or regular expressions);
labels come from a hand-written YAML (the seeds' layout), else are proposed
from the neuron's NeuronMotif segments and their Tomtom matches, else from a
template.

Mutagenesis (:func:`mutagenesis`). For every sequence with a fragment holding a
match of A and a match of B that do not overlap, the **whole** sequence is
predicted four ways: original, A destroyed, B destroyed, both destroyed. A
motif is destroyed by a dinucleotide-preserving shuffle of its span, redrawn
until neither pattern of the pair matches across the span any more (at most
``max_redraws`` draws; then random bases, counted as a *fallback*). Each of
``replicates`` draws destroys A and B once and the same draw is used in the
"A destroyed" and "both destroyed" variants (common random numbers), so a
model that is exactly additive gives epsilon = 0 exactly. The half-life model's
extra tracks are left as they are.

Unit of replication: one sequence per (neuron, pair). A sequence contributes
once even when several of its windows are fragments or several A/B matches
could be paired (the closest non-overlapping pair in its strongest fragment
that has one is used); for a homotypic pair (A = B) a pair of sites is
unordered, so swapping roles cannot double-count it.

Epistasis (:func:`pair_statistics`, :func:`classify`). Per sequence, with
f(AB) = original, f(A only) = B destroyed, f(B only) = A destroyed,
f(neither) = both destroyed::

    epsilon = f(AB) - f(A only) - f(B only) + f(neither)

tested against 0 with the Wilcoxon signed-rank test; Benjamini-Hochberg over
every pair tested in the layer. The single effects are e_A = f(A only) -
f(neither) and e_B = f(B only) - f(neither); with s = sign(e_A + e_B) a
significant pair is *synergistic* when s * epsilon > 0 (the joint effect is
larger in magnitude than the sum, in the same direction) and *antagonistic*
when s * epsilon < 0; a pair that is not significant is *additive* (so is a
significant one whose |epsilon| is below ``min_relative_epsilon`` x (|e_A| +
|e_B|), when that floor is set). Effect sizes carry seeded
percentile-bootstrap intervals.

Outputs (``results/<model>/interaction/conv<L>/``): ``fragments.npz``,
``neuron<k>/fragment_location.yaml``, ``neuron<k>/labels.yaml`` (the labels
used), ``neuron<k>/pairs.csv`` and ``neuron<k>/observations.npz`` (per-sequence
f values, the unit files), and the merged ``motif_pair_stats.csv``,
``motif_pair_summary.csv`` (one row per motif pair over all neurons) and
``interaction_map.svg`` (drawn by the command, :func:`combmotif.report.plots.plot_interaction_map`).

Modules: :mod:`.labels` (combination labels), :mod:`.fragments` (fragment
location), :mod:`.sites` (sites and pairs), :mod:`.mutagenesis`,
:mod:`.epistasis` (statistics, classes, summaries),
:mod:`.stage` (config, runs), :mod:`.scope` (the same test over whole
sequences). The check against planted pairs is :mod:`combmotif.validation.interaction`.
"""

from .epistasis import (
                        CLASS_COLOURS,
                        CLASSES,
                        EXTRA_COLUMNS,
                        REFERENCE_COLUMNS,
                        STATS_COLUMNS,
                        classify,
                        pair_statistics,
                        pair_summary,
)
from .fragments import (
                        Fragments,
                        fragment_codes,
                        fragment_yaml,
                        locate_fragments,
                        read_fragment_yaml,
                        read_fragment_yaml_text,
)
from .labels import Combination, dedupe, labels_yaml, parse_labels, ppm_iupac, propose_labels, read_labels, read_tomtom
from .mutagenesis import Observations, mutagenesis
from .scope import run_sequence_scope
from .sites import Plan, choose_pair, find_spans, finder, plan_sites
from .stage import (
                        UNIT_SETTINGS,
                        InteractionConfig,
                        merge_layer,
                        neuron_dir,
                        neuron_pairs,
                        resolve_labels,
                        run_fragment_location,
                        run_pairs,
                        summary_line,
)

__all__ = ["CLASS_COLOURS", "CLASSES", "EXTRA_COLUMNS", "REFERENCE_COLUMNS", "STATS_COLUMNS", "UNIT_SETTINGS",
           "Combination", "Fragments", "InteractionConfig", "Observations", "Plan", "choose_pair", "classify",
           "dedupe", "find_spans", "finder", "fragment_codes", "fragment_yaml", "labels_yaml", "locate_fragments",
           "merge_layer", "mutagenesis", "neuron_dir", "neuron_pairs",
           "pair_statistics", "pair_summary", "parse_labels", "plan_sites", "ppm_iupac",
           "propose_labels", "read_fragment_yaml", "read_fragment_yaml_text", "read_labels", "read_tomtom",
           "resolve_labels", "run_fragment_location", "run_pairs", "run_sequence_scope", "summary_line"]
