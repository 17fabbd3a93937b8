"""`autograd.testing`: the strategies keep their promises, and `gradcheck_property` passes
correct user code and catches planted gradient bugs with a readable report."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Function, GradcheckError, Tensor
from autograd.testing import arrays, broadcastable_shapes, gradcheck_property, matmul_shapes, shapes, tensors

# The documented named domains: (lo, hi) and the distance kept from 0.
DOCUMENTED_DOMAINS = {
    "real": (-3.0, 3.0, 0.0),
    "positive": (0.1, 3.0, 0.0),
    "negative": (-3.0, -0.1, 0.0),
    "nonzero": (-3.0, 3.0, 0.1),
    "unit": (-0.9, 0.9, 0.0),
    "probability": (0.05, 0.95, 0.0),
}
ROUNDING = 1e-12  # gaps hold up to float64 rounding

# ───────────────────────────── shapes ─────────────────────────────


@given(data=st.data())
def test_shapes_stay_in_bounds(data):
    min_dims = data.draw(st.integers(0, 3), label="min_dims")
    max_dims = data.draw(st.integers(min_dims, 4), label="max_dims")
    min_side = data.draw(st.integers(0, 3), label="min_side")
    max_side = data.draw(st.integers(max(min_side, 1), 5), label="max_side")
    shape = data.draw(shapes(min_dims, max_dims, min_side, max_side), label="shape")
    assert isinstance(shape, tuple)
    assert min_dims <= len(shape) <= max_dims
    assert all(min_side <= n <= max_side for n in shape)


def test_default_shapes_include_scalars_and_three_dimensions():
    assert find(shapes(), lambda s: s == ()) == ()
    assert len(find(shapes(), lambda s: len(s) == 3)) == 3


@given(data=st.data())
def test_broadcastable_shapes_broadcast(data):
    num_shapes = data.draw(st.integers(1, 4), label="num_shapes")
    drawn = data.draw(broadcastable_shapes(num_shapes, max_dims=3, max_side=4), label="shapes")
    assert len(drawn) == num_shapes
    result = np.broadcast_shapes(*drawn)  # raises if they do not broadcast
    assert len(result) <= 3 and all(n <= 4 for n in result)
    assert all(len(s) <= 3 for s in drawn)


def test_broadcastable_shapes_cover_differing_ranks_and_stretched_size_one_dims():
    find(broadcastable_shapes(), lambda ss: len(ss[0]) != len(ss[1]))

    def stretches(ss):
        result = np.broadcast_shapes(*ss)
        return any(
            n == 1 and result[len(result) - len(s) + i] > 1 for s in ss for i, n in enumerate(s)
        )  # a size-1 dimension that broadcasting stretches

    find(broadcastable_shapes(), stretches)


@given(pair=matmul_shapes())
def test_matmul_shapes_multiply(pair):
    a, b = pair
    np.matmul(np.zeros(a), np.zeros(b))  # raises if the shapes do not fit
    assert len(a) >= 1 and len(b) >= 1


def test_matmul_shapes_cover_vectors_and_broadcast_batches():
    find(matmul_shapes(), lambda p: len(p[0]) == 1 and len(p[1]) == 1)  # dot product
    find(matmul_shapes(), lambda p: len(p[0]) == 1 and len(p[1]) >= 2)  # vector @ matrix
    find(matmul_shapes(), lambda p: len(p[0]) >= 2 and len(p[1]) == 1)  # matrix @ vector
    find(matmul_shapes(), lambda p: len(p[0]) > 2 and len(p[1]) > 2 and p[0][:-2] != p[1][:-2])  # batch broadcast


# ───────────────────────────── arrays and tensors ─────────────────────────────


@pytest.mark.parametrize("name", DOCUMENTED_DOMAINS)
@settings(max_examples=30)
@given(data=st.data())
def test_named_domains(name, data):
    lo, hi, gap_from_zero = DOCUMENTED_DOMAINS[name]
    a = data.draw(arrays(shapes(), domain=name), label="a")
    assert a.dtype == np.float64
    assert np.all((lo <= a) & (a <= hi))
    assert np.all(np.abs(a) >= gap_from_zero)


@settings(max_examples=50)
@given(data=st.data())
def test_tuple_domain_and_avoided_points(data):
    lo = data.draw(st.floats(-5, 4), label="lo")
    hi = data.draw(st.floats(lo + 1, lo + 6), label="hi")
    avoid = data.draw(st.lists(st.floats(lo - 1, hi + 1), max_size=3), label="avoid")
    min_gap = data.draw(st.floats(0.001, 0.2), label="min_gap")
    a = data.draw(arrays(shapes(), domain=(lo, hi), avoid=avoid, min_gap=min_gap), label="a")
    assert np.all((lo <= a) & (a <= hi))
    for p in avoid:
        assert np.all(np.abs(a - p) >= min_gap - ROUNDING), f"a value is within {min_gap} of {p}"


@settings(max_examples=50)
@given(data=st.data())
def test_distinct_values_keep_their_distance(data):
    min_gap = data.draw(st.sampled_from([0.01, 0.05, 0.1]), label="min_gap")
    domain = data.draw(st.sampled_from(["real", "unit", "nonzero"]), label="domain")
    # at most 9 values: they fit 0.1 apart in "unit" (length 1.8, less the 0.2 cut around 0.5)
    values_shape = shapes(max_dims=2, max_side=3)
    a = data.draw(arrays(values_shape, domain=domain, avoid=(0.5,), min_gap=min_gap, distinct=True), label="a")
    values = np.sort(a.reshape(-1))
    assert np.all(np.diff(values) >= min_gap - ROUNDING)
    assert np.all(np.abs(a - 0.5) >= min_gap - ROUNDING)


@given(data=st.data())
def test_avoiding_zero_exactly(data):
    a = data.draw(arrays(5, domain=(0.0, 1.0), avoid=(0.0,), min_gap=0.0), label="a")
    assert np.all(a > 0)


@given(
    a=arrays((2, 3), dtype=np.float32, domain="positive"),
    b=arrays(4),
    c=arrays(st.just((1, 2))),
)
def test_arrays_shape_and_dtype_arguments(a, b, c):
    assert a.shape == (2, 3) and a.dtype == np.float32 and np.all(a >= np.float32(0.1))
    assert b.shape == (4,) and b.dtype == np.float64
    assert c.shape == (1, 2)


@given(
    x=tensors(),
    y=tensors((3,), dtype=np.float32, domain="unit", requires_grad=False),
    z=tensors(shapes(min_dims=2, max_dims=2), distinct=True),
)
def test_tensors(x, y, z):
    assert isinstance(x, Tensor) and x.requires_grad and x.is_leaf and x.dtype == np.float64
    assert y.shape == (3,) and y.dtype == np.float32 and not y.requires_grad
    assert np.all(np.abs(y.numpy()) <= np.float32(0.9))
    assert z.ndim == 2 and len(np.unique(z.numpy())) == z.size


def test_bad_arguments_are_reported_when_the_strategy_is_built():
    with pytest.raises(ValueError, match="unknown domain"):
        arrays(3, domain="reals")
    with pytest.raises(ValueError, match="lo < hi"):
        arrays(3, domain=(1.0, -1.0))
    with pytest.raises(ValueError, match="nothing of the domain"):
        arrays(3, domain=(0.0, 1.0), avoid=(0.5,), min_gap=1.0)
    with pytest.raises(ValueError, match="floating-point"):
        arrays(3, dtype=np.int64)
    with pytest.raises(ValueError, match="min_gap"):
        arrays(3, distinct=True, min_gap=0.0)


@given(data=st.data())
def test_distinct_values_that_cannot_fit_are_reported(data):
    with pytest.raises(ValueError, match="cannot draw 30 distinct values"):
        data.draw(arrays(30, domain=(0.0, 1.0), distinct=True, min_gap=0.1))


# ───────────────────────────── gradcheck_property on correct code ─────────────────────────────


def softplus(x: Tensor) -> Tensor:
    """log(1 + e**x), written with Tensor operations."""
    return (1 + x.exp()).log()


class Softplus(Function):
    """softplus with a hand-written backward in Tensor ops (so second order works)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


