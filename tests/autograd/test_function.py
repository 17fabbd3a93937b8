"""User-defined operations: `autograd.Function` with forward, backward, ctx and apply."""

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Function, GradcheckError, ShapeError, Tensor


def t64(array, requires_grad=True):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


class ScaledProduct(Function):
    """k * x * w for tensors x, w and a Python number k (between them); backward in Tensor ops."""

    @staticmethod
    def forward(ctx, x, k, w):
        ctx.save_for_backward(x, w)
        ctx.k = k
        return x.data * w.data * k

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        gx = grad * w * ctx.k if ctx.needs_input_grad[0] else None
        gw = grad * x * ctx.k if ctx.needs_input_grad[2] else None
        return gx, None, gw


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(x.data**3)  # forward may return a Tensor or an array

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


class SoftplusOnArrays(Function):
    """log(1 + e^x), with a backward on raw arrays: first order only."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.data / (1.0 + np.exp(-x.data))


def test_forward_backward_and_non_tensor_arguments():
    x, w = t64([1.0, 2.0, 3.0]), t64([0.5, -1.0, 2.0])
    y = ScaledProduct.apply(x, 3.0, w)
    np.testing.assert_allclose(y.data, 3.0 * x.data * w.data)
    assert y.requires_grad and y.grad_fn is not None and y.grad_fn.name == "ScaledProduct"
    y.backward(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_allclose(x.grad.data, 3.0 * w.data * [1.0, 10.0, 100.0])
    np.testing.assert_allclose(w.grad.data, 3.0 * x.data * [1.0, 10.0, 100.0])


def test_needs_input_grad_tells_which_arguments_need_a_gradient():
    seen = []

    class Record(Function):
        @staticmethod
        def forward(ctx, a, n, b):
            seen.append(("forward", ctx.needs_input_grad))
            return a.data * n + b.data

        @staticmethod
        def backward(ctx, grad):
            seen.append(("backward", ctx.needs_input_grad))
            return grad * 2.0, None, grad

    a, b = t64([1.0, 2.0]), t64([1.0, 1.0], requires_grad=False)
    Record.apply(a, 2, b).sum().backward()
    assert seen == [("forward", (True, False, False)), ("backward", (True, False, False))]
    np.testing.assert_allclose(a.grad.data, [2.0, 2.0])
    assert b.grad is None


def test_forward_runs_with_recording_off_and_nothing_is_recorded_under_no_grad():
    modes = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            modes.append(autograd.is_grad_enabled())
            return (x * 2.0).data

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    x = t64([1.0])
    assert Probe.apply(x).requires_grad
    with autograd.no_grad():
        y = Probe.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    assert modes == [False, False]
    assert not Probe.apply(t64([1.0], requires_grad=False)).requires_grad


def test_custom_function_passes_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(0)
    x, w = t64(rng.standard_normal(4)), t64(rng.standard_normal(4))
    assert autograd.gradcheck(lambda x, w: ScaledProduct.apply(x, 1.5, w), (x, w))
    assert autograd.gradgradcheck(lambda x, w: ScaledProduct.apply(x * x, 1.5, w.sin()), (x, w))
    assert autograd.gradcheck(Cube.apply, t64(rng.standard_normal((2, 3))))
    assert autograd.gradgradcheck(Cube.apply, t64(rng.standard_normal((2, 3))))


def test_a_backward_on_raw_arrays_passes_first_order_only():
    x = t64(np.linspace(-2.0, 2.0, 5))
    assert autograd.gradcheck(SoftplusOnArrays.apply, x)
    assert not autograd.gradgradcheck(SoftplusOnArrays.apply, x, raise_exception=False)


def test_second_derivative_through_a_custom_function():
    x = t64([0.5, -1.0, 2.0])
    (g,) = autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    (gg,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.data, 6 * x.data)


def test_gradcheck_catches_a_slightly_wrong_backward_and_names_the_function():
    class AlmostSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.data**2

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2.001 * x

    with pytest.raises(GradcheckError, match="AlmostSquare"):
        autograd.gradcheck(AlmostSquare.apply, t64([0.5, 1.0, 1.5]))


def test_wrong_number_of_gradients_is_a_clear_error():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a.data + b.data

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="TooFew.backward returned 1 gradients but forward took 2 arguments"):
        TooFew.apply(t64([1.0]), t64([2.0])).sum().backward()


def test_a_wrong_shaped_gradient_names_the_function_and_shapes():
    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x.data.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad * Tensor(np.ones((2, 3)))

    with pytest.raises(ShapeError, match=r"WrongShape: .*input 0 returned shape \(2, 3\).*shape \(2,\)"):
        WrongShape.apply(t64([1.0, 2.0])).backward()


@settings(max_examples=25)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), st.integers(0, 2**32 - 1))
def test_broadcast_shaped_gradients_are_summed_back(shapes, seed):
    class Add(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a.data + b.data

        @staticmethod
        def backward(ctx, grad):
            return grad, grad * 2.0  # both of the broadcast shape

    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a, b = t64(rng.standard_normal(sa)), t64(rng.standard_normal(sb))
    upstream = rng.standard_normal(out_shape)
    Add.apply(a, b).backward(upstream)

    def unbroadcast(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
        return g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)

    np.testing.assert_allclose(a.grad.data, unbroadcast(upstream, sa), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.data, unbroadcast(2.0 * upstream, sb), rtol=1e-12, atol=1e-12)


def test_backward_may_return_arrays_and_single_element_tuples():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x.data * 2

        @staticmethod
        def backward(ctx, grad):
            return (grad.data * 2,)

    x = Tensor([1.0, 2.0], requires_grad=True)
    Double.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    assert x.grad.dtype == np.float32


def test_saved_tensors_are_released_after_backward():
    saved = []

    class KeepsIntermediate(Function):
        @staticmethod
        def forward(ctx, x):
            doubled = Tensor(x.data * 2)
            ctx.save_for_backward(doubled)
            saved.append(weakref.ref(doubled))
            return doubled.data**2

        @staticmethod
        def backward(ctx, grad):
            (doubled,) = ctx.saved_tensors
            return grad * doubled * 4.0

    x = t64([1.0, 3.0])
    y = KeepsIntermediate.apply(x).sum()
    gc.collect()
    assert saved[0]() is not None  # only the graph holds it
    y.backward()
    gc.collect()
    assert saved[0]() is None
    assert y.grad_fn.parents[0].name == "KeepsIntermediate"  # the graph itself remains
    np.testing.assert_allclose(x.grad.data, 8 * x.data)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_the_same_tensor_twice_as_arguments():
    x = t64([1.0, 2.0])
    ScaledProduct.apply(x, 1.0, x).sum().backward()  # x * x
    np.testing.assert_allclose(x.grad.data, 2 * x.data)
