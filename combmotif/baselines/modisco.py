"""TF-MoDISco (modisco-lite) on gradient or in-silico-mutagenesis contributions.

Recipe (Shrikumar et al. 2018; Avsec et al. 2021):

1. *Hypothetical contributions* ``h`` (N, L, 4): what each base would
   contribute at each position. From gradients: the gradient of the target
   w.r.t. the one-hot input minus its mean over the four bases at each
   position (a gradient is defined up to a per-position constant on the
   one-hot simplex; centring removes it). From in-silico mutagenesis
   (``attribution: ism``, exact for any model, including the GRU head): the
   target with base b written at position l, minus the mean over b.
   Actual contributions are ``one_hot * h`` (input x gradient), which
   modisco-lite computes itself. DeepLIFT/DeepSHAP are not offered: they need
   reference rules per layer (captum/shap), which this environment does not
   install; ISM needs none and is cheap for 50-nt inputs.
2. ``modiscolite.tfmodisco.TFMoDISco(one_hot, hypothetical)``: seqlets,
   clustering, patterns, for the positive and the negative metacluster.
3. Export: one PPM per pattern, recomputed from its seqlets' one-hot windows
   (Laplace-smoothed like every other PPM here), with seqlet counts.

Sizes. modisco's defaults (21-nt windows, 10-nt flanks, trimming to 30 nt)
assume 400-bp inputs; on a 50-nt 5'UTR a 41-nt seqlet covers the whole
sequence and nothing is found. :func:`modisco_sizes` derives them from the
input length: window = L/6 rounded down to an odd number in [5, 21], flank =
window // 2 in [2, 10], trim = min(30, window + 2 flank): 7/3/13 at 50 nt and
modisco's 21/10/30 from ~130 nt up.

Strands. modisco-lite always aligns seqlets on both strands; an mRNA has
one. With ``strand: forward`` (default) a pattern's PPM is built from its
forward-strand seqlets only (reverse-strand ones are counted and dropped).

Determinism: modisco-lite seeds its own random steps (Leiden seeds 1..n,
RandomState(1234)); the sequences are the data set's first ones or a subset
drawn with the run's seed, so the same seed gives the same patterns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, InputError
from ..neuronmotif.ppm import PPMConfig
from ..sequences import onehot_to_codes
from .common import OUTPUT, Pattern, codes_ppm, finished, model_device, unit_dir, write_unit
from .contributions import gradient_contributions, ism_contributions, target_fn
from .max_seqlet import window_codes

METHOD = "modisco"


@dataclass
class ModiscoConfig:
    """Settings of the TF-MoDISco baseline (``methods.modisco`` of the compare config).

    Sizes left at ``null`` are derived from the input length (:func:`modisco_sizes`).
    """

    targets: list[str] = field(default_factory=lambda: ["output"])  # "output", "output:1", "conv2:5"
    attribution: Literal["gradient", "ism"] = "gradient"
    max_sequences: int | None = 5000      # sequences attributed (seeded subset when the set is larger)
    window: int | None = None             # sliding_window_size
    flank: int | None = None              # flank_size
    trim: int | None = None               # trim_to_window_size
    initial_flank: int | None = None      # initial_flank_to_add
    min_metacluster_size: int = 100
    final_min_cluster_size: int = 20
    max_seqlets: int = 2000               # max_seqlets_per_metacluster
    n_leiden_runs: int = 50
    nearest_neighbors: int = 500          # nearest_neighbors_to_compute
    target_seqlet_fdr: float = 0.2
    strand: Literal["forward", "both"] = "forward"
    pseudocount: float = 1.0
    batch_size: int = 256

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        for t in self.targets:
            parse_target(t)
        if self.max_sequences is not None and self.max_sequences < 10:
            raise ValueError("modisco.max_sequences must be >= 10")
        if self.n_leiden_runs < 1 or self.max_seqlets < 1:
            raise ValueError("modisco.n_leiden_runs and modisco.max_seqlets must be >= 1")


def parse_target(spec: str) -> tuple[int | str, int]:
    """``"output"`` -> ("output", 0); ``"output:2"`` -> ("output", 2); ``"conv3:7"`` -> (3, 7).

    Parameters
    ----------
    spec : str
        A ``modisco.targets`` entry: ``output``, ``output:<index>`` or ``conv<L>:<neuron>``.

    Returns
    -------
    tuple of (int or str, int)
        (``"output"`` or the 1-based conv layer, the output index or neuron).

    Raises
    ------
    ValueError
        When ``spec`` has none of these forms (the config loader turns it into one line).
    """
    s = str(spec).strip()
    head, _, tail = s.partition(":")
    try:
        if head == OUTPUT:
            return OUTPUT, int(tail) if tail else 0
        if head.startswith("conv") and tail:
            return int(head[4:]), int(tail)
    except ValueError:
        pass
    raise ValueError(f"modisco target {spec!r}: use 'output', 'output:<index>' or 'conv<L>:<neuron>'")


def modisco_sizes(length: int) -> dict:
    """modisco-lite window/flank/trim sizes for inputs ``length`` long (see module doc).

    Parameters
    ----------
    length : int
        Input length in nucleotides.

    Returns
    -------
    dict
        ``TFMoDISco`` keyword arguments: ``sliding_window_size``, ``flank_size``,
        ``trim_to_window_size``, ``initial_flank_to_add``, ``min_ic_windowsize``.

    Raises
    ------
    combmotif.errors.InputError
        When the inputs are shorter than the smallest seqlet (window + 2 x flank).
    """
    window = int(np.clip(length // 6, 5, 21))
    window -= 1 - window % 2                  # odd, so the core has a centre
    flank = int(np.clip(window // 2, 2, 10))
    if window + 2 * flank > length:
        raise InputError(f"inputs of {length} nt are too short for TF-MoDISco "
                         f"(a seqlet is at least {window + 2 * flank} nt)")
    return {"sliding_window_size": window, "flank_size": flank,
            "trim_to_window_size": min(30, window + 2 * flank), "initial_flank_to_add": flank,
            "min_ic_windowsize": min(6, window - 1)}


# --------------------------------------------------------------------------- modisco


@dataclass
class ModiscoPattern:
    """One exported pattern with its seqlets' coordinates (forward-strand subset used)."""

    pattern: Pattern
    sign: int
    example: np.ndarray
    start: np.ndarray
    end: np.ndarray
    revcomp: np.ndarray


