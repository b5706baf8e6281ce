"""Batched max-activation search against a per-window Python loop, same model and data.

    python bench/window_scan_speed.py [--checkpoint model_weights/mrl_predictor-best.pth]
                                      [--data data/synthetic_mrl/data.csv] [--n 500] [--layers 1 2 3 4]
    python bench/window_scan_speed.py --checkpoint model_weights/hl_predictor-best.pth \
        --data data/synthetic_halflife/data.h5 --n 10 --layers 1 2 3 4 5

The per-window loop is what the seeds did in spirit: cut every receptive-field
window of every sequence and evaluate NeuronMotif's neuron (the conv trunk up
to layer L, unpadded) on it, one call per window. The batched search runs the
trunk once per chunk of whole sequences and reads every window of every neuron
from one output tensor; it also covers the edge windows that overhang a
'same'-padded sequence, which the loop skips. Both must give the same values on
the windows they share; the script checks that, then prints the time of each
(fastest of --repeats interleaved runs), the ratio of times on the same
sequences and the ratio of windows per second. One run, side by side. With
several --layers it also times the search over all of them, as a stage runs it:
one batched pass for every layer against one loop per layer.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif import maxact as MA  # noqa: E402
from combmotif.checkpoint import load_checkpoint  # noqa: E402
from combmotif.models.anatomy import Anatomy  # noqa: E402
from combmotif.models.saluki import SalukiModel  # noqa: E402
from combmotif.models.trunk import layer_outputs  # noqa: E402


def naive_window_scan(model: torch.nn.Module, X: np.ndarray, layer: int, device: str | torch.device = "cpu"
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The per-window Python loop that :func:`combmotif.maxact.search_maxact` replaces.

    For every sequence and every output position whose window lies wholly inside
    the sequence, cut the window (one receptive field long) and evaluate
    NeuronMotif's neuron on it alone (:class:`combmotif.models.anatomy.ConvCut`:
    the trunk up to conv L without padding, extra tracks 0).

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    X : numpy.ndarray
        (N, C, L) inputs.
    layer : int
        1-based conv layer.
    device : str or torch.device
        Where the cut runs.

    Returns
    -------
    tuple of numpy.ndarray
        ``(values (N, C, P), positions (P,), window starts (P,))``.
    """
    cut = Anatomy(model).cut(layer).to(device)
    wm = MA.window_map(model, layer)
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


def _fastest(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _inputs(args: argparse.Namespace) -> tuple[torch.nn.Module, str, np.ndarray, str]:
    """The model and sequences to time, and how to describe them."""
    if Path(args.checkpoint).is_file():
        model, _ = load_checkpoint(args.checkpoint)
        what = args.checkpoint
    else:
        torch.manual_seed(0)
        model = SalukiModel(in_channels=4, seq_len=50, num_layers=3, filters=64).eval()
        what = "untrained SalukiModel (MRL architecture: 4 conv layers, 64 filters) - no checkpoint found"
    length = model.arch["seq_len"]
    if Path(args.data).is_file() and args.data.endswith(".csv"):
        from combmotif.data.mrl import encode_utrs, read_mrl_csv
        X = encode_utrs(read_mrl_csv(args.data)["utr"].tolist()[: args.n], length=length)
        data = f"first {args.n} UTRs of {args.data}"
    elif Path(args.data).is_file() and args.data.endswith(".h5"):
        from combmotif.data.halflife import read_h5
        X = read_h5(args.data, splits=("train",))["train"][0][: args.n]
        data = f"first {args.n} transcripts of the train split of {args.data}"
    else:
        rng = np.random.default_rng(0)
        X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (args.n, length))].transpose(0, 2, 1).copy()
        data = f"{args.n} random sequences"
    return model, what, X, data


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=str(ROOT / "model_weights/mrl_predictor-best.pth"))
    p.add_argument("--data", default=str(ROOT / "data/synthetic_mrl/data.csv"))
    p.add_argument("--n", type=int, default=500, help="sequences timed (both methods)")
    p.add_argument("--layers", type=int, nargs="+", default=[1, 2, 3, 4])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to time")
    p.add_argument("--repeats", type=int, default=2, help="timings per setting; the fastest counts")
    args = p.parse_args()
    model, what, X, data = _inputs(args)
    print(f"model: {what}\ndata: {data}; fastest of {args.repeats} runs per setting")
    MA.search_maxact(model, X[:64], args.layers)  # warm-up (thread pools, allocator), untimed
    loop_times: dict[tuple[int, int], float] = {}
    for layer in args.layers:
        wm = MA.window_map(model, layer)
        times: dict[tuple[str, int], float] = {}
        for threads in args.threads:
            torch.set_num_threads(threads)
            times["batched", threads], found = _fastest(
                lambda: MA.search_maxact(model, X, [layer], batch_size=256)[layer], args.repeats)
            times["loop", threads], (naive, pos, _) = _fastest(
                lambda: naive_window_scan(model, X, layer), args.repeats)
            loop_times[layer, threads] = times["loop", threads]
        full = next(layer_outputs(model, X, [layer], batch_size=len(X)))[1][layer].numpy()
        err = float(np.abs(full[:, :, pos] - naive).max())
        n_loop, n_batched = len(X) * len(pos), len(X) * full.shape[2]
        print(f"conv{layer} (RF {wm.rf}, stride {wm.stride}, {found.seq_max.shape[1]} neurons): loop covers "
              f"{n_loop} whole windows, batched {n_batched} incl. edge windows; max |difference| {err:.2g}")
        for threads in args.threads:
            tb, tl = times["batched", threads], times["loop", threads]
            print(f"  {threads} thread(s): per-window loop {tl:.3f} s ({n_loop / tl:,.0f} windows/s), "
                  f"batched {tb:.4f} s ({n_batched / tb:,.0f} windows/s): ratio {tl / tb:,.0f}x in time, "
                  f"{(n_batched / tb) / (n_loop / tl):,.0f}x per window")
        tb = min(times["batched", t] for t in args.threads)
        tl = min(times["loop", t] for t in args.threads)
        print(f"  each at its fastest setting: ratio {tl / tb:,.0f}x in time, "
              f"{(n_batched / tb) / (n_loop / tl):,.0f}x per window")
    if len(args.layers) > 1:
        # A search asks for several layers at once (run_search_maxact.sh 1 4): one
        # batched pass serves them all, while the loop has to run once per layer.
        whole = {}
        for threads in args.threads:
            torch.set_num_threads(threads)
            whole["batched", threads], _ = _fastest(
                lambda: MA.search_maxact(model, X, args.layers, batch_size=256), args.repeats)
            whole["loop", threads] = sum(loop_times[L, threads] for L in args.layers)
        tb = min(whole["batched", t] for t in args.threads)
        tl = min(whole["loop", t] for t in args.threads)
        names = "+".join(f"conv{L}" for L in args.layers)
        print(f"whole search {names}: one batched pass {tb:.4f} s, per-window loops {tl:.3f} s "
              f"(sum over the layers): ratio {tl / tb:,.0f}x in time, each at its fastest setting")


if __name__ == "__main__":
    main()