class ScaledProduct(Function):
    """c * a * b with a constant c: a Function of two tensors and a number."""

    @staticmethod
    def forward(ctx, a, b, c):
        ctx.save_for_backward(a, b)
        ctx.c = c
        return c * a.data * b.data

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b * ctx.c, grad * a * ctx.c, None


test_softplus_composite = gradcheck_property(softplus, tensors(shapes(), domain=(-3, 3)), second_order=True)
test_softplus_function = gradcheck_property(Softplus.apply, tensors(), second_order=True, max_examples=15)
test_softmax_with_a_constant_axis = gradcheck_property(
    lambda x, axis: x.softmax(axis), tensors(shapes(min_dims=2)), -1, second_order=True, max_examples=15
)

_pair = st.shared(broadcastable_shapes(), key="scaled-product-pair")
test_function_with_broadcast_arguments = gradcheck_property(
    ScaledProduct.apply,
    tensors(_pair.map(lambda ss: ss[0])),
    tensors(_pair.map(lambda ss: ss[1])),
    2.5,
    second_order=True,
    max_examples=15,
)


def test_gradcheck_property_returns_a_plain_zero_argument_test():
    prop = gradcheck_property(softplus, tensors(), max_examples=5)
    assert callable(prop)
    assert not inspect.signature(prop).parameters
    assert "softplus" in prop.__name__ and "softplus" in prop.__doc__
    prop()  # runs five examples and passes


