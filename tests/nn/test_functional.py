"""Tests for nn.functional: forward against NumPy references written here from the math (and
PyTorch's documented formulas), gradients by gradcheck/gradgradcheck in float64, numerical
stability at extreme inputs, masks, reductions and error messages.

Every test in this file turns warnings into errors, so a NumPy RuntimeWarning (overflow,
divide by zero, invalid value) leaking from a function fails the test that triggered it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
import nn.functional as F
from autograd import Tensor, gradcheck, gradgradcheck

pytestmark = pytest.mark.filterwarnings("error")

FAST = settings(max_examples=20, deadline=None)


def leaf(array, requires_grad: bool = True) -> Tensor:
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def away_from_zero(shape: tuple, seed: int = 0, low: float = 0.05, high: float = 3.0) -> np.ndarray:
    """Random values with |x| in [low, high]: keeps finite differences off kinks at 0."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def float_arrays(min_dims: int = 1, max_dims: int = 3, max_side: int = 5, bound: float = 30.0):
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side),
        elements=st.floats(-bound, bound, allow_nan=False, allow_infinity=False),
    )


# ───────────────────────────── NumPy references ─────────────────────────────

_erf = np.vectorize(math.erf, otypes=[float])


def np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def np_gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def np_gelu_exact(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def np_softplus(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


ACTIVATIONS = {
    "relu": (F.relu, lambda x: np.maximum(x, 0.0)),
    "sigmoid": (F.sigmoid, np_sigmoid),
    "tanh": (F.tanh, np.tanh),
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "silu": (F.silu, lambda x: x * np_sigmoid(x)),
    "gelu_tanh": (F.gelu, np_gelu_tanh),
    "gelu_none": (lambda x: F.gelu(x, approximate="none"), np_gelu_exact),
    "softplus": (F.softplus, np_softplus),
    "softplus_beta2": (lambda x: F.softplus(x, beta=2.0, threshold=5.0), lambda x: np_softplus(x, 2.0, 5.0)),
    "softmax": (F.softmax, np_softmax),
    "log_softmax": (F.log_softmax, np_log_softmax),
    "softmax_axis0": (lambda x: F.softmax(x, axis=0), lambda x: np_softmax(x, axis=0)),
    "log_softmax_axis0": (lambda x: F.log_softmax(x, axis=0), lambda x: np_log_softmax(x, axis=0)),
}
SMOOTH = ["sigmoid", "tanh", "silu", "gelu_tanh", "gelu_none", "softplus", "softplus_beta2", "softmax", "log_softmax"]


# ───────────────────────────── activations ─────────────────────────────


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@FAST
@given(x=float_arrays())
def test_activation_forward_matches_numpy(name, x):
    fn, ref = ACTIVATIONS[name]
    out = fn(Tensor(x))
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradcheck(name):
    fn, _ = ACTIVATIONS[name]
    x = away_from_zero((3, 4), seed=1)
    x[0, :2] = [5.5, -5.5]  # beyond softplus_beta2's threshold and into gelu's outer erfc interval
    assert gradcheck(fn, [leaf(x)])


@pytest.mark.parametrize("name", SMOOTH)
def test_activation_gradgradcheck(name):
    fn, _ = ACTIVATIONS[name]
    assert gradgradcheck(fn, [leaf(away_from_zero((2, 3), seed=2))])


def test_activations_keep_float32():
    x = Tensor(np.linspace(-3, 3, 7, dtype=np.float32))
    for name, (fn, _) in ACTIVATIONS.items():
        assert fn(x).dtype == np.float32, name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_finite_at_extreme_inputs(name, dtype):
    fn, ref = ACTIVATIONS[name]
    big = 1e30 if dtype == np.float32 else 1e300
    x = Tensor(np.array([-big, -1000.0, -0.5, 0.0, 0.5, 1000.0, big], dtype=dtype), requires_grad=True)
    out = fn(x)  # warnings are errors in this file: no overflow may leak
    (out * Tensor(np.linspace(-1, 1, 7, dtype=dtype))).sum().backward()
    assert np.isfinite(out.data).all() and np.isfinite(x.grad.data).all()
    if "softmax" not in name:
        np.testing.assert_allclose(out.data[[1, 5]], ref(np.array([-1000.0, 1000.0])), rtol=1e-6)


def test_kink_conventions_at_zero():
    def grad_at_zero(fn):
        x = leaf([0.0])
        fn(x).sum().backward()
        return x.grad.data[0]

    assert grad_at_zero(F.relu) == 0.0
    assert grad_at_zero(lambda x: F.leaky_relu(x, 0.1)) == pytest.approx(0.1)  # PyTorch: slope at 0
    assert grad_at_zero(F.softplus) == 0.5  # sigmoid(0), not a subgradient of a branchwise form


def test_gelu_exact_matches_erf_over_a_wide_range_and_tails():
    x = np.concatenate([np.linspace(-12, 12, 4001), [0.0, 0.46875 * math.sqrt(2), 4 * math.sqrt(2)]])
    x = np.concatenate([x, -x[-2:]])
    out = F.gelu(Tensor(x), approximate="none").data
    ref = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-15)
    # far tails: exact zero/identity, no warnings
    far = F.gelu(Tensor(np.array([-1000.0, -40.0, 40.0, 1000.0])), approximate="none").data
    np.testing.assert_array_equal(far, [0.0, 0.0, 40.0, 1000.0])


def test_gelu_exact_gradient_is_the_closed_form():
    x = leaf(np.linspace(-8, 8, 41))
    F.gelu(x, approximate="none").sum().backward()
    v = x.data
    expected = 0.5 * (1 + _erf(v / math.sqrt(2))) + v * np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12, atol=1e-15)


