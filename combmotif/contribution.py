"""Which way does each neuron's motif push the prediction?

For conv layer ``L`` and neuron ``k`` a sequence is *activated* when the
neuron's maximum over all its windows reaches ``threshold`` x the neuron's
maximum over the whole set (default 0.7, as the seeds). The model's
predictions (default; the observed labels on request) of activated and
non-activated sequences are compared:

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
(``knockout``): for up to ``knockout.sequences`` activated sequences, the
window that drives the neuron (its receptive field at the maximum) is
dinucleotide-shuffled ``knockout.replicates`` times, other tracks left as
they are, and the model predicts again. Per sequence the push of the window is
``f(original) - mean f(shuffled)``; per neuron its mean, ``dz`` (mean / sd),
a Wilcoxon signed-rank test against 0, BH over the layer's neurons, and the
same positive / negative / neutral call (q < alpha and |dz| >= min_abs_d).

Outputs (``results/<model>/contribution/conv<L>/``): ``neuron_contribution.csv``
and ``neuron_contribution.png``; ``neuron_knockout.csv`` with the knockout.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from . import stats
from .checkpoint import check_device
from .config import check_selection, load_config, parse_range, path_field
from .errors import ConfigError, InputError
from .io import atomic_path, clean_partials, fault_point, read_stamp, settings_changes, write_json
from .maxact import DataSpec, MaxAct, Stage, build_parser, layer_range
from .models.loader import ModelSpec

CLASS_COLOURS = {"positive": "#c0392b", "negative": "#2471a3", "neutral": "#9e9e9e"}
CSV_COLUMNS = ["task", "layer", "neuron", "target", "contribution", "effect", "d", "t", "p", "q",
               "mw_p", "mw_q", "n_active", "n_inactive", "mean_active", "mean_inactive",
               "threshold", "values", "reason"]
# what check_truth.py adds up over layers (matched neurons, then how they are counted)
TRUTH_COUNTS = ("neurons", "mixed", "confounded", "confounded_as_planted", "agree", "neutral", "opposite")
KNOCKOUT_COLUMNS = ["task", "layer", "neuron", "target", "contribution", "effect", "ci_low", "ci_high",
                    "dz", "p", "q", "n", "replicates", "not_deactivated", "window", "threshold", "reason"]


# --------------------------------------------------------------------------- statistics


def activated(seq_max: np.ndarray, neuron_max: np.ndarray, threshold: float = 0.7) -> np.ndarray:
    """(N, C) bool: sequence i activates neuron k (its max >= threshold x the neuron's max).

    A neuron whose maximum is not positive activates nothing.
    """
    neuron_max = np.asarray(neuron_max, dtype=np.float64)
    return (np.asarray(seq_max) >= threshold * neuron_max[None, :]) & (neuron_max[None, :] > 0)


def contribution_table(values: np.ndarray, active: np.ndarray, layer: int,
                       neurons: Sequence[int] | None = None, min_n: int = 10, alpha: float = 0.05,
                       threshold: float = 0.7, value_kind: str = "prediction",
                       target: int = 0, min_abs_d: float = 0.0) -> pd.DataFrame:
    """Per-neuron contribution statistics; BH over the neurons that were tested.

    A neuron is ``positive``/``negative`` when q < ``alpha`` and |d| >=
    ``min_abs_d`` (with tens of thousands of sequences a negligible difference
    is already significant; ``min_abs_d`` keeps such neurons ``neutral``).

    Parameters
    ----------
    values : (N,) predictions or labels of the sequences.
    active : (N, C) bool from :func:`activated`.
    neurons : which columns to report (default all); the q-values are computed
        over these only.
    """
    values = np.asarray(values, dtype=np.float64)
    active = np.asarray(active, dtype=bool)
    if values.ndim != 1 or len(values) != len(active):
        raise InputError(f"contribution: {len(values)} values for {len(active)} sequences")
    cols = list(range(active.shape[1])) if neurons is None else [int(k) for k in neurons]
    rows = []
    for k in cols:
        on = values[active[:, k]]
        off = values[~active[:, k]]
        row = {"task": f"conv{layer}_neuron{k}", "layer": layer, "neuron": k, "target": target,
               "n_active": len(on), "n_inactive": len(off), "threshold": threshold,
               "values": value_kind, "effect": np.nan, "d": np.nan, "t": np.nan, "p": np.nan,
               "mw_p": np.nan, "mean_active": on.mean() if len(on) else np.nan,
               "mean_inactive": off.mean() if len(off) else np.nan, "reason": ""}
        if min(len(on), len(off)) < max(min_n, 2):
            row["reason"] = (f"too few activated sequences ({len(on)} < {min_n})" if len(on) < min_n
                             else f"too few non-activated sequences ({len(off)} < {min_n})")
        else:
            row["effect"] = on.mean() - off.mean()
            row["d"] = stats.cohens_d(on, off)
            row["t"], row["p"] = stats.welch_p(on, off)
            row["mw_p"] = stats.mannwhitney_p(on, off)
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=CSV_COLUMNS)
    df["q"] = stats.bh_qvalues(df["p"].to_numpy())
    df["mw_q"] = stats.bh_qvalues(df["mw_p"].to_numpy())
    return _call_signs(df, "d", alpha, min_abs_d)[CSV_COLUMNS]


def _call_signs(df: pd.DataFrame, size: str, alpha: float, min_abs_d: float) -> pd.DataFrame:
    """``contribution`` from ``q``, ``effect`` and the standardised effect column ``size``;
    the ``reason`` of a neutral call (q >= alpha, or a negligible effect)."""
    sig = (df["q"] < alpha).to_numpy()
    small = sig & (df[size].abs() < min_abs_d).to_numpy()
    call = sig & ~small
    df["contribution"] = np.where(call & (df["effect"] > 0), "positive",
                                  np.where(call & (df["effect"] < 0), "negative", "neutral"))
    df.loc[(df["reason"] == "") & ~sig, "reason"] = f"q >= {alpha:g}"
    df.loc[small, "reason"] = f"|{size}| < {min_abs_d:g} (negligible)"
    return df


def knockout_windows(res: MaxAct, seqs: np.ndarray, neuron: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of the window driving ``neuron`` in each of ``seqs``, clipped to the sequence."""
    raw = res.offset + res.seq_pos[seqs, neuron].astype(np.int64) * res.stride
    return np.clip(raw, 0, length), np.clip(raw + res.rf, 0, length)


def shuffle_windows(X: np.ndarray, seqs: np.ndarray, start: np.ndarray, end: np.ndarray,
                    replicates: int, rng: np.random.Generator) -> np.ndarray:
    """``replicates`` copies of ``X[seqs]`` with each window dinucleotide-shuffled.

    Returns (replicates * len(seqs), C, L), replicate-major. Only the four base
    channels change; extra tracks (codon, splice) stay as they are.
    """
    from .maxact import codes_to_strings, sequence_codes
    from .sequences import dinucleotide_shuffle

    base = np.asarray(X[seqs], dtype=np.float32)
    codes = sequence_codes(base)
    out = np.repeat(base[None], replicates, axis=0)
    eye = np.eye(5, dtype=np.float32)[:, :4]          # code 4 (no base) -> all zero
    lookup = {c: i for i, c in enumerate("ACGTN")}
    texts = codes_to_strings(codes)
    for j, (text, a, b) in enumerate(zip(texts, start.tolist(), end.tolist())):
        window = text[a:b]
        for r in range(replicates):
            shuffled = dinucleotide_shuffle(window, rng)
            out[r, j, :4, a:b] = eye[[lookup.get(c, 4) for c in shuffled]].T
    return out.reshape(replicates * len(seqs), *base.shape[1:])


def knockout_table(predict, X: np.ndarray, res: MaxAct, active: np.ndarray, layer: int,
                   neurons: Sequence[int], sequences: int = 200, replicates: int = 3,
                   alpha: float = 0.05, min_abs_d: float = 0.0, threshold: float = 0.7,
                   target: int = 0, min_n: int = 10, seed: int = 0,
                   n_boot: int = 1000, neuron_max=None, draws: int = 4,
                   original: np.ndarray | None = None) -> pd.DataFrame:
    """Causal contribution: what the model loses when a neuron's driving window is shuffled.

    Parameters
    ----------
    predict : callable (n, C, L) array -> (n,) predictions on the label scale.
    active : (N, C) bool from :func:`activated`; up to ``sequences`` activated
        sequences per neuron are drawn (seeded by ``seed``, layer and neuron).
    neuron_max : callable ``(x, k) -> (n,)``, neuron ``k``'s maximum over positions.
        When given, ``draws`` x ``replicates`` shuffles are drawn per window and
        the first ``replicates`` that leave the neuron below ``threshold`` x its
        maximum are kept: a dinucleotide shuffle of an ATG-rich window often
        rebuilds ATG, which moves the motif instead of removing it. Windows
        without enough such shuffles keep their least activating ones
        (``not_deactivated`` counts them).
    original : (N,) array, optional
        ``predict(X)`` already computed (the stage caches it); predicted here otherwise.
    """
    length = int(X.shape[-1])
    rows = []
    for k in [int(k) for k in neurons]:
        row = {"task": f"conv{layer}_neuron{k}", "layer": layer, "neuron": k, "target": target,
               "effect": np.nan, "ci_low": np.nan, "ci_high": np.nan, "dz": np.nan, "p": np.nan,
               "n": 0, "replicates": replicates, "not_deactivated": 0, "window": res.rf,
               "threshold": threshold, "reason": ""}
        idx = np.flatnonzero(active[:, k])
        if len(idx) < min_n:
            row["reason"] = f"too few activated sequences ({len(idx)} < {min_n})"
            rows.append(row)
            continue
        rng = np.random.default_rng([seed, layer, k])
        if len(idx) > sequences:
            idx = np.sort(rng.choice(idx, sequences, replace=False))
        start, end = knockout_windows(res, idx, k, length)
        n = len(idx)
        if neuron_max is None:
            mutated = shuffle_windows(X, idx, start, end, replicates, rng)
        else:
            pool = shuffle_windows(X, idx, start, end, replicates * draws, rng)
            act = np.asarray(neuron_max(pool, k), dtype=np.float64).reshape(replicates * draws, n)
            off = act < threshold * res.neuron_max[k]
            # per sequence: deactivating draws first (in draw order), then the least activating
            order = np.lexsort((np.where(off, 0.0, act), ~off), axis=0)[:replicates]
            row["not_deactivated"] = int((off.sum(0) < replicates).sum())
            pick = order * n + np.arange(n)[None, :]
            mutated = pool[pick.reshape(-1)]
        f0 = np.asarray(predict(np.asarray(X[idx], dtype=np.float32)) if original is None
                        else original[idx], dtype=np.float64)
        f1 = np.asarray(predict(mutated), dtype=np.float64).reshape(replicates, n).mean(0)
        push = f0 - f1
        sd = push.std(ddof=1)
        row.update(effect=push.mean(), dz=push.mean() / sd if sd > 0 else np.nan,
                   p=stats.wilcoxon_p(push), n=len(idx))
        row["ci_low"], row["ci_high"] = stats.bootstrap_ci(push, n_boot=n_boot, seed=seed + k)
        rows.append(row)
    df = pd.DataFrame(rows, columns=[c for c in KNOCKOUT_COLUMNS if c not in ("contribution", "q")])
    if df.empty:
        return pd.DataFrame(columns=KNOCKOUT_COLUMNS)
    df["q"] = stats.bh_qvalues(df["p"].to_numpy(dtype=np.float64))
    return _call_signs(df, "dz", alpha, min_abs_d)[KNOCKOUT_COLUMNS]


def plot_contribution(df: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Effect (difference of means) per neuron, coloured by contribution class."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 0.12 * len(df) + 2), 3.2))
    effect = df["effect"].fillna(0.0).to_numpy()
    colours = [CLASS_COLOURS[c] for c in df["contribution"]]
    ax.bar(np.arange(len(df)), effect, color=colours, width=0.8)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("neuron")
    ax.set_ylabel("mean(activated) - mean(not)")
    step = max(1, len(df) // 16)
    ax.set_xticks(np.arange(len(df))[::step])
    ax.set_xticklabels(df["neuron"].to_numpy()[::step])
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in CLASS_COLOURS.values()]
    counts = df["contribution"].value_counts()
    ax.legend(handles, [f"{k} ({counts.get(k, 0)})" for k in CLASS_COLOURS], fontsize=7, frameon=False)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def motif_matches(codes: np.ndarray, res: MaxAct, active: np.ndarray, motifs: dict[str, str],
                  min_fraction: float = 0.5, min_enrichment: float = 2.0,
                  max_sequences: int = 20000, groups: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Which planted motif a neuron detects, from the windows that activate it.

    For every neuron, the best window of each activated sequence (where its
    maximum is reached) is scanned for every motif consensus, letting a match
    stick out of the window by up to half its length (a neuron with a receptive
    field about as long as the motif often sees only most of it). ``fraction``
    is the share of those windows holding the motif, ``background`` the share
    among the best windows of non-activated sequences. A neuron *matches* a
    motif when fraction >= ``min_fraction`` and >= ``min_enrichment`` x
    background while every other motif's fraction stays below
    ``min_fraction`` (a neuron whose windows mostly hold several motifs matches
    none). Motifs with the same consensus are one entry named ``a/b``. Only the first ``max_sequences``
    sequences are scanned (memory: N x C windows). ``groups`` (name -> motif
    names, e.g. the planted motifs of each sign) adds ``on:group:<name>`` /
    ``off:group:<name>``: the share of windows holding any motif of the group.
    """
    from .data.truth import scan
    from .maxact import Fragments, fragment_codes

    active = active[:max_sequences]
    n, c = active.shape
    pos = res.seq_pos[:n].reshape(-1).astype(np.int64)
    raw = res.offset + pos * res.stride
    merged: dict[str, list[str]] = {}
    for name, cons in motifs.items():
        merged.setdefault(cons.upper().replace("U", "T"), []).append(name)
    motifs = {"/".join(names): cons for cons, names in merged.items()}
    fractions = {}
    hits: dict[str, np.ndarray] = {}
    for name, cons in motifs.items():
        ext = len(cons) // 2
        fr = Fragments(layer=res.layer, threshold=0.0, rf=res.rf + 2 * ext, neuron=np.tile(np.arange(c), n),
                       seq=np.repeat(np.arange(n), c), pos=pos, raw_start=raw - ext, start=raw, end=raw,
                       activation=res.seq_max[:n].reshape(-1))
        hit = scan(fragment_codes(codes[:n], fr), cons).any(1).reshape(n, c)
        hits[name] = hit
        fractions[name] = _shares(hit, active)
    names = list(motifs)
    rows = []
    for k in range(c):
        ranked = sorted(names, key=lambda m: -fractions[m][0][k])
        best = ranked[0] if ranked else None
        on, off = (fractions[best][0][k], fractions[best][1][k]) if best else (np.nan, np.nan)
        second = fractions[ranked[1]][0][k] if len(ranked) > 1 else 0.0
        ok = (best is not None and active[:, k].any() and on >= min_fraction
              and on >= min_enrichment * off and second < min_fraction)
        rows.append({"neuron": k, "motif": best if ok else "", "fraction": on, "background": off,
                     "best": best or "", "second": second, "n_active": int(active[:, k].sum())})
    df = pd.DataFrame(rows)
    for name in names:   # every motif's share, for the mixed-sign check of compare_with_truth
        df[f"on:{name}"], df[f"off:{name}"] = fractions[name]
    for g, members in (groups or {}).items():
        keys = [k for k in hits if set(k.split("/")) & set(members)]
        union = np.logical_or.reduce([hits[k] for k in keys]) if keys else np.zeros((n, c), bool)
        df[f"on:group:{g}"], df[f"off:group:{g}"] = _shares(union, active)
    return df


def _shares(hit: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron: the share of activated and of non-activated sequences whose best window hits."""
    on = (hit & active).sum(0) / np.maximum(active.sum(0), 1)
    off = (hit & ~active).sum(0) / np.maximum((~active).sum(0), 1)
    return on, off


def planted_signs(truth: dict) -> dict[str, str]:
    """``{motif name: 'positive' | 'negative'}`` of a truth.json (its ``sign``, else the effect's)."""
    return {m["name"]: m.get("sign") or ("positive" if m["effect"] > 0 else "negative")
            for m in truth["motifs"]}


def compare_with_truth(table: pd.DataFrame, matches: pd.DataFrame, truth: dict,
                       min_mixed: float = 0.25, min_enrichment: float = 2.0,
                       reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per planted motif with a sign: the neurons matching it and their contribution calls.

    A matching neuron whose activating windows also hold a planted motif of the
    opposite sign (>= ``min_mixed`` of them and >= ``min_enrichment`` x its
    background; needs the ``on:``/``off:`` columns of :func:`motif_matches`) is
    *mixed*: it detects a combination that pushes both ways, so its sign is not
    that of one motif. Where the table has ``on:group:<sign>`` columns (planted
    motifs grouped by sign), the opposite sign's motifs also count together: a
    neuron pairing a stabilising element with any of several destabilising ones
    is mixed even when each partner alone stays under ``min_mixed``.
    Mixed neurons are counted apart, not as agree/opposite.

    ``reference`` (``neuron``, ``contribution``) is the same measure run on the
    planted rule itself (the noise-free label, as ``check_truth.py`` runs it). A
    pure neuron whose reference call is not its motif's sign is *confounded*:
    even the planted rule, split the same way, does not show that sign (in an
    association, a co-planted partner of the opposite sign can cancel it), so
    no model could. Confounded neurons are counted apart as well;
    ``confounded_as_planted`` says how many of them got the reference's call.
    """
    signs = planted_signs(truth)
    ref_calls = None if reference is None else reference.set_index("neuron")["contribution"]
    t = table.merge(matches, on="neuron")
    out = []
    for m in truth["motifs"]:
        sign = signs[m["name"]]
        mine = t[[m["name"] in str(name).split("/") for name in t["motif"]]]
        other_sign = "negative" if sign == "positive" else "positive"
        shares = [c[3:] for c in t.columns if c.startswith("on:") and (
            c == f"on:group:{other_sign}" or any(signs.get(n) == other_sign for n in c[3:].split("/")))]
        mixed = np.zeros(len(mine), bool)
        for key in shares:
            on, off = mine["on:" + key].to_numpy(), mine["off:" + key].to_numpy()
            mixed |= (on >= min_mixed) & (on >= min_enrichment * off)
        pure = mine[~mixed]
        # what the planted rule gives each pure neuron under the same measure (no reference: its sign)
        expected = (np.full(len(pure), sign, dtype=object) if reference is None else
                    pure["neuron"].map(ref_calls).to_numpy())
        confounded = expected != sign
        judged = pure[~confounded]
        calls = judged["contribution"].value_counts()
        out.append({"motif": m["name"], "consensus": m["consensus"], "planted": sign,
               "effect": m["effect"], "neurons": len(mine), "mixed": int(mixed.sum()),
               "confounded": int(confounded.sum()),
               "confounded_as_planted": int((pure["contribution"].to_numpy() == expected)[confounded].sum()),
               "agree": int(calls.get(sign, 0)), "neutral": int(calls.get("neutral", 0)),
               "opposite": int(len(judged) - calls.get(sign, 0) - calls.get("neutral", 0)),
               "neuron_ids": " ".join(str(k) for k in judged["neuron"]),
               "mixed_ids": " ".join(str(k) for k in mine["neuron"][mixed]),
               "confounded_ids": " ".join(str(k) for k in pure["neuron"][confounded])})
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- config and stage runs


@dataclass
class KnockoutConfig:
    """The ``knockout:`` section: the causal check of each neuron's sign."""

    enabled: bool = True
    sequences: int = 200          # activated sequences per neuron (a seeded draw)
    replicates: int = 3           # dinucleotide shuffles of each window, averaged
    draws: int = 4                # shuffles drawn per replicate to find ones that silence the neuron

    def validate(self) -> None:
        if self.sequences < 2 or self.replicates < 1 or self.draws < 1:
            raise ValueError("'knockout.sequences' must be >= 2, 'knockout.replicates' and "
                             "'knockout.draws' >= 1")


@dataclass
class ContributionConfig:
    """``configs/contribution/<model>.yaml``."""

    model: ModelSpec
    data: DataSpec = field(default_factory=DataSpec)
    results_dir: str | None = path_field(None)
    neurons: str | int | list = "all"
    threshold: float = 0.7
    values: Literal["prediction", "label"] = "prediction"
    target_index: int = 0
    min_n: int = 10
    alpha: float = 0.05
    min_abs_d: float = 0.0
    activation_tracks: Literal["zero", "keep"] = "zero"
    knockout: KnockoutConfig = field(default_factory=KnockoutConfig)
    batch_size: int = 1024
    device: str = "auto"
    seed: int = 2024

    def validate(self) -> None:
        if self.min_abs_d < 0:
            raise ValueError(f"'min_abs_d' must be >= 0; got {self.min_abs_d}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"'threshold' must be in (0, 1]; got {self.threshold}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"'alpha' must be in (0, 1); got {self.alpha}")
        if self.min_n < 2 or self.batch_size < 1:
            raise ValueError("'min_n' must be >= 2 and 'batch_size' >= 1")
        if self.target_index < 0:
            raise ValueError(f"'target_index' must be >= 0; got {self.target_index}")
        check_selection(self.neurons, "neurons")
        check_device(self.device)


def select_target(values: np.ndarray, index: int) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim == 1:
        if index != 0:
            raise ConfigError(f"'target_index' is {index} but the model has one target")
        return values
    if not 0 <= index < values.shape[1]:
        raise ConfigError(f"'target_index' {index} out of range (model has {values.shape[1]} targets)")
    return values[:, index]


#: Settings that shape each unit of a layer (beside the weights and data in ``Stage.fingerprint``).
ASSOCIATION_SETTINGS = ("neurons", "threshold", "values", "target_index", "min_n", "alpha", "min_abs_d")
KNOCKOUT_SETTINGS = ("neurons", "threshold", "target_index", "min_n", "alpha", "min_abs_d", "seed",
                     "knockout", "batch_size")


def _stamp_path(csv: Path) -> Path:
    return csv.with_suffix(".stamp.json")


def _unit_stamp(stage: Stage, keys: Sequence[str]) -> dict:
    """What a unit is made from: the weights, data and activation convention, and ``keys``."""
    from .config import to_dict

    return json.loads(json.dumps({"fingerprint": stage.fingerprint,
                                  "settings": {k: to_dict(getattr(stage.cfg, k)) for k in keys}}))


def _unit_is_fresh(csv: Path, stamp: dict, force: bool, name: str, log) -> bool:
    """Whether ``csv`` is finished and was made as ``stamp`` says; says why it is redone."""
    made = read_stamp(_stamp_path(csv))
    if force or not csv.is_file() or made is None:
        return False
    if made != stamp:
        log(f"{name} was made with other settings "
            f"({settings_changes(made, stamp) or 'another stamp'}); redoing it")
        return False
    return True


def run_contribution(stage: Stage, layer: int, force: bool = False, log=print) -> pd.DataFrame:
    """Write ``conv<L>/neuron_contribution.csv`` and ``.png`` (the association) and
    ``neuron_knockout.csv`` for one layer; return the association table.

    Each of the two is a unit with a freshness stamp (``<name>.stamp.json``: the
    fingerprint of the weights and data, and the settings that shape it), written
    after the unit and removed before it is redone: a finished unit made the same
    way is skipped unless ``force``, one made otherwise is redone, and a unit
    without its stamp (a killed run's) is never taken for finished.
    """
    cfg: ContributionConfig = stage.cfg
    out = stage.layer_dir(layer)
    csv, ko_csv = out / "neuron_contribution.csv", out / "neuron_knockout.csv"
    assoc_stamp = _unit_stamp(stage, ASSOCIATION_SETTINGS)
    ko_stamp = _unit_stamp(stage, KNOCKOUT_SETTINGS)
    assoc_done = _unit_is_fresh(csv, assoc_stamp, force, f"conv{layer}: {csv.name}", log)
    ko_done = not cfg.knockout.enabled or _unit_is_fresh(ko_csv, ko_stamp, force,
                                                         f"conv{layer}: {ko_csv.name}", log)
    if not ko_done:
        # No old knockout beside new association calls, even if this run is killed.
        _stamp_path(ko_csv).unlink(missing_ok=True)
        ko_csv.unlink(missing_ok=True)
    if assoc_done and ko_done:
        log(f"conv{layer}: contribution already done (use --force to redo)")
        return pd.read_csv(csv)
    res = MaxAct.load(stage.maxact_path(layer))
    X, y, _ = stage.data
    if len(res.seq_max) != len(X):
        raise InputError(f"{stage.maxact_path(layer)}: searched {len(res.seq_max)} sequences but the "
                         f"data set now has {len(X)}; rerun run_search_maxact.sh")
    neurons = parse_range(cfg.neurons, n=res.seq_max.shape[1])
    active = activated(res.seq_max, res.neuron_max, cfg.threshold)
    if assoc_done:
        df = pd.read_csv(csv)
    else:
        values = stage.predictions() if cfg.values == "prediction" else y
        values = select_target(values, cfg.target_index)
        df = contribution_table(values, active, layer, neurons, cfg.min_n, cfg.alpha, cfg.threshold,
                                cfg.values, cfg.target_index, cfg.min_abs_d)
        _stamp_path(csv).unlink(missing_ok=True)
        with atomic_path(csv) as tmp:
            df.to_csv(tmp, index=False, float_format="%.6g")
        plot_contribution(df, out / "neuron_contribution.png",
                          f"{stage.name} conv{layer}: {cfg.values}s of activated vs other sequences "
                          f"(threshold {cfg.threshold:g}, BH q < {cfg.alpha:g})")
        write_json(_stamp_path(csv), assoc_stamp)
    if not cfg.knockout.enabled:
        _stamp_path(ko_csv).unlink(missing_ok=True)
        ko_csv.unlink(missing_ok=True)                          # no stale knockout beside new calls
    elif not ko_done:
        ko = _knockout(stage, res, active, neurons, _predictor(stage),
                       select_target(stage.predictions(), cfg.target_index))
        fault_point("knockout")
        with atomic_path(ko_csv) as tmp:
            ko.to_csv(tmp, index=False, float_format="%.6g")
        write_json(_stamp_path(ko_csv), ko_stamp)
    return df


def _knockout(stage: Stage, res: MaxAct, active: np.ndarray, neurons: Sequence[int], predict,
              original: np.ndarray) -> pd.DataFrame:
    """:func:`knockout_table` with the stage's settings. The shuffles are seeded per
    layer and neuron, so any ``predict`` (the model, or the planted rule) sees the same variants."""
    cfg: ContributionConfig = stage.cfg
    X, _, _ = stage.data
    return knockout_table(predict, X, res, active, res.layer, neurons, cfg.knockout.sequences,
                          cfg.knockout.replicates, cfg.alpha, cfg.min_abs_d, cfg.threshold,
                          cfg.target_index, cfg.min_n, cfg.seed, neuron_max=_neuron_max(stage, res.layer),
                          draws=cfg.knockout.draws, original=original)


def _neuron_max(stage: Stage, layer: int):
    """``(x, k) -> (n,)``: neuron k's maximum over positions, computed as the search computed it."""
    from .maxact import layer_outputs

    cfg: ContributionConfig = stage.cfg

    def fn(x: np.ndarray, k: int) -> np.ndarray:
        parts = [outs[layer][:, k].amax(dim=1).float().cpu().numpy()
                 for _, outs in layer_outputs(stage.loaded.module, x, [layer], cfg.batch_size,
                                              stage.device, cfg.activation_tracks == "zero")]
        return np.concatenate(parts)
    return fn


def _predictor(stage: Stage):
    cfg: ContributionConfig = stage.cfg

    def predict(x: np.ndarray) -> np.ndarray:
        return select_target(np.asarray(stage.loaded.predict(x, batch_size=cfg.batch_size)),
                             cfg.target_index)
    return predict


def summary_line(df: pd.DataFrame, layer: int, knockout: pd.DataFrame | None = None) -> str:
    c = df["contribution"].value_counts()
    line = (f"conv{layer}: {len(df)} neurons: {c.get('positive', 0)} positive, "
            f"{c.get('negative', 0)} negative, {c.get('neutral', 0)} neutral")
    if knockout is not None and len(knockout):
        k = knockout["contribution"].value_counts()
        line += (f"; knockout: {k.get('positive', 0)} positive, {k.get('negative', 0)} negative, "
                 f"{k.get('neutral', 0)} neutral")
    return line


# --------------------------------------------------------------------------- command line


def main_contribution(argv: list[str] | None = None) -> None:
    """``run_contribution.sh <first> <last> <config>``."""
    from .cli import run_cli

    def _main(args: argparse.Namespace) -> int:
        cfg = load_config(args.config, ContributionConfig)
        layers = layer_range(args.first, args.last)
        stage = Stage(cfg, args.config, "contribution")
        stage.check_layers(layers)   # every layer and selection, before the first search
        stage.check_target()
        stage.search(layers, force=args.force)
        clean_partials(stage.out, depth=1)   # a killed run's temporaries never survive a rerun
        for L in layers:
            df = run_contribution(stage, L, force=args.force)
            ko_path = stage.layer_dir(L) / "neuron_knockout.csv"
            ko = pd.read_csv(ko_path) if cfg.knockout.enabled and ko_path.is_file() else None
            print(summary_line(df, L, ko) + f" -> {stage.layer_dir(L) / 'neuron_contribution.csv'}")
        stage.refresh_front_page()
        return 0

    run_cli(_main, build_parser("Contribution sign of every neuron of conv layers first..last"), argv)


def main_check_truth(argv: list[str] | None = None) -> None:
    """Compare contribution calls with a synthetic set's planted motif signs.

    Each measure is also run on the planted rule itself (the noise-free label
    the generator computes), on the same activated / non-activated split and,
    for the knockout, on the same shuffled variants: a neuron whose motif's
    sign the planted rule does not show under that measure is reported as
    confounded rather than judged (see :func:`compare_with_truth`).
    """
    from .cli import run_cli
    from .data.truth import is_planted, load_truth, require_signs
    from .interaction import planted_function
    from .maxact import sequence_codes

    def _main(args: argparse.Namespace) -> int:
        cfg = load_config(args.config, ContributionConfig)
        layers = layer_range(args.first, args.last)
        stage = Stage(cfg, args.config, "contribution")
        stage.check_layers(layers)
        for L in layers:   # every layer's results, before the first is checked
            for path in (stage.layer_dir(L) / "neuron_contribution.csv", stage.maxact_path(L)):
                if not path.is_file():
                    raise InputError(f"{path}: not found; run run_contribution.sh {args.first} {args.last} "
                                     f"{args.config} first")
        X, _, meta = stage.data
        truth = load_truth(args.truth or Path(meta["path"]).parent / "truth.json")
        require_signs(truth)
        motifs = {m["name"]: m["consensus"] for m in truth["motifs"]}
        by_sign: dict[str, list[str]] = {}
        for name, sign in planted_signs(truth).items():
            by_sign.setdefault(sign, []).append(name)
        codes = sequence_codes(X)
        # A hand-written truth has no planted rule to run as the reference: every
        # matched neuron is judged against its motif's stated sign instead.
        planted = planted_function(truth) if is_planted(truth) else None
        planted_values = planted(X) if planted is not None else None
        if planted is None:
            print("hand-written truth: no planted rule to measure, so nothing is counted as confounded")
        totals: dict[str, pd.Series] = {}
        for L in layers:
            path = stage.layer_dir(L) / "neuron_contribution.csv"
            table = pd.read_csv(path)
            res = MaxAct.load(stage.maxact_path(L))
            active = activated(res.seq_max, res.neuron_max, cfg.threshold)
            matches = motif_matches(codes, res, active, motifs, groups=by_sign)
            print(f"conv{L}: planted motif -> neurons whose activating windows hold it "
                  f"(>= 50 % and >= 2x background; every other planted motif < 50 %; "
                  f"mixed: also >= 25 % and >= 2x background for the motifs of the opposite sign, "
                  f"each or together); confounded: the planted rule, measured the same way, "
                  f"lacks the motif's sign")
            reference = (None if planted is None else
                         contribution_table(planted_values, active, L, table["neuron"], cfg.min_n,
                                            cfg.alpha, cfg.threshold, "planted", cfg.target_index,
                                            cfg.min_abs_d))
            kinds = [("activated vs not", table, reference)]
            ko_path = stage.layer_dir(L) / "neuron_knockout.csv"
            if ko_path.is_file():
                matched = matches.loc[matches["motif"] != "", "neuron"].tolist()
                kinds.append(("knockout of the driving window", pd.read_csv(ko_path),
                              None if planted is None else
                              _knockout(stage, res, active, matched, planted, planted_values)))
            for label, tab, ref in kinds:
                cmp = compare_with_truth(tab, matches, truth, reference=ref)
                print(f"  contribution by {label}:")
                print(cmp.to_string(index=False))
                # motifs sharing a consensus (uAUG_out/uAUG_in) list the same neurons: count them once
                counts = cmp.drop_duplicates("consensus")[list(TRUTH_COUNTS)].sum()
                totals[label] = totals[label] + counts if label in totals else counts
        for label, c in totals.items():
            verdict = ("some neurons have the opposite sign of their planted motif" if c["opposite"]
                       else "no neuron has the opposite sign of its planted motif" if c["neutral"]
                       else "every judged neuron has the sign of its planted motif")
            print(f"{label}: " + ", ".join(f"{k} {int(c[k])}" for k in TRUTH_COUNTS) + f": {verdict}")
        return 0

    p = build_parser("Check contribution signs against a synthetic set's truth.json or a hand-written truth")
    p.add_argument("--truth", help="truth.json or a hand-written truth file (default: truth.json next to "
                                   "the data file)")
    run_cli(_main, p, argv)