def test_gradcheck_property_passes_gradcheck_options():
    # a step of 0.5 makes central differences of exp visibly wrong; the options reach gradcheck
    prop = gradcheck_property(autograd.exp, tensors((3,), domain=(1.0, 2.0)), eps=0.5, max_examples=5)
    with pytest.raises(GradcheckError):
        prop()


# ───────────────────────────── gradcheck_property on planted bugs ─────────────────────────────


class SlightlyWrongSoftplus(Softplus):
    """A gradient 0.1% too large: the kind of bug a sign or a constant slip leaves behind."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid() * 1.001


class MissingTerm(Function):
    """x * sin(x) whose backward forgets the product rule's x * cos(x) term."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data * np.sin(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sin()


class FrozenBackward(Function):
    """sin(x) with a right first derivative computed on raw arrays: invisible to first order,
    but its gradient does not depend on x in the graph, so the second derivative is missing."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Tensor(np.cos(x.data))


def failure_message(prop) -> str:
    with pytest.raises(GradcheckError) as info:
        prop()
    return str(info.value)


@pytest.mark.parametrize("function", [SlightlyWrongSoftplus, MissingTerm], ids=["factor-1.001", "missing-term"])
def test_planted_first_order_bug_is_caught_with_a_readable_report(function):
    message = failure_message(gradcheck_property(function.apply, tensors(shapes(), domain="real"), max_examples=20))
    assert "input 0" in message
    assert "analytic" in message and "numeric" in message
    assert "disagrees with central finite differences" in message


def test_planted_second_order_bug_needs_second_order():
    first_order = gradcheck_property(FrozenBackward.apply, tensors(), max_examples=10)
    first_order()  # the first derivative is right
    message = failure_message(gradcheck_property(FrozenBackward.apply, tensors(), second_order=True, max_examples=10))
    assert "analytic" in message and "numeric" in message
    assert "input 0" in message


def test_bug_in_one_of_two_inputs_names_that_input():
    class WrongSecondInput(ScaledProduct):
        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b * ctx.c, grad * a * (ctx.c + 0.01), None

    shape = st.shared(shapes(), key="same-shape")
    message = failure_message(
        gradcheck_property(WrongSecondInput.apply, tensors(shape), tensors(shape), 2.0, max_examples=10)
    )
    assert "input 1" in message and "input 0" not in message.splitlines()[0]
