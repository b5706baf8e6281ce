"""The windowed forward of single-base substitutions (fast ISM) equals the full forward."""

import numpy as np
import pytest
import torch
from torch import nn

from combmotif.baselines.contributions import ism_contributions, target_fn
from combmotif.models.binding import BindingCNN
from combmotif.models.saluki import SalukiModel
from combmotif.models.substitution import substitution_outputs, substitution_plan


def _randomised(model: nn.Module) -> nn.Module:
    torch.manual_seed(3)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):      # non-trivial running statistics
                m.running_mean.normal_(0, 0.5)
                m.running_var.uniform_(0.5, 2)
    return model.eval()


def _inputs(n: int, channels: int, length: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, channels, length), np.float32)
    x[np.arange(n)[:, None], rng.integers(0, 4, (n, length)), np.arange(length)] = 1
    if channels > 4:
        x[:, 4:] = rng.random((n, channels - 4, length)) < 0.1     # codon / splice tracks
    x[0, :4, 3] = 0                                                # a column without a base
    return torch.from_numpy(x)


class _Odd(nn.Module):
    """Even kernels with 'same' padding (uneven pads), dilation, an overlapping average pool."""

    arch = {"in_channels": 4, "seq_len": 45}

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv1d(4, 6, 4, padding="same"), nn.ELU(),
                                  nn.Sequential(nn.Conv1d(6, 5, 3, dilation=2, padding=1), nn.BatchNorm1d(5)),
                                  nn.AvgPool1d(3, stride=2), nn.Conv1d(5, 4, 2))
        self.head = nn.Linear(4 * 20, 2)

    def forward(self, x):
        return self.forward_from_trunk(self.body(x))

    def forward_from_trunk(self, h):
        return self.head(h.flatten(1))


MODELS = [
    ("even kernels, dilation, overlapping pool", _Odd),
    ("saluki same", lambda: SalukiModel(4, 50, 3, filters=8, gru_units=8, dense_units=8)),
    ("saluki valid 6 tracks", lambda: SalukiModel(6, 120, 3, filters=8, padding="valid", gru_units=8,
                                                   dense_units=8)),
    ("binding dense", lambda: BindingCNN(4, 61, [8, 6, 5], [7, 5, 3], [3, 2, 1], head="dense",
                                           dense_units=8)),
    ("binding global max, valid", lambda: BindingCNN(4, 40, [8, 6], [5, 3], [4, 1], padding="valid",
                                                     head="global_max")),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("name,make", MODELS, ids=[m[0] for m in MODELS])
def test_every_substitution_matches_the_full_forward(name, make):
    model = _randomised(make())
    assert substitution_plan(model) is not None
    x = _inputs(3, model.arch["in_channels"], model.arch["seq_len"])
    length = x.shape[-1]
    # Every position (the ends and the base-less column included) and every base.
    grid = torch.stack(torch.meshgrid(torch.arange(3), torch.arange(length), torch.arange(4),
                                      indexing="ij"), -1).reshape(-1, 3)
    fast = substitution_outputs(model, x, grid)
    v = x[grid[:, 0]].clone()
    v[torch.arange(len(grid)), :4, grid[:, 1]] = torch.eye(4)[grid[:, 2]]
    with torch.no_grad():
        full = model(v)
    torch.testing.assert_close(fast, full, rtol=1e-5, atol=1e-5)


def test_ism_takes_the_windowed_forward_for_an_output_target_and_gives_the_same_values():
    model = _randomised(SalukiModel(4, 50, 3, filters=8, gru_units=8, dense_units=8))
    x = _inputs(5, 4, 50).numpy()
    fn = target_fn(model, ("output", 0), 4)
    assert callable(getattr(fn, "substitutions", None))
    np.testing.assert_allclose(ism_contributions(fn, x), ism_contributions(lambda t: fn(t), x), atol=1e-5)


def test_models_the_window_cannot_follow_take_the_full_forward():
    model = _randomised(SalukiModel(4, 50, 3, filters=8, gru_units=8, dense_units=8))
    assert substitution_plan(model.train()) is None                # batch statistics mix sequences
    strided = _randomised(BindingCNN(4, 40, [8], [5], [1]))
    strided.body.conv1.conv.stride = (2,)
    assert substitution_plan(strided) is None
    plain = nn.Sequential(nn.Conv1d(4, 4, 3), nn.Flatten(), nn.Linear(4 * 38, 1)).eval()
    assert substitution_plan(plain) is None                        # no forward_from_trunk
    assert not hasattr(target_fn(plain, ("output", 0), 4), "substitutions")


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("name,make", MODELS, ids=[m[0] for m in MODELS])
def test_variants_that_differ_in_a_window_match_the_full_forward_and_the_trunk_prefix(name, make):
    """The knockout's variants: a window of several bases rewritten (the ends included), through
    the whole model and through the trunk up to conv 2 (the neuron maximum reads its output)."""
    from combmotif.models.substitution import window_outputs
    from combmotif.models.trunk import trunk_prefix

    model = _randomised(make())
    x = _inputs(4, model.arch["in_channels"], model.arch["seq_len"])
    length, width = x.shape[-1], 6
    rows = torch.tensor([0, 1, 2, 3, 0, 2])
    start = torch.tensor([0, length - width, 9, 17, 3, length - width])
    window = _inputs(6, x.shape[1], width, seed=5)
    v = x[rows].clone()
    for i in range(len(rows)):
        v[i, :, start[i]:start[i] + width] = window[i]
    with torch.no_grad():
        full, prefix = model(v), trunk_prefix(model, 2)(v)
    torch.testing.assert_close(window_outputs(model, x, rows, start, window, substitution_plan(model)),
                               full, rtol=1e-5, atol=1e-5)
    got = window_outputs(model, x, rows, start, window, substitution_plan(model, 2), layer_output=True)
    torch.testing.assert_close(got, prefix, rtol=1e-5, atol=1e-5)
