"""Module functions with NumPy's names (`autograd.routines`): reductions, shape functions and the rest.

Each function is checked three ways: the forward against the NumPy function of the same
name on the same data (axis and keepdims variations, Tensor, ndarray and list inputs); the
gradient against central finite differences in float64 with `autograd.gradcheck` and,
where the function is twice differentiable, `autograd.gradgradcheck`, over shapes drawn
by `autograd.testing`; and a clear error naming the function for bad input.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Tensor
from autograd.testing import arrays, broadcastable_shapes, gradcheck_property, shapes, tensors

Shape = tuple[int, ...]

FEW = settings(max_examples=40, deadline=None)
FEWER = settings(max_examples=25, deadline=None)  # the second-order checks cost more per example

NEW_FUNCTIONS = (
    "amax amin argmax argmin astype broadcast_to expand_dims max min moveaxis permute_dims pow power reshape "
    "sign squeeze std swapaxes transpose var"
).split()


# ───────────────────────────── strategies ─────────────────────────────


@st.composite
def reduction_axes(draw: st.DrawFn, ndim: int) -> Any:
    """None, an int (negative allowed) or a tuple of distinct axes with mixed signs."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


def reduced_count(shape: Shape, axis: Any) -> int:
    """How many values each result of a reduction over ``axis`` combines (written from NumPy's rules)."""
    if axis is None:
        return math.prod(shape)
    picked = (axis,) if isinstance(axis, int) else axis
    return math.prod(shape[a] for a in picked)


@st.composite
def reductions(draw: st.DrawFn, distinct: bool = False, min_count: int = 1) -> tuple[np.ndarray, Any, bool]:
    """(array, axis, keepdims), with at least ``min_count`` values under each result."""
    shape = shapes(max_side=3).filter(lambda s: math.prod(s) >= min_count)
    array = draw(arrays(shape, distinct=distinct, min_gap=0.05))
    axis = draw(reduction_axes(array.ndim))
    if reduced_count(array.shape, axis) < min_count:
        axis = None  # the whole array, which holds enough values
    return array, axis, draw(st.booleans())


@st.composite
def permutations(draw: st.DrawFn, ndim: int) -> tuple[int, ...]:
    """A permutation of ``range(ndim)`` with each entry negative half the time."""
    order = draw(st.permutations(range(ndim)))
    return tuple(a - ndim if draw(st.booleans()) else a for a in order)


@st.composite
def move_cases(draw: st.DrawFn) -> tuple[np.ndarray, Any, Any]:
    """(array, source, destination) for moveaxis: ints or equal-length sequences of distinct axes."""
    array = draw(arrays(shapes(min_dims=1, max_dims=4, max_side=3)))
    ndim = array.ndim
    k = draw(st.integers(1, ndim))
    source = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=k, max_size=k, unique_by=lambda a: a % ndim))
    destination = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=k, max_size=k, unique_by=lambda a: a % ndim))
    if k == 1 and draw(st.booleans()):
        return array, source[0], destination[0]
    return array, tuple(source), tuple(destination)


@st.composite
def squeeze_cases(draw: st.DrawFn) -> tuple[np.ndarray, Any]:
    """(array, axis): shapes with some size-1 axes; axis None, one of them or several of them."""
    shape = draw(st.lists(st.sampled_from([1, 1, 2, 3]), min_size=0, max_size=4).map(tuple))
    array = draw(arrays(shape))
    ones = [i for i, s in enumerate(shape) if s == 1]
    if not ones or draw(st.booleans()):
        return array, None
    chosen = draw(st.lists(st.sampled_from(ones), min_size=1, max_size=len(ones), unique=True))
    chosen = [a - len(shape) if draw(st.booleans()) else a for a in chosen]
    return array, chosen[0] if len(chosen) == 1 and draw(st.booleans()) else tuple(chosen)