def run_tfmodisco(one_hot: np.ndarray, hyp: np.ndarray, cfg: ModiscoConfig) -> tuple[list, list, dict]:
    """modisco-lite on (N, L, 4) one-hot and hypothetical contributions; (pos, neg, sizes used).

    Parameters
    ----------
    one_hot, hyp : numpy.ndarray
        (N, L, 4) one-hot sequences and their hypothetical contributions.
    cfg : ModiscoConfig
        The method's settings; sizes it leaves at None come from :func:`modisco_sizes`.

    Returns
    -------
    tuple of (list, list, dict)
        Positive and negative metacluster patterns (modisco-lite's), and the sizes used.

    Raises
    ------
    combmotif.errors.InputError
        When the inputs are too short for the derived sizes.
    combmotif.errors.ConfigError
        When the configured window + 2 x flank exceeds the input length.
    """
    from modiscolite.tfmodisco import TFMoDISco

    sizes = modisco_sizes(one_hot.shape[1])
    for key, value in (("sliding_window_size", cfg.window), ("flank_size", cfg.flank),
                       ("trim_to_window_size", cfg.trim), ("initial_flank_to_add", cfg.initial_flank)):
        if value is not None:
            sizes[key] = int(value)
    if sizes["sliding_window_size"] + 2 * sizes["flank_size"] > one_hot.shape[1]:
        raise ConfigError(f"modisco: window + 2 x flank exceeds the input length {one_hot.shape[1]}")
    _stop_tqdm_monitor()
    # modisco-lite sets numba's thread count, which with numba's OpenMP layer is also torch's
    # (one libgomp): restore it, or every later torch op pays for threads the caller did not want.
    threads = torch.get_num_threads()
    try:
        with np.errstate(divide="ignore", invalid="ignore"):   # its empty-pattern PPMs divide 0 by 0
            pos, neg = TFMoDISco(
                np.ascontiguousarray(one_hot, dtype=np.float32), np.ascontiguousarray(hyp, dtype=np.float32),
                min_metacluster_size=cfg.min_metacluster_size, max_seqlets_per_metacluster=cfg.max_seqlets,
                target_seqlet_fdr=cfg.target_seqlet_fdr, n_leiden_runs=cfg.n_leiden_runs,
                nearest_neighbors_to_compute=cfg.nearest_neighbors,
                final_min_cluster_size=cfg.final_min_cluster_size, final_flank_to_add=0, **sizes)
    finally:
        torch.set_num_threads(threads)
    return list(pos or []), list(neg or []), sizes