def test_gelu_approximations_agree_and_bad_name_raises():
    x = Tensor(np.linspace(-5, 5, 101))
    np.testing.assert_allclose(F.gelu(x).data, F.gelu(x, approximate="none").data, atol=1e-3)
    with pytest.raises(ValueError, match="gelu: approximate must be 'tanh' or 'none'"):
        F.gelu(x, approximate="erf")


def test_softplus_is_stable_and_exact_at_extremes():
    x = leaf([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.softplus(x)
        out.sum().backward()
    np.testing.assert_allclose(out.data, [0.0, 0.0, math.log(2.0), 50.0, 1000.0], atol=1e-21)
    np.testing.assert_allclose(x.grad.data, np_sigmoid(x.data), atol=1e-21)
    big_beta = F.softplus(leaf([-1000.0, 1000.0]), beta=10.0, threshold=1e9).data
    np.testing.assert_allclose(big_beta, [0.0, 1000.0])
    with pytest.raises(ValueError, match="softplus: beta must be positive"):
        F.softplus(x, beta=0.0)


def test_softplus_threshold_is_identity_above_it():
    x = leaf([19.0, 21.0])
    out = F.softplus(x)
    out.sum().backward()
    assert out.data[1] == 21.0 and out.data[0] == pytest.approx(19.0 + math.exp(-19.0), rel=1e-15)
    assert x.grad.data[1] == 1.0


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_family_stable_at_1e4(fn):
    x = leaf([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    out = fn(x)
    (out * Tensor(randn(2, 3))).sum().backward()
    assert np.isfinite(out.data).all() and np.isfinite(x.grad.data).all()
    ref = np_softmax(x.data) if fn is F.softmax else np_log_softmax(x.data)
    np.testing.assert_allclose(out.data, ref)


# ───────────────────────────── dropout ─────────────────────────────


def test_dropout_identity_when_not_training_or_p_zero():
    x = leaf(randn(4, 5))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_p_one_gives_zeros_and_zero_gradient():
    x = leaf(randn(3, 4))
    out = F.dropout(x, 1.0)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, 0.0)
    np.testing.assert_array_equal(x.grad.data, 0.0)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\]"):
        F.dropout(leaf([1.0]), p)


def test_dropout_mask_matches_numpy_draw_and_gradient():
    p = 0.3
    x = leaf(randn(6, 7) + 3.0)
    out = F.dropout(x, p, rng=np.random.default_rng(5))
    keep = np.random.default_rng(5).random((6, 7)) >= p
    np.testing.assert_allclose(out.data, np.where(keep, x.data / (1 - p), 0.0))
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, keep / (1 - p))
    assert gradcheck(lambda t: F.dropout(t, p, rng=np.random.default_rng(5)), [leaf(randn(6, 7))])


def test_dropout_keeps_the_mean_and_dtype_and_uses_the_shared_generator():
    import nn.random

    x = Tensor(np.ones((200, 500), dtype=np.float32))
    nn.random.manual_seed(3)
    a = F.dropout(x, 0.25)
    nn.random.manual_seed(3)
    b = F.dropout(x, 0.25)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.dtype == np.float32
    assert abs(float(a.data.mean()) - 1.0) < 0.02
    assert abs(float((a.data == 0).mean()) - 0.25) < 0.01


# ───────────────────────────── layer_norm ─────────────────────────────


def np_layer_norm(x, n_axes, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(x.ndim - n_axes, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


@FAST
@given(x=float_arrays(min_dims=1, max_dims=4, max_side=4, bound=100.0), data=st.data())
def test_layer_norm_forward_matches_numpy(x, data):
    n = data.draw(st.integers(1, x.ndim))
    shape = x.shape[x.ndim - n :]
    w = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)))
    b = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)))
    out = F.layer_norm(Tensor(x), shape, Tensor(w), Tensor(b))
    np.testing.assert_allclose(out.data, np_layer_norm(x, n, w, b), rtol=1e-9, atol=1e-9)
    plain = F.layer_norm(Tensor(x), shape[-1] if n == 1 else shape)
    np.testing.assert_allclose(plain.data, np_layer_norm(x, n), rtol=1e-9, atol=1e-9)