@st.composite
def expand_cases(draw: st.DrawFn) -> tuple[np.ndarray, Any]:
    """(array, axis): new axis positions in the result, an int or a tuple, negatives allowed."""
    array = draw(arrays(shapes(max_side=3)))
    n_new = draw(st.integers(1, 2))
    out_ndim = array.ndim + n_new
    positions = draw(
        st.lists(st.integers(-out_ndim, out_ndim - 1), min_size=n_new, max_size=n_new, unique_by=lambda a: a % out_ndim)
    )
    return array, positions[0] if n_new == 1 and draw(st.booleans()) else tuple(positions)


@st.composite
def reshape_cases(draw: st.DrawFn) -> tuple[np.ndarray, Any]:
    array = draw(arrays(shapes(max_side=3)))
    shape, size = array.shape, array.size
    target = draw(st.sampled_from([size, (size,), (-1,), shape[::-1], (1, *shape), (*shape, 1), (size, 1), (1, -1)]))
    return array, target


def broadcast_cases() -> st.SearchStrategy[tuple[np.ndarray, Shape]]:
    return broadcastable_shapes(2).flatmap(lambda ss: arrays(ss[0]).map(lambda a: (a, np.broadcast_shapes(*ss))))


def as_input(array: np.ndarray, kind: str) -> Any:
    """The same data as a Tensor, or the bare ndarray (module functions accept both)."""
    return Tensor(array) if kind == "tensor" else array


KINDS = st.sampled_from(["tensor", "ndarray"])


def assert_matches(out: Any, expected: Any, exact: bool = False) -> None:
    """``out`` is a Tensor with NumPy's shape, dtype and values."""
    expected = np.asarray(expected)
    assert isinstance(out, Tensor)
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype
    if exact:
        np.testing.assert_array_equal(out.data, expected)
    else:
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


def leaf(array: np.ndarray) -> Tensor:
    return Tensor(array, requires_grad=True)


def check_gradients(func: Any, array: np.ndarray, second_order: bool = True) -> None:
    """``func`` records a graph from a requires-grad float64 leaf and its gradients match finite differences."""
    x = leaf(array)
    out = func(x)
    assert out.requires_grad
    if out is not x:
        assert out.grad_fn is not None
    assert ag.gradcheck(func, [x])
    if second_order:
        assert ag.gradgradcheck(func, [x])


# ───────────────────────────── exports and docstrings ─────────────────────────────


@pytest.mark.parametrize("name", NEW_FUNCTIONS)
def test_each_function_is_exported_with_a_documented_signature(name):
    import autograd.routines

    func = getattr(ag, name)
    assert name in ag.__all__
    assert func is getattr(autograd.routines, name)
    assert "Args:" in func.__doc__ and "Returns:" in func.__doc__
    assert func.__annotations__.get("return") in ("Tensor", Tensor)


def test_the_builtins_are_untouched_by_the_shadowing_names():
    import builtins

    assert builtins.max(3, 5) == 5 and builtins.min(3, 5) == 3 and builtins.pow(2, 3) == 8
    assert ag.max is not builtins.max and ag.min is not builtins.min and ag.pow is not builtins.pow


# ───────────────────────────── max, min, amax, amin ─────────────────────────────

EXTREMES = [(ag.max, np.max), (ag.amax, np.amax), (ag.min, np.min), (ag.amin, np.amin)]


@pytest.mark.parametrize(("func", "reference"), EXTREMES, ids=["max", "amax", "min", "amin"])
@FEW
@given(case=reductions(), kind=KINDS)
def test_extremes_match_numpy(func, reference, case, kind):
    a, axis, keepdims = case
    assert_matches(func(as_input(a, kind), axis=axis, keepdims=keepdims), reference(a, axis=axis, keepdims=keepdims))


