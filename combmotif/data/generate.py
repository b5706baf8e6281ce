"""What ``combmotif generate {mrl,grammar,halflife,dna,noaug,records,default}`` does once its arguments are parsed.

Each function takes the parsed :class:`argparse.Namespace` of its subcommand
(:func:`combmotif.__main__.build_parser`), checks the output before any work and
writes one data set. Imports are local so that ``--help`` does not load pandas.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def generate_mrl(args: argparse.Namespace) -> int:
    """``combmotif generate mrl --out DIR [--spec FILE]``: a synthetic MRL set (data.csv, truth.json, planted.meme).

    Without ``--spec`` the built-in rules (the shipped set); with it, the spec's
    (:mod:`combmotif.data.spec`), checked before any work. Flags given on the
    command line override the spec's values.

    Parameters
    ----------
    args : argparse.Namespace
        ``out``, ``n``, ``seed``, ``noise_sd``, ``target_r2``, ``spec`` (None: defaults).

    Returns
    -------
    int
        0.
    """
    from .spec import read_spec

    spec = getattr(args, "spec", None)
    if spec is not None:
        return _generate_from_spec(args, read_spec(spec))
    from ..io import check_output_dir
    from .synthetic_mrl import make_mrl, save_mrl_set

    check_output_dir(args.out, "command line", "--out")
    t0 = time.perf_counter()
    df, truth = make_mrl(n=100_000 if args.n is None else args.n, seed=0 if args.seed is None else args.seed,
                         noise_sd=args.noise_sd, target_r2=0.87 if args.target_r2 is None else args.target_r2)
    save_mrl_set(args.out, df, truth)
    _report_mrl(args.out, df, truth, t0)
    return 0


def generate_grammar(args: argparse.Namespace) -> int:
    """``combmotif generate grammar --out DIR``: the grammar benchmark (:data:`combmotif.data.grammar.GRAMMAR_SPEC`).

    Parameters
    ----------
    args : argparse.Namespace
        ``out``, ``n``, ``seed``, ``noise_sd``, ``target_r2`` (None: the spec's).

    Returns
    -------
    int
        0.
    """
    from .grammar import GRAMMAR_SPEC
    from .spec import check_spec

    return _generate_from_spec(args, check_spec(GRAMMAR_SPEC, "grammar spec"))


def _generate_from_spec(args: argparse.Namespace, spec: dict) -> int:
    """Make and write the set a checked spec describes; the command line's flags override it."""
    from ..io import check_output_dir
    from .spec import make_from_spec
    from .synthetic_mrl import save_mrl_set

    check_output_dir(args.out, "command line", "--out")
    t0 = time.perf_counter()
    df, truth = make_from_spec(spec, n=args.n, seed=args.seed, noise_sd=args.noise_sd, target_r2=args.target_r2)
    save_mrl_set(args.out, df, truth)
    _report_mrl(args.out, df, truth, t0)
    return 0


def _report_mrl(out: str, df, truth: dict, t0: float) -> None:
    """The one line ``generate mrl`` prints."""
    c = truth["ceiling"]
    print(f"wrote {out}/ (data.csv, truth.json, planted.meme): {len(df)} UTRs, "
          f"noise sd {truth['noise']['sd']:.3f}, ceiling r2 {c['r2']:.3f} on the {c['n']} best-read UTRs "
          f"({time.perf_counter() - t0:.1f} s)")


def generate_halflife(args: argparse.Namespace) -> int:
    """``combmotif generate halflife [--species mouse] --out DIR``: a synthetic half-life set (Saluki H5 layout).

    Parameters
    ----------
    args : argparse.Namespace
        ``out``, ``species`` (human: the shipped rules; mouse:
        :mod:`combmotif.data.synthetic_mouse`), ``n``, ``length``, ``seed`` (None: the
        species' default), ``noise_sd``, ``target_r``.

    Returns
    -------
    int
        0.
    """
    from ..io import check_output_dir
    from .synthetic_halflife import make_halflife, save_halflife_set
    from .synthetic_mouse import make_mouse_halflife

    check_output_dir(args.out, "command line", "--out")
    t0 = time.perf_counter()
    mouse = getattr(args, "species", "human") == "mouse"
    make, n, seed = (make_mouse_halflife, 16_000, 1) if mouse else (make_halflife, 24_000, 0)
    splits, truth = make(n=n if args.n is None else args.n, length=args.length,
                         seed=seed if args.seed is None else args.seed, noise_sd=args.noise_sd,
                         target_r=args.target_r)
    save_halflife_set(args.out, splits, truth)
    c = truth["ceiling"]
    sizes = ", ".join(f"{k} {len(v[1])}" for k, v in splits.items())
    print(f"wrote {args.out}/ (data.h5, truth.json, planted.meme): {sizes}; L={args.length}, "
          f"noise sd {truth['noise']['sd']:.3f}, ceiling r {c['r']:.3f} on test ({time.perf_counter() - t0:.1f} s)")
    return 0


def generate_dna(args: argparse.Namespace) -> int:
    """``combmotif generate dna --out DIR``: the DNA binding-site set with JASPAR motifs planted.

    Parameters
    ----------
    args : argparse.Namespace
        ``out``, ``n``, ``seed``, ``motifs``, ``pairs``, ``length``, ``negatives``
        (:func:`combmotif.data.synthetic_dna.make_dna`).

    Returns
    -------
    int
        0.
    """
    from ..io import check_output_dir
    from .jaspar import load_jaspar
    from .synthetic_dna import check_dna_args, make_dna, save_dna_set

    check_output_dir(args.out, "command line", "--out")
    check_dna_args(args.n, args.motifs, args.length, args.pairs, negatives=args.negatives)
    t0 = time.perf_counter()
    database = load_jaspar()
    records, sites, truth = make_dna(n=args.n, seed=args.seed, k=args.motifs, length=args.length,
                                     n_pairs=args.pairs, negatives=args.negatives, database=database)
    save_dna_set(args.out, records, sites, truth, database)
    roles = {m["name"]: m["altname"] for m in truth["motifs"]}
    pairs = ", ".join(f"{roles[p['motifA']]}+{roles[p['motifB']]}" for p in truth["pairs"])
    alone = ", ".join(f"{m['altname']} ({m['name']})" for m in truth["motifs"] if m["role"] == "alone")
    print(f"wrote {args.out}/ (positives.fasta, negatives.fasta, sites.csv, truth.json, planted.meme, "
          f"jaspar.meme): {truth['n_positives']} positives, {truth['n_negatives']} negatives of "
          f"{truth['length']} bp; alone: {alone}; required pairs: {pairs} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def generate_noaug(args: argparse.Namespace) -> int:
    """``combmotif generate noaug --csv IN --out DIR``: drop every UTR whose first 50 nt hold ATG.

    A truth.json beside the input (a synthetic set) is restated for the kept UTRs
    and written with planted.meme, unless ``--no-truth``.

    Parameters
    ----------
    args : argparse.Namespace
        ``csv``, ``out``, ``no_truth``.

    Returns
    -------
    int
        0.
    """
    from ..errors import InputError
    from ..io import check_output_dir
    from ..paths import relative_path
    from .mrl import drop_aug, read_mrl_csv, write_mrl_csv
    from .truth import write_set

    check_output_dir(args.out, "command line", "--out")
    # The output folder is replaced as a whole: it must not be the one holding the input.
    if Path(args.csv).resolve().is_relative_to(Path(args.out).resolve()):
        raise InputError(f"command line: '--out' = {args.out} holds the input --csv {args.csv}; "
                         "give another folder")
    t0 = time.perf_counter()
    df = read_mrl_csv(args.csv)
    kept = drop_aug(df)
    if kept.empty:
        raise InputError(f"{args.csv}: every one of the {len(df)} UTRs contains ATG in its first "
                         "50 nt; the noAUG set would be empty")
    truth_path = Path(args.csv).parent / "truth.json"
    if truth_path.is_file() and not args.no_truth:
        from .synthetic_mrl import observed

        truth = observed(kept, truth_path)
        # Relative to the folder truth.json is written to: no absolute path of this machine.
        truth["derived_from"] = {"csv": relative_path(args.csv, args.out),
                                 "filter": "drop_aug: no ATG in the first 50 nt",
                                 "n_before": len(df)}
        write_set(args.out, truth, lambda d: write_mrl_csv(kept, d / "data.csv"))
        extra = " (+ truth.json, planted.meme)"
    else:
        write_mrl_csv(kept, Path(args.out) / "data.csv")
        extra = ""
    print(f"wrote {args.out}/data.csv{extra}: kept {len(kept)} of {len(df)} UTRs "
          f"({len(df) - len(kept)} contain ATG) ({time.perf_counter() - t0:.1f} s)")
    return 0


def generate_records(args: argparse.Namespace) -> int:
    """``combmotif generate records --records F --out X.h5 --length L``: transcript records to a Saluki H5.

    Parameters
    ----------
    args : argparse.Namespace
        ``records``, ``out``, ``length``, ``split`` (three fractions), ``seed``.

    Returns
    -------
    int
        0.
    """
    from ..errors import InputError
    from ..io import check_output_dir
    from ..paths import relative_path
    from .halflife import read_records, records_to_h5

    if abs(sum(args.split) - 1) > 1e-6:
        raise InputError(f"command line: '--split' = {' '.join(f'{f:g}' for f in args.split)}: "
                         "the three fractions must sum to 1")
    out = Path(args.out)
    if out.is_dir():
        raise InputError(f"command line: '--out' = {out}: is a folder; give the .h5 file to write")
    # A missing file is checked like a folder to be made: its nearest existing ancestor
    # must be a writable folder.
    check_output_dir(out.parent if out.is_file() else out, "command line", "--out")
    t0 = time.perf_counter()
    records = read_records(args.records)
    counts = records_to_h5(records, args.out, args.length, split_fracs=tuple(args.split), seed=args.seed,
                           attrs={"source": relative_path(args.records, out.parent)})  # as seen from the .h5
    sizes = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(f"wrote {args.out}: {sizes}; L={args.length} ({time.perf_counter() - t0:.1f} s)")
    return 0


DEFAULT_SETS = ("mrl", "noaug", "halflife", "mouse", "grammar", "dna")


def generate_default(args: argparse.Namespace, parse) -> int:
    """``combmotif generate default [--data DIR] [--force] [--sets S ...]``: the six default sets.

    ``synthetic_mrl`` (100k UTRs), its noAUG variant, ``synthetic_halflife``
    (24k transcripts), each with seed 0, ``synthetic_halflife_mouse`` (16k, seed 1;
    :mod:`combmotif.data.synthetic_mouse`), ``synthetic_grammar`` (60k UTRs, the
    grammar benchmark) and ``synthetic_dna`` (40k 101-bp DNA sequences with JASPAR
    motifs planted, seed 11); a set that exists is kept unless ``--force`` (the noAUG
    set is remade whenever the MRL set is). ``--sets`` makes only some of them (the
    quick start makes the two its stages read, MRL and half-life); a set is the same
    bytes whichever others are made beside it.

    Parameters
    ----------
    args : argparse.Namespace
        ``data`` (default ``<repo>/data``), ``force`` and ``sets`` (None: all of
        :data:`DEFAULT_SETS`).
    parse : callable
        ``argv -> Namespace`` of ``combmotif``, so each set is made with its
        subcommand's own defaults.

    Returns
    -------
    int
        0.
    """
    from ..cores import usable_cores
    from ..paths import repo_root

    data = Path(args.data) if args.data else repo_root() / "data"
    mrl, noaug, hl = data / "synthetic_mrl", data / "synthetic_mrl_noAUG", data / "synthetic_halflife"
    grammar, dna, mouse = data / "synthetic_grammar", data / "synthetic_dna", data / "synthetic_halflife_mouse"
    wanted = set(getattr(args, "sets", None) or DEFAULT_SETS)
    if "noaug" in wanted:
        wanted.add("mrl")                     # the noAUG set is the MRL set filtered
    # Per set (in DEFAULT_SETS order): its folder, the file that says it is there, its command.
    sets = {"mrl": (mrl, "truth.json", ["mrl", "--out", str(mrl), "--seed", "0"]),
            "noaug": (noaug, "data.csv", ["noaug", "--csv", str(mrl / "data.csv"), "--out", str(noaug)]),
            "halflife": (hl, "truth.json", ["halflife", "--out", str(hl), "--seed", "0"]),
            "mouse": (mouse, "truth.json", ["halflife", "--species", "mouse", "--out", str(mouse), "--seed", "1"]),
            "grammar": (grammar, "truth.json", ["grammar", "--out", str(grammar)]),
            "dna": (dna, "truth.json", ["dna", "--out", str(dna)])}
    make = {name: args.force or not (folder / marker).is_file()
            for name, (folder, marker, _) in sets.items() if name in wanted}
    if "noaug" in make:
        make["noaug"] = make["noaug"] or make["mrl"]      # remade whenever the MRL set is
    for name, made in make.items():
        if not made:
            print(f"keep {sets[name][0]} (exists; --force regenerates)")
    steps = [(make.get(name, False), folder, argv) for name, (folder, _, argv) in sets.items()]
    # The MRL set and its noAUG variant are one chain (noAUG reads the MRL csv); the others
    # stand alone. Each set has its own seed, so running them side by side writes the bytes
    # one after another would.
    chains = [c for c in ([a for a in steps[:2] if a[0]], *([a] for a in steps[2:] if a[0])) if c]
    workers = min(usable_cores(), len(chains))
    # Forking only on Linux: macOS offers it but its system libraries are not fork-safe.
    if workers <= 1 or not sys.platform.startswith("linux"):
        for chain in chains:
            print(_run_chain([argv for _, _, argv in chain], parse), end="")
        return 0
    return _generate_beside(chains, workers, parse)


def _run_chain(argvs: list[list[str]], parse=None) -> str:
    """Make the sets of one chain, one after another; their printed lines (``parse``: the
    parser, else the one :func:`_generate_beside` left for its forked processes)."""
    import contextlib
    import io

    parse = parse or _FORK_PARSE

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for argv in argvs:
            sub = parse(["generate", *argv])
            sub.func(sub)
    return out.getvalue()


def _generate_beside(chains: list[list[tuple]], workers: int, parse) -> int:
    """Run the chains of sets on ``workers`` cores, each in a forked process (so the modules
    imported here are not imported again: a fresh ``combmotif`` process spends 5 s on that,
    as long as most sets take), longest first; print their lines in the sets' order.

    Returns
    -------
    int
        0 (an error in a set is raised here, as it would be one set after another).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # What the generators import, imported once before the fork.
    from . import (  # noqa: F401
        grammar,
        halflife,
        jaspar,
        mrl,
        spec,
        synthetic_dna,
        synthetic_halflife,
        synthetic_mouse,
        synthetic_mrl,
        truth,
    )

    global _FORK_PARSE
    _FORK_PARSE = parse   # the parser cannot be pickled; a forked process inherits it
    order = sorted(range(len(chains)), key=lambda i: -_COST.get(chains[i][0][2][0], 1.0))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        lines = dict(zip(order, pool.map(_run_chain,
                                         [[argv for _, _, argv in chains[i]] for i in order])))
    for i in range(len(chains)):
        print(lines[i], end="")
    return 0


_FORK_PARSE = None
#: Rough seconds of each default set on one core, to start the long ones first.
_COST = {"dna": 8.0, "halflife": 5.0, "grammar": 1.5, "mrl": 1.5}