def test_layer_norm_gradcheck_and_gradgradcheck():
    x, w, b = leaf(randn(3, 2, 4, seed=1)), leaf(randn(2, 4, seed=2)), leaf(randn(2, 4, seed=3))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), [x, w, b])
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), [x, w, b])
    assert gradgradcheck(lambda x: F.layer_norm(x, 4, eps=0.1), [leaf(randn(2, 4, seed=4))])


def test_layer_norm_keeps_float32_and_checks_shapes():
    x = Tensor(randn(2, 3).astype(np.float32))
    assert F.layer_norm(x, 3).dtype == np.float32
    with pytest.raises(ag.ShapeError, match=r"layer_norm: normalized_shape \(4,\) does not match .* \(2, 3\)"):
        F.layer_norm(x, 4)
    with pytest.raises(ag.ShapeError, match=r"layer_norm: normalized_shape \(1, 2, 3\)"):
        F.layer_norm(x, (1, 2, 3))
    with pytest.raises(ag.ShapeError, match=r"layer_norm: weight has shape \(2,\), expected normalized_shape \(3,\)"):
        F.layer_norm(x, 3, weight=Tensor(np.ones(2)))


# ───────────────────────────── linear and embedding ─────────────────────────────


@pytest.mark.parametrize("x_shape", [(4,), (3, 4), (2, 3, 4)])
def test_linear_forward_and_gradcheck(x_shape):
    x, w, b = leaf(randn(*x_shape, seed=1)), leaf(randn(5, 4, seed=2)), leaf(randn(5, seed=3))
    np.testing.assert_allclose(F.linear(x, w, b).data, x.data @ w.data.T + b.data)
    np.testing.assert_allclose(F.linear(x, w).data, x.data @ w.data.T)
    assert gradcheck(F.linear, [x, w, b])
    assert gradcheck(F.linear, [x, w])


def test_linear_shape_errors():
    with pytest.raises(ag.ShapeError, match=r"linear: input of shape \(3, 4\) does not fit weight of shape \(5, 3\)"):
        F.linear(leaf(randn(3, 4)), leaf(randn(5, 3)))
    with pytest.raises(ag.ShapeError, match=r"linear: bias has shape \(4,\), expected \(5,\)"):
        F.linear(leaf(randn(3, 4)), leaf(randn(5, 4)), leaf(randn(4)))


@pytest.mark.parametrize("make_idx", [np.asarray, Tensor, lambda a: a.tolist()], ids=["ndarray", "Tensor", "list"])
def test_embedding_forward_and_repeated_index_gradient(make_idx):
    idx = np.array([[0, 2, 2], [4, 0, 2]])
    w = leaf(randn(5, 3))
    out = F.embedding(make_idx(idx), w)
    np.testing.assert_array_equal(out.data, w.data[idx])
    up = randn(2, 3, 3, seed=7)
    (out * Tensor(up)).sum().backward()
    expected = np.zeros((5, 3))
    np.add.at(expected, idx, up)
    np.testing.assert_allclose(w.grad.data, expected)
    assert gradcheck(lambda w: F.embedding(idx, w), [leaf(randn(5, 3))])


