"""What each ``combmotif <stage>`` subcommand does once its arguments are parsed.

Every function takes the parsed :class:`argparse.Namespace` of its subcommand
(built by :func:`combmotif.__main__.build_parser`), checks what it can before
any work, calls the stage's library functions and prints one summary per unit.
The library modules below stay free of argparse. Imports are local so that
``combmotif --help`` and the data generators do not load torch.
"""

from __future__ import annotations

import argparse
import sys


def refresh_front_page(stage) -> None:
    """Rewrite ``results/<model>/index.html`` so it links a stage's new outputs.

    The stages do not write pages themselves (the pipeline layer never imports
    the report layer); the command calls this after a stage has run.

    Parameters
    ----------
    stage : combmotif.stage.Stage
        The stage that has just written its outputs.
    """
    from .report.model_page import write_model_index

    write_model_index(stage.out.parent)


def _overrides(args: argparse.Namespace, neurons: str | None = None, layers: str | None = None) -> dict | None:
    """The config keys the flags override; None when no flag is given.

    ``--device`` overrides ``device``; ``--neurons`` the key named by ``neurons``
    (dotted for a nested one) and ``--layers`` the one named by ``layers``, where
    the stage's config selects them itself.
    """
    out: dict = {"device": args.device} if getattr(args, "device", None) else {}
    for key, value in ((neurons, getattr(args, "neurons", None)), (layers, getattr(args, "layers", None))):
        if key is None or value is None:
            continue
        head, _, tail = key.partition(".")
        # a NeuronSpan in the config's own syntax ("0-64" half-open), or a list of layers
        text = value.spec if hasattr(value, "spec") else value
        out[head] = {tail: text} if tail else text
    return out or None


# --------------------------------------------------------------------------- training


def train(args: argparse.Namespace) -> int:
    """``combmotif train <config>``: fit a predictor and write its checkpoint and record.

    Parameters
    ----------
    args : argparse.Namespace
        ``config`` and the override flags of :func:`combmotif.train_config.add_override_flags`.

    Returns
    -------
    int
        0.
    """
    from .train import check_training_inputs, train_from_config
    from .train_config import load_train_config

    cfg = load_train_config(args.config, args)
    record = train_from_config(cfg, data=check_training_inputs(cfg, args.config))
    test = record["metrics"]["test"]
    scores = (f"test AUROC={test['auroc']:.3f} AUPRC={test['auprc']:.3f} acc={test['accuracy']:.3f} "
              f"n={test['n_pos']}+{test['n_neg']}" if "auroc" in test
              else f"test r={test['pearson_r']:.3f} r2={test['r2']:.3f} n={test['n']}")
    print(f"{cfg.output.name}: best epoch {record['training']['best_epoch']} of "
          f"{record['training']['epochs_run']} ({record['training']['seconds']:.0f} s); {scores}")
    ceiling = record["metrics"].get("ceiling")
    if ceiling:
        print(f"noise ceiling on test: r={ceiling['r']:.3f} r2={ceiling['r2']:.3f}; "
              f"ratio {ceiling['target']}={ceiling['ratio']:.3f}")
    print(f"wrote {cfg.checkpoint_path}")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """``combmotif evaluate <config>``: metrics per split, noise ceiling and scatter plot.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``checkpoint``, ``out``, ``device``.

    Returns
    -------
    int
        0.
    """
    from .evaluate import evaluate_checkpoint, format_metrics
    from .io import check_output_dir
    from .layout import model_stage_dir
    from .report.plots import draw_evaluation
    from .train_config import load_train_config

    cfg = load_train_config(args.config, args)
    if args.out:
        check_output_dir(args.out, "command line", "--out")
    else:
        check_output_dir(model_stage_dir(cfg.model_results_dir, "evaluation"), args.config, "results_dir")
    record = evaluate_checkpoint(cfg, args.checkpoint, args.out, draw=draw_evaluation,
                                 splits=("test",) if args.test_only else ("train", "valid", "test"))
    print(format_metrics(record["metrics"]))
    print(f"wrote {record['out_dir']}")
    return 0


# --------------------------------------------------------------------------- interpretation stages


