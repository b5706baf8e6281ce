"""The one command line: ``combmotif <stage> <config> [--layers 1-4] [--neurons 0:64] [--force]
[--device DEV] [--debug]`` (also ``python -m combmotif``).

Layers are inclusive (``--layers 1-4``, ``--layers 3``), neurons half-open like a
Python slice (``--neurons 0:64``). Each subcommand runs a function of
:mod:`combmotif.commands` through :func:`combmotif.cli.run_cli`, so every error
is one ``error: ...`` line.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

# Before torch loads: idle OpenMP threads would spin and steal a small machine's cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from combmotif import commands  # noqa: E402
from combmotif.cli import add_stage_flags, number_in, run_cli  # noqa: E402
from combmotif.data import generate  # noqa: E402

CHECKS = ("discovery", "contribution", "interaction", "jaspar", "compare-models")


def _add_training(sub) -> None:
    from combmotif.train_config import add_override_flags

    p = sub.add_parser("train", help="train a predictor from a training config")
    p.add_argument("config", help="training config (YAML), e.g. configs/training/mrl_predictor.yaml")
    add_override_flags(p)   # --epochs, --lr, ..., --seed, --device
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")
    p.set_defaults(func=commands.train)
    p = sub.add_parser("evaluate", help="metrics, noise ceiling and scatter plot of a trained predictor")
    add_stage_flags(p, layers=None, force=False)
    p.add_argument("--checkpoint", help="checkpoint to evaluate (default: the config's output)")
    p.add_argument("--out", help="output folder (default: results/<name>/evaluation)")
    p.add_argument("--test-only", action="store_true",
                   help="score the test split alone (the training split is most of the time: 24k "
                        "half-life transcripts through a GRU)")
    p.set_defaults(func=commands.evaluate)


def _add_stages(sub) -> None:
    p = add_stage_flags(sub.add_parser("search", help="max-activation search over the training set"))
    p.add_argument("--stage", choices=("contribution", "interaction"), default="contribution",
                   help="whose config and results folder (default contribution)")
    p.set_defaults(func=commands.search)
    p = add_stage_flags(sub.add_parser("discovery", help="NeuronMotif: sampling, demixing, Tomtom, pages"),
                        neurons="override")
    p.add_argument("--step", choices=("plan", "shard", "decide", "merge"), default=None,
                   help="one step of a sharded run (the workflow's jobs; workflow/README.md): plan prints each "
                        "layer's neurons (JSON); shard stages the --neurons of one layer; decide tests the "
                        "layer's pattern groups over its shards; merge publishes the decided neurons")
    p.add_argument("--groups", type=number_in(int, 1), default=None, metavar="P",
                   help="with --step shard/decide: the pattern groups staged or tested (default: the first tried)")
    p.set_defaults(func=commands.discovery)
    add_stage_flags(sub.add_parser("contribution", help="contribution sign of every neuron"),
                    neurons="override").set_defaults(func=commands.contribution)
    p = add_stage_flags(sub.add_parser("fragments", help="the windows that drive each neuron of a layer"))
    p.add_argument("--attribution", action="store_true",
                   help="also make the output's TF-MoDISco patterns that pairs --scope sequence uses "
                        "(interaction/attribution/; they need no discovery, so this can run beside it)")
    p.set_defaults(func=commands.fragments)
    p = add_stage_flags(sub.add_parser("pairs", help="motif-pair mutagenesis and epistasis per neuron"),
                        neurons=True)
    p.add_argument("--scope", choices=("neurons", "sequence", "both"), default="neurons",
                   help="neurons: each neuron's pairs in its fragments; sequence: every candidate "
                        "motif-family pair of the layer (syntax rules, co-occurrence in the neurons' "
                        "fragments: conv<L>/candidates.csv) and the neurons' hand-written pairs over "
                        "whole sequences (conv<L>/sequences/); both: the one, then the other, in "
                        "one process")
    p.set_defaults(func=commands.pairs)
    p = add_stage_flags(sub.add_parser("spacing", help="spacing scans: each pair inserted at every gap and "
                                                        "order into shuffled backgrounds"))
    p.add_argument("--pair", nargs=2, action="append", metavar=("PATTERN_A", "PATTERN_B"),
                   help="scan this pair (IUPAC; repeat for more) instead of the layer's candidates.csv / "
                        "syntax_rules.csv")
    p.set_defaults(func=commands.spacing)
    p = add_stage_flags(sub.add_parser("compare", help="NeuronMotif against the baselines"), layers="optional",
                        neurons="override")
    p.add_argument("--no-run", action="store_true", help="only match and report what exists")
    p.set_defaults(func=commands.compare)
    add_stage_flags(sub.add_parser("report", help="rewrite the pages from every stage's outputs"),
                    layers="optional", force=False, device=False).set_defaults(func=commands.report)
    add_stage_flags(sub.add_parser("compare-models", help="what two or more interpreted models learned, side by "
                                   "side (shared and model-specific motif families, signs, pairs)"),
                    layers="optional", force=False, device=False).set_defaults(func=_compare_models)
    _add_validate(sub)


def _compare_models(args: argparse.Namespace) -> int:
    """``combmotif compare-models`` and ``validate compare-models`` (commands.py is at its size limit)."""
    from combmotif.report.compare_models_page import compare_models_command
    from combmotif.validation.compare_models import check_compare_models

    run = check_compare_models if getattr(args, "check", None) else compare_models_command
    return run(args.config, {"layers": args.layers} if args.layers else None)


def _add_validate(sub) -> None:
    checks = sub.add_parser("validate", help="check a stage against planted truth (validate <check> --help)"
                            ).add_subparsers(dest="check", required=True, metavar="{" + ",".join(CHECKS) + "}")
    truth = "truth.json or a hand-written truth file (default: truth.json of the config's data)"
    p = add_stage_flags(checks.add_parser("discovery", help="were the planted motifs found?"),
                        layers="optional", force=False, device=False)
    p.add_argument("--truth", help=truth)
    p.add_argument("--results", help="a discovery folder (default: the config's)")
    p.add_argument("--min-identity", type=number_in(float, 0, 1, low_open=True), default=0.8,
                   help="identity at which a segment recovers a motif (default 0.8)")
    p.add_argument("--per-layer", action="store_true", help="also print the best match per layer")
    p.add_argument("--tomtom", action="store_true",
                   help="also print planted motif -> best Tomtom match (q) from matches.csv")
    p.set_defaults(func=commands.validate_discovery)
    p = add_stage_flags(checks.add_parser("contribution", help="contribution signs against planted signs"),
                        force=False)
    p.add_argument("--truth", help=truth)
    p.set_defaults(func=commands.validate_contribution)
    p = add_stage_flags(checks.add_parser("interaction", help="interaction calls against planted pairs"),
                        layers="optional", force=False)
    p.add_argument("--truth", help=truth)
    p.set_defaults(func=commands.validate_interaction)
    p = add_stage_flags(checks.add_parser("jaspar", help="planted JASPAR motifs matched back to their own ID "
                                          "or TF family (the DNA set)"), layers=None, force=False, device=False)
    p.add_argument("--truth", help="the DNA set's truth.json (default: the config's data_dir)")
    p.add_argument("--db", help="the JASPAR MEME file (default: jaspar.meme beside truth.json)")
    p.add_argument("--results", nargs="+", help="method folders to score (default: the config's discovery "
                                                "folder and every baselines/<method> beside it)")
    p.add_argument("--q", type=number_in(float, 0, 1, low_open=True), default=0.05,
                   help="Tomtom q-value below which a match counts (default 0.05)")
    p.set_defaults(func=commands.validate_jaspar)
    add_stage_flags(checks.add_parser("compare-models", help="planted motifs shared / model-specific as planted "
                                      "and as found, sign changes, model-specific pairs"),
                    layers="optional", force=False, device=False).set_defaults(func=_compare_models)


def _add_generate_dna(gen) -> None:
    """``combmotif generate dna``: the DNA binding-site set with JASPAR motifs planted."""
    p = gen.add_parser("dna", help="a DNA binding-site set with JASPAR 2024 motifs planted (positives.fasta, "
                       "negatives.fasta, sites.csv, truth.json, planted.meme, jaspar.meme)")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.add_argument("--n", type=number_in(int, 100), default=40_000,
                   help="sequences in all, half positives (default 40000)")
    p.add_argument("--seed", type=number_in(int, 0), default=11, help="random seed; also picks the motifs (default 11)")
    p.add_argument("--motifs", type=number_in(int, 3, 60), default=10, help="JASPAR motifs planted (default 10)")
    p.add_argument("--pairs", type=number_in(int, 1), default=2,
                   help="required pairs among them (bind only together; default 2)")
    p.add_argument("--length", type=number_in(int, 30, 10_000), default=101, help="sequence length (default 101)")
    p.add_argument("--negatives", choices=("shuffled", "random"), default="shuffled",
                   help="negatives: dinucleotide-shuffled positives (default) or uniform random bases")
    p.set_defaults(func=generate.generate_dna)


def _add_generate(sub) -> None:
    gen = sub.add_parser("generate", help="synthetic data sets and H5 conversion").add_subparsers(
        dest="dataset", required=True, metavar="{mrl,grammar,halflife,dna,noaug,records,default}")
    for kind in ("mrl", "grammar"):
        p = gen.add_parser(kind, help="the synthetic MRL set, or one from a YAML spec (data.csv, truth.json, "
                           "planted.meme)" if kind == "mrl" else "the grammar benchmark: pairs that act only in "
                           "some arrangements (hard, soft, order-only, OR syntax) beside additive controls")
        p.add_argument("--out", required=True, help="output folder (replaced atomically)")
        if kind == "mrl":
            p.add_argument("--spec", help="YAML spec of motifs, effects and pair rules "
                                          "(generate_dataset/README.md); default: the built-in set")
        p.add_argument("--n", type=number_in(int, 100), default=None,
                       help="number of UTRs (default: the spec's; built-in MRL 100000, grammar 60000)")
        p.add_argument("--seed", type=number_in(int, 0), default=None, help="random seed (default: the spec's, 0)")
        p.add_argument("--noise-sd", type=number_in(float, 0), default=None,
                       help="noise sd (default: chosen so that the ceiling r2 is --target-r2)")
        p.add_argument("--target-r2", type=number_in(float, 0, 1, low_open=True, high_open=True),
                       default=None, help="noise ceiling r2 to aim at (default: the spec's, 0.87)")
        p.set_defaults(func=generate.generate_mrl if kind == "mrl" else generate.generate_grammar)
    p = gen.add_parser("halflife", help="the synthetic half-life set (data.h5, truth.json, planted.meme)")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.add_argument("--species", choices=("human", "mouse"), default="human",
                   help="planted rule table: human (default) or mouse (partly shared rules; "
                        "combmotif/data/synthetic_mouse.py)")
    p.add_argument("--n", type=number_in(int, 100), default=None,
                   help="number of transcripts (default 24000 human, 16000 mouse)")
    p.add_argument("--length", type=number_in(int, 512, 65_536), default=1024,
                   help="sequence length L (default 1024; Saluki: 12288)")
    p.add_argument("--seed", type=number_in(int, 0), default=None, help="random seed (default 0 human, 1 mouse)")
    p.add_argument("--noise-sd", type=number_in(float, 0), default=None,
                   help="noise sd (default: chosen so that the ceiling r is --target-r)")
    p.add_argument("--target-r", type=number_in(float, 0, 1, low_open=True, high_open=True),
                   default=0.92, help="noise ceiling r to aim at (default 0.92)")
    p.set_defaults(func=generate.generate_halflife)
    _add_generate_dna(gen)
    p = gen.add_parser("noaug", help="an MRL CSV without the UTRs whose first 50 nt hold ATG")
    p.add_argument("--csv", required=True, help="input CSV in the GSM3130435 layout")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-truth", action="store_true", help="do not carry a truth.json found beside --csv")
    p.set_defaults(func=generate.generate_noaug)
    p = gen.add_parser("records", help="transcript records (utr5, orf, utr3, exon_ends, half_life) to a Saluki H5")
    p.add_argument("--records", required=True, help="CSV or TSV of transcript records")
    p.add_argument("--out", required=True, help="output H5 file")
    p.add_argument("--length", type=number_in(int, 1), required=True, help="sequence length L (Saluki: 12288)")
    p.add_argument("--split", type=number_in(float, 0, 1), nargs=3, default=(0.8, 0.1, 0.1),
                   metavar=("TRAIN", "VALID", "TEST"), help="split fractions (default 0.8 0.1 0.1)")
    p.add_argument("--seed", type=number_in(int, 0), default=0, help="split seed (default 0)")
    p.set_defaults(func=generate.generate_records)
    p = gen.add_parser("default", help="the quick start's synthetic sets (kept when present)")
    p.add_argument("--data", help="data root (default: <repo>/data)")
    p.add_argument("--force", action="store_true", help="regenerate sets that exist")
    p.add_argument("--sets", nargs="+", choices=generate.DEFAULT_SETS, default=None, metavar="SET",
                   help=f"only these sets (default: all of {', '.join(generate.DEFAULT_SETS)}; "
                        "noaug also makes mrl, which it is made from)")
    p.set_defaults(func=lambda args: generate.generate_default(args, build_parser().parse_args))
    for p in gen.choices.values():
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``combmotif``: one subcommand per stage.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subcommand sets ``func`` to its :mod:`combmotif.commands` function.
    """
    parser = argparse.ArgumentParser(
        prog="combmotif", description="Interpret a convolutional mRNA model, one stage at a time: "
                                      "combmotif <stage> <config> [--layers 1-4] [--neurons 0:64] [--force]")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<stage>")
    _add_training(sub)
    _add_stages(sub)
    _add_generate(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``combmotif`` (exits with its status: 0 done, 1 bug, 2 user error).

    Parameters
    ----------
    argv : sequence of str, optional
        ``[<stage>, <config>, flags...]`` (default ``sys.argv[1:]``).
    """
    run_cli(lambda args: args.func(args), build_parser(), argv)


# --------------------------------------------------------------------------- the older script forms

#: How an older script's positional arguments map onto the subcommand's: the number
#: of leading positionals, then a function of them returning the new ones.
_POSITIONAL = {
    "contribution": (3, lambda a, b, cfg: [cfg, "--layers", f"{a}-{b}"]),
    "search": (3, lambda a, b, cfg: [cfg, "--layers", f"{a}-{b}"]),
    "fragments": (2, lambda layer, cfg: [cfg, "--layers", layer]),
    "pairs": (4, lambda layer, a, b, cfg: [cfg, "--layers", layer, "--neurons", f"{a}:{b}"]),
}


def legacy_argv(command: str, argv: Sequence[str], default_config: str | None = None) -> list[str]:
    """Translate an older script's arguments (``run_contribution.sh 1 4 <cfg>``,
    ``train.py --config <cfg>``, ``discover.py <cfg> --layers 1 4``) into ``combmotif``'s.

    Parameters
    ----------
    command : str
        The subcommand the script is an alias of, with its second word after a
        colon: ``search:interaction``, ``generate:mrl``, ``validate:contribution``.
    argv : sequence of str
        The script's arguments.
    default_config : str, optional
        The config a training script used when ``--config`` was not given.

    Returns
    -------
    list of str
        ``[<stage>, <config>, flags...]``; arguments that do not fit are passed on
        unchanged for the parser to refuse.
    """
    command, _, stage = command.partition(":")
    argv = list(argv)
    if command in _POSITIONAL:
        n, convert = _POSITIONAL[command]
        if len(argv) >= n and not any(a.startswith("-") for a in argv[:n]):
            argv = convert(*argv[:n]) + argv[n:]
        argv += ["--stage", stage] if stage else []
    elif command == "generate":
        argv = [stage, *argv]
    elif command == "validate":
        argv = [stage, *_legacy_check(stage, argv)]
    elif command in ("train", "evaluate"):
        config = default_config
        for i, a in enumerate(argv):
            if a == "--config" and i + 1 < len(argv):
                config = argv[i + 1]
                argv = argv[:i] + argv[i + 2:]
                break
            if a.startswith("--config="):
                config = a.split("=", 1)[1]
                argv = argv[:i] + argv[i + 1:]
                break
        argv = ([config] if config is not None else []) + argv
    elif command in ("discovery", "report"):
        for flag, n in (("--layer", 1), ("--layers", 2)):
            if flag in argv:
                i = argv.index(flag)
                argv[i:i + 1 + n] = ["--layers", "-".join(argv[i + 1:i + 1 + n])]
                break
    return [command, *argv]


def _flag_values(argv: list[str], flag: str) -> tuple[list[str], list[str]]:
    """The values of every ``flag VALUE`` in ``argv``, and ``argv`` without them."""
    values, rest, i = [], [], 0
    while i < len(argv):
        if argv[i] == flag and i + 1 < len(argv):
            values.append(argv[i + 1])
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    return values, rest


def _inclusive(layers: list[int], text: str) -> str:
    """``FIRST-LAST`` for consecutive layers; ``text`` unchanged otherwise (the parser refuses it)."""
    if layers and layers == list(range(min(layers), max(layers) + 1)):
        return f"{layers[0]}-{layers[-1]}" if len(layers) > 1 else str(layers[0])
    return text


def _legacy_check(check: str, argv: list[str]) -> list[str]:
    """The older check scripts' arguments: ``check_truth.py <first> <last> <cfg>`` (contribution),
    ``check_truth.py <cfg> --layer L`` (interaction), ``recovery_table.py [--config C]
    [--layers 1-5 (half-open) | 1,2,3]`` with the repository's MRL config and truth as defaults."""
    from .config import parse_range
    from .errors import ConfigError
    from .paths import repo_root

    if check == "contribution":
        if len(argv) >= 3 and not any(a.startswith("-") for a in argv[:3]):
            return [argv[2], "--layers", f"{argv[0]}-{argv[1]}", *argv[3:]]
        return argv
    if check == "interaction":
        values, rest = _flag_values(argv, "--layer")
        if values and all(v.isdigit() for v in values):
            return [*rest, "--layers", _inclusive(sorted({int(v) for v in values}), values[0])]
        return argv
    configs, rest = _flag_values(argv, "--config")
    config = configs[-1] if configs else str(repo_root() / "configs/interpreting/mrl_predictor.yaml")
    if "--truth" not in rest:
        rest += ["--truth", str(repo_root() / "data/synthetic_mrl/truth.json")]
    specs, rest = _flag_values(rest, "--layers")
    if specs:
        try:
            layers = sorted(set(parse_range(specs[-1])))
        except ConfigError:
            layers = []
        rest += ["--layers", _inclusive(layers, specs[-1])]
    return [config, *rest]


def legacy(command: str, default_config: str | None = None) -> None:
    """Run an older script form as ``combmotif`` (the stage folders' ``.py`` aliases).

    Parameters
    ----------
    command : str
        See :func:`legacy_argv`.
    default_config : str, optional
        See :func:`legacy_argv`.
    """
    main(legacy_argv(command, sys.argv[1:], default_config))


if __name__ == "__main__":
    main()