def test_embedding_errors_name_the_range_and_shapes():
    w = leaf(randn(5, 3))
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range \[0, 5\) .* \(5, 3\) .* \(2,\)"):
        F.embedding(np.array([1, 5]), w)
    with pytest.raises(IndexError, match=r"embedding: index -1 is out of range \[0, 5\)"):
        F.embedding(np.array([-1, 2]), w)
    with pytest.raises(TypeError, match="embedding: indices must hold integers, got dtype float64"):
        F.embedding(np.array([1.0, 2.0]), w)


# ───────────────────────────── scaled dot-product attention ─────────────────────────────


def np_sdpa(q, k, v, keep=None, bias=None, scale=None):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if bias is not None:
        s = s + bias
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    alive = ~np.all(np.isneginf(s), axis=-1, keepdims=True)
    s = np.where(alive, s, 0.0)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    w = np.where(alive, e / e.sum(axis=-1, keepdims=True), 0.0)
    return w @ v


@FAST
@given(
    batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
    L=st.integers(1, 5),
    S=st.integers(1, 5),
    E=st.integers(1, 4),
    Ev=st.integers(1, 4),
    kind=st.sampled_from(["none", "bool", "float", "causal"]),
    seed=st.integers(0, 2**16),
)
def test_sdpa_forward_matches_numpy(batch, L, S, E, Ev, kind, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (
        rng.standard_normal((*batch, L, E)),
        rng.standard_normal((*batch, S, E)),
        rng.standard_normal((*batch, S, Ev)),
    )
    keep = bias = None
    kwargs = {}
    if kind == "bool":
        keep = rng.random((L, S)) < 0.7
        kwargs["attn_mask"] = keep
    elif kind == "float":
        bias = rng.standard_normal((L, S))
        kwargs["attn_mask"] = Tensor(bias)
    elif kind == "causal":
        keep = np.tril(np.ones((L, S), dtype=bool))
        kwargs["is_causal"] = True
    out = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), **kwargs)
    assert out.shape == (*batch, L, Ev)
    np.testing.assert_allclose(out.data, np_sdpa(q, k, v, keep, bias), rtol=1e-10, atol=1e-12)


def test_sdpa_custom_scale_and_broadcast_mask():
    q, k, v = randn(2, 3, 4, 5, seed=1), randn(2, 3, 6, 5, seed=2), randn(2, 3, 6, 2, seed=3)
    keep = np.random.default_rng(4).random((2, 1, 4, 6)) < 0.8
    keep[..., 0] = True
    out = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), attn_mask=Tensor(keep), scale=0.3)
    np.testing.assert_allclose(out.data, np_sdpa(q, k, v, keep, scale=0.3), rtol=1e-10)


@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal"])
def test_sdpa_gradcheck_and_gradgradcheck(kind):
    q, k, v = leaf(randn(2, 3, 4, seed=1)), leaf(randn(2, 4, 4, seed=2)), leaf(randn(2, 4, 3, seed=3))
    keep = np.random.default_rng(9).random((3, 4)) < 0.6
    keep[:, 1] = True
    inputs = [q, k, v]
    if kind == "bool":

        def fn(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    elif kind == "float":
        inputs.append(leaf(randn(3, 4, seed=5)))

        def fn(q, k, v, m):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    else:

        def fn(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=kind == "causal")

    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs[:3] if kind != "float" else inputs)


def test_sdpa_causal_future_gradients_are_exactly_zero():
    T = 5
    q, k, v = leaf(randn(2, T, 3, seed=1)), leaf(randn(2, T, 3, seed=2)), leaf(randn(2, T, 3, seed=3))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    for t in range(T):
        gq, gk, gv = ag.grad(out[:, t].sum(), [q, k, v], retain_graph=True)
        assert np.all(gk.data[:, t + 1 :] == 0.0) and np.all(gv.data[:, t + 1 :] == 0.0)
        assert np.all(gq.data[:, t + 1 :] == 0.0)
        assert np.any(gv.data[:, : t + 1] != 0.0)


