"""Discovery's matching and pages beside the sampling: one worker process takes each layer
as soon as it is demixed.

A layer's Tomtom, syntax and pages read only its own files and the shallower layers'
(:func:`~combmotif.report.final.match_layers`), and the sampling of the next layer reads
only the previous layer's PPMs, so the two can run at once: on a GPU the sampler and the
k-means leave the CPU idle, and on a machine of many cores the pages need only one or two.
The worker starts when discovery starts and spends the first layer's sampling on what
every layer needs once (its imports, the motif database, Tomtom's compiled code, the
database's near-duplicate groups).

One worker, layers in submission order: a layer's syntax reads the shallower layers'. The
files are the same bytes as the inline path writes (the test suite compares them).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Sequence

from ..cores import usable_cores

_WORKER: dict = {}


def overlap_wanted(cfg, device, layers: Sequence[int]) -> bool:
    """Whether discovery runs its pages in a worker beside the sampling (``report.overlap``).

    ``auto`` turns it on for a run of several layers where the worker takes nothing from
    the sampler: the model is on a GPU, or this process may use at least 4 cores (on 2
    cores the worker would slow the sampler about as much as it saves). One layer has
    nothing to overlap but the worker's start: measured on an H200 machine, half-life conv5
    took 21.8 s with the worker against 19.9 s without, and MRL conv1-4 23.4 s against 25.9-28.7 s.

    Parameters
    ----------
    cfg : combmotif.neuronmotif.discovery_config.DiscoveryConfig
        The discovery settings.
    device : torch.device or str
        The model's device.
    layers : sequence of int
        The layers of the run.

    Returns
    -------
    bool
    """
    if not cfg.report.enabled or not layers:
        return False
    if cfg.report.overlap != "auto":
        return bool(cfg.report.overlap)
    return len(layers) > 1 and (str(device).startswith("cuda") or usable_cores() >= 4)


class LayerPages:
    """Match and write the pages of each layer handed to :meth:`submit`, in a worker or inline.

    Parameters
    ----------
    cfg : combmotif.neuronmotif.discovery_config.DiscoveryConfig
        The discovery settings.
    overlap : bool
        Run the pages in one worker process beside the caller (else :meth:`finish` runs
        them all through :func:`~combmotif.report.final.match_and_report`).

    Examples
    --------
    >>> with LayerPages(cfg, overlap=True) as pages:       # doctest: +SKIP
    ...     run_discovery(cfg, layers, on_layer=pages.submit)
    ...     front = pages.finish()
    """

    def __init__(self, cfg, overlap: bool):
        from .final import png_hint

        if overlap:     # inline, match_and_report says it when the pages start
            png_hint(cfg)
        self.cfg = cfg
        self.pending: list[int] = []
        self.futures: list[Future] = []
        self.pool = None
        if overlap:
            # spawn, not fork: the caller may hold a CUDA context and torch's threads.
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_start_worker, initargs=(cfg,))
            self.futures.append(self.pool.submit(_ready))

    def submit(self, layer: int) -> None:
        """Queue ``layer`` (already discovered) for Tomtom, syntax and pages.

        Parameters
        ----------
        layer : int
            A conv layer; layers must come shallow first.
        """
        if self.pool is None:
            self.pending.append(layer)
            return
        for done in (f for f in self.futures if f.done()):
            _result(done)      # a failed layer stops the run now, not after the sampling
        self.futures.append(self._submit(_match_layer, layer))

    def finish(self) -> Path:
        """Wait for the queued layers, then write the collected tables, the families and
        the front page.

        Returns
        -------
        Path
            The model's front page.
        """
        from .final import match_and_report

        if self.pool is None:
            return match_and_report(self.cfg, self.pending)
        for future in self.futures:
            _result(future)
        return _result(self._submit(_finish))

    def _submit(self, fn, *args) -> Future:
        try:
            return self.pool.submit(fn, *args)
        except BrokenProcessPool:     # the worker died between two layers
            raise _died() from None

    def __enter__(self) -> "LayerPages":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=exc[0] is None, cancel_futures=True)


def _result(future: Future):
    """The future's result; a worker that died (killed, out of memory) as one clear error."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise _died() from None


def _died() -> RuntimeError:
    return RuntimeError("the pages worker process died (killed, or out of memory); rerun the "
                        "command: the discovered layers are kept, their pages are redone")


def _start_worker(cfg) -> None:
    """The worker's one-time work, done while the caller samples the first layer."""
    from ..motifs.collect import database_groups
    from .final import _setup

    _, targets, matching, _ = _setup(cfg)
    # One Tomtom call of the database against itself: it also loads Tomtom's compiled code.
    groups = database_groups(targets, cfg=matching)
    _WORKER.update(cfg=cfg, targets=targets, groups=groups)


def _ready() -> None:
    """Nothing: makes the worker start (and fail early on a broken database) at once."""


def _match_layer(layer: int) -> None:
    from .final import match_layers, stderr

    match_layers(_WORKER["cfg"], [layer], log=stderr, targets=_WORKER["targets"])


def _finish() -> Path:
    from .final import finish_report, stderr

    return finish_report(_WORKER["cfg"], log=stderr, targets=_WORKER["targets"], groups=_WORKER["groups"])
