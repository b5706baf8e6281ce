"""Weighted k-means for many problems at once, as batched tensor ops on one device.

Demixing splits every cluster of every neuron of a layer at one pool level
with the same k on features of the same width, so those problems are stacked
into one (B, N, d) tensor, padded to the largest with zero-weight rows that
never become a centre and add nothing to a sum. ``n_init`` restarts are a
second batch axis. Everything runs on the features' device.

The algorithm is scikit-learn's: greedy k-means++ initialisation (``2 +
floor(ln k)`` candidates per centre, drawn with probability weight x squared
distance, the one that lowers the potential most kept), then Lloyd iterations
until no label changes (or ``max_iter``); the restart with the lowest weighted
inertia is kept. The random draws come from the sampler's counter-based
generator (:mod:`.randomness`), one stream per problem, so a problem's result
does not depend on which other problems share its batch (each restart also
stops on its own). Computed in float32; on CPU the same seed gives the same labels.

Empty clusters: as scikit-learn does, a centre that is left with no weight
after an update moves onto a point far from its own centre (the first empty
centre of a restart onto the farthest point, the second onto the next); a
cluster still empty at the end has no point, and demixing makes no child of it.
"""

from __future__ import annotations

import math

import torch

from .randomness import _uniform, stream_key

_INIT_FIRST, _INIT_CAND = 101, 102    # purposes of the k-means streams (beyond the sampler's)


def memory_budget(device: torch.device | str) -> int:
    """Bytes one demixing or sampling chunk may hold on ``device``.

    CUDA: half the memory the driver reports free (:func:`torch.cuda.mem_get_info`);
    CPU: a fixed 256 MiB (chunks this size keep in cache and leave memory to others).

    Parameters
    ----------
    device : torch.device or str
        The device.

    Returns
    -------
    int
        The budget in bytes.
    """
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free // 2)
    return 256 << 20