def search(args: argparse.Namespace) -> int:
    """``combmotif search <config> --layers A-B``: the max-activation search of a stage.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers``, ``stage`` (``contribution`` or ``interaction``), ``force``, ``device``.

    Returns
    -------
    int
        0.
    """
    from .config import load_config
    from .maxact import MaxAct
    from .stage import Stage

    if args.stage == "interaction":
        from .interaction import InteractionConfig as config_cls
    else:
        from .contribution import ContributionConfig as config_cls
    cfg = load_config(args.config, config_cls, _overrides(args))
    stage = Stage(cfg, args.config, args.stage)
    stage.check_layers(args.layers, key=None)
    for path in stage.search(args.layers, force=args.force):
        res = MaxAct.load(path)
        print(f"conv{res.layer}: {len(res.neuron_max)} neurons over {len(res.seq_max)} sequences, "
              f"RF {res.rf}; max activation {float(res.neuron_max.max()):.3g} -> {path}")
    return 0


def contribution(args: argparse.Namespace) -> int:
    """``combmotif contribution <config> --layers A-B``: contribution sign of every neuron.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers``, ``neurons`` (None: the config's), ``force``, ``device``.

    Returns
    -------
    int
        0.
    """
    import pandas as pd

    from .config import load_config
    from .contribution.stage import ContributionConfig, run_contribution, summary_line
    from .io import clean_partials
    from .report.plots import plot_contribution
    from .stage import Stage

    cfg = load_config(args.config, ContributionConfig, _overrides(args, neurons="neurons"))
    stage = Stage(cfg, args.config, "contribution")
    if args.neurons is not None:   # a bad --neurons is named as the flag, not as the config's key
        _check_neuron_flag(args, stage.check_layers(args.layers, key=None))
    stage.check_layers(args.layers)   # every layer and selection, before the first search
    stage.check_target()
    stage.search(args.layers, force=args.force)
    clean_partials(stage.out, depth=1)   # a killed run's temporaries never survive a rerun
    for L in args.layers:
        df = run_contribution(stage, L, force=args.force)
        # Drawn from the table every run (a skipped layer too): the PNG always matches the CSV.
        plot_contribution(df, stage.layer_dir(L) / "neuron_contribution.png",
                          f"{stage.name} conv{L}: {cfg.values}s of activated vs other sequences "
                          f"(threshold {cfg.threshold:g}, BH q < {cfg.alpha:g})")
        ko_path = stage.layer_dir(L) / "neuron_knockout.csv"
        ko = pd.read_csv(ko_path) if cfg.knockout.enabled and ko_path.is_file() else None
        print(summary_line(df, L, ko) + f" -> {stage.layer_dir(L) / 'neuron_contribution.csv'}")
    refresh_front_page(stage)
    return 0


def fragments(args: argparse.Namespace) -> int:
    """``combmotif fragments <config> --layers L [--attribution]``: the windows that drive each neuron.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers``, ``force``, ``device``, ``attribution``.

    Returns
    -------
    int
        0.
    """
    import numpy as np

    from .config import load_config
    from .interaction.attribution import make_attribution_patterns
    from .interaction.stage import InteractionConfig, run_fragment_location
    from .stage import Stage

    cfg = load_config(args.config, InteractionConfig, _overrides(args))
    stage = Stage(cfg, args.config, "interaction")
    stage.check_layers(args.layers, key=None)
    for layer in args.layers:
        frags = run_fragment_location(stage, layer, force=args.force)
        print(f"conv{layer}: {len(frags)} windows above {cfg.fragment_threshold:g} x max in {len(np.unique(frags.seq))}"
              f" sequences for {len(np.unique(frags.neuron))} neurons -> {stage.layer_dir(layer) / 'fragments.npz'}")
    if args.attribution:   # the output's TF-MoDISco patterns, cached for pairs --scope sequence
        print(make_attribution_patterns(stage))
    return 0


def _check_neuron_flag(args: argparse.Namespace, sizes: dict[int, list[int]]) -> dict[int, list[int]]:
    """``--neurons`` checked against every layer of ``sizes`` (layer -> its neurons); layer -> selection."""
    from .errors import ConfigError

    selected = {}
    for layer, neurons in sizes.items():
        try:
            selected[layer] = args.neurons.indices(len(neurons))
        except ConfigError as exc:
            raise ConfigError(f"--neurons {args.neurons.text} of conv{layer}: {exc}") from None
    return selected


