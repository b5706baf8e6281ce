"""Model anatomy: receptive fields from the module, the RF-long sub-model, pool inputs."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from combmotif import maxact as MA
from combmotif.errors import InputError
from combmotif.models.anatomy import Anatomy, flatten_trunk
from combmotif.models.saluki import SalukiModel
from combmotif.models.trunk import conv_outputs, layer_outputs, neuron_max_fn, neuron_max_over_positions
from combmotif.sequences import one_hot

from tiny_cnn import random_onehot


def _stack(padding: int = 0) -> nn.Sequential:
    """conv k5 -> pool2 -> conv k5 -> pool2 -> conv k3, then a head that is not trunk."""
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict([
        ("c1", nn.Conv1d(4, 6, 5, padding=padding)), ("r1", nn.ReLU()), ("p1", nn.MaxPool1d(2)),
        ("c2", nn.Conv1d(6, 6, 5, padding=padding)), ("bn", nn.BatchNorm1d(6)), ("r2", nn.ReLU()),
        ("p2", nn.MaxPool1d(2)), ("c3", nn.Conv1d(6, 5, 3, padding=padding)), ("r3", nn.ReLU()),
        ("flat", nn.Flatten()), ("fc", nn.Linear(5, 1)),
    ])).eval()


def test_receptive_fields_from_modules():
    a = Anatomy(_stack())
    assert [li.rf for li in a.layers] == [5, 14, 24]          # 5; 5+1+4*2; 14+2+2*4
    assert [li.jump for li in a.layers] == [1, 2, 4]
    assert [li.shift for li in a.layers] == [1, 2, 4]
    assert [len(li.pools) for li in a.layers] == [0, 1, 2]
    # Flatten/Linear end the trunk; the table has one row per conv.
    assert [name for name, _ in flatten_trunk(_stack())][-1] == "r3"
    assert [r["layer"] for r in a.table()] == [1, 2, 3]


def test_saluki_receptive_fields():
    mrl = Anatomy(SalukiModel(4, 50, 3))
    assert [li.rf for li in mrl.layers] == [5, 9, 18, 36]
    assert [li.offset for li in mrl.layers] == [-2, -4, -8, -16]   # 'same' padding
    hl = Anatomy(SalukiModel(6, 1024, 6, padding="valid"))
    assert [li.rf for li in hl.layers] == [5, 9, 18, 36, 72, 144, 288]
    assert hl.layers[-1].shift == 32 and hl.in_channels == 6


@pytest.mark.parametrize("layer", [1, 2, 3])
def test_rf_by_perturbation(layer):
    """Changing an input outside the computed RF never changes the output; inside, it can."""
    model = _stack()
    info = Anatomy(model).layer(layer)
    torch.manual_seed(1)
    x = torch.randn(8, 4, 40)
    base = conv_outputs(model, x, layer)
    j = 2                                                  # an output position
    start = j * info.jump + info.offset
    changed = np.zeros(40, dtype=bool)
    for p in range(40):
        y = x.clone()
        y[:, :, p] += 5 * torch.randn(8, 4)
        changed[p] = not torch.allclose(conv_outputs(model, y, layer)[:, :, j], base[:, :, j])
    inside = np.zeros(40, dtype=bool)
    inside[start:start + info.rf] = True
    assert not changed[~inside].any()
    assert changed[inside].all()


@pytest.mark.parametrize("layer", [1, 2, 3, 4])
def test_cut_equals_full_model_same_padding(layer):
    """The RF-long sub-model without padding = the padded full model at an interior position."""
    torch.manual_seed(0)
    model = SalukiModel(4, 50, 3, filters=16).eval()
    info = Anatomy(model).layer(layer)
    cut = Anatomy(model).cut(layer)
    seqs = ["ACGTTGCAGGATCCATGGCTAGCTAGGATCCGATCGATCGGGTTTAAACC", "GCCACCATGG" * 5]
    x = torch.from_numpy(one_hot(seqs, 50))
    full = conv_outputs(model, x, layer)
    positions = [j for j in range(full.shape[-1])
                 if j * info.jump + info.offset >= 0 and j * info.jump + info.offset + info.rf <= 50]
    assert positions
    for j in positions:
        s = j * info.jump + info.offset
        with torch.no_grad():
            sub = cut(x[:, :, s:s + info.rf])
        torch.testing.assert_close(sub, full[:, :, j], rtol=1e-4, atol=1e-5)


def test_cut_valid_padding_extra_tracks_and_pool_inputs():
    torch.manual_seed(0)
    model = SalukiModel(6, 200, 3, filters=8, padding="valid").eval()
    anatomy = Anatomy(model)
    cut = anatomy.cut(4)
    x6 = torch.from_numpy(np.concatenate([one_hot(["ACGT" * 50], 200), np.zeros((1, 2, 200), np.float32)], 1))
    full = conv_outputs(model, x6, 4)
    with torch.no_grad():
        out, pools = cut(x6[:, :4, 8:8 + 36], return_pool_inputs=True)
    torch.testing.assert_close(out, full[:, :, 2], rtol=1e-4, atol=1e-5)    # position 2 starts at 2 * 4
    assert [tuple(p.shape[1:]) for p in pools] == [(8, 28), (8, 10)]
    # Extra tracks held at 1 instead of 0 give the full model's value on such an input.
    ones = x6.clone()
    ones[:, 4:] = 1.0
    with torch.no_grad():
        out1 = anatomy.cut(4, extra_tracks=[1.0, 1.0])(ones[:, :4, 8:44])
    torch.testing.assert_close(out1, conv_outputs(model, ones, 4)[:, :, 2], rtol=1e-4, atol=1e-5)
    with pytest.raises(InputError, match="extra_tracks"):
        anatomy.cut(4, extra_tracks=[0.0])


def test_after_activation_applies_the_following_norm_and_relu():
    torch.manual_seed(0)
    model = SalukiModel(4, 50, 3, filters=8).eval()
    anatomy = Anatomy(model)
    x = torch.from_numpy(one_hot(["ACGTTGCAGGATCCATGG"], 18))
    with torch.no_grad():
        pre = anatomy.cut(3)(x)
        post = anatomy.cut(3, after_activation=True)(x)
        want = model.body.relu3(model.body.ln3(pre[:, :, None]))[:, :, 0]
    torch.testing.assert_close(post, want)
    assert (post >= 0).all() and not torch.equal(pre, post)


def test_cut_rejects_wrong_shape_and_has_frozen_weights():
    cut = Anatomy(_stack()).cut(2)
    with pytest.raises(InputError, match=r"\(N, 4, 14\)"):
        cut(torch.zeros(1, 4, 15))
    assert not any(p.requires_grad for p in cut.parameters())
    cut.train()
    assert not cut.training                           # dropout/batch-norm stay in eval mode


def test_no_conv_is_a_user_error():
    with pytest.raises(InputError, match="Conv1d"):
        Anatomy(nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))


def _per_window_loop(model, X, layer):
    """The reference: NeuronMotif's neuron (the unpadded cut) on every whole window, one call each."""
    cut = Anatomy(model).cut(layer)
    wm = MA.window_map(model, layer)
    n_pos = next(layer_outputs(model, X[:1], [layer]))[1][layer].shape[-1]
    pos = np.arange(n_pos)
    starts = wm.offset + pos * wm.stride
    full = (starts >= 0) & (starts + wm.rf <= X.shape[-1])
    pos, starts = pos[full], starts[full]
    out = np.zeros((len(X), cut.out_channels, len(pos)), np.float32)
    with torch.no_grad():
        for i in range(len(X)):
            for k, s in enumerate(starts):
                out[i, :, k] = cut(torch.as_tensor(X[i:i + 1, :4, s:s + wm.rf]))[0].numpy()
    return out, pos