def auto_batch_size(device: torch.device | str, rf: int, channels: int) -> int:
    """``batch_size: auto``: sequences per forward/backward chunk of a layer on ``device``.

    CUDA: the :func:`memory_budget` over a generous bound of one sequence's footprint
    (every conv output of the cut at full receptive-field length, float32, kept for the
    backward pass with its gradient and two intermediates), a power of two in
    [256, 65536]. CPU: 2048 (larger chunks fall out of cache and are slower).

    Parameters
    ----------
    device : torch.device or str
        The device.
    rf : int
        The layer's receptive field (input length).
    channels : int
        Output channels of all conv layers of the cut together.

    Returns
    -------
    int
        The batch size.
    """
    if torch.device(device).type != "cuda":
        return 2048
    per_sequence = 4 * 6 * max(1, rf) * max(1, channels)
    n = max(1, memory_budget(device) // per_sequence)
    return int(min(65536, max(256, 1 << (n.bit_length() - 1))))


def _sq_dist(x: torch.Tensor, x_sq: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Squared distances (B, N, M) of points x (B, N, d) to centres c (B, M, d), clamped at 0."""
    c_sq = (c * c).sum(-1)
    # c @ x^T is the fast layout for few centres and many points (x^T is a free view)
    d = x_sq[:, :, None] - 2.0 * torch.bmm(c, x.transpose(1, 2)).transpose(1, 2) + c_sq[:, None, :]
    return d.clamp_min_(0.0)


def _draw(cum: torch.Tensor, u: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """Rows drawn with probability proportional to the increments of ``cum`` (B, S, N)."""
    v = u.to(cum.device) * cum[..., -1:]     # cum is float64: exact enough for 1e5 rows
    idx = torch.searchsorted(cum.contiguous(), v.contiguous(), right=True)
    return torch.minimum(idx, last[:, None, None])


def kmeans_plusplus(x: torch.Tensor, x_sq: torch.Tensor, w: torch.Tensor, n: torch.Tensor, k: int,
                    keys: torch.Tensor, n_init: int) -> torch.Tensor:
    """Greedy weighted k-means++ centres (B, n_init * k, d), restarts side by side.

    Parameters
    ----------
    x : torch.Tensor
        (B, N, d) points, zero rows past each problem's ``n``.
    x_sq : torch.Tensor
        (B, N) squared norms of ``x``.
    w : torch.Tensor
        (B, N) weights, 0 on padding.
    n : torch.Tensor
        (B,) points per problem (>= 1).
    k : int
        Clusters.
    keys : torch.Tensor
        (B,) int64 random stream of each problem.
    n_init : int
        Restarts.

    Returns
    -------
    torch.Tensor
        (B, n_init * k, d) initial centres, restart-major.
    """
    b, big_n, d = x.shape
    trials = 2 + int(math.log(k))
    last = n - 1
    bidx = torch.arange(b, device=x.device)
    first = _draw(torch.cumsum(w.double(), -1)[:, None, :].expand(b, n_init, big_n),
                  _uniform(_INIT_FIRST, keys, (n_init, 1)).to(x.device), last)[..., 0]   # (B, S)
    chosen = [first]
    centre = x[bidx[:, None], first]                                                       # (B, S, d)
    closest = _sq_dist(x, x_sq, centre).transpose(1, 2)                                    # (B, S, N)
    for c in range(1, k):
        cum = torch.cumsum((closest * w[:, None, :]).double(), -1)
        u = _uniform(stream_key(_INIT_CAND, c), keys, (n_init, trials)).to(x.device)
        cand = _draw(cum, u, last)                                                         # (B, S, T)
        d2 = _sq_dist(x, x_sq, x[bidx[:, None], cand.reshape(b, -1)])                      # (B, N, S*T)
        d2 = d2.transpose(1, 2).reshape(b, n_init, trials, big_n)
        trial = torch.minimum(closest[:, :, None, :], d2)
        best = (trial * w[:, None, None, :]).sum(-1).argmin(-1)                            # (B, S)
        chosen.append(cand.gather(2, best[..., None])[..., 0])
        closest = trial.gather(2, best[:, :, None, None].expand(b, n_init, 1, big_n))[:, :, 0]
    idx = torch.stack(chosen, -1).reshape(b, n_init * k)
    return x[bidx[:, None], idx]


def _relocate_empty(cent: torch.Tensor, counts: torch.Tensor, x: torch.Tensor, mind: torch.Tensor,
                    valid: torch.Tensor, b: int, s: int, k: int) -> torch.Tensor:
    """Move each empty centre (weight 0) onto a far point of its restart, farthest first."""
    empty = counts.view(b, s, k) <= 0
    if not bool(empty.any()):
        return cent
    far = mind.masked_fill(~valid[:, None, :], -1.0).topk(min(k, mind.shape[-1]), -1).indices  # (B, S, k')
    rank = (torch.cumsum(empty.to(torch.int64), -1) - 1).clamp(0, far.shape[-1] - 1)
    pick = far.gather(2, rank)                                                            # (B, S, k)
    bidx = torch.arange(b, device=x.device)[:, None, None]
    moved = x[bidx, pick]                                                                 # (B, S, k, d)
    cent = cent.view(b, s, k, -1)
    return torch.where(empty[..., None], moved, cent).view(b, s * k, -1)


def kmeans_batched(x: torch.Tensor, w: torch.Tensor, n: torch.Tensor, k: int, keys: torch.Tensor,
                   n_init: int = 3, max_iter: int = 100, tol: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted k-means of B padded problems at once (see the module doc).

    Each restart of each problem stops on its own (its centres frozen) when no label
    changes or, as scikit-learn, when its centres move less than ``tol`` times the
    mean variance of the problem's features; so a problem's result does not depend
    on the others of the batch.

    Parameters
    ----------
    x : torch.Tensor
        (B, N, d) points (computed in float32); rows past ``n[b]`` are padding.
    w : torch.Tensor
        (B, N) non-negative sample weights; padding rows are ignored whatever their weight.
    n : torch.Tensor
        (B,) real rows per problem, each >= 1.
    k : int
        Clusters per problem (>= 1).
    keys : torch.Tensor
        (B,) int64 random stream per problem (e.g. :func:`~.randomness.stream_key` of seed,
        neuron and tree path).
    n_init : int
        Restarts; the one with the lowest weighted inertia is kept.
    max_iter : int
        Lloyd iterations at most.
    tol : float
        Relative tolerance on the centres' movement (scikit-learn's ``tol``).

    Returns
    -------
    labels : torch.Tensor
        (B, N) int64 cluster of each row (-1 on padding).
    inertia : torch.Tensor
        (B,) weighted sum of squared distances to the assigned centres (float64).
    """
    dt, dev = torch.float32, x.device
    b, big_n, _ = x.shape
    valid = torch.arange(big_n, device=dev)[None, :] < n.to(dev)[:, None]
    zero = torch.zeros((), dtype=dt, device=dev)
    x = torch.where(valid[..., None], x.to(dt), zero)
    w = torch.where(valid, w.to(dt), zero)
    x_sq = (x * x).sum(-1)
    nn_ = n.to(dev, dt)[:, None]
    mean = x.sum(1) / nn_
    var = ((x_sq.sum(1) / nn_[:, 0]) - (mean * mean).sum(-1)).clamp_min(0) / x.shape[-1]   # mean variance
    limit = (tol * var)[:, None]                                                          # (B, 1)
    cent = kmeans_plusplus(x, x_sq, w, n.to(dev), k, keys.to(dev), n_init)              # (B, S*k, d)
    cent = _lloyd(x, x_sq, w, valid, limit, cent, k, n_init, max_iter)
    labels = _assign(x, cent, b, n_init, k)                                               # (B, S, N)
    d = _sq_dist(x, x_sq, cent).view(b, big_n, n_init, k).permute(0, 2, 1, 3)
    mind = d.gather(3, labels[..., None])[..., 0]                                         # (B, S, N)
    inertia = (mind.double() * w.double()[:, None, :]).sum(-1)                            # (B, S)
    best = inertia.argmin(-1)                                                             # first on ties
    out = labels.gather(1, best[:, None, None].expand(b, 1, big_n))[:, 0]
    return out.masked_fill(~valid, -1), inertia.gather(1, best[:, None])[:, 0]


def _lloyd(x: torch.Tensor, x_sq: torch.Tensor, w: torch.Tensor, valid: torch.Tensor, limit: torch.Tensor,
           cent: torch.Tensor, k: int, n_init: int, max_iter: int) -> torch.Tensor:
    """Lloyd iterations from ``cent`` (B, S*k, d); each restart frozen once converged.

    When half the problems or more have converged, the batch shrinks to the others
    (their rows are gathered once), so late iterations cost what is left to do. The
    restarts of a problem share its points: one pass over them serves all restarts.
    """
    rows = torch.arange(len(x), device=x.device)    # problems still iterating -> rows of the input
    final = cent.clone()
    active = torch.ones(len(x), n_init, dtype=torch.bool, device=x.device)
    labels = torch.full((len(x), n_init, x.shape[1]), -1, dtype=torch.int64, device=x.device)
    total = None                    # (B, d) weighted sum of each problem's points, from the first update
    for _ in range(max(1, max_iter)):
        b = len(x)
        new = _assign(x, cent, b, n_init, k)                                               # (B, S, N)
        active &= (new != labels).any(-1)           # a restart whose labels hold has converged
        labels = torch.where(active[..., None], new, labels)
        live = active.any(1)
        n_live = int(live.sum())
        if n_live == 0:
            break
        if 2 * n_live <= b:
            final[rows] = cent
            keep = live.nonzero()[:, 0]
            x, x_sq, w, valid, limit, cent, active, labels, rows, total = (
                t[keep] for t in (x, x_sq, w, valid, limit, cent, active, labels, rows, total))
            b = len(x)
        sums, wsum, total = _cluster_sums(x, w, total, labels, k)
        moved = torch.where(wsum[..., None] > 0, sums / wsum.clamp_min(1e-30)[..., None], cent)
        if bool((wsum <= 0).any()):
            d = _sq_dist(x, x_sq, cent).view(b, x.shape[1], n_init, k).permute(0, 2, 1, 3)
            mind = d.gather(3, labels[..., None].clamp_min(0))[..., 0]                    # (B, S, N)
            moved = _relocate_empty(moved, wsum, x, mind, valid, b, n_init, k)
        shift = ((moved - cent) ** 2).sum(-1).view(b, n_init, k).sum(-1)                  # (B, S)
        cent = torch.where(active.repeat_interleave(k, 1)[..., None], moved, cent)
        active &= shift > limit
    final[rows] = cent
    return final


def _cluster_sums(x: torch.Tensor, w: torch.Tensor, total: torch.Tensor | None, labels: torch.Tensor,
                  k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weighted sums (B, S*k, d) and weights (B, S*k) of each restart's clusters, and ``total``.

    Given the problems' totals, the heaviest cluster of a restart is the total minus
    the others: k - 1 products with the points, not k, and taking the heaviest keeps
    the subtraction's rounding small against that cluster's own sum. Without them
    (first update) all k are summed and the totals taken from restart 0, because a
    one-row product (B, 1, N) x (B, N, d) rounds differently with the batch size
    and a problem's labels must not depend on the others of its batch.
    """
    b, s, big_n = labels.shape
    onehot = torch.nn.functional.one_hot(labels.clamp_min(0), k).to(x.dtype) * w[:, None, :, None]
    onehot = onehot.transpose(2, 3)                                                       # (B, S, k, N)
    wsum = onehot.sum(-1)                                                                 # (B, S, k)
    if total is None or k == 1:
        sums = torch.bmm(onehot.reshape(b, s * k, big_n), x)
        return sums, wsum.view(b, s * k), sums.view(b, s, k, -1)[:, 0].sum(1)
    heavy = wsum.argmax(-1)                                                               # (B, S)
    others = torch.arange(k - 1, device=x.device)[None, None, :]
    others = others + (others >= heavy[..., None]).to(torch.int64)                       # (B, S, k-1)
    part = onehot.gather(2, others[..., None].expand(b, s, k - 1, big_n))
    part = torch.bmm(part.reshape(b, s * (k - 1), big_n), x).view(b, s, k - 1, -1)
    sums = torch.empty((b, s, k, x.shape[-1]), dtype=x.dtype, device=x.device)
    sums.scatter_(2, others[..., None].expand_as(part), part)
    rest = total[:, None, :] - part.sum(2)                                                # (B, S, d)
    sums.scatter_(2, heavy[:, :, None, None].expand(b, s, 1, x.shape[-1]), rest[:, :, None])
    return sums.view(b, s * k, -1), wsum.view(b, s * k), total


def _assign(x: torch.Tensor, cent: torch.Tensor, b: int, s: int, k: int) -> torch.Tensor:
    """Nearest centre (B, S, N) of every point for every restart (the first centre wins a tie).

    |x|^2 is the same for all centres of a point, so centre c beats centre 0 where
    |c_c|^2 - |c_0|^2 - 2 (c_c - c_0).x < 0: k - 1 products with the points, not k.
    """
    if k == 1:
        return torch.zeros((b, s, x.shape[1]), dtype=torch.int64, device=x.device)
    c = cent.view(b, s, k, -1)
    diff = (c[:, :, 1:] - c[:, :, :1]).reshape(b, s * (k - 1), -1)
    c_sq = (c * c).sum(-1)
    off = (c_sq[:, :, 1:] - c_sq[:, :, :1]).reshape(b, s * (k - 1), 1)
    score = (off - 2.0 * torch.bmm(diff, x.transpose(1, 2))).view(b, s, k - 1, x.shape[1])
    # A running minimum over the k centres: argmin over a middle axis is slow on CPU.
    best = score.new_zeros(()).expand(b, s, x.shape[1])
    arg = torch.zeros((b, s, x.shape[1]), dtype=torch.int64, device=x.device)
    for j in range(k - 1):
        closer = score[:, :, j] < best
        best = torch.where(closer, score[:, :, j], best)
        arg = arg.masked_fill(closer, j + 1)
    return arg