def test_max_and_min_on_a_known_matrix():
    a = [[1.0, 5.0, 2.0], [7.0, 0.0, -3.0]]
    np.testing.assert_array_equal(ag.max(a, axis=1).data, [5.0, 7.0])
    np.testing.assert_array_equal(ag.min(a, axis=0).data, [1.0, 0.0, -3.0])
    np.testing.assert_array_equal(ag.max(a, 0, keepdims=True).data, [[7.0, 5.0, 2.0]])
    assert ag.amin(a).item() == -3.0
    assert ag.max(a).dtype == np.float32  # Python floats become float32, as everywhere in gradwire


@pytest.mark.parametrize("func", [ag.max, ag.min], ids=["max", "min"])
@FEWER
@given(case=reductions(distinct=True))
def test_extremes_gradients_match_finite_differences(func, case):
    a, axis, keepdims = case
    check_gradients(lambda t: func(t, axis=axis, keepdims=keepdims), a)


def test_tied_maxima_share_the_gradient_evenly():
    x = leaf(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]))
    ag.max(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize("func", [ag.max, ag.amax, ag.min, ag.amin], ids=["max", "amax", "min", "amin"])
def test_extremes_reject_an_axis_out_of_range(func):
    name = func.__name__.lstrip("a")  # amax and amin are max and min under their older names
    with pytest.raises(ag.ShapeError, match=rf"^{name}: axis 2 is out of range"):
        func(np.ones((2, 3)), axis=2)
    with pytest.raises(ag.ShapeError, match=rf"^{name}: axis -3 is out of range"):
        func(np.ones((2, 3)), axis=(0, -3))


def test_keepdims_is_keyword_only_as_numpy_has_out_in_third_place():
    with pytest.raises(TypeError):
        ag.max(np.ones((2, 3)), 0, True)
    with pytest.raises(TypeError):
        ag.var(np.ones((2, 3)), 0, 1)  # NumPy's third positional argument of var is dtype, not ddof


# ───────────────────────────── var, std ─────────────────────────────

SPREADS = [(ag.var, np.var), (ag.std, np.std)]


@pytest.mark.parametrize(("func", "reference"), SPREADS, ids=["var", "std"])
@FEW
@given(case=reductions(min_count=2), ddof=st.sampled_from([0, 1]), kind=KINDS)
def test_spreads_match_numpy(func, reference, case, ddof, kind):
    a, axis, keepdims = case
    out = func(as_input(a, kind), axis=axis, ddof=ddof, keepdims=keepdims)
    assert_matches(out, reference(a, axis=axis, ddof=ddof, keepdims=keepdims))


def test_var_and_std_on_known_values():
    a = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]  # the textbook example: mean 5, population variance 4
    assert ag.var(a).item() == pytest.approx(4.0)
    assert ag.std(a).item() == pytest.approx(2.0)
    assert ag.var(a, ddof=1).item() == pytest.approx(32.0 / 7.0)
    np.testing.assert_allclose(ag.std([[1.0, 3.0], [2.0, 2.0]], axis=1).data, [1.0, 0.0])


@pytest.mark.parametrize("func", [ag.var, ag.std], ids=["var", "std"])
@FEWER
@given(case=reductions(distinct=True, min_count=2), ddof=st.sampled_from([0, 1]))
def test_spreads_gradients_match_finite_differences(func, case, ddof):
    a, axis, keepdims = case
    check_gradients(lambda t: func(t, axis=axis, ddof=ddof, keepdims=keepdims), a)


@pytest.mark.parametrize("func", [ag.var, ag.std], ids=["var", "std"])
def test_spreads_reject_a_bad_axis_or_ddof(func):
    name = func.__name__
    with pytest.raises(ag.ShapeError, match=rf"^{name}: axis 5 is out of range"):
        func(np.ones((2, 3)), axis=5)
    with pytest.raises(ValueError, match=rf"^{name}: ddof=3 leaves no degrees of freedom: 3 values"):
        func(np.ones((2, 3)), axis=1, ddof=3)
    with pytest.raises(ValueError, match=rf"^{name}: ddof=1 leaves no degrees of freedom: 1 values"):
        func(np.ones((2, 1)), axis=1, ddof=1)