def _stop_tqdm_monitor() -> None:
    """Stop tqdm's monitor thread (tqdm restarts it with the next bar).

    modisco-lite compiles its numba kernels in forked children, into numba's
    on-disk cache, only when this process runs no other Python thread; a
    progress bar shown earlier (tqdm starts a monitor thread) makes it compile
    them here, uncached, which costs ~30 s on every run.
    """
    import threading

    from tqdm._monitor import TMonitor

    for thread in threading.enumerate():
        if isinstance(thread, TMonitor):
            thread.exit()
            # The bar class that started it (tqdm.auto's subclass has its own attribute).
            if getattr(thread.tqdm_cls, "monitor", None) is thread:
                thread.tqdm_cls.monitor = None


def export_patterns(patterns: Sequence, sign: int, codes: np.ndarray, strand: str = "forward",
                    pseudocount: float = 1.0) -> list[ModiscoPattern]:
    """PPMs of modisco-lite patterns from their seqlets' bases (codes (N, L), 4 = no base).

    Parameters
    ----------
    patterns : sequence
        modisco-lite patterns (with ``seqlets`` and ``contrib_scores``).
    sign : int
        +1 for the positive metacluster, -1 for the negative one.
    codes : numpy.ndarray
        (N, L) integer-encoded sequences the seqlets index.
    strand : str
        ``"forward"`` (default): forward-strand seqlets only (a pattern without one is dropped);
        ``"both"``: reverse-strand seqlets too, reverse-complemented.
    pseudocount : float
        Laplace pseudocount per base (default 1.0).

    Returns
    -------
    list of ModiscoPattern
        Per pattern: a :class:`Pattern` (size = seqlets used, score = |total contribution|, info
        ``sign``, ``contribution``, ``n_seqlets``, ``n_reverse_strand``) and the used seqlets.
    """
    out = []
    for p in patterns:
        seqlets = p.seqlets
        ex = np.array([s.example_idx for s in seqlets], dtype=np.int64)
        st = np.array([s.start for s in seqlets], dtype=np.int64)
        en = np.array([s.end for s in seqlets], dtype=np.int64)
        rc = np.array([bool(s.is_revcomp) for s in seqlets])
        width = int((en - st).max())
        win = window_codes(codes, ex, st, width)
        # Positions past a shorter seqlet's end count as no base.
        win[np.arange(width)[None, :] >= (en - st)[:, None]] = 4
        if strand == "both":
            rev = np.where(win[:, ::-1] < 4, 3 - win[:, ::-1], 4)
            win = np.where(rc[:, None], rev, win)
            use = np.ones(len(ex), dtype=bool)
        else:
            use = ~rc
        if not use.any():
            continue
        ppm = codes_ppm(win[use], None, pseudocount)
        contrib = float(np.sum(p.contrib_scores))
        out.append(ModiscoPattern(
            Pattern(ppm, int(use.sum()), abs(contrib),
                    {"sign": "+" if sign > 0 else "-", "contribution": contrib,
                     "n_seqlets": int(len(ex)), "n_reverse_strand": int(rc.sum())}),
            sign, ex[use], st[use], en[use], rc[use]))
    return out


def pick_sequences(n: int, max_sequences: int | None, seed: int) -> np.ndarray:
    """The data set rows TF-MoDISco attributes: all, or a seeded subset.

    Parameters
    ----------
    n, seed : int
        Sequences in the data set; seed of the subset draw (same seed, same rows).
    max_sequences : int or None
        At most this many; None: all.

    Returns
    -------
    numpy.ndarray
        Sorted row indices.
    """
    if max_sequences is None or n <= max_sequences:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_sequences, replace=False))


