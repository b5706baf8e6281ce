"""Max-activation search and fragment location over a data set, in batches.

A neuron is channel ``k`` of conv layer ``L``'s output, taken before the
following norm/activation (the NeuronMotif convention). Running the model's
conv trunk (found by :mod:`combmotif.models.anatomy`) up to and including that
conv over whole sequences gives, in one pass, the neuron's value at every
window of every sequence; output position ``j`` sees the input window
``[offset + j*stride, offset + j*stride + rf)`` (clipped at the sequence ends
where 'same' padding reaches past them). At interior positions the value equals
NeuronMotif's neuron evaluated on that window alone.

This module provides

- :func:`window_map`: how a conv layer's output positions map back to input
  windows (receptive field, stride and offset from the anatomy);
- :func:`layer_outputs`: conv outputs of several layers for chunks of sequences
  (one forward pass of the prefix per chunk, never per window);
- :func:`search_maxact`: per sequence and neuron the maximum over positions
  and where it is reached, and per neuron the overall maximum (npz);
- :func:`locate_fragments`: every window that drives a neuron above a fraction
  of its maximum, written as the seeds' ``Seq{i}_{j}: start`` YAML plus an npz;
- the config pieces shared by the contribution and interaction stages
  (:class:`DataSpec`, :func:`load_dataset`).
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal, Sequence

import numpy as np
import torch
import yaml
from torch import nn
from tqdm.auto import tqdm

from .config import load_config, parse_range, path_field
from .errors import ConfigError, InputError
from .io import atomic_path, check_output_dir, save_npz
from .models.anatomy import Anatomy
from .models.loader import LoadedModel, load_model, model_fingerprint
from .paths import relative_path, repo_root
from .sequences import decode

# --------------------------------------------------------------------------- anatomy


@dataclass(frozen=True)
class WindowMap:
    """How output positions of a conv layer map to input windows.

    Output position ``j`` depends on inputs ``[offset + j*stride, offset + j*stride + rf)``;
    ``offset`` is negative where 'same' padding lets the first windows start before
    the sequence.
    """

    rf: int
    stride: int
    offset: int

    def windows(self, positions: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) of the windows of ``positions``, clipped to ``[0, length)``."""
        start = self.offset + np.asarray(positions, dtype=np.int64) * self.stride
        return np.clip(start, 0, length), np.clip(start + self.rf, 0, length)


def window_map(model: nn.Module, layer: int) -> WindowMap:
    """Receptive field, stride and offset of conv ``layer`` (from :mod:`combmotif.models.anatomy`)."""
    info = Anatomy(model).layer(layer)
    return WindowMap(rf=info.rf, stride=info.jump, offset=info.offset)


# --------------------------------------------------------------------------- batched conv outputs


@torch.inference_mode()
def layer_outputs(model: nn.Module, X: np.ndarray | torch.Tensor, layers: Sequence[int],
                  batch_size: int = 1024, device: str | torch.device = "cpu",
                  zero_extra_tracks: bool = True, progress: bool = False,
                  rows: np.ndarray | None = None
                  ) -> Iterator[tuple[int, dict[int, torch.Tensor]]]:
    """Yield ``(first_row, {layer: (n, C, P) pre-activation conv output})`` per chunk.

    One pass of the trunk prefix per chunk serves every requested layer, run in
    eval mode (dropout off). ``zero_extra_tracks`` zeroes input
    channels beyond A, C, G, T (the half-life model's codon and splice tracks),
    so activations describe the sequence alone, as NeuronMotif's samples do.
    ``rows`` restricts the pass to those rows of ``X`` (``first_row`` then counts
    within ``rows``) without copying them all first.
    """
    anatomy = Anatomy(model)
    want = {anatomy.layer(L).position: L for L in layers}
    modules = [m for _, m in anatomy.trunk[: max(want) + 1]]
    n = len(X) if rows is None else len(rows)
    was_training = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        for start in tqdm(range(0, n, batch_size), desc="conv outputs", leave=False,
                          disable=None if progress else True):  # None: quiet off a terminal
            chunk = X[start:start + batch_size] if rows is None else X[rows[start:start + batch_size]]
            x = torch.as_tensor(np.asarray(chunk), dtype=torch.float32).to(device)
            if zero_extra_tracks and x.shape[1] > 4:
                x = x.clone()
                x[:, 4:] = 0
            out = {}
            h = x
            for i, m in enumerate(modules):
                h = m(h)
                if i in want:
                    out[want[i]] = h
            yield start, out
    finally:
        for m, mode in zip(modules, was_training):
            m.train(mode)