def test_sdpa_fully_masked_row_gives_zeros_and_finite_gradients():
    q, k, v = leaf(randn(2, 4, 3, seed=1)), leaf(randn(2, 4, 3, seed=2)), leaf(randn(2, 4, 3, seed=3))
    keep = np.ones((4, 4), dtype=bool)
    keep[2] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    np.testing.assert_array_equal(out.data[:, 2], 0.0)
    (out * Tensor(randn(2, 4, 3, seed=4))).sum().backward()
    for t in (q, k, v):
        assert np.isfinite(t.grad.data).all()
    np.testing.assert_array_equal(q.grad.data[:, 2], 0.0)
    # the other rows are unaffected: same as attention over the unmasked rows alone
    rows = [0, 1, 3]
    np.testing.assert_allclose(out.data[:, rows], np_sdpa(q.data[:, rows], k.data, v.data))
    # a float mask of -inf on a whole row behaves the same way
    bias = np.where(keep, 0.0, -np.inf)
    out2 = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    np.testing.assert_allclose(out2.data, out.data)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=keep), [q, k, v])


def test_sdpa_dropout_uses_the_generator_and_is_off_when_not_training():
    q, k, v = randn(3, 4, seed=1), randn(5, 4, seed=2), randn(5, 2, seed=3)
    plain = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v))
    off = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), dropout_p=0.5, training=False)
    np.testing.assert_array_equal(off.data, plain.data)
    on = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), dropout_p=0.4, rng=np.random.default_rng(8))
    keep = np.random.default_rng(8).random((3, 5)) >= 0.4
    w = np_softmax(q @ k.T / 2.0) * keep / 0.6
    np.testing.assert_allclose(on.data, w @ v, rtol=1e-12)


def test_sdpa_errors():
    q = leaf(randn(2, 3, 4))
    with pytest.raises(ValueError, match="give attn_mask or is_causal=True, not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(ag.ShapeError, match=r"scaled_dot_product_attention: q \(2, 3, 4\), k \(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, leaf(randn(2, 3, 5)), q)
    with pytest.raises(ag.ShapeError, match=r"attn_mask of shape \(2, 2\) does not broadcast .* \(2, 3, 3\)"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((2, 2), bool))


# ───────────────────────────── classification losses ─────────────────────────────


def np_cross_entropy(logits, target, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    """PyTorch's documented formula: loss = -sum_c q_c log p_c, q = (1 - eps) onehot + eps / C."""
    C = logits.shape[-1]
    logp = np_log_softmax(logits.reshape(-1, C))
    t = target.reshape(-1)
    valid = t != ignore_index
    onehot = np.zeros_like(logp)
    onehot[np.arange(len(t))[valid], t[valid]] = 1.0
    q = (1 - label_smoothing) * onehot + label_smoothing / C
    per = np.where(valid, -(q * logp).sum(axis=1), 0.0)
    if reduction == "none":
        return per.reshape(target.shape)
    if reduction == "sum":
        return per.sum()
    return per.sum() / valid.sum()


@st.composite
def classification_case(draw):
    lead = draw(st.sampled_from([(), (None,)]))
    N = draw(st.integers(1, 4))
    C = draw(st.integers(1, 5))
    shape = (N,) if not lead else (N, draw(st.integers(1, 3)))
    logits = draw(hnp.arrays(np.float64, (*shape, C), elements=st.floats(-50, 50)))
    target = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, C - 1)))
    ignore = draw(hnp.arrays(np.bool_, shape))
    target = np.where(ignore, -100, target)
    return logits, target


@FAST
@given(
    case=classification_case(),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    smoothing=st.sampled_from([0.0, 0.1, 1.0]),
)
def test_cross_entropy_matches_numpy(case, reduction, smoothing):
    logits, target = case
    out = F.cross_entropy(Tensor(logits), target, reduction=reduction, label_smoothing=smoothing)
    if reduction == "mean" and not (target != -100).any():
        assert math.isnan(out.item())
        return
    np.testing.assert_allclose(
        out.data, np_cross_entropy(logits, target, -100, smoothing, reduction), rtol=1e-10, atol=1e-12
    )