# ───────────────────────────── argmax, argmin, sign (not differentiable) ─────────────────────────────

ARGS = [(ag.argmax, np.argmax), (ag.argmin, np.argmin)]


@pytest.mark.parametrize(("func", "reference"), ARGS, ids=["argmax", "argmin"])
@FEW
@given(a=arrays(shapes(max_side=3)), data=st.data(), kind=KINDS)
def test_arg_extremes_match_numpy(func, reference, a, data, kind):
    axis = None if a.ndim == 0 else data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    keepdims = data.draw(st.booleans())
    out = func(as_input(a, kind), axis=axis, keepdims=keepdims)
    assert_matches(out, reference(a, axis=axis, keepdims=keepdims), exact=True)


def test_arg_extremes_on_a_known_matrix_take_the_first_tie():
    a = [[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]]
    np.testing.assert_array_equal(ag.argmax(a, axis=1).data, [1, 0])
    np.testing.assert_array_equal(ag.argmin(a, axis=0).data, [0, 1, 0])
    assert ag.argmax(a).item() == 3  # into the flattened array
    assert ag.argmin(a, axis=-1, keepdims=True).shape == (2, 1)


@pytest.mark.parametrize("func", [ag.argmax, ag.argmin, ag.sign], ids=["argmax", "argmin", "sign"])
def test_non_differentiable_results_never_require_grad(func):
    x = leaf(np.array([[0.5, -2.0, 0.0], [1.0, 3.0, -1.0]]))
    out = func(x)
    assert not out.requires_grad
    assert out.grad_fn is None


@pytest.mark.parametrize("func", [ag.argmax, ag.argmin], ids=["argmax", "argmin"])
def test_arg_extremes_reject_a_bad_axis(func):
    name = func.__name__
    with pytest.raises(ag.ShapeError, match=rf"^{name}: axis 2 is out of range"):
        func(np.ones((2, 3)), axis=2)
    with pytest.raises(ag.ShapeError, match=rf"^{name}: axis -3 is out of range"):
        func(np.ones((2, 3)), axis=-3)
    with pytest.raises(TypeError, match=rf"^{name}: axis must be an int or None"):
        func(np.ones((2, 3)), axis=(0, 1))
    assert func(ag.tensor(2.0), axis=0).item() == 0  # a 0-d tensor takes axis 0, as in NumPy


@FEW
@given(a=arrays(shapes(), domain=(-2, 2)), kind=KINDS)
def test_sign_matches_numpy(a, kind):
    a = np.round(a)  # whole numbers, so that zeros turn up
    assert_matches(ag.sign(as_input(a, kind)), np.sign(a), exact=True)


