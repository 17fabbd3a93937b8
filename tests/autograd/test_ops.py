"""The primitive table (`autograd.ops`), tested from a spec table with `autograd.testing` strategies.

`SPECS` (in `op_specs.py` beside this file) holds one `OpSpec` per primitive in
`autograd.primitive.REGISTRY`: how to reach it through the public API, its NumPy reference,
how shapes and attributes are drawn and which domains and kinks its inputs keep to.
Parametrized tests check the forward against NumPy, first- and second-order gradients
against finite differences, float32 preservation and that non-differentiable results never
require grad. A guard test fails when a primitive has no spec. Explicit tests below the
table pin down the cases a table draws too rarely: indexing with repeated indices, ties,
matmul's 1-D and batched forms, extreme logits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from op_specs import (
    DIFFERENTIABLE,
    ELEMENTWISE,
    KINK_GAP,
    NON_DIFFERENTIABLE,
    SECOND_ORDER,
    SPECS,
    axes,
    by_name,
    concatenate_cases,
    draw_inputs,
    indices,
    np_scatter_add,
    np_sum_to,
    recorded_names,
)

import autograd
from autograd import Tensor
from autograd.primitive import REGISTRY
from autograd.testing import broadcastable_shapes, shapes, tensors

# ───────────────────────────── table-driven tests ─────────────────────────────


def test_every_primitive_has_exactly_one_spec():
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names)), "a primitive has two specs"
    missing = sorted(set(REGISTRY) - set(names))
    unknown = sorted(set(names) - set(REGISTRY))
    assert not missing, f"primitives without a test spec in tests/autograd/op_specs.py: {missing}"
    assert not unknown, f"specs for primitives that do not exist: {unknown}"


@by_name(SPECS)
@settings(max_examples=20)
@given(data=st.data())
def test_forward_matches_numpy(spec, data):
    shapes_, attrs = data.draw(spec.cases, label="shapes, attributes")
    xs = draw_inputs(data, spec, shapes_)
    out = spec.call(*xs, **attrs)
    expected = np.asarray(spec.reference(*[x.numpy() for x in xs], **attrs))
    assert isinstance(out, Tensor)
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    if REGISTRY[spec.name].differentiable and not any(out is x for x in xs):  # broadcast_to(own shape) is x
        assert spec.name in recorded_names(out), f"the spec's call does not reach primitive {spec.name!r}"


@by_name(DIFFERENTIABLE)
@settings(max_examples=15)
@given(data=st.data())
def test_gradcheck(spec, data):
    shapes_, attrs = data.draw(spec.cases, label="shapes, attributes")
    xs = draw_inputs(data, spec, shapes_)
    assert autograd.gradcheck(functools.partial(spec.call, **attrs), xs, **spec.check)


@by_name(SECOND_ORDER)
@settings(max_examples=10)
@given(data=st.data())
def test_gradgradcheck(spec, data):
    shapes_, attrs = data.draw(spec.cases, label="shapes, attributes")
    xs = draw_inputs(data, spec, shapes_)
    assert autograd.gradgradcheck(functools.partial(spec.call, **attrs), xs, **spec.check)


@by_name(ELEMENTWISE)
@settings(max_examples=10)
@given(data=st.data())
def test_float32_stays_float32(spec, data):
    shapes_, attrs = data.draw(spec.cases, label="shapes, attributes")
    xs = draw_inputs(data, spec, shapes_, dtype=np.float32)
    out = spec.call(*xs, **attrs)
    assert out.dtype == np.float32
    expected = spec.reference(*[x.numpy().astype(np.float64) for x in xs], **attrs)
    np.testing.assert_allclose(out.numpy(), expected, rtol=2e-6, atol=2e-6)


@by_name(NON_DIFFERENTIABLE)
@settings(max_examples=10)
@given(data=st.data())
def test_non_differentiable_results_do_not_require_grad(spec, data):
    shapes_, attrs = data.draw(spec.cases, label="shapes, attributes")
    xs = draw_inputs(data, spec, shapes_)
    assert all(x.requires_grad for x in xs)
    out = spec.call(*xs, **attrs)
    assert not out.requires_grad
    assert out.grad_fn is None


def test_spec_table_flags_fit_the_registry():
    for spec in SPECS:
        differentiable = REGISTRY[spec.name].differentiable
        assert differentiable or not (spec.elementwise or spec.avoid or spec.distinct), spec.name
        assert spec.second_order or not differentiable, f"{spec.name}: say why second order is skipped"


# ───────────────────────────── indexing ─────────────────────────────


def grad_of(f: Callable[..., Tensor], *xs: Tensor, upstream: np.ndarray | None = None) -> list[np.ndarray]:
    """Gradients of ``sum(upstream * f(*xs))`` with respect to each x (upstream: ones by default)."""
    out = f(*xs)
    g = np.ones(out.shape) if upstream is None else upstream
    return [gx.numpy() for gx in autograd.grad(out, list(xs), [g])]


def leaf(values: Any) -> Tensor:
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize(
    "index",
    [
        np.s_[::-1],
        np.s_[3:0:-2],
        np.s_[-1:-5:-1, ::2],
        np.s_[:, ::-3],
        np.s_[..., -2],
        np.s_[None, 1:3],
    ],
    ids=["reversed", "negative-step", "two-slices", "column-negative-step", "ellipsis", "newaxis"],
)
def test_getitem_slices(index):
    a = np.arange(20.0).reshape(5, 4)
    x = leaf(a)
    np.testing.assert_array_equal(x[index].numpy(), a[index])
    assert autograd.gradcheck(lambda t: t[index], [x])
    assert autograd.gradgradcheck(lambda t: t[index], [x])


def test_getitem_repeated_integer_indices_add_up():
    x = leaf(np.linspace(-1, 1, 5))
    index = np.array([0, 0, 2, 0, 4, 4])
    (gx,) = grad_of(lambda t: t[index], x)
    # element 0 is picked three times, 4 twice, 2 once, 1 and 3 never
    np.testing.assert_array_equal(gx, [3.0, 0.0, 1.0, 0.0, 2.0])
    assert autograd.gradcheck(lambda t: t[index], [x])
    assert autograd.gradgradcheck(lambda t: t[index], [x])


def test_getitem_repeated_rows_of_a_matrix_weight_the_upstream():
    x = leaf(np.zeros((3, 2)))
    upstream = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]])
    (gx,) = grad_of(lambda t: t[[2, 0, 2]], x, upstream=upstream)
    np.testing.assert_array_equal(gx, [[10.0, 20.0], [0.0, 0.0], [101.0, 202.0]])


def test_getitem_boolean_mask():
    a = np.array([[0.5, -1.0, 2.0], [-0.3, 0.7, -2.0]])
    x = leaf(a)
    mask = a > 0
    np.testing.assert_array_equal(x[mask].numpy(), a[mask])
    (gx,) = grad_of(lambda t: t[mask], x)
    np.testing.assert_array_equal(gx, mask.astype(np.float64))
    assert autograd.gradcheck(lambda t: t[x > 0], [x])  # a boolean Tensor works as a mask too


@pytest.mark.parametrize(
    "index",
    [
        np.s_[1:, [0, 2, 2]],
        np.s_[[1, 1], 0],
        np.s_[np.array([True, False, True]), ::-1],
        np.s_[..., [3, 3, 0]],
        (np.array([[0, 2], [2, 2]]), slice(None, None, -2)),
    ],
    ids=["slice-then-repeats", "repeats-then-int", "mask-then-negative-step", "ellipsis-then-repeats", "2d-array"],
)
def test_getitem_mixed_tuples(index):
    a = np.arange(12.0).reshape(3, 4)
    x = leaf(a)
    np.testing.assert_array_equal(x[index].numpy(), a[index])
    upstream = np.random.default_rng(0).standard_normal(a[index].shape)
    (gx,) = grad_of(lambda t: t[index], x, upstream=upstream)
    np.testing.assert_allclose(gx, np_scatter_add(upstream, a.shape, index))
    assert autograd.gradcheck(lambda t: t[index], [x])


@settings(max_examples=25)
@given(data=st.data())
def test_getitem_gradient_is_a_scatter_add(data):
    shape = data.draw(shapes(), label="shape")
    index = data.draw(indices(shape), label="index")
    x = data.draw(tensors(shape), label="x")
    out = x[index]
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    (gx,) = autograd.grad(out, x, [upstream])
    np.testing.assert_allclose(gx.numpy(), np_scatter_add(upstream, shape, index), rtol=1e-12, atol=1e-12)


# ───────────────────────────── joining and splitting ─────────────────────────────


@settings(max_examples=15)
@given(case=concatenate_cases(), data=st.data())
def test_concatenate_routes_each_slice_of_the_gradient_back(case, data):
    shapes_, attrs = case
    xs = [data.draw(tensors(s), label=f"input {i}") for i, s in enumerate(shapes_)]
    out = autograd.concatenate(xs, axis=attrs["axis"])
    upstream = np.random.default_rng(2).standard_normal(out.shape)
    grads = autograd.grad(out, xs, [upstream])
    bounds = np.cumsum([s[attrs["axis"]] for s in shapes_])[:-1]
    for g, expected in zip(grads, np.split(upstream, bounds, axis=attrs["axis"])):
        np.testing.assert_array_equal(g.numpy(), expected)


@pytest.mark.parametrize("axis", [0, 1, -1, -3])
def test_stack_gradients(axis):
    rng = np.random.default_rng(3)
    xs = [leaf(rng.standard_normal((2, 3))) for _ in range(3)]
    out = autograd.stack(xs, axis=axis)
    np.testing.assert_array_equal(out.numpy(), np.stack([x.numpy() for x in xs], axis=axis))
    upstream = rng.standard_normal(out.shape)
    grads = autograd.grad(out, xs, [upstream])
    for k, g in enumerate(grads):
        np.testing.assert_array_equal(g.numpy(), np.take(upstream, k, axis=axis))
    assert autograd.gradcheck(lambda *ts: autograd.stack(ts, axis=axis), xs)
    assert autograd.gradgradcheck(lambda *ts: autograd.stack(ts, axis=axis), xs)


@pytest.mark.parametrize("sections, axis", [(3, 0), (2, 1), ([1, 3], -1), ([2], 0)])
def test_split_gradients(sections, axis):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((6, 4))
    x = leaf(a)
    pieces = autograd.split(x, sections, axis=axis)
    expected_pieces = np.split(a, sections, axis=axis)
    assert len(pieces) == len(expected_pieces)
    for piece, expected in zip(pieces, expected_pieces):
        np.testing.assert_array_equal(piece.numpy(), expected)
    weights = [rng.standard_normal(p.shape) for p in pieces]
    loss = autograd.sum(autograd.concatenate([(p * w).reshape(-1) for p, w in zip(pieces, weights)]))
    (gx,) = autograd.grad(loss, x)
    np.testing.assert_allclose(gx.numpy(), np.concatenate(weights, axis=axis))

    def weighted(t):
        return [p * w for p, w in zip(autograd.split(t, sections, axis=axis), weights)]

    assert autograd.gradcheck(weighted, [x])
    assert autograd.gradgradcheck(weighted, [x])


# ───────────────────────────── where, ties, clip ─────────────────────────────


def test_where_broadcasts_condition_and_both_branches():
    rng = np.random.default_rng(5)
    condition = np.array([[True], [False], [True]])  # (3, 1)
    a = leaf(rng.standard_normal((1, 4)))
    b = leaf(rng.standard_normal(()))
    out = autograd.where(condition, a, b)
    np.testing.assert_array_equal(out.numpy(), np.where(condition, a.numpy(), b.numpy()))
    upstream = rng.standard_normal((3, 4))
    ga, gb = autograd.grad(out, [a, b], [upstream])
    np.testing.assert_allclose(ga.numpy(), (upstream * condition).sum(axis=0, keepdims=True))
    np.testing.assert_allclose(gb.numpy(), (upstream * ~condition).sum())
    assert autograd.gradcheck(lambda s, t: autograd.where(condition, s, t), [a, b])
    assert autograd.gradgradcheck(lambda s, t: autograd.where(condition, s, t), [a, b])


@pytest.mark.parametrize("op", [autograd.maximum, autograd.minimum], ids=["maximum", "minimum"])
def test_maximum_minimum_ties_split_the_gradient_evenly(op):
    x = leaf([1.0, 2.0, 3.0])
    y = leaf([1.0, 0.0, 3.0])
    gx, gy = grad_of(op, x, y)
    winner_x = 1.0 if op is autograd.maximum else 0.0  # at index 1, x = 2 beats y = 0 for maximum
    np.testing.assert_array_equal(gx, [0.5, winner_x, 0.5])
    np.testing.assert_array_equal(gy, [0.5, 1.0 - winner_x, 0.5])


def test_maximum_tie_with_a_broadcast_scalar():
    x = leaf([0.0, 2.0, 2.0, 5.0])
    y = leaf(2.0)
    gx, gy = grad_of(autograd.maximum, x, y)
    np.testing.assert_array_equal(gx, [0.0, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(gy, 0.5 + 0.5 + 1.0)


@pytest.mark.parametrize("method", ["max", "min"])
def test_max_min_reductions_share_ties_evenly(method):
    sign = 1.0 if method == "max" else -1.0  # the same ties, as minima
    base = leaf(sign * np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]))
    (g_rows,) = grad_of(lambda t: getattr(t, method)(axis=1), base)
    np.testing.assert_allclose(g_rows, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    (g_all,) = grad_of(lambda t: getattr(t, method)(), base)
    np.testing.assert_allclose(g_all, [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


@settings(max_examples=20)
@given(data=st.data())
def test_max_reduction_gradient_is_an_even_split_over_the_maxima(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    axis = data.draw(axes(len(shape)), label="axis")
    # few distinct values, so ties are common
    a = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 2.0])), label="x")
    upstream = np.ones(np.max(a, axis=axis, keepdims=True).shape)
    (gx,) = grad_of(lambda t: t.max(axis=axis, keepdims=True), leaf(a), upstream=upstream)
    is_max = a == np.max(a, axis=axis, keepdims=True)
    assert np.all(gx[~is_max] == 0)
    np.testing.assert_allclose(np.sum(gx, axis=axis, keepdims=True), upstream)
    # every maximum of a slice gets the same share
    share = np.broadcast_to(np.max(gx, axis=axis, keepdims=True), a.shape)
    np.testing.assert_allclose(gx[is_max], share[is_max])


def test_clip_gradient_passes_inside_the_bounds():
    x = leaf([-3.0, -1.0, 0.0, 0.5, 1.0, 4.0])
    (gx,) = grad_of(lambda t: t.clip(-1.0, 1.0), x)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 1.0, 1.0, 1.0, 0.0])  # the bounds count as inside
    (g_lo,) = grad_of(lambda t: t.clip(lo=0.0), x)
    np.testing.assert_array_equal(g_lo, [0.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    (g_hi,) = grad_of(lambda t: autograd.clip(t, None, 0.5), x)
    np.testing.assert_array_equal(g_hi, [1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(autograd.clip(x, None, 0.5).numpy(), np.clip(x.numpy(), None, 0.5))


@settings(max_examples=15)
@given(data=st.data())
def test_clip_with_one_bound(data):
    lo, hi = data.draw(st.sampled_from([(-0.5, None), (None, 0.5)]), label="bounds")
    bound = lo if hi is None else hi
    x = data.draw(tensors(domain="real", avoid=(bound,), min_gap=KINK_GAP), label="x")
    np.testing.assert_array_equal(x.clip(lo, hi).numpy(), np.clip(x.numpy(), lo, hi))
    assert autograd.gradcheck(lambda t: t.clip(lo, hi), [x])
    assert autograd.gradgradcheck(lambda t: t.clip(lo, hi), [x])


def test_scalars_on_either_side():
    x = leaf([0.5, 1.5, 2.0])
    a = x.numpy()
    for f, expected in [
        (lambda t: 2.0 - t, 2.0 - a),
        (lambda t: 3.0 + t, 3.0 + a),
        (lambda t: 1.5 * t, 1.5 * a),
        (lambda t: t / 4.0, a / 4.0),
        (lambda t: 2.0 / t, 2.0 / a),
        (lambda t: 2.0**t, 2.0**a),
        (lambda t: t - 1, a - 1),
    ]:
        np.testing.assert_allclose(f(x).numpy(), expected)
        assert autograd.gradcheck(f, [x])
        assert autograd.gradgradcheck(f, [x])


# ───────────────────────────── matmul ─────────────────────────────


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3,), (3,)),
        ((3,), (3, 4)),
        ((3, 4), (4,)),
        ((2, 3), (3, 4)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((4,), (2, 4, 3)),
        ((2, 3, 4), (4,)),
        ((3, 4), (2, 4, 5)),
        ((2, 3, 4), (4, 5)),
    ],
    ids=str,
)
def test_matmul_shapes(shape_a, shape_b):
    rng = np.random.default_rng(6)
    a, b = leaf(rng.standard_normal(shape_a)), leaf(rng.standard_normal(shape_b))
    out = a @ b
    np.testing.assert_allclose(out.numpy(), np.matmul(a.numpy(), b.numpy()), rtol=1e-12)
    ga, gb = autograd.grad(out, [a, b], [np.ones(out.shape)])
    assert ga.shape == shape_a and gb.shape == shape_b
    assert autograd.gradcheck(autograd.matmul, [a, b])
    assert autograd.gradgradcheck(autograd.matmul, [a, b])


def test_matmul_with_a_constant_array_on_either_side():
    rng = np.random.default_rng(7)
    x = leaf(rng.standard_normal((3, 4)))
    w = rng.standard_normal((4, 2))
    v = rng.standard_normal((5, 3))
    np.testing.assert_allclose((x @ w).numpy(), x.numpy() @ w)
    np.testing.assert_allclose((v @ x).numpy(), v @ x.numpy())
    (gx,) = grad_of(lambda t: v @ t @ w, x)
    np.testing.assert_allclose(gx, v.T @ np.ones((5, 2)) @ w.T)


# ───────────────────────────── stability of softmax and friends ─────────────────────────────

EXTREME_LOGITS = [
    [1e4, 1e4 - 1.0, 1e4 - 3.0, -1e4],
    [-1e4, -1e4 + 2.0, -1e4, -1e4 - 5.0],
    [1e4, 1e4, 1e4, 1e4],
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("logits", EXTREME_LOGITS, ids=["large", "very-negative", "all-equal"])
def test_softmax_family_is_stable_on_extreme_logits(logits, dtype):
    a = np.array([logits, [0.0, 1.0, 2.0, 3.0]], dtype=dtype)
    x = Tensor(a, requires_grad=True)
    # softmax is shift invariant: the reference shifts each row by its own maximum, where exp cannot overflow
    peak = np.max(a.astype(np.float64), axis=-1, keepdims=True)
    shifted = a.astype(np.float64) - peak
    expected_softmax = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    expected_lse = peak[:, 0] + np.log(np.exp(shifted).sum(axis=-1))
    tol = {"rtol": 1e-12 if dtype == np.float64 else 1e-6, "atol": 1e-12 if dtype == np.float64 else 1e-6}

    softmax = x.softmax(axis=-1)
    log_softmax = x.log_softmax(axis=-1)
    lse = x.logsumexp(axis=-1)
    for result in (softmax, log_softmax, lse):
        assert result.dtype == dtype
        assert np.all(np.isfinite(result.numpy()))
    np.testing.assert_allclose(softmax.numpy(), expected_softmax, **tol)
    np.testing.assert_allclose(log_softmax.numpy(), shifted - np.log(np.exp(shifted).sum(-1, keepdims=True)), **tol)
    np.testing.assert_allclose(lse.numpy(), expected_lse, rtol=tol["rtol"])

    # d logsumexp / dx = softmax; all gradients finite, and accurate even next to logits of 1e4.
    (g_lse,) = autograd.grad(lse, x, [np.ones(lse.shape, dtype=dtype)])
    np.testing.assert_allclose(g_lse.numpy(), expected_softmax, rtol=tol["rtol"], atol=tol["atol"])
    upstream = np.random.default_rng(8).standard_normal(a.shape).astype(dtype)
    for result in (softmax, log_softmax):
        (g,) = autograd.grad(result, x, [upstream])
        assert np.all(np.isfinite(g.numpy()))


def test_softmax_gradcheck_on_large_logits():
    x = leaf([[1e4, 1e4 - 1.0, 1e4 - 2.0], [-1e4, -1e4 + 0.5, -1e4 + 1.0]])
    for f in (lambda t: t.softmax(-1), lambda t: t.log_softmax(-1), lambda t: t.logsumexp(-1)):
        assert autograd.gradcheck(f, [x])
        assert autograd.gradgradcheck(f, [x])


# ───────────────────────────── reductions over tuples of axes ─────────────────────────────

REDUCTIONS = {
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "var": np.var,
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, -1), (-2,), (-1, -3), (2, 0, 1)], ids=str)
@pytest.mark.parametrize("method", REDUCTIONS)
def test_reductions_over_axes(method, axis, keepdims):
    a = np.random.default_rng(9).permutation(24).reshape(2, 3, 4) / 7.0  # distinct values: no tied maxima
    x = leaf(a)
    out = getattr(x, method)(axis=axis, keepdims=keepdims)
    expected = REDUCTIONS[method](a, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert autograd.gradcheck(lambda t: getattr(t, method)(axis=axis, keepdims=keepdims), [x])
    assert autograd.gradgradcheck(lambda t: getattr(t, method)(axis=axis, keepdims=keepdims), [x])


def test_module_level_sum_and_mean():
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(autograd.sum(a, axis=(0, 1)).numpy(), a.sum())
    np.testing.assert_allclose(autograd.mean(leaf(a), axis=-1, keepdims=True).numpy(), a.mean(-1, keepdims=True))


# ───────────────────────────── broadcasting's pair ─────────────────────────────


@settings(max_examples=20)
@given(pair=broadcastable_shapes(2), data=st.data())
def test_broadcast_to_and_sum_to_are_each_others_vjp(pair, data):
    small = pair[0]
    big = np.broadcast_shapes(*pair)
    assume(small != big)
    x = data.draw(tensors(small), label="x")
    v = data.draw(tensors(big), label="v")
    # adjoint: <broadcast_to(x), v> == <x, sum_to(v)>
    lhs = np.sum(x.broadcast_to(big).numpy() * v.numpy())
    rhs = np.sum(x.numpy() * v.sum_to(small).numpy())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12)
    # the recorded gradient of each is the other
    (gx,) = autograd.grad(x.broadcast_to(big), x, v, create_graph=True)
    assert gx.grad_fn is not None and gx.grad_fn.name == "sum_to"
    np.testing.assert_allclose(gx.numpy(), np_sum_to(v.numpy(), small), rtol=1e-12, atol=1e-12)
    (gv,) = autograd.grad(v.sum_to(small), v, x, create_graph=True)
    assert gv.grad_fn is not None and gv.grad_fn.name == "broadcast_to"
    np.testing.assert_array_equal(gv.numpy(), np.broadcast_to(x.numpy(), big))


def test_comparisons_with_numbers_and_arrays_on_either_side():
    x = leaf([-1.0, 0.0, 2.0])
    a = x.numpy()
    other = np.array([0.0, 0.0, 3.0])
    for result, expected in [
        (x > 0, a > 0),
        (0 < x, 0 < a),
        (x <= other, a <= other),
        (other >= x, other >= a),
        (x == 0.0, a == 0.0),
        (x != other, a != other),
    ]:
        assert isinstance(result, Tensor) and not result.requires_grad
        assert result.dtype == np.bool_
        np.testing.assert_array_equal(result.numpy(), expected)