@FAST
@given(case=classification_case(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_nll_loss_matches_numpy(case, reduction):
    logits, target = case
    logp = np_log_softmax(logits)
    out = F.nll_loss(Tensor(logp), target, reduction=reduction)
    valid = target != -100
    picked = np.take_along_axis(logp, np.where(valid, target, 0)[..., None], axis=-1)[..., 0]
    per = np.where(valid, -picked, 0.0)
    if reduction == "none":
        np.testing.assert_allclose(out.data, per)
    elif reduction == "sum":
        np.testing.assert_allclose(out.data, per.sum())
    elif valid.any():
        np.testing.assert_allclose(out.data, per.sum() / valid.sum())
    # cross_entropy is nll_loss of log_softmax
    ce = F.cross_entropy(Tensor(logits), target, reduction=reduction)
    np.testing.assert_allclose(ce.data, out.data, rtol=1e-12, atol=1e-12)


def test_cross_entropy_ignore_index_is_left_out_of_the_mean():
    logits = randn(4, 3)
    target = np.array([0, 7, 2, 7])
    out = F.cross_entropy(Tensor(logits), target, ignore_index=7)
    logp = np_log_softmax(logits)
    assert out.item() == pytest.approx(-(logp[0, 0] + logp[2, 2]) / 2, rel=1e-12)
    x = leaf(logits)
    F.cross_entropy(x, target, ignore_index=7).backward()
    np.testing.assert_array_equal(x.grad.data[[1, 3]], 0.0)
    np.testing.assert_allclose(x.grad.data[0], (np_softmax(logits[0]) - [1, 0, 0]) / 2)


def test_cross_entropy_label_smoothing_formula():
    logits, target, eps = randn(3, 4), np.array([1, 0, 3]), 0.2
    logp = np_log_softmax(logits)
    expected = np.mean((1 - eps) * -logp[np.arange(3), target] + eps * -logp.mean(axis=1))
    out = F.cross_entropy(Tensor(logits), target, label_smoothing=eps)
    assert out.item() == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_three_dimensional_logits():
    logits, target = randn(2, 3, 5), np.array([[0, 4, 2], [1, 1, 3]])
    out = F.cross_entropy(Tensor(logits), target, reduction="none")
    assert out.shape == (2, 3)
    logp = np_log_softmax(logits)
    np.testing.assert_allclose(out.data, -np.take_along_axis(logp, target[..., None], -1)[..., 0])
    flat = F.cross_entropy(Tensor(logits.reshape(6, 5)), target.reshape(6))
    assert F.cross_entropy(Tensor(logits), target).item() == pytest.approx(flat.item(), rel=1e-14)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradcheck_and_gradgradcheck(smoothing, reduction):
    target = np.array([[0, 3, -100], [2, 2, 1]])

    def fn(x):
        return F.cross_entropy(x, target, label_smoothing=smoothing, reduction=reduction)

    x = leaf(randn(2, 3, 4))
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_gradcheck(reduction):
    target = np.array([1, -100, 0, 2])
    assert gradcheck(lambda x: F.nll_loss(x, target, reduction=reduction), [leaf(randn(4, 3))])


def test_cross_entropy_is_stable_for_logits_of_1e4():
    logits = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]])
    target = np.array([1, 0, 2])
    x = leaf(logits)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.cross_entropy(x, target, reduction="none")
        out.sum().backward()
    np.testing.assert_allclose(out.data, [2e4, math.log(2.0), math.log(3.0)], rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, [[1, -1, 0], [-0.5, 0.5, 0], [1 / 3, 1 / 3, -2 / 3]], atol=1e-15)


def test_cross_entropy_with_every_target_ignored_is_nan_with_zero_gradient():
    x = leaf(randn(2, 3))
    out = F.cross_entropy(x, np.array([-100, -100]))
    assert math.isnan(out.item())
    out.backward()
    np.testing.assert_array_equal(x.grad.data, 0.0)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll_loss"])
def test_class_losses_reject_bad_targets(fn):
    name = fn.__name__
    x = leaf(randn(3, 4))
    with pytest.raises(ValueError, match=rf"{name}: target value 4 is out of range for 4 classes"):
        fn(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=rf"{name}: target value -3 is out of range for 4 classes"):
        fn(x, np.array([0, -3, 1]))
    with pytest.raises(TypeError, match=rf"{name}: target \(class indices\) must hold integers, got dtype float64"):
        fn(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ag.ShapeError, match=rf"{name}: target shape \(4,\) does not fit input shape \(3, 4\)"):
        fn(x, np.array([0, 1, 2, 3]))
    with pytest.raises(TypeError, match=rf"{name}: input must be a floating-point tensor"):
        fn(Tensor(np.zeros((3, 4), dtype=np.int64)), np.array([0, 1, 2]))
    assert fn(x, Tensor(np.array([0, 1, 2]))).shape == ()  # integer Tensor targets work


