"""The one perturbation primitive: shuffle spans of sequences and predict the variants.

Both the contribution knockout (a neuron's driving window shuffled) and the
pair mutagenesis of the interaction stage (motif A, motif B or both destroyed)
are built from the same three steps:

1. :func:`shuffle_spans` draws, per sequence and replicate, one replacement for
   each span: a dinucleotide-preserving shuffle, optionally redrawn until no
   match of a pattern remains across the span (then random bases, counted as a
   fallback). All spans of one length are drawn together, as arrays; the draws
   depend only on the seeded generator, the sequences and the spans, so a seeded
   generator gives the same variants whoever asks for them.
2. :func:`span_variants` writes the replacements into copies of the one-hot
   input; only the four base channels change, extra tracks stay as they are.
   Every subset of spans of one replicate reuses that replicate's draws
   (common random numbers), so an exactly additive model gives epsilon = 0.
3. :func:`predict_variants` does both for batches of sequences and predicts
   original and variants together.

The spacing scans insert instead of destroy: :func:`insert_variants` writes
given sequences at given positions into every background (overwriting the
bases there), and :func:`predict_insertions` predicts all of them in chunks.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np

from .errors import ConfigError
from .pattern_scan import base_codes, finder_patterns, match_lengths
from .sequences import decode, dinucleotide_shuffle_codes

Span = tuple[int, int]


def _overlaps_match(text: str, lo: int, hi: int, avoid: re.Pattern) -> bool:
    # `avoid` is a lookahead finder: group 1 holds each (also overlapping) match.
    return any(m.start() < hi and lo < m.start() + len(m.group(1))
               for m in avoid.finditer(text) if m.group(1))


def shuffle_span(text: str, start: int, end: int, rng: np.random.Generator,
                 avoid: re.Pattern | None = None, max_redraws: int = 50,
                 context: int = 32) -> tuple[str, bool]:
    """A replacement for ``text[start:end]``: a dinucleotide shuffle of it.

    One span through :func:`shuffle_spans` (the same draws for the same seed).

    Parameters
    ----------
    text : str
        The whole sequence (A, C, G, T, N).
    start, end : int
        The span to replace.
    rng : numpy.random.Generator
        Source of the draws.
    avoid : re.Pattern, optional
        A lookahead finder (group 1 = a match). When given, shuffles are drawn
        until none leaves a match overlapping the span (the sequence ``context``
        letters either side included), at most ``max_redraws``; a span whose
        shuffles cannot escape (``TATATA`` has one dinucleotide-preserving
        order) falls back to uniformly random bases. Without it one shuffle is
        drawn.
    max_redraws, context : int
        See ``avoid``.

    Returns
    -------
    replacement : str
        As long as the span.
    fell_back : bool
        Whether random bases replaced the span.
    """
    draws, fell = _draw_spans([text], [(0, start, end)], rng, avoid, max_redraws, context)
    return draws[0], bool(fell[0])


def shuffle_spans(texts: Sequence[str], spans: Sequence[Sequence[Span]], replicates: int,
                  rng: np.random.Generator, avoid: re.Pattern | None = None,
                  max_redraws: int = 50) -> tuple[list[list[list[str]]], int]:
    """Replacements for every span of every sequence, ``replicates`` times.

    All spans of one length are shuffled together (:func:`combmotif.sequences.dinucleotide_shuffle_codes`),
    and those whose shuffle leaves a match of ``avoid`` are drawn again together.

    Parameters
    ----------
    texts : sequence of str
        One sequence per row.
    spans : sequence of sequences of (start, end)
        The spans of each row.
    replicates : int
        Independent draws per span.
    rng, avoid, max_redraws
        As :func:`shuffle_span`.

    Returns
    -------
    draws : list
        ``draws[i][r][s]`` replaces span ``s`` of row ``i`` in replicate ``r``.
    fallbacks : int
        How many replacements fell back to random bases.
    """
    items = [(i, a, b) for i, row_spans in enumerate(spans) for _ in range(replicates) for a, b in row_spans]
    flat, fell = _draw_spans(texts, items, rng, avoid, max_redraws)
    draws, j = [], 0
    for row_spans in spans:
        mine = []
        for _ in range(replicates):
            mine.append(flat[j:j + len(row_spans)])
            j += len(row_spans)
        draws.append(mine)
    return draws, int(fell.sum())


def _draw_spans(texts: Sequence[str], items: Sequence[tuple[int, int, int]], rng: np.random.Generator,
                avoid: re.Pattern | None, max_redraws: int, context: int = 32) -> tuple[list[str], np.ndarray]:
    """One replacement per ``(row, start, end)`` item (:func:`shuffle_span`'s rule), all at once.

    Items of one length are one batch: each round shuffles the items still open;
    an item whose shuffle equals its span 8 times (no freedom) or never escapes
    ``avoid`` in ``max_redraws`` rounds gets uniformly random bases instead, drawn
    the same way.
    """
    out: list[str] = [""] * len(items)
    fell = np.zeros(len(items), dtype=bool)
    spans = [texts[i][a:b] for i, a, b in items]     # a span past the end is shorter, as sliced
    by_len: dict[int, list[int]] = {}
    for j, text in enumerate(spans):
        by_len.setdefault(len(text), []).append(j)
    for length in sorted(by_len):
        idx = np.array(by_len[length], dtype=np.int64)
        orig = base_codes("".join(spans[j] for j in idx)).reshape(len(idx), length)
        if avoid is None:
            _store(out, idx, dinucleotide_shuffle_codes(orig, rng))
            continue
        flank = _Flanks([(texts[items[j][0]][max(0, items[j][1] - context):items[j][1]],
                          texts[items[j][0]][items[j][2]:items[j][2] + context]) for j in idx], avoid)
        open_ = np.arange(len(idx))
        same = np.zeros(len(idx), dtype=np.int64)
        got = np.zeros(len(idx), dtype=bool)
        cand = orig.copy()
        for _ in range(max_redraws):
            if not len(open_):
                break
            cand[open_] = dinucleotide_shuffle_codes(orig[open_], rng)
            unchanged = (cand[open_] == orig[open_]).all(1)
            same[open_] += unchanged
            done = ~unchanged & flank.clear(cand[open_], open_)
            got[open_[done]] = True
            open_ = open_[~done & (same[open_] < 8)]
        _store(out, idx[got], cand[got])
        rest = np.flatnonzero(~got)
        fell[idx[rest]] = True
        for _ in range(max_redraws):
            if not len(rest):
                break
            cand[rest] = rng.integers(0, 4, size=(len(rest), length))
            done = flank.clear(cand[rest], rest)
            _store(out, idx[rest[done]], cand[rest[done]])
            rest = rest[~done]
        _store(out, idx[rest], cand[rest])          # the last random draw, a match or not
    return out, fell


class _Flanks:
    """The flanks of a batch of spans of one length, and which candidate spans leave no match
    of ``avoid`` overlapping them (:meth:`clear`)."""

    def __init__(self, flanks: list[tuple[str, str]], avoid: re.Pattern):
        self.flanks, self.avoid = flanks, avoid
        self.patterns = finder_patterns(avoid.pattern)
        if self.patterns is None or not flanks:
            return
        # A match overlapping the span starts and ends within the longest pattern of it, so
        # longer flanks cannot change the answer; shorter ones are padded with N (never matched).
        w = max(len(p) for p in self.patterns) - 1
        self.lw = w
        self.left = base_codes("".join(f[0][-w:].rjust(w, "N") if w else "" for f in flanks)).reshape(len(flanks), w)
        self.right = base_codes("".join(f[1][:w].ljust(w, "N") for f in flanks)).reshape(len(flanks), w)

    def clear(self, codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Whether each candidate span (``codes[i]`` for the span of flanks ``rows[i]``) is free of
        matches overlapping it."""
        if self.patterns is None or not len(codes):
            return np.array([not _overlaps_match(left + t + right, len(left), len(left) + len(t), self.avoid)
                             for t, (left, right) in zip(decode(codes), (self.flanks[i] for i in rows))],
                            dtype=bool)
        full = np.concatenate([self.left[rows], np.asarray(codes, dtype=np.int64), self.right[rows]], axis=1)
        lengths = match_lengths(full, self.patterns)
        start = np.arange(full.shape[1])[None, :]
        return ~((lengths > 0) & (start < self.lw + codes.shape[1]) & (start + lengths > self.lw)).any(1)


def _store(out: list[str], idx: np.ndarray, codes: np.ndarray) -> None:
    for j, text in zip(idx.tolist(), decode(codes)):
        out[j] = text


def write_spans(X: np.ndarray, rows: Sequence[int], starts: Sequence[int], texts: Sequence[str]) -> None:
    """Write ``texts[i]`` into the one-hot ``X[rows[i]]`` from ``starts[i]`` on, in place.

    Parameters
    ----------
    X : numpy.ndarray
        (n, C, L) float; only channels 0-3 (A, C, G, T) are written, so extra
        tracks stay as they are. A row may appear more than once.
    rows, starts : sequence of int
        Row and first position of each text.
    texts : sequence of str
        Letters A, C, G, T; any other letter writes an all-zero column.
    """
    if not len(texts):
        return
    pos = np.concatenate([np.arange(s, s + len(t)) for s, t in zip(starts, texts)])
    row = np.concatenate([np.full(len(t), r) for r, t in zip(rows, texts)])
    code = base_codes("".join(texts))
    X[row, :4, pos] = 0.0
    base = code < 4
    X[row[base], code[base], pos[base]] = 1.0


def span_variants(X: np.ndarray, seqs: np.ndarray, spans: Sequence[Sequence[Span]],
                  draws: list[list[list[str]]], subsets: Sequence[Sequence[int]],
                  original: bool = True) -> np.ndarray:
    """Copies of ``X[seqs]`` with subsets of their spans replaced by the draws.

    Parameters
    ----------
    X : numpy.ndarray
        (N, C, L) one-hot input.
    seqs : numpy.ndarray
        (n,) rows of ``X``.
    spans : sequence of sequences of (start, end)
        The spans of each of the ``n`` rows.
    draws : list
        From :func:`shuffle_spans` for the same rows and spans.
    subsets : sequence of sequences of int
        Which spans each variant replaces, e.g. ``[(0,), (1,), (0, 1)]``; all
        variants of one replicate use that replicate's draws.
    original : bool
        Whether each row's variants start with the unchanged sequence.

    Returns
    -------
    numpy.ndarray
        (n * per, C, L), row-major: per row the original (if asked), then for
        each replicate one variant per subset.
    """
    per = int(original) + len(draws[0]) * len(subsets) if len(draws) else 1
    out = np.repeat(X[seqs], per, axis=0)
    rows, starts, texts = [], [], []
    for j, (row_spans, row_draws) in enumerate(zip(spans, draws)):
        for r, reps in enumerate(row_draws):
            for s, subset in enumerate(subsets):
                for k in subset:
                    rows.append(j * per + int(original) + r * len(subsets) + s)
                    starts.append(row_spans[k][0])
                    texts.append(reps[k])
    write_spans(out, rows, starts, texts)
    return out


def predict_variants(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, texts: Sequence[str],
                     seqs: np.ndarray, spans: Sequence[Sequence[Span]], subsets: Sequence[Sequence[int]],
                     replicates: int, rng: np.random.Generator, avoid: re.Pattern | None = None,
                     max_redraws: int = 50, max_rows: int = 4096) -> tuple[np.ndarray, int]:
    """Predict each sequence and its span-shuffled variants (common random numbers).

    Parameters
    ----------
    predict : callable
        (m, C, L) array -> (m,) predictions.
    X : numpy.ndarray
        (N, C, L) one-hot input; ``texts`` are its rows as strings.
    seqs : numpy.ndarray
        (n,) rows to perturb; ``spans`` their spans.
    subsets, replicates
        As :func:`span_variants` and :func:`shuffle_spans`.
    rng, avoid, max_redraws
        As :func:`shuffle_span`.
    max_rows : int
        About how many variants go to ``predict`` at once.

    Returns
    -------
    predictions : numpy.ndarray
        (n, 1 + replicates * len(subsets)) float64: the original, then per
        replicate one column per subset.
    fallbacks : int
        Replacements that fell back to random bases.
    """
    per = 1 + replicates * len(subsets)
    n = len(seqs)
    out = np.zeros((n, per))
    fallbacks = 0
    chunk = max(1, max_rows // per)
    for c0 in range(0, n, chunk):
        idx = np.arange(c0, min(n, c0 + chunk))
        part = [spans[i] for i in idx]
        draws, fell = shuffle_spans([texts[seqs[i]] for i in idx], part, replicates, rng, avoid, max_redraws)
        fallbacks += fell
        Xv = span_variants(X, seqs[idx], part, draws, subsets)
        out[idx] = np.asarray(predict(Xv), dtype=np.float64).reshape(len(idx), per)
    return out, fallbacks


def select_target(values: np.ndarray, index: int) -> np.ndarray:
    """Column ``index`` of a model's outputs (the outputs themselves for one target).

    Parameters
    ----------
    values : numpy.ndarray
        (n,) or (n, targets) predictions or labels.
    index : int
        Which target.

    Returns
    -------
    numpy.ndarray
        (n,) values of that target.

    Raises
    ------
    combmotif.errors.ConfigError
        When the model has no target ``index``.
    """
    values = np.asarray(values)
    if values.ndim == 1:
        if index != 0:
            raise ConfigError(f"'target_index' is {index} but the model has one target")
        return values
    if not 0 <= index < values.shape[1]:
        raise ConfigError(f"'target_index' {index} out of range (model has {values.shape[1]} targets)")
    return values[:, index]


def target_predictor(stage) -> Callable[[np.ndarray], np.ndarray]:
    """``predict(x) -> (n,)``: a stage's model on its ``target_index``, in ``batch_size`` chunks.

    Parameters
    ----------
    stage : combmotif.maxact.Stage
        Any object with ``loaded.predict`` and ``cfg.batch_size`` / ``cfg.target_index``.

    Returns
    -------
    callable
        (n, C, L) array -> (n,) predictions on the label scale. Its ``windows(x, rows,
        start, window)`` predicts variants of ``x`` that differ within one window each
        (:meth:`combmotif.models.loader.LoadedModel.predict_windows`; None when the model
        cannot).
    """
    cfg = stage.cfg

    def predict(x: np.ndarray) -> np.ndarray:
        return select_target(np.asarray(stage.loaded.predict(x, batch_size=cfg.batch_size)),
                             cfg.target_index)

    def windows(x: np.ndarray, rows: np.ndarray, start: np.ndarray, window: np.ndarray) -> np.ndarray | None:
        out = stage.loaded.predict_windows(x, rows, start, window, batch_size=max(4096, cfg.batch_size))
        return None if out is None else select_target(np.asarray(out), cfg.target_index)
    # Variants that differ within one window each (the knockout's) take the windowed forward.
    predict.windows = windows
    return predict


def insert_variants(X: np.ndarray, variants: Sequence[Sequence[tuple[int, str]]]) -> np.ndarray:
    """Copies of every row of ``X`` with each variant's sequences written in (insertion).

    The inserted letters overwrite the bases at their positions (the standard
    design of tangermeme's ``space`` and of GIA): the length and every other
    base stay, so "A alone" keeps the background's own bases where B would go.
    Only the four base channels change; extra tracks stay as they are.

    Parameters
    ----------
    X : numpy.ndarray
        (N, C, L) one-hot backgrounds.
    variants : sequence of sequences of (start, text)
        What each variant writes, e.g. ``[[], [(10, "ACG")], [(10, "ACG"), (16, "TTA")]]``;
        an empty variant is the background itself. Texts are A, C, G, T.

    Returns
    -------
    numpy.ndarray
        (len(variants), N, C, L) float32: variant ``v`` of background ``i`` at ``[v, i]``.
    """
    X = np.asarray(X, dtype=np.float32)
    out = np.repeat(X[None], len(variants), axis=0)
    for v, inserts in enumerate(variants):   # one vectorised write per variant, all rows at once
        for start, text in inserts:
            if start < 0 or start + len(text) > X.shape[-1]:
                raise ValueError(f"insertion {text!r} at {start} does not fit a sequence of {X.shape[-1]}")
            code = base_codes(text)
            block = np.zeros((4, len(text)), np.float32)
            ok = code < 4
            block[code[ok], np.flatnonzero(ok)] = 1.0
            out[v, :, :4, start:start + len(text)] = block
    return out


def predict_insertions(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                       variants: Sequence[Sequence[tuple[int, str]]], max_rows: int = 16384,
                       max_values: int = 2 ** 25) -> np.ndarray:
    """Predict every background with every variant's insertions (:func:`insert_variants`).

    Variants go to ``predict`` in chunks of about ``max_rows`` sequences, so a
    long input (half-life, 12 kb x 6 tracks) never needs every variant in memory.

    Parameters
    ----------
    predict : callable
        (m, C, L) array -> (m,) predictions.
    X : numpy.ndarray
        (N, C, L) one-hot backgrounds.
    variants : sequence of sequences of (start, text)
        As :func:`insert_variants`.
    max_rows : int
        About how many sequences go to ``predict`` at once.
    max_values : int
        ... and at most about this many input values (128 MB of float32 by default).

    Returns
    -------
    numpy.ndarray
        (len(variants), N) float64 predictions.
    """
    n = len(X)
    rows = min(max_rows, max_values // max(1, int(np.prod(X.shape[1:]))))
    per = max(1, rows // max(1, n))
    out = np.zeros((len(variants), n))
    for v0 in range(0, len(variants), per):
        part = insert_variants(X, variants[v0:v0 + per])
        flat = part.reshape((-1,) + part.shape[2:])
        out[v0:v0 + len(part)] = np.asarray(predict(flat), dtype=np.float64).reshape(len(part), n)
    return out