def test_sign_on_known_values():
    np.testing.assert_array_equal(ag.sign([-2.5, 0.0, 3.0]).data, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(ag.sign(np.array([-3, 0, 7])).data, [-1, 0, 1])


# sign is a constant for the engine: d(x * sign(x))/dx = sign(x) = d|x|/dx away from 0
test_sign_is_a_constant_in_the_graph = gradcheck_property(
    lambda x: x * ag.sign(x), tensors(shapes(), domain="nonzero"), second_order=True, max_examples=25
)


def test_sign_rejects_data_that_is_not_numeric():
    with pytest.raises(TypeError, match="cannot make a numeric array"):
        ag.sign([object()])


# ───────────────────────────── power, pow ─────────────────────────────


@pytest.mark.parametrize("func", [ag.power, ag.pow], ids=["power", "pow"])
@FEW
@given(
    pair=broadcastable_shapes(2).flatmap(
        lambda ss: st.tuples(arrays(ss[0], domain="positive"), arrays(ss[1], domain=(-2, 2)))
    ),
    kinds=st.sampled_from(["tensor-tensor", "tensor-ndarray", "ndarray-tensor", "tensor-number", "number-tensor"]),
)
def test_power_matches_numpy(func, pair, kinds):
    base, exponent = pair
    left, right = kinds.split("-")
    if left == "number":
        base = 1.7
    if right == "number":
        exponent = 2.5
    x1 = Tensor(base) if left == "tensor" else base
    x2 = Tensor(exponent) if right == "tensor" else exponent
    expected = np.power(np.asarray(base, dtype=np.float64), np.asarray(exponent, dtype=np.float64))
    assert_matches(func(x1, x2), expected)


def test_power_on_known_values():
    np.testing.assert_allclose(ag.power([1.0, 2.0, 3.0], 2).data, [1.0, 4.0, 9.0])
    np.testing.assert_allclose(ag.power(2.0, ag.tensor([0.0, 3.0])).data, [1.0, 8.0])
    np.testing.assert_allclose(ag.pow(ag.tensor([4.0, 9.0]), 0.5).data, [2.0, 3.0])


power_pair = st.shared(broadcastable_shapes(2, max_side=3), key="power")
test_power_of_two_tensors_gradients = gradcheck_property(
    ag.power,
    tensors(power_pair.map(lambda ss: ss[0]), domain="positive"),
    tensors(power_pair.map(lambda ss: ss[1]), domain=(-2, 2)),
    second_order=True,
    max_examples=25,
)
test_power_by_a_number_gradients = gradcheck_property(
    lambda x: ag.power(x, 2.5), tensors(shapes(), domain="positive"), second_order=True, max_examples=25
)
test_power_of_a_number_gradients = gradcheck_property(
    lambda x: ag.pow(1.7, x), tensors(shapes()), second_order=True, max_examples=25
)


def test_power_rejects_shapes_that_do_not_broadcast():
    with pytest.raises(ag.ShapeError, match=r"^pow: shapes \(3,\) and \(2,\) are not broadcastable"):
        ag.power(ag.tensor(np.ones(3)), np.ones(2))


# ───────────────────────────── astype ─────────────────────────────


@FEW
@given(a=arrays(shapes()), dtype=st.sampled_from([np.float32, np.float64, np.int64, np.bool_]), kind=KINDS)
def test_astype_matches_numpy(a, dtype, kind):
    assert_matches(ag.astype(as_input(a, kind), dtype), a.astype(dtype), exact=True)  # np.astype needs NumPy 2.1


def test_astype_passes_the_gradient_back_in_the_input_dtype():
    x = leaf(np.array([[1.5, -2.0], [0.25, 3.0]]))
    y = ag.astype(x, np.float32)
    assert y.dtype == np.float32 and y.grad_fn is not None
    upstream = np.array([[1.0, 2.0], [3.0, -4.0]], dtype=np.float32)
    y.backward(upstream)
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, upstream.astype(np.float64))
    assert not ag.astype(x, np.int64).requires_grad


def test_astype_rejects_an_unknown_dtype():
    with pytest.raises(TypeError):
        ag.astype(np.ones(2), "not-a-dtype")


# ───────────────────────────── reshape ─────────────────────────────


@FEW
@given(case=reshape_cases(), kind=KINDS)
def test_reshape_matches_numpy(case, kind):
    a, shape = case
    assert_matches(ag.reshape(as_input(a, kind), shape), np.reshape(a, shape), exact=True)


@FEWER
@given(case=reshape_cases())
def test_reshape_gradients_match_finite_differences(case):
    a, shape = case
    check_gradients(lambda t: ag.reshape(t, shape), a)


def test_reshape_rejects_a_shape_of_another_size():
    with pytest.raises(ag.ShapeError, match=r"^reshape: cannot reshape \(2, 3\) \(size 6\) into \(4,\)"):
        ag.reshape(np.ones((2, 3)), (4,))


# ───────────────────────────── transpose, permute_dims, swapaxes, moveaxis ─────────────────────────────