def test_cross_entropy_rejects_bad_label_smoothing():
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(leaf(randn(2, 3)), np.array([0, 1]), label_smoothing=1.5)


# ───────────────────────────── regression and binary losses ─────────────────────────────


def np_bce(p, y, w=None):
    loss = -(y * np.maximum(np.log(np.maximum(p, 1e-300)), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))
    return loss if w is None else loss * w


def np_bce_logits(x, y, pos_weight=None):
    pw = 1.0 if pos_weight is None else pos_weight
    # log sigmoid(x) = -logaddexp(0, -x); log(1 - sigmoid(x)) = -logaddexp(0, x)
    return pw * y * np.logaddexp(0.0, -x) + (1 - y) * np.logaddexp(0.0, x)


def _reduce(a, reduction):
    return a.mean() if reduction == "mean" else a.sum() if reduction == "sum" else a


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_numpy_and_gradcheck(reduction):
    x, y = randn(3, 4, seed=1), randn(3, 4, seed=2)
    np.testing.assert_allclose(F.mse_loss(Tensor(x), y, reduction=reduction).data, _reduce((x - y) ** 2, reduction))
    np.testing.assert_allclose(F.l1_loss(Tensor(x), y, reduction=reduction).data, _reduce(np.abs(x - y), reduction))
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [leaf(x), leaf(y)])
    assert gradgradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [leaf(x), leaf(y)])
    assert gradcheck(lambda a, b: F.l1_loss(a, b, reduction=reduction), [leaf(x), leaf(y)])


def test_regression_losses_do_not_broadcast_and_keep_dtype():
    x = Tensor(randn(3, 1).astype(np.float32))
    for fn in (F.mse_loss, F.l1_loss):
        with pytest.raises(ag.ShapeError, match=rf"{fn.__name__}: input shape \(3, 1\) and target shape \(3,\) differ"):
            fn(x, np.zeros(3))
        assert fn(x, np.zeros((3, 1))).dtype == np.float32  # a float64 array target does not promote


def test_l1_gradient_is_zero_where_equal():
    x = leaf([1.0, 2.0, 3.0])
    F.l1_loss(x, np.array([1.0, 0.0, 5.0]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, -1.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_matches_numpy_and_gradcheck(reduction):
    rng = np.random.default_rng(0)
    p, y, w = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4)), rng.uniform(0.5, 2, (4,))
    out = F.binary_cross_entropy(Tensor(p), y, weight=w, reduction=reduction)
    np.testing.assert_allclose(out.data, _reduce(np_bce(p, y, w), reduction), rtol=1e-12)
    assert gradcheck(
        lambda p, y, w: F.binary_cross_entropy(p, y, weight=w, reduction=reduction), [leaf(p), leaf(y), leaf(w)]
    )


def test_binary_cross_entropy_clamps_the_log_at_minus_100():
    p = leaf([0.0, 1.0, 0.0, 1.0, 1e-60])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.binary_cross_entropy(p, y, reduction="none")
        out.sum().backward()
    np.testing.assert_allclose(out.data, [100.0, 100.0, 0.0, 0.0, 100.0])
    assert np.isfinite(p.grad.data).all()


def test_binary_cross_entropy_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"):
        F.binary_cross_entropy(leaf([0.5, 1.2]), np.array([1.0, 0.0]))
    with pytest.raises(ag.ShapeError, match=r"binary_cross_entropy: weight of shape \(3,\) does not broadcast"):
        F.binary_cross_entropy(leaf([0.5, 0.2]), np.array([1.0, 0.0]), weight=np.ones(3))