def pairs(args: argparse.Namespace) -> int:
    """``combmotif pairs <config> --layers L --neurons A:B``: pair mutagenesis and epistasis.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers``, ``neurons`` (a :class:`~combmotif.cli.NeuronSpan`), ``force``,
        ``device``, ``scope`` (``neurons``, ``sequence``, or ``both``: one then the other).

    Returns
    -------
    int
        0.
    """
    from .config import load_config
    from .interaction.candidates import run_layer_sequences, untested_lines
    from .interaction.epistasis import fallback_line
    from .interaction.stage import InteractionConfig, run_pairs, summary_line
    from .report.interaction_page import write_interaction_page
    from .report.plots import plot_interaction_map
    from .stage import Stage

    cfg = load_config(args.config, InteractionConfig, _overrides(args))
    cfg.check_inputs(args.config)
    stage = Stage(cfg, args.config, "interaction")
    sizes = stage.check_layers(args.layers, key=None)
    stage.check_target()
    selected = _check_neuron_flag(args, sizes)   # every selection, before the first layer runs
    scope = getattr(args, "scope", "neurons")
    for layer, neurons in selected.items():
        for sequence in (False, True) if scope == "both" else (scope == "sequence",):
            if sequence:
                df, out = run_layer_sequences(stage, layer, neurons), stage.layer_dir(layer) / "sequences"
            else:
                df, out = run_pairs(stage, layer, neurons, force=args.force), stage.layer_dir(layer)
            plot_interaction_map(df, out / "interaction_map.svg",
                                 f"{stage.name} conv{layer}: motif pairs (BH q < {cfg.alpha:g})")
            print(summary_line(df, layer) + f" -> {out / 'motif_pair_stats.csv'}")
            for line in (untested_lines(df) if sequence else []) + [fallback_line(df, f"conv{layer}")]:
                if line:
                    print(line)
        write_interaction_page(stage.layer_dir(layer), stage.name)
    refresh_front_page(stage)
    return 0


def spacing(args: argparse.Namespace) -> int:
    """``combmotif spacing <config> --layers L [--pair A B]``: spacing scans of the layer's pairs.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers``, ``pair`` (None or a list of [pattern A, pattern B]), ``force``, ``device``.

    Returns
    -------
    int
        0.
    """
    from .config import load_config
    from .interaction.spacing import motif_sequence
    from .interaction.spacing_stage import check_anchor, layer_pairs, run_spacing, spacing_dir
    from .interaction.stage import InteractionConfig
    from .report.spacing_page import draw_spacing
    from .stage import Stage

    for pair, pattern in ((p, x) for p in args.pair or [] for x in p):   # refused before the model loads
        motif_sequence(pattern, f"--pair {' '.join(pair)}")
    cfg = load_config(args.config, InteractionConfig, _overrides(args))
    stage = Stage(cfg, args.config, "interaction")
    stage.check_layers(args.layers, key=None)
    stage.check_target()
    check_anchor(stage, args.config)
    chosen = {layer: layer_pairs(stage, layer, args.pair) for layer in args.layers}
    for layer, pairs in chosen.items():
        summary, scans = run_spacing(stage, layer, pairs, force=args.force)
        draw_spacing(spacing_dir(stage, layer), summary, scans, f"{stage.name} conv{layer}")
        print(f"conv{layer}: {len(scans)} of {len(pairs)} pairs scanned -> {spacing_dir(stage, layer) / 'summary.csv'}")
    print("neuron pages show each rule's scan beside its syntax tree after: combmotif report <discovery config>")
    refresh_front_page(stage)
    return 0


def discovery(args: argparse.Namespace) -> int:
    """``combmotif discovery <config> --layers A-B``: NeuronMotif sampling, demixing, Tomtom, pages.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers``, ``neurons`` (None: the config's), ``force``, ``device``.

    Returns
    -------
    int
        0.
    """
    from .layout import layer_dir
    from .neuronmotif.discovery_config import load_discovery_config
    from .neuronmotif.stage import load_model, preflight, run_discovery
    from .report.pipeline import LayerPages, overlap_wanted

    cfg = load_discovery_config(args.config, _overrides(args, neurons="layers.ind"))
    model = None
    if args.neurons is not None:   # the flag selects the neurons of every layer of the range
        cfg.layers.per_layer = {}
        model = load_model(cfg)
        _check_neuron_flag(args, _discovery_layer_sizes(model, args.layers))
    # Every layer of the range is checked before the first one is sampled; the model is loaded once.
    model = preflight(cfg, args.layers, args.config, model=model)
    if getattr(args, "step", None):   # one job of a sharded run: no matching or pages
        from .neuronmotif.shards import run_step
        return run_step(args.step, cfg, args.layers, model, args.groups)
    overlap = overlap_wanted(cfg, next(model.parameters()).device, args.layers)
    with LayerPages(cfg, overlap) as pages:
        run_discovery(cfg, args.layers, force=args.force, model=model,
                      on_layer=pages.submit if cfg.report.enabled else None)
        if cfg.report.enabled:
            print(f"pages: {pages.finish()}", file=sys.stderr)
    for layer in args.layers:
        print(f"wrote {layer_dir(cfg.discovery_dir(), layer)}")
    return 0