@dataclass
class MaxAct:
    """Result of the max-activation search for one conv layer.

    ``seq_max``/``seq_pos`` are (N, C): each sequence's maximum over positions and
    the output position reaching it; ``neuron_max`` (C,) the maximum over the set,
    reached in sequence ``best_seq`` at window ``[best_start, best_end)``.
    """

    layer: int
    neuron_max: np.ndarray
    best_seq: np.ndarray
    best_pos: np.ndarray
    best_start: np.ndarray
    best_end: np.ndarray
    seq_max: np.ndarray
    seq_pos: np.ndarray
    rf: int
    stride: int
    offset: int
    length: int

    @property
    def wmap(self) -> WindowMap:
        return WindowMap(self.rf, self.stride, self.offset)

    def save(self, path: str | Path, fingerprint: str = "") -> None:
        arrays = {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if self.seq_pos.size and int(self.seq_pos.max()) < 2 ** 16:
            arrays["seq_pos"] = self.seq_pos.astype(np.uint16)
        # Uncompressed: activations are random-looking floats that zlib barely
        # shrinks, and compressing them cost more time than the search itself.
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, fingerprint=np.array(fingerprint), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "MaxAct":
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no max-activation search found; run run_search_maxact.sh first")
        with np.load(path) as z:
            kw = {f.name: z[f.name] for f in dataclasses.fields(cls)}
        for key in ("layer", "rf", "stride", "offset", "length"):
            kw[key] = int(kw[key])
        kw["seq_pos"] = kw["seq_pos"].astype(np.int32)
        return cls(**kw)


def search_maxact(model: nn.Module, X: np.ndarray | torch.Tensor, layers: Sequence[int],
                  batch_size: int = 1024, device: str | torch.device = "cpu",
                  zero_extra_tracks: bool = True, progress: bool = False) -> dict[int, MaxAct]:
    """Maximum of every neuron of every layer over every window of every sequence.

    One batched pass over ``X`` (N, C_in, L); per chunk the conv output's max and
    argmax over positions are taken with one tensor op each.
    """
    layers = sorted(set(int(L) for L in layers))
    n, length = len(X), int(X.shape[-1])
    if n == 0:
        raise InputError("max-activation search: the data set is empty")
    seq_max: dict[int, np.ndarray] = {}
    seq_pos: dict[int, np.ndarray] = {}
    for start, outs in layer_outputs(model, X, layers, batch_size, device, zero_extra_tracks, progress):
        for L, h in outs.items():
            if L not in seq_max:
                seq_max[L] = np.empty((n, h.shape[1]), np.float32)
                seq_pos[L] = np.empty((n, h.shape[1]), np.int32)
            v, p = h.max(dim=2)
            seq_max[L][start:start + len(h)] = v.float().cpu().numpy()
            seq_pos[L][start:start + len(h)] = p.cpu().numpy()
    result = {}
    for L in layers:
        wm = window_map(model, L)
        best_seq = seq_max[L].argmax(0)
        cols = np.arange(seq_max[L].shape[1])
        best_pos = seq_pos[L][best_seq, cols]
        bstart, bend = wm.windows(best_pos, length)
        result[L] = MaxAct(layer=L, neuron_max=seq_max[L][best_seq, cols], best_seq=best_seq.astype(np.int64),
                           best_pos=best_pos.astype(np.int64), best_start=bstart, best_end=bend,
                           seq_max=seq_max[L], seq_pos=seq_pos[L], rf=wm.rf, stride=wm.stride,
                           offset=wm.offset, length=length)
    return result


def naive_window_scan(model: nn.Module, X: np.ndarray, layer: int, device: str | torch.device = "cpu"
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The per-window Python loop that :func:`search_maxact` replaces (speed bench and tests).

    For every sequence and every output position whose window lies wholly inside
    the sequence, cut the window (one receptive field long) and evaluate
    NeuronMotif's neuron on it alone (:class:`combmotif.models.anatomy.ConvCut`:
    the trunk up to conv L without padding, extra tracks 0). Returns
    ``(values (N, C, P), positions (P,), window starts (P,))``.
    """
    anatomy = Anatomy(model)
    cut = anatomy.cut(layer).to(device)
    wm = window_map(model, layer)
    length = X.shape[-1]
    with torch.no_grad():
        n_pos = next(layer_outputs(model, X[:1], [layer], device=device))[1][layer].shape[-1]
        pos = np.arange(n_pos)
        starts = wm.offset + pos * wm.stride
        full = (starts >= 0) & (starts + wm.rf <= length)
        pos, starts = pos[full], starts[full]
        out = np.zeros((len(X), cut.out_channels, len(pos)), np.float32)
        for i in range(len(X)):
            for k, s in enumerate(starts):
                x = torch.as_tensor(X[i:i + 1, :4, s:s + wm.rf], dtype=torch.float32).to(device)
                out[i, :, k] = cut(x)[0].cpu().numpy()
    return out, pos, starts


# --------------------------------------------------------------------------- fragments


@dataclass
class Fragments:
    """Windows that drive neurons above ``threshold`` x their maximum.

    Parallel arrays, one row per (neuron, sequence, window), sorted by neuron,
    then sequence, then activation (strongest first). ``start``/``end`` are
    clipped to the sequence; ``raw_start`` is the unclipped window start (it is
    negative for a 'same'-padded window reaching past the 5' end).
    """

    layer: int
    threshold: float
    rf: int
    neuron: np.ndarray
    seq: np.ndarray
    pos: np.ndarray
    raw_start: np.ndarray
    start: np.ndarray
    end: np.ndarray
    activation: np.ndarray

    _ROWS = ("neuron", "seq", "pos", "raw_start", "start", "end", "activation")

    def of(self, neuron: int) -> "Fragments":
        keep = self.neuron == neuron
        return dataclasses.replace(self, **{k: getattr(self, k)[keep] for k in self._ROWS})

    def __len__(self) -> int:
        return len(self.seq)

    def save(self, path: str | Path, codes: np.ndarray | None = None) -> None:
        """npz of the arrays, plus ``codes`` (M, rf) int8 fragment sequences (4 = outside)."""
        arrays = {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if codes is not None:
            arrays["codes"] = codes
        save_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Fragments":
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no fragments found; run run_fragment_location.sh first")
        with np.load(path) as z:
            kw = {f.name: z[f.name] for f in dataclasses.fields(cls)}
        kw["layer"], kw["rf"], kw["threshold"] = int(kw["layer"]), int(kw["rf"]), float(kw["threshold"])
        return cls(**kw)


def locate_fragments(model: nn.Module, X: np.ndarray, maxact: MaxAct, threshold: float = 0.9,
                     neurons: Sequence[int] | None = None, max_sequences: int | None = None,
                     batch_size: int = 1024, device: str | torch.device = "cpu",
                     zero_extra_tracks: bool = True, progress: bool = False) -> Fragments:
    """Every window whose activation exceeds ``threshold`` x the neuron's maximum.

    Neurons whose maximum is not positive have no fragments (a fraction of a
    negative maximum is not "strong"). ``max_sequences`` keeps, per neuron, the
    sequences with the strongest windows (ties by index) so a very promiscuous
    neuron cannot flood the interaction stage.
    """
    L = maxact.layer
    cols = np.arange(len(maxact.neuron_max)) if neurons is None else np.asarray(list(neurons), dtype=np.int64)
    cut_np = (threshold * maxact.neuron_max[cols]).astype(np.float32)
    live = maxact.neuron_max[cols] > 0
    # Only sequences whose own maximum passes the cut can hold a fragment.
    cand = np.flatnonzero(((maxact.seq_max[:, cols] > cut_np[None, :]) & live[None, :]).any(1))
    cut = torch.as_tensor(cut_np)[None, :, None]
    live_t = torch.as_tensor(live)[None, :, None]
    col_t = torch.as_tensor(cols)
    parts: list[tuple[np.ndarray, ...]] = []
    if len(cand):
        for start, outs in layer_outputs(model, X, [L], batch_size, device, zero_extra_tracks,
                                         progress, rows=cand):
            h = outs[L][:, col_t].float().cpu()
            r, c, p = (t.numpy() for t in torch.nonzero((h > cut) & live_t, as_tuple=True))
            parts.append((cols[c], cand[start + r], p, h[r, c, p].numpy()))
    if parts:
        neuron, seq, pos, act = (np.concatenate(a) for a in zip(*parts))
    else:
        neuron = seq = pos = np.zeros(0, np.int64)
        act = np.zeros(0, np.float32)
    order = np.lexsort((pos, -act, seq, neuron))
    neuron, seq, pos, act = neuron[order], seq[order], pos[order], act[order]
    if max_sequences is not None and len(seq):
        keep = _strongest_sequences(neuron, seq, act, max_sequences)
        neuron, seq, pos, act = neuron[keep], seq[keep], pos[keep], act[keep]
    wm = window_map(model, L)
    start_, end_ = wm.windows(pos, maxact.length)
    return Fragments(layer=L, threshold=float(threshold), rf=maxact.rf, neuron=neuron.astype(np.int64),
                     seq=seq.astype(np.int64), pos=pos.astype(np.int64),
                     raw_start=(wm.offset + pos * wm.stride).astype(np.int64), start=start_, end=end_,
                     activation=act.astype(np.float32))


def _groups(*keys: np.ndarray) -> np.ndarray:
    """Group id per row of arrays already sorted by ``keys`` (0, 0, 1, 2, 2, ...)."""
    new = np.ones(len(keys[0]), bool)
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    return np.cumsum(new) - 1


def _rank_in_group(gid: np.ndarray) -> np.ndarray:
    """0, 1, 2 ... within each run of equal group ids."""
    idx = np.arange(len(gid))
    first = np.ones(len(gid), bool)
    first[1:] = gid[1:] != gid[:-1]
    return idx - np.maximum.accumulate(np.where(first, idx, 0))


def _strongest_sequences(neuron: np.ndarray, seq: np.ndarray, act: np.ndarray, cap: int) -> np.ndarray:
    """Row mask keeping, per neuron, the ``cap`` sequences with the strongest windows.

    Rows must be sorted by neuron, sequence, activation descending.
    """
    gid = _groups(neuron, seq)                       # one group per (neuron, sequence)
    first = np.flatnonzero(_rank_in_group(gid) == 0)  # its strongest window
    o = np.lexsort((seq[first], -act[first], neuron[first]))
    ranked = first[o]
    rank = _rank_in_group(neuron[ranked])
    keep_group = np.zeros(gid[-1] + 1, bool)
    keep_group[gid[ranked[rank < cap]]] = True
    return keep_group[gid]


def fragment_codes(codes: np.ndarray, frags: Fragments) -> np.ndarray:
    """(M, rf) int8 sequences of the fragments; 4 marks positions outside the sequence."""
    length = codes.shape[1]
    cols = frags.raw_start[:, None] + np.arange(frags.rf)[None, :]
    inside = (cols >= 0) & (cols < length)
    out = np.full(cols.shape, 4, dtype=np.int8)
    out[inside] = codes[np.broadcast_to(frags.seq[:, None], cols.shape)[inside], cols[inside]]
    return out


def fragment_yaml(frags: Fragments) -> str:
    """The seeds' fragment-location YAML for one neuron: ``Seq{i}_{j}: start``.

    One key per window, ``i`` the sequence index in the searched set and ``j``
    the window's rank within that sequence (0 = strongest).
    """
    rank = _rank_in_group(frags.seq)
    lines = [f"Seq{s}_{j}: {st}" for s, j, st in
             zip(frags.seq.tolist(), rank.tolist(), frags.start.tolist())]
    return "\n".join(lines) + "\n" if lines else "{}\n"


def read_fragment_yaml(path: str | Path) -> list[tuple[int, int, int]]:
    """``[(sequence index, rank, start)]`` from a fragment-location YAML (ours or the seeds')."""
    path = Path(path)
    try:
        return read_fragment_yaml_text(path.read_text(), str(path))
    except OSError as exc:
        raise InputError(f"{path}: not readable ({type(exc).__name__})") from None


def read_fragment_yaml_text(text: str, path: str = "fragment YAML") -> list[tuple[int, int, int]]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not a readable fragment-location YAML ({type(exc).__name__})") from None
    out = []
    for key, start in data.items():
        parts = str(key).removeprefix("Seq").split("_")
        if not str(key).startswith("Seq") or len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise InputError(f"{path}: key {key!r} is not of the form Seq<i>_<j>")
        out.append((int(parts[0]), int(parts[1]), int(start)))
    return out


# --------------------------------------------------------------------------- data for a stage


@dataclass
class DataSpec:
    """Which sequences a stage scans.

    ``path``/``format`` default to the data set the checkpoint was trained on;
    ``split`` picks the same train/valid/test split the training used (or
    ``all``). ``max_sequences`` keeps the first N of the split, for quick runs.
    """

    path: str | None = path_field(None)
    format: Literal["auto", "mrl_csv", "saluki_h5"] = "auto"
    split: Literal["train", "valid", "test", "all"] = "train"
    label: str | None = None
    max_sequences: int | None = None

    def validate(self) -> None:
        if self.max_sequences is not None and self.max_sequences < 1:
            raise ValueError("'data.max_sequences' must be positive")


def load_dataset(spec: DataSpec, ckpt: dict | None, seq_len: int, encode=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Sequences ``(N, C, L)`` float32 and labels ``(N,)`` of the split a stage scans.

    With a CombMotif checkpoint the split is rebuilt exactly as training built it
    (same reader, same split parameters), so "the training set" means the
    sequences the model was fitted on. Without one (an imported Keras model) the
    whole CSV is read and ``encode`` turns its ``utr`` column into model input.
    """
    from .train import (SPLITS, DataConfig, OutputConfig, TrainConfig, load_task_data,
                        read_labelled_csv)

    info = (ckpt or {}).get("data") or {}
    path = spec.path or info.get("path")
    fmt = spec.format if spec.format != "auto" else info.get("format")
    if path is None or fmt is None:
        raise ConfigError("data: give 'path' and 'format' (the model's checkpoint does not record its data set)")
    if not Path(path).is_file():
        raise InputError(f"{path}: data file not found")
    split_info = info.get("split") or {}
    # The recorded split belongs to the file the model was trained on: another file
    # (a user's own CSV) is read whole, never cut with the training's top_n / test_n.
    own_file = spec.path is None or not info.get("path") or \
        Path(spec.path).resolve() == Path(info["path"]).resolve()
    if split_info and fmt == info.get("format") and own_file:
        kind = split_info.get("kind", "file" if fmt == "saluki_h5" else "random")
        label = spec.label or (info.get("label") if fmt == "mrl_csv" else "rl")
        dc = DataConfig(format=fmt, path=str(path), split=kind, label=label or "rl",
                        top_n=split_info.get("top_n", 280_000), test_n=split_info.get("test_n", 20_000),
                        valid_frac=split_info.get("valid_frac", 0.1),
                        fractions=list(split_info.get("fractions", [0.8, 0.1, 0.1])),
                        split_seed=split_info.get("seed", 0), seq_len=seq_len)
        try:
            dc.validate()
        except ValueError as exc:
            raise ConfigError(f"data: {exc}") from None
        data = load_task_data(TrainConfig(name="scan", data=dc, output=OutputConfig(weights_dir=".")))
        names = SPLITS if spec.split == "all" else (spec.split,)
        X = np.concatenate([data.splits[s][0].numpy() for s in names])
        y = np.concatenate([data.splits[s][1].numpy() for s in names])
    else:
        if spec.split != "all":
            why = ("the model does not record how it was split" if not split_info or own_file
                   else f"it is not the file the model was trained on ({info.get('path')})")
            raise ConfigError(f"data: 'data.split' = {spec.split!r} but {why}; set 'data.split: all' "
                              f"to scan the whole of {path}")
        if fmt == "saluki_h5":
            from .data.halflife import read_h5
            parts = read_h5(path)
            X = np.concatenate([parts[s][0] for s in parts])
            y = np.concatenate([parts[s][1] for s in parts])
        else:
            df = read_labelled_csv(path, spec.label or "rl")
            if encode is None:
                from .data.mrl import encode_utrs
                X = encode_utrs(df["utr"].tolist(), length=seq_len, source=str(path))
            else:
                X = np.asarray(encode(df["utr"].tolist(), source=str(path)))
            y = df[spec.label or "rl"].to_numpy(np.float32)
    if spec.max_sequences is not None:
        X, y = X[: spec.max_sequences], y[: spec.max_sequences]
    if X.shape[-1] != seq_len:
        raise InputError(f"{path}: sequences are {X.shape[-1]} long but the model takes {seq_len}")
    meta = {"path": str(path), "format": fmt, "split": spec.split, "n": int(len(X))}
    return np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32), meta


def sequence_codes(X: np.ndarray) -> np.ndarray:
    """(N, C, L) one-hot (first four channels) -> (N, L) int8 codes, 4 for empty columns."""
    oh = np.asarray(X)[:, :4]
    codes = oh.argmax(1).astype(np.int8)
    codes[oh.sum(1) == 0] = 4
    return codes


def codes_to_strings(codes: np.ndarray) -> list[str]:
    return decode(np.asarray(codes))


# --------------------------------------------------------------------------- a stage run


class Stage:
    """What the contribution and interaction stages share: the model, the scanned
    sequences and where outputs go (``results/<model>/<stage>/``)."""

    def __init__(self, cfg, config_path: str | Path, stage: str):
        torch.manual_seed(cfg.seed)
        self.cfg = cfg
        self.stage = stage
        self.config_path = str(config_path)
        results = Path(cfg.results_dir) if cfg.results_dir else repo_root() / "results"
        check_output_dir(results, self.config_path, "results_dir")   # before the model is loaded
        self.loaded: LoadedModel = load_model(cfg.model, cfg.device)
        self.name = self.loaded.name
        self.out = results / self.name / stage
        check_output_dir(self.out, self.config_path, "results_dir")
        self.device = next(self.loaded.module.parameters()).device
        self._data = None
        self._fingerprint: str | None = None
        self.config_dir = Path(config_path).resolve().parent

    def check_layers(self, layers: Sequence[int], key: str | None = "neurons") -> dict[int, list[int]]:
        """Check, before any work, that the model has every layer and that the config's
        neuron selection ``key`` fits each; returns layer -> selected neurons.

        Raises
        ------
        combmotif.errors.CombMotifError
            Naming the config file, the model file or the key and value.
        """
        anatomy = Anatomy(self.loaded.module)
        out = {}
        for L in layers:
            if not 1 <= L <= len(anatomy):
                raise InputError(f"layer {L} does not exist: {self.cfg.model.checkpoint or self.cfg.model.keras_hdf5}"
                                 f" has conv1..conv{len(anatomy)}")
            n = anatomy.layer(L).out_channels
            spec = getattr(self.cfg, key) if key else "all"
            try:
                out[L] = parse_range(spec, n)
            except ConfigError as exc:
                raise ConfigError(f"{self.config_path}: '{key}' = {spec!r} for conv{L}: {exc}") from None
        return out

    def check_target(self) -> None:
        """Check the config's ``target_index`` against the model's outputs (one tiny forward pass)."""
        index = self.cfg.target_index
        out = np.asarray(self.loaded.predict(np.zeros((1, self.loaded.in_channels, self.loaded.seq_len),
                                                      np.float32)))
        n = 1 if out.ndim == 1 else out.shape[1]
        if not 0 <= index < n:
            raise ConfigError(f"{self.config_path}: 'target_index' = {index} but the model has "
                              f"{n} output(s)")

    def refresh_front_page(self) -> None:
        """Rewrite ``results/<model>/index.html`` so it links this stage's new outputs."""
        from .report.pages import write_model_index

        write_model_index(self.out.parent)

    @property
    def fingerprint(self) -> str:
        """Hash of the weights, the scanned data and the activation convention:
        a cached search or prediction with another fingerprint is stale."""
        if self._fingerprint is None:
            import hashlib

            h = hashlib.sha1()
            h.update(model_fingerprint(self.loaded.module).encode())
            _, _, meta = self.data
            # The data file relative to the repository: a clone at another path gets
            # the same fingerprint, and so byte-identical outputs.
            h.update(repr((relative_path(meta["path"], repo_root()), meta["split"], meta["n"],
                           self.cfg.activation_tracks)).encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def _fresh(self, path: Path) -> bool:
        if not path.is_file():
            return False
        with np.load(path) as z:
            return "fingerprint" in z.files and str(z["fingerprint"]) == self.fingerprint

    @property
    def data(self) -> tuple[np.ndarray, np.ndarray, dict]:
        if self._data is None:
            self._data = load_dataset(self.cfg.data, self.loaded.ckpt, self.loaded.seq_len,
                                      encode=self.loaded.encode)
        return self._data

    def layer_dir(self, layer: int) -> Path:
        return self.out / f"conv{layer}"

    def maxact_path(self, layer: int) -> Path:
        return self.layer_dir(layer) / "maxact.npz"

    def search(self, layers: Sequence[int], force: bool = False, progress: bool = True) -> list[Path]:
        """Max-activation search for ``layers`` (one pass for all); skips finished layers."""
        todo = [L for L in layers if force or not self._fresh(self.maxact_path(L))]
        if todo:
            X, _, _ = self.data
            found = search_maxact(self.loaded.module, X, todo, self.cfg.batch_size, self.device,
                                  zero_extra_tracks=self.cfg.activation_tracks == "zero", progress=progress)
            for L, res in found.items():
                res.save(self.maxact_path(L), self.fingerprint)
        return [self.maxact_path(L) for L in layers]

    def predictions(self) -> np.ndarray:
        """Model predictions of the scanned set on the label scale (cached per stage)."""
        path = self.out / f"predictions_{self.cfg.data.split}.npz"
        if self._fresh(path):
            with np.load(path) as z:
                return z["pred"]
        X, _, _ = self.data
        pred = self.loaded.predict(X, batch_size=self.cfg.batch_size)
        save_npz(path, pred=pred, fingerprint=np.array(self.fingerprint))
        return pred



# --------------------------------------------------------------------------- command line


def layer_range(first: int, last: int) -> list[int]:
    if first < 1 or last < first:
        raise ConfigError(f"layer range {first}..{last} is empty or starts below 1")
    return list(range(first, last + 1))


def build_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("first", type=int, help="first conv layer (1-based, inclusive)")
    p.add_argument("last", type=int, help="last conv layer (inclusive)")
    p.add_argument("config", help="configs/contribution/<model>.yaml")
    p.add_argument("--force", action="store_true", help="recompute finished outputs")
    return p


def main_search(argv: list[str] | None = None, config_cls=None, stage_name: str = "contribution") -> None:
    """``run_search_maxact.sh <first> <last> <config>``."""
    from .cli import run_cli

    def _main(args: argparse.Namespace) -> int:
        cfg = load_config(args.config, config_cls)
        layers = layer_range(args.first, args.last)
        stage = Stage(cfg, args.config, stage_name)
        stage.check_layers(layers, key=None)
        for path in stage.search(layers, force=args.force):
            res = MaxAct.load(path)
            print(f"conv{res.layer}: {len(res.neuron_max)} neurons over {len(res.seq_max)} sequences, "
                  f"RF {res.rf}; max activation {float(res.neuron_max.max()):.3g} -> {path}")
        return 0

    run_cli(_main, build_parser("Max-activation search over the training set"), argv)