@pytest.mark.parametrize(("func", "reference"), [(ag.transpose, np.transpose), (ag.permute_dims, np.permute_dims)])
@FEW
@given(a=arrays(shapes(max_dims=4, max_side=3)), data=st.data(), kind=KINDS)
def test_transpose_matches_numpy(func, reference, a, data, kind):
    axes = data.draw(st.none() | permutations(a.ndim))
    assert_matches(func(as_input(a, kind), axes), reference(a, axes), exact=True)


@FEWER
@given(a=arrays(shapes(max_dims=4, max_side=3)), data=st.data())
def test_transpose_gradients_match_finite_differences(a, data):
    axes = data.draw(st.none() | permutations(a.ndim))  # negative axes included: the rule needs them normalized
    check_gradients(lambda t: ag.transpose(t, axes), a)


def test_transpose_with_negative_axes_sends_back_a_gradient_of_the_input_shape():
    x = leaf(np.arange(6.0).reshape(2, 3))
    upstream = np.arange(6.0).reshape(3, 2) * 10
    ag.transpose(x, (-1, 0)).backward(upstream)
    np.testing.assert_array_equal(x.grad.data, upstream.T)


def test_transpose_rejects_axes_that_are_not_a_permutation():
    for call, axes in [
        (ag.transpose, (0,)),  # not every axis
        (ag.transpose, (0, -2)),  # an axis twice
        (ag.transpose, (2, 0)),  # out of range
        (ag.permute_dims, (-3, 0)),
    ]:
        pattern = rf"^transpose: axes {re.escape(str(axes))} are not a permutation of the 2 axes of shape \(2, 3\)"
        with pytest.raises(ag.ShapeError, match=pattern):
            call(np.ones((2, 3)), axes)


@FEW
@given(a=arrays(shapes(min_dims=1, max_dims=4, max_side=3)), data=st.data(), kind=KINDS)
def test_swapaxes_matches_numpy(a, data, kind):
    axis1, axis2 = data.draw(st.tuples(st.integers(-a.ndim, a.ndim - 1), st.integers(-a.ndim, a.ndim - 1)))
    assert_matches(ag.swapaxes(as_input(a, kind), axis1, axis2), np.swapaxes(a, axis1, axis2), exact=True)


@FEWER
@given(a=arrays(shapes(min_dims=1, max_side=3)), data=st.data())
def test_swapaxes_gradients_match_finite_differences(a, data):
    axis1, axis2 = data.draw(st.tuples(st.integers(-a.ndim, a.ndim - 1), st.integers(-a.ndim, a.ndim - 1)))
    check_gradients(lambda t: ag.swapaxes(t, axis1, axis2), a)


def test_swapaxes_rejects_an_axis_out_of_range():
    with pytest.raises(ag.ShapeError, match=r"^swapaxes: axis 2 is out of range"):
        ag.swapaxes(np.ones((2, 3)), 0, 2)


@FEW
@given(case=move_cases(), kind=KINDS)
def test_moveaxis_matches_numpy(case, kind):
    a, source, destination = case
    assert_matches(ag.moveaxis(as_input(a, kind), source, destination), np.moveaxis(a, source, destination), exact=True)


@FEWER
@given(case=move_cases())
def test_moveaxis_gradients_match_finite_differences(case):
    a, source, destination = case
    check_gradients(lambda t: ag.moveaxis(t, source, destination), a)


def test_moveaxis_on_a_known_shape():
    assert ag.moveaxis(np.zeros((2, 3, 4)), 0, -1).shape == (3, 4, 2)
    assert ag.moveaxis(np.zeros((2, 3, 4)), -1, 0).shape == (4, 2, 3)
    assert ag.moveaxis(np.zeros((2, 3, 4)), (0, 1), (-1, -2)).shape == (4, 3, 2)