@pytest.mark.parametrize("padding,length,channels", [("same", 50, 4), ("valid", 120, 6)])
def test_window_map_and_batched_search_match_a_per_window_loop(padding, length, channels):
    torch.manual_seed(0)
    model = SalukiModel(in_channels=channels, seq_len=length, num_layers=3, filters=6, padding=padding).eval()
    X = random_onehot(3, length, channels)
    assert MA.window_map(model, 4) == MA.WindowMap(36, 4, -16 if padding == "same" else 0)
    for layer in (1, 2, 3, 4):
        found = MA.search_maxact(model, X, [layer], batch_size=2)[layer]
        full = next(layer_outputs(model, X, [layer], batch_size=100))[1][layer].numpy()
        # Each full-length output position equals the prefix run on its window alone.
        naive, pos = _per_window_loop(model, X, layer)
        np.testing.assert_allclose(full[:, :, pos], naive, atol=1e-5)
        np.testing.assert_allclose(found.seq_max, full.max(2), atol=1e-6)
        assert (found.neuron_max == found.seq_max.max(0)).all()
        s, e = found.wmap.windows(found.best_pos, length)
        assert (found.best_start == s).all() and (found.best_end == e).all()
        assert ((e - s) <= found.rf).all() and (s >= 0).all() and (e <= length).all()


def test_one_trunk_forward_serves_every_view():
    """Batched layer outputs, one neuron's max and the differentiable max are one forward."""
    torch.manual_seed(0)
    model = SalukiModel(in_channels=6, seq_len=60, num_layers=3, filters=6).eval()
    X = random_onehot(5, 60, 6)
    zeroed = X.copy()
    zeroed[:, 4:] = 0                                   # what every view feeds the trunk
    for layer in (1, 3):
        full = conv_outputs(model, torch.as_tensor(zeroed), layer)
        chunks = torch.cat([o[layer] for _, o in layer_outputs(model, X, [layer], batch_size=2)])
        torch.testing.assert_close(chunks, full, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(neuron_max_over_positions(model, X, layer, 2, batch_size=2),
                                   full[:, 2].amax(1).numpy(), rtol=1e-6, atol=1e-6)
        x4 = torch.as_tensor(X[:, :4]).requires_grad_(True)
        got = neuron_max_fn(model, layer, 6)(x4)
        torch.testing.assert_close(got.detach(), full.amax(-1), rtol=1e-6, atol=1e-6)
        got[:, 0].sum().backward()                      # the gradient reaches the sequence
        assert x4.grad is not None and x4.grad.abs().sum() > 0
    with_tracks = next(layer_outputs(model, X, [1], zero_extra=False))[1][1]
    assert not torch.allclose(with_tracks, conv_outputs(model, torch.as_tensor(zeroed), 1))