def _discovery_layer_sizes(model, layers) -> dict[int, range]:
    """Layer -> its neurons, for the layers of ``layers`` the model has (preflight refuses the others)."""
    from .models.anatomy import Anatomy

    anatomy = Anatomy(model)
    return {L: range(anatomy.layer(L).out_channels) for L in layers if 1 <= L <= len(anatomy)}


def compare(args: argparse.Namespace) -> int:
    """``combmotif compare <config>``: NeuronMotif against the baselines on one model.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers`` and ``neurons`` (None: the config's), ``force``, ``no_run``, ``device``.

    Returns
    -------
    int
        0.
    """
    from .baselines.common import LABELS
    from .baselines.compare import run_compare
    from .baselines.compare_config import load_compare_config
    from .report.compare_page import write_comparison_report
    from .validation.discovery import recovery_wide

    cfg = load_compare_config(args.config, _overrides(args, neurons="neurons", layers="layers"))
    comp, tables = run_compare(cfg, force=args.force, run=not args.no_run, source=args.config)
    tables = write_comparison_report(comp, tables)
    print(tables["counts"].rename(columns={"method": f"distinct motifs, q < {cfg.significance:g}"})
          .replace(LABELS).to_string(index=False))
    if "recovery" in tables:
        print()
        print(recovery_wide(tables["recovery"]).rename(columns=LABELS).to_string())
    print()
    print(tables["runtime"].replace(LABELS).to_string(index=False))
    print(f"\nwrote {comp.out / 'index.html'}")
    return 0


def report(args: argparse.Namespace) -> int:
    """``combmotif report <config> [--layers A-B]``: rewrite the pages from every stage's outputs.

    Parameters
    ----------
    args : argparse.Namespace
        ``config`` (a discovery config) and ``layers`` (None: every discovered layer).

    Returns
    -------
    int
        0.
    """
    from .errors import InputError
    from .motifs.databases import check_motif_db
    from .neuronmotif.discovery_config import load_discovery_config
    from .report.final import write_reports

    cfg = load_discovery_config(args.config)
    ddir = cfg.discovery_dir()
    if not any(ddir.glob("conv*/matches.csv")):
        raise InputError(f"{args.config}: no matched discovery outputs in {ddir} "
                         "(run combmotif discovery first)")
    check_motif_db(cfg.motif_db, args.config, "motif_db", data_dir=cfg.data_dir)
    print(f"pages: {write_reports(cfg, args.layers)}")
    return 0


def validate_discovery(args: argparse.Namespace) -> int:
    """``combmotif validate discovery <config> [--layers A-B]``: were the planted motifs found?

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers`` (None: every discovered layer), ``truth``, ``results``,
        ``min_identity``, ``per_layer``, ``tomtom``.

    Returns
    -------
    int
        0.
    """
    from .validation.discovery import report_recovery

    return report_recovery(args.config, args.truth, args.layers, args.results, args.min_identity,
                           per_layer=args.per_layer, tomtom=args.tomtom)


def validate_contribution(args: argparse.Namespace) -> int:
    """``combmotif validate contribution <config> --layers A-B``: contribution signs against planted signs.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers``, ``truth``, ``device``.

    Returns
    -------
    int
        0.
    """
    from .validation.contribution import check_contribution

    return check_contribution(args.config, args.layers, args.truth, device=args.device)


def validate_interaction(args: argparse.Namespace) -> int:
    """``combmotif validate interaction <config> [--layers L]``: interaction calls against planted pairs.

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``layers`` (None: only the whole-sequence test), ``truth``, ``device``.

    Returns
    -------
    int
        0.
    """
    from .validation.interaction import check_interaction

    return check_interaction(args.config, args.truth, args.layers, device=args.device)


def validate_jaspar(args: argparse.Namespace) -> int:
    """``combmotif validate jaspar <config>``: planted JASPAR motifs matched back (DNA set).

    Parameters
    ----------
    args : argparse.Namespace
        ``config``, ``truth``, ``db``, ``results``, ``q``.

    Returns
    -------
    int
        0.
    """
    from .validation.jaspar import report_jaspar

    return report_jaspar(args.config, args.truth, args.results, args.db, args.q)