def test_moveaxis_rejects_mismatched_or_repeated_axes():
    with pytest.raises(ag.ShapeError, match=r"^moveaxis: source \(0, 1\) and destination \(2,\) need as many"):
        ag.moveaxis(np.ones((2, 3, 4)), (0, 1), (2,))
    with pytest.raises(ag.ShapeError, match=r"^moveaxis: axis \(0, -3\) names an axis twice"):
        ag.moveaxis(np.ones((2, 3, 4)), (0, -3), (1, 2))
    with pytest.raises(ag.ShapeError, match=r"^moveaxis: axis 3 is out of range"):
        ag.moveaxis(np.ones((2, 3, 4)), 3, 0)


# ───────────────────────────── squeeze, expand_dims, broadcast_to ─────────────────────────────


@FEW
@given(case=squeeze_cases(), kind=KINDS)
def test_squeeze_matches_numpy(case, kind):
    a, axis = case
    assert_matches(ag.squeeze(as_input(a, kind), axis), np.squeeze(a, axis), exact=True)


@FEWER
@given(case=squeeze_cases())
def test_squeeze_gradients_match_finite_differences(case):
    a, axis = case
    check_gradients(lambda t: ag.squeeze(t, axis), a)


def test_squeeze_rejects_an_axis_that_is_not_of_size_one():
    # NumPy's rule; Tensor.squeeze (PyTorch's) would skip the axis instead
    with pytest.raises(ag.ShapeError, match=r"^squeeze: axis 1 of shape \(1, 2\) has size 2, not 1"):
        ag.squeeze(np.ones((1, 2)), axis=1)
    with pytest.raises(ag.ShapeError, match=r"^squeeze: axis 2 is out of range"):
        ag.squeeze(np.ones((1, 2)), axis=2)
    with pytest.raises(ag.ShapeError, match=r"^squeeze: axis 1 is out of range for a 0-d tensor"):
        ag.squeeze(ag.tensor(1.0), axis=1)
    assert ag.squeeze(ag.tensor(1.0), axis=0).shape == ()  # as in NumPy


@FEW
@given(case=expand_cases(), kind=KINDS)
def test_expand_dims_matches_numpy(case, kind):
    a, axis = case
    assert_matches(ag.expand_dims(as_input(a, kind), axis), np.expand_dims(a, axis), exact=True)


@FEWER
@given(case=expand_cases())
def test_expand_dims_gradients_match_finite_differences(case):
    a, axis = case
    check_gradients(lambda t: ag.expand_dims(t, axis), a)


def test_expand_dims_rejects_a_position_out_of_range_or_repeated():
    with pytest.raises(ag.ShapeError, match=r"^expand_dims: axis 3 is out of range for a tensor with 3 dimensions"):
        ag.expand_dims(np.ones((2, 3)), 3)
    with pytest.raises(ag.ShapeError, match=r"^expand_dims: axis \(0, -4\) names an axis twice"):
        ag.expand_dims(np.ones((2, 3)), (0, -4))


@FEW
@given(case=broadcast_cases(), kind=KINDS)
def test_broadcast_to_matches_numpy(case, kind):
    a, shape = case
    assert_matches(ag.broadcast_to(as_input(a, kind), shape), np.broadcast_to(a, shape), exact=True)


def test_broadcast_to_takes_an_int_shape():
    np.testing.assert_array_equal(ag.broadcast_to(2.0, 3).data, [2.0, 2.0, 2.0])


@FEWER
@given(case=broadcast_cases())
def test_broadcast_to_gradients_match_finite_differences(case):
    a, shape = case
    check_gradients(lambda t: ag.broadcast_to(t, shape), a)


def test_broadcast_to_sums_the_gradient_back():
    x = leaf(np.array([[1.0], [2.0]]))
    ag.broadcast_to(x, (3, 2, 4)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[12.0], [12.0]])


def test_broadcast_to_rejects_a_shape_it_cannot_reach():
    with pytest.raises(ag.ShapeError, match=r"^broadcast_to: cannot broadcast shape \(2, 3\) to \(3, 3\)"):
        ag.broadcast_to(np.ones((2, 3)), (3, 3))
    with pytest.raises(ag.ShapeError, match=r"^broadcast_to: the target shape \(-1, 3\) has a negative dimension"):
        ag.broadcast_to(np.ones((2, 3)), (-1, 3))