@FAST
@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-800, 800)),
    data=st.data(),
)
def test_bce_with_logits_matches_numpy(x, data):
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(0, 1)))
    pw = data.draw(hnp.arrays(np.float64, x.shape[-1:], elements=st.floats(0.1, 3)))
    out = F.binary_cross_entropy_with_logits(Tensor(x), y, reduction="none")
    np.testing.assert_allclose(out.data, np_bce_logits(x, y), rtol=1e-12, atol=1e-12)
    out = F.binary_cross_entropy_with_logits(Tensor(x), y, pos_weight=pw, reduction="sum")
    np.testing.assert_allclose(out.data, np_bce_logits(x, y, pw).sum(), rtol=1e-12, atol=1e-12)


def test_bce_with_logits_gradcheck_and_gradgradcheck():
    x, y = leaf(away_from_zero((3, 4), seed=3, high=6)), leaf(np.random.default_rng(4).uniform(0, 1, (3, 4)))
    pw, w = leaf(np.random.default_rng(5).uniform(0.5, 2, (4,))), leaf(np.random.default_rng(6).uniform(0.5, 2, (3, 1)))
    assert gradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y), [x, y])
    assert gradcheck(
        lambda x, y, pw, w: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, weight=w, reduction="sum"),
        [x, y, pw, w],
    )
    assert gradgradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y), [x, y])
    assert gradgradcheck(lambda x, pw: F.binary_cross_entropy_with_logits(x, y.detach(), pos_weight=pw), [x, pw])


def test_bce_with_logits_is_stable_at_1000_and_exact_at_zero():
    x = leaf([-1000.0, 1000.0, -1000.0, 1000.0, 0.0, 0.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.25])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        out.sum().backward()
    np.testing.assert_allclose(out.data, [1000.0, 1000.0, 0.0, 0.0, math.log(2), math.log(2)], rtol=1e-15)
    np.testing.assert_allclose(x.grad.data, [-1.0, 1.0, 0.0, 0.0, -0.5, 0.25], atol=1e-300)
    x = leaf([-1000.0, 1000.0])
    out = F.binary_cross_entropy_with_logits(x, np.array([1.0, 0.0]), pos_weight=np.array([2.0, 2.0]), reduction="sum")
    out.backward()
    assert out.item() == pytest.approx(3000.0)
    np.testing.assert_allclose(x.grad.data, [-2.0, 1.0])


ALL_LOSSES = {
    "cross_entropy": lambda r: F.cross_entropy(leaf(randn(2, 3)), np.array([0, 1]), reduction=r),
    "nll_loss": lambda r: F.nll_loss(leaf(randn(2, 3)), np.array([0, 1]), reduction=r),
    "mse_loss": lambda r: F.mse_loss(leaf(randn(2)), np.zeros(2), reduction=r),
    "l1_loss": lambda r: F.l1_loss(leaf(randn(2)), np.zeros(2), reduction=r),
    "binary_cross_entropy": lambda r: F.binary_cross_entropy(leaf([0.5, 0.5]), np.zeros(2), reduction=r),
    "binary_cross_entropy_with_logits": lambda r: F.binary_cross_entropy_with_logits(
        leaf(randn(2)), np.zeros(2), reduction=r
    ),
}


@pytest.mark.parametrize("name", sorted(ALL_LOSSES))
def test_losses_reject_unknown_reduction_and_shape_their_output(name):
    with pytest.raises(ValueError, match=rf"{name}: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        ALL_LOSSES[name]("avg")
    assert ALL_LOSSES[name]("mean").shape == ()
    assert ALL_LOSSES[name]("sum").shape == ()
    assert ALL_LOSSES[name]("none").shape == (2,)


def test_binary_losses_check_target_shape():
    for fn in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(ag.ShapeError, match=rf"{fn.__name__}: input shape \(2,\) and target shape \(2, 1\) differ"):
            fn(leaf([0.5, 0.5]), np.zeros((2, 1)))


def test_cross_entropy_ignores_rows_whose_placeholder_logit_is_minus_inf():
    logits = ag.Tensor(np.array([[-np.inf, 1.0, 2.0], [-np.inf, 0.5, 0.1]]), requires_grad=True)
    target = np.array([1, 0])  # the second row is ignored; its class-0 logit is -inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, target, ignore_index=0)
        loss.backward()
    expected = -(1.0 - np.log(np.exp(1.0) + np.exp(2.0)))
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    assert np.isfinite(logits.grad.data).all() and np.all(logits.grad.data[1] == 0.0)