def modisco_unit(fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray, cfg: ModiscoConfig,
                 device="cpu") -> tuple[list[ModiscoPattern], dict]:
    """Contributions of ``fn`` on ``X`` (N, C, L), modisco-lite, exported patterns (+ then -).

    Parameters
    ----------
    fn : callable
        x (B, C, L) -> (B,) target (:func:`target_fn`).
    X : numpy.ndarray
        (N, C, L) one-hot inputs.
    cfg : ModiscoConfig
        The method's settings (``attribution`` picks gradients or ISM).
    device : str or torch.device
        Where ``fn`` runs (default ``"cpu"``).

    Returns
    -------
    tuple of (list of ModiscoPattern, dict)
        Positive-metacluster patterns, then negative ones; unit header fields (``n_sequences``,
        ``attribution``, ``strand``, ``n_positive_patterns``, ``n_negative_patterns``, sizes used).
    """
    if cfg.attribution == "ism":
        hyp = ism_contributions(fn, X, batch_size=max(4096, cfg.batch_size), device=device)
    else:
        hyp = gradient_contributions(fn, X, cfg.batch_size, device)
    codes = onehot_to_codes(X)
    one_hot = (codes[..., None] == np.arange(4)).astype(np.float32)
    pos, neg, sizes = run_tfmodisco(one_hot, hyp, cfg)
    pats = (export_patterns(pos, +1, codes, cfg.strand, cfg.pseudocount)
            + export_patterns(neg, -1, codes, cfg.strand, cfg.pseudocount))
    info = {"n_sequences": int(len(X)), "attribution": cfg.attribution, "strand": cfg.strand,
            "n_positive_patterns": len(pos), "n_negative_patterns": len(neg), **sizes}
    return pats, info


def run_modisco(model: nn.Module, out_dir: str | Path, cfg: ModiscoConfig, X: np.ndarray, in_channels: int,
                seed: int = 0, ppm_cfg: PPMConfig | None = None, force: bool = False,
                targets: Sequence[str] | None = None) -> list[dict]:
    """Run every target of ``cfg`` (or ``targets``) and write its unit folder; one record per target.

    A unit folder also holds ``seqlets.npz``: ``pattern``, ``sequence`` row, ``start``, ``end``, ``reverse``.

    Parameters
    ----------
    model : nn.Module
        The model; set to eval mode.
    out_dir : str or Path
        The method's folder, ``results/<model>/baselines/modisco``.
    cfg : ModiscoConfig
        The method's settings.
    X : numpy.ndarray
        (N, C, L) the data set's one-hot inputs.
    in_channels, seed : int
        Input tracks of the model; seed of the sequence subset (default 0).
    ppm_cfg : PPMConfig, optional
        Segment rule of the unit files; default ``PPMConfig()``.
    force : bool
        Recompute finished units (default False; else they are skipped).
    targets : sequence of str, optional
        Target specs (:func:`parse_target`) run instead of ``cfg.targets``.

    Returns
    -------
    list of dict
        Per target: ``method``, ``layer``, ``units`` (1), ``computed`` (0 if skipped) and ``seconds``.
    """
    device = model_device(model)
    model.eval()
    records = []
    rows = pick_sequences(len(X), cfg.max_sequences, seed)
    for spec in targets or cfg.targets:
        target = parse_target(spec)
        layer, k = target
        path = unit_dir(out_dir, layer, k)
        if finished(path) and not force:
            records.append({"method": METHOD, "layer": layer, "units": 1, "computed": 0, "seconds": None})
            continue
        t0 = time.perf_counter()
        Xs = np.ascontiguousarray(X[rows])
        pats, info = modisco_unit(target_fn(model, target, in_channels), Xs, cfg, device)
        ids = np.concatenate([np.full(len(p.example), i) for i, p in enumerate(pats)] or [np.zeros(0)])

        def cat(a):
            return np.concatenate(a) if a else np.zeros(0, np.int64)

        write_unit(path, METHOD, layer, k, [p.pattern for p in pats], ppm_cfg, info, npz={
            "seqlets.npz": {"pattern": ids.astype(np.int32),
                            "sequence": rows[cat([p.example for p in pats]).astype(np.int64)],
                            "start": cat([p.start for p in pats]), "end": cat([p.end for p in pats]),
                            "reverse": cat([p.revcomp for p in pats]).astype(bool)}})
        records.append({"method": METHOD, "layer": layer, "units": 1, "computed": 1,
                        "seconds": time.perf_counter() - t0})
    return records