# ───────────────────────────── array-like inputs ─────────────────────────────

LIST_CALLS = [
    ("max", lambda m, a: m.max(a, axis=0)),
    ("amax", lambda m, a: m.amax(a, axis=1, keepdims=True)),
    ("min", lambda m, a: m.min(a)),
    ("amin", lambda m, a: m.amin(a, axis=-1)),
    ("var", lambda m, a: m.var(a, axis=1, ddof=1)),
    ("std", lambda m, a: m.std(a, axis=0)),
    ("argmax", lambda m, a: m.argmax(a, axis=1)),
    ("argmin", lambda m, a: m.argmin(a)),
    ("sign", lambda m, a: m.sign(a)),
    ("power", lambda m, a: m.power(a, 2)),
    ("pow", lambda m, a: m.pow(a, 3)),
    ("astype", lambda m, a: m.astype(a, np.float64) if m is ag else np.asarray(a, dtype=np.float64)),
    ("reshape", lambda m, a: m.reshape(a, (3, 2))),
    ("transpose", lambda m, a: m.transpose(a)),
    ("permute_dims", lambda m, a: m.permute_dims(a, (1, 0))),
    ("swapaxes", lambda m, a: m.swapaxes(a, 0, 1)),
    ("moveaxis", lambda m, a: m.moveaxis(a, 0, -1)),
    ("squeeze", lambda m, a: m.squeeze([a], 0)),
    ("expand_dims", lambda m, a: m.expand_dims(a, (0, 3))),
    ("broadcast_to", lambda m, a: m.broadcast_to(a, (4, 2, 3))),
]


def test_every_new_function_has_a_list_input_case():
    assert sorted(name for name, _ in LIST_CALLS) == sorted(NEW_FUNCTIONS)


@pytest.mark.parametrize("call", [c for _, c in LIST_CALLS], ids=[n for n, _ in LIST_CALLS])
def test_lists_of_python_floats_work_as_float32_like_everywhere_in_gradwire(call):
    data = [[1.0, -2.0, 3.5], [0.0, 4.0, -1.0]]
    out = call(ag, data)
    expected = np.asarray(call(np, np.array(data, dtype=np.float32)))
    assert isinstance(out, Tensor) and not out.requires_grad
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)


# ───────────── topk ─────────────


@FEW
@given(a=arrays(shapes(min_dims=1, max_dims=3, max_side=4), distinct=True), data=st.data())
def test_topk_matches_torch_and_sends_gradient_to_the_chosen_entries(a, data):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for topk")
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1), label="axis")
    k = data.draw(st.integers(0, a.shape[axis]), label="k")
    largest = data.draw(st.booleans(), label="largest")
    values, indices = ag.topk(a, k, axis=axis, largest=largest)
    expected = torch.topk(torch.from_numpy(a), k, dim=axis, largest=largest)
    np.testing.assert_array_equal(values.data, expected.values.numpy())
    np.testing.assert_array_equal(indices.data, expected.indices.numpy())
    assert indices.dtype == np.int64 and not indices.requires_grad
    x = Tensor(a, requires_grad=True)
    assert ag.gradcheck(lambda x: ag.topk(x, k, axis=axis, largest=largest).values, (x,))


def test_topk_errors_name_the_op():
    with pytest.raises(ag.ShapeError, match=r"^topk: k=4 must be an integer from 0 to 3"):
        ag.topk(np.ones((2, 3)), 4)
    with pytest.raises(ag.ShapeError, match=r"^topk: axis 2 is out of range"):
        ag.topk(np.ones((2, 3)), 1, axis=2)
    with pytest.raises(ag.ShapeError, match=r"^topk: needs at least one dimension"):
        ag.topk(np.float64(1.0), 1)
