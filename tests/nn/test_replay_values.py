"""nn code computes every value-dependent array by a primitive, so a recorded step replays it.

Each step here is compiled with ``autograd.compile_step(strict=True)`` (two recorded calls must
agree, or it raises) and then called with NEW values: a mask, a target's weight or a mean's
divisor computed with NumPy on ``.data`` would replay as the first call's constant. Every
replayed result and gradient must equal eager mode's exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from nn import functional as F

STEPS = 5  # calls 1 and 2 record, 3 to 5 replay


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _replays_like_eager(fn: Callable, make: Callable[[np.random.Generator], list]) -> None:
    """Call ``fn`` compiled and eagerly on the same fresh arrays each step: results and gradients agree."""

    def step(*xs):
        out = fn(*xs)
        if out.requires_grad:
            out.sum().backward()
        return out

    compiled = ag.compile_step(step, strict=True)
    rng = np.random.default_rng(0)
    for _ in range(STEPS):
        arrays = make(rng)
        replayed = [Tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
        eager = [Tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
        got, expected = compiled(*replayed), step(*eager)
        assert _same(np.asarray(got.data), np.asarray(expected.data))
        for r, e in zip(replayed, eager):
            assert _same(None if r.grad is None else r.grad.data, None if e.grad is None else e.grad.data)
    assert compiled.replays == STEPS - 2


def _images(rng):
    return [rng.standard_normal((2, 3, 6, 6))]


def _targets(rng, shape=(8,), classes=5, ignored=0.3):
    y = rng.integers(0, classes, shape)
    y[rng.random(shape) < ignored] = -100
    return y


CLASS_WEIGHT = np.array([0.5, 1.0, 2.0, 3.0, 1.0])

CASES = {
    "cross_entropy": (lambda z, y: F.cross_entropy(z, y), lambda r: [r.standard_normal((8, 5)), _targets(r)]),
    "cross_entropy weighted, smoothed": (
        lambda z, y: F.cross_entropy(z, y, weight=CLASS_WEIGHT, label_smoothing=0.1),
        lambda r: [r.standard_normal((8, 5)), _targets(r)],
    ),
    "cross_entropy (N, T, C), none": (
        lambda z, y: F.cross_entropy(z, y, reduction="none"),
        lambda r: [r.standard_normal((2, 4, 5)), _targets(r, (2, 4))],
    ),
    "cross_entropy all ignored": (
        lambda z, y: F.cross_entropy(z, y),
        lambda r: [r.standard_normal((8, 5)), _targets(r, ignored=r.choice([0.0, 1.0]))],
    ),
    "nll_loss weighted": (
        lambda z, y: F.nll_loss(z.log_softmax(-1), y, weight=CLASS_WEIGHT),
        lambda r: [r.standard_normal((8, 5)), _targets(r)],
    ),
    "nll_loss ignore_index=0": (
        lambda z, y: F.nll_loss(z.log_softmax(-1), y, ignore_index=0),
        lambda r: [r.standard_normal((8, 5)), r.integers(0, 5, 8)],
    ),
    "softplus": (lambda x: F.softplus(x * 15), _images),
    "leaky_relu": (lambda x: F.leaky_relu(x), _images),
    "gelu none": (lambda x: F.gelu(x * 3, approximate="none"), _images),
    "bce with logits": (
        lambda x, y: F.binary_cross_entropy_with_logits(x, y),
        lambda r: [r.standard_normal((4, 3)) * 10, (r.random((4, 3)) > 0.5) * 1.0],
    ),
    "mse_loss, ndarray target": (lambda x, y: F.mse_loss(x, y.data), lambda r: [r.standard_normal((3, 4))] * 2),
    "attention, boolean mask": (
        lambda q, m: F.scaled_dot_product_attention(q, q, q, attn_mask=m),
        lambda r: [r.standard_normal((2, 4, 5)), r.random((4, 4)) > 0.4],
    ),
    "max_pool2d indices": (
        lambda x: F.max_pool2d(x, 2, return_indices=True)[1].astype(np.float64) + F.max_pool2d(x, 2),
        _images,
    ),
    "topk": (lambda x: ag.topk(x, 2, -1).values * ag.topk(x, 2, -1).indices.astype(np.float64), _images),
    "logsumexp of -inf rows": (lambda x: ag.where(x > 1.0, -np.inf, x).logsumexp(-1), _images),
    "relu, abs, clip, max, maximum": (
        lambda x: x.relu() + x.clip(-0.5, 0.5).abs() + x.max(-1, keepdims=True) + ag.maximum(x, x.sign()),
        _images,
    ),
    "numpy functions": (lambda x: x * np.isfinite(x) * np.floor(x) + np.all(x > 0, axis=-1, keepdims=True), _images),
}


@pytest.mark.parametrize("name", CASES)
def test_replays_new_values_like_eager_mode(name):
    _replays_like_eager(*CASES[name])


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_statistics_update_in_replays(momentum):
    replayed, eager = nn.BatchNorm1d(4, momentum=momentum), nn.BatchNorm1d(4, momentum=momentum)

    def step(x, bn=replayed):
        y = bn(x)
        (y * y).sum().backward()
        return y

    compiled = ag.compile_step(step, strict=True)
    rng = np.random.default_rng(0)
    for i in range(STEPS):
        x = rng.standard_normal((8, 4)).astype(np.float32) * (i + 1)
        compiled(x)
        step(x.copy(), eager)
    assert compiled.replays == STEPS - 2
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert _same(getattr(replayed, name).data, getattr(eager, name).data), name
    assert int(replayed.num_batches_tracked.data) == STEPS
