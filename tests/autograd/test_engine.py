"""The engine: graph shapes, accumulation, freeing, grad mode, hooks, higher order, `autograd.grad`."""

import gc
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Function, Tensor


def t64(array, requires_grad=True):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


X = np.array([0.3, -1.2, 2.0])

# ───────────────────────────── graph shapes ─────────────────────────────


def test_fan_out_sums_the_gradients_of_every_use():
    x = t64(X)
    (x.sin() + x * 3.0 + x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.cos(X) + 3.0 + np.exp(X), rtol=1e-12)


def test_diamond_graph():
    x = t64(X)
    a = x * 2.0
    (a.exp() * a.sin()).sum().backward()
    a_ = 2 * X
    np.testing.assert_allclose(x.grad.data, 2 * (np.exp(a_) * np.sin(a_) + np.exp(a_) * np.cos(a_)), rtol=1e-12)


def test_the_same_tensor_twice_in_one_op():
    x = t64(X)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * X)
    y = t64(X)
    (y * y * y + y + y).sum().backward()
    np.testing.assert_allclose(y.grad.data, 3 * X**2 + 2, rtol=1e-12)


def test_a_100000_node_chain_runs_backward_without_recursion():
    x = t64(2.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**100_000, rel=1e-9)
    assert y.item() == pytest.approx(2 * 1.0001**100_000, rel=1e-9)
    del y  # dropping the deep graph must not overflow the C stack either
    gc.collect()


def test_several_roots_at_once():
    x = t64(X)
    y1, y2 = (x * x).sum(), x.exp().sum()
    autograd.backward([y1, y2])
    np.testing.assert_allclose(x.grad.data, 2 * X + np.exp(X), rtol=1e-12)


def test_a_root_that_feeds_another_root():
    x = t64(X)
    y = x * 3.0
    z = (y * y).sum()
    autograd.backward([z, y], [None, np.ones(3)])
    np.testing.assert_allclose(x.grad.data, 18 * X + 3, rtol=1e-12)


# ───────────────────────────── .grad accumulation ─────────────────────────────


def test_leaf_grad_accumulates_across_backward_calls():
    x = t64(X)
    (x * x).sum().backward()
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * X + 5)
    x.grad = None
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 5.0))


def test_non_leaf_grad_is_kept_only_with_retain_grad():
    x = t64(X)
    y = x * 2.0
    z = x * 3.0
    z.retain_grad()
    (y * z).sum().backward()
    assert y.grad is None
    np.testing.assert_allclose(z.grad.data, 2 * X)
    np.testing.assert_allclose(x.grad.data, 12 * X)
    assert not y.is_leaf and x.is_leaf


# ───────────────────────────── freeing and retain_graph ─────────────────────────────


def test_values_saved_for_backward_are_freed_but_the_graph_remains():
    x = t64(X)
    h = x * 2.0  # mul_scalar output, saved by the mul below
    e = x.exp()
    y = (h * h).sum() + e.sum()
    saved_tensor = weakref.ref(h)
    saved_array = weakref.ref(e.data)  # exp keeps its output array for its VJP
    del h, e
    gc.collect()
    assert saved_tensor() is not None and saved_array() is not None  # held by the graph until backward

    y.backward()
    gc.collect()
    assert saved_tensor() is None
    assert saved_array() is None
    assert y.grad_fn is not None and y.grad_fn.name == "add"
    assert all(parent is not None for parent in y.grad_fn.parents)
    np.testing.assert_allclose(x.grad.data, 8 * X + np.exp(X), rtol=1e-12)


def test_an_op_whose_rule_reads_only_its_output_does_not_keep_its_input():
    x = t64(X)
    h = x * 2.0
    t = h.tanh()
    y = (t * 3.0 + 1.0).exp().sum()  # tanh, mul_scalar, add_scalar, exp: no rule reads its input
    z = h.sin()  # sin's rule reads its input: h stays alive through z's graph
    kept, tanh_output = weakref.ref(h), weakref.ref(t.data)
    del h, t
    gc.collect()
    assert kept() is not None  # sin saved it
    del z
    gc.collect()
    assert kept() is None  # nothing else kept the mul_scalar output
    assert tanh_output() is not None  # tanh keeps its own output for its rule
    y.backward()
    t = np.tanh(2 * X)
    np.testing.assert_allclose(x.grad.data, np.exp(3 * t + 1) * 3 * (1 - t**2) * 2, rtol=1e-12)


def test_observers_that_rerun_rules_record_every_input():
    x = t64(X)
    with autograd.detect_anomaly():
        y = (x * 2.0).tanh()
    node = y.grad_fn
    assert node.prim.inputs(node)[0]._node is node.parents[0]  # kept for the anomaly check
    assert (x * 2.0).tanh().grad_fn.prim.inputs((x * 2.0).tanh().grad_fn) == ()  # and not outside it


def test_retain_graph_keeps_saved_values():
    x = t64(X)
    h = x * 2.0
    y = (h * h).sum()
    saved = weakref.ref(h)
    del h
    y.backward(retain_graph=True)
    gc.collect()
    assert saved() is not None


def test_retain_graph_allows_a_second_backward_that_doubles_the_gradient():
    x = t64(X)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * X)


def test_a_second_backward_through_a_freed_graph_says_retain_graph():
    x = t64(X)
    y = (x.exp() * x).sum()
    y.backward()
    first = x.grad.data.copy()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    np.testing.assert_array_equal(x.grad.data, first)  # the failed call changed nothing


# ───────────────────────────── grad mode ─────────────────────────────


def test_no_grad_stops_recording():
    x = t64(X)
    with autograd.no_grad():
        y = x * 2.0
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert (x * 2.0).requires_grad


def test_grad_mode_switches_nest_and_restore():
    assert autograd.is_grad_enabled()
    with autograd.no_grad():
        with autograd.enable_grad():
            assert autograd.is_grad_enabled()
            with autograd.set_grad_enabled(False):
                assert not autograd.is_grad_enabled()
            assert autograd.is_grad_enabled()
        assert not autograd.is_grad_enabled()
        with autograd.set_grad_enabled(True):
            assert autograd.is_grad_enabled()
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(KeyError):
        with autograd.no_grad():
            raise KeyError("boom")
    assert autograd.is_grad_enabled()


def test_grad_mode_switches_as_decorators():
    @autograd.no_grad()
    def off():
        return autograd.is_grad_enabled()

    @autograd.enable_grad()
    def on():
        return autograd.is_grad_enabled()

    @autograd.set_grad_enabled(False)
    def set_off():
        return autograd.is_grad_enabled()

    assert autograd.is_grad_enabled()  # decorating switches nothing
    assert off() is False and set_off() is False
    assert autograd.is_grad_enabled()
    with autograd.no_grad():
        assert on() is True
        assert not autograd.is_grad_enabled()
    assert off.__name__ == "off"


def test_set_grad_enabled_called_plainly_switches_at_once():
    autograd.set_grad_enabled(False)
    try:
        assert not autograd.is_grad_enabled()
    finally:
        autograd.set_grad_enabled(True)
    assert autograd.is_grad_enabled()


def test_grad_mode_is_thread_local():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with autograd.no_grad():
            inside.set()
            release.wait(5)
            seen["worker"] = autograd.is_grad_enabled()

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(5)
    seen["main"] = autograd.is_grad_enabled()
    seen["main_records"] = (t64(X) * 2.0).requires_grad
    release.set()
    thread.join()
    assert seen == {"worker": False, "main": True, "main_records": True}


def test_a_new_thread_starts_with_grad_enabled():
    seen = []
    with autograd.no_grad():
        thread = threading.Thread(target=lambda: seen.append(autograd.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


# ───────────────────────────── hooks ─────────────────────────────


def test_hook_on_a_leaf_changes_its_gradient_until_removed():
    x = t64(X)
    handle = x.register_hook(lambda g: g * 10.0)
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 30.0))
    handle.remove()
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 3.0))


def test_hook_on_a_non_leaf_sees_the_summed_gradient_and_can_replace_it():
    x = t64(X)
    y = x * 2.0
    seen = []

    def hook(g):
        seen.append(g.data.copy())
        return g * 0.5

    y.register_hook(hook)
    (y * y + y).sum().backward()  # dL/dy = 2y + 1, from two uses: the hook runs once on the sum
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 4 * X + 1)
    np.testing.assert_allclose(x.grad.data, 2 * 0.5 * (4 * X + 1))


def test_hook_returning_none_keeps_the_gradient():
    x = t64(X)
    calls = []
    x.register_hook(lambda g: calls.append(1))
    (x * 4.0).sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(x.grad.data, np.full(3, 4.0))


def test_register_hook_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).register_hook(lambda g: g)


# ───────────────────────────── higher order ─────────────────────────────


def test_second_derivative_of_a_cube_by_backward_with_create_graph():
    x = t64(X)
    (x**3).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad.data, 3 * X**2, rtol=1e-12)
    assert x.grad.requires_grad
    (second,) = autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(second.data, 6 * X, rtol=1e-12)


def _sig(z):
    return 1 / (1 + np.exp(-z))


SECOND_DERIVATIVES = {
    "tanh": (lambda x: x.tanh(), lambda z: -2 * np.tanh(z) * (1 - np.tanh(z) ** 2)),
    "sigmoid": (lambda x: x.sigmoid(), lambda z: _sig(z) * (1 - _sig(z)) * (1 - 2 * _sig(z))),
    "exp": (lambda x: x.exp(), np.exp),
    "log": (lambda x: x.abs().log(), lambda z: -1 / z**2),
    "sin": (lambda x: x.sin(), lambda z: -np.sin(z)),
    "sqrt": (lambda x: (x * x + 1.0).sqrt(), lambda z: (z * z + 1) ** -1.5),
}


@pytest.mark.parametrize("name", sorted(SECOND_DERIVATIVES))
def test_grad_of_grad_of_elementwise_functions(name):
    func, second = SECOND_DERIVATIVES[name]
    x = t64(X)
    (first,) = autograd.grad(func(x).sum(), x, create_graph=True)
    (result,) = autograd.grad(first.sum(), x)
    np.testing.assert_allclose(result.data, second(X), rtol=1e-10, atol=1e-12)


def test_grad_of_grad_through_matmul():
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x = t64(rng.standard_normal(3))
    (g,) = autograd.grad(((Tensor(a) @ x) ** 2).sum(), x, create_graph=True)  # 2 A^T A x
    np.testing.assert_allclose(g.data, 2 * a.T @ a @ x.data, rtol=1e-12)
    (hv,) = autograd.grad(g, x, grad_outputs=Tensor(v))
    np.testing.assert_allclose(hv.data, 2 * a.T @ a @ v, rtol=1e-12)


def test_third_derivative():
    x = t64(X)
    (g1,) = autograd.grad((x**4).sum(), x, create_graph=True)
    (g2,) = autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, 24 * X, rtol=1e-12)


def test_first_order_backward_records_nothing():
    x = t64(X)
    (x.tanh() * x).sum().backward()
    assert not x.grad.requires_grad


# ───────────────────────────── autograd.grad ─────────────────────────────


def test_grad_with_several_outputs_and_inputs():
    x, w = t64(X), t64([1.0, -2.0, 0.5])
    a, b = (x * w).sum(), (x * x).sum()
    gx, gw = autograd.grad([a, b], [x, w])
    np.testing.assert_allclose(gx.data, w.data + 2 * X)
    np.testing.assert_allclose(gw.data, X)


def test_grad_with_grad_outputs():
    x, w = t64(X), t64([1.0, -2.0, 0.5])
    upstream = np.array([1.0, 10.0, -1.0])
    (gx,) = autograd.grad(x * w, x, grad_outputs=Tensor(upstream))
    np.testing.assert_allclose(gx.data, upstream * w.data)
    y1, y2 = x * 2.0, (x * x).sum()
    gx, gw = autograd.grad([y1, y2], [x, w], grad_outputs=[upstream, 3.0], allow_unused=True)
    np.testing.assert_allclose(gx.data, 2 * upstream + 6 * X)
    assert gw is None


def test_grad_of_an_unused_input_is_an_error_unless_allow_unused():
    x, unused = t64(X), t64([1.0])
    (g, none) = autograd.grad((x * x).sum(), [x, unused], allow_unused=True)
    np.testing.assert_allclose(g.data, 2 * X)
    assert none is None
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) was not used.*allow_unused=True"):
        autograd.grad((x * x).sum(), [x, unused])


def test_grad_leaves_dot_grad_alone():
    x = t64(X)
    y = x * 2.0
    y.retain_grad()
    (g,) = autograd.grad((y * y).sum(), x)
    np.testing.assert_allclose(g.data, 8 * X)
    assert x.grad is None and y.grad is None


def test_grad_with_respect_to_a_non_leaf():
    x = t64(X)
    y = x.exp()
    (gy,) = autograd.grad((y * y).sum(), y)
    np.testing.assert_allclose(gy.data, 2 * np.exp(X), rtol=1e-12)


def test_grad_needs_inputs_that_require_grad():
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        autograd.grad(t64(X).sum(), Tensor([1.0]))


# ───────────────────────────── errors ─────────────────────────────


def test_backward_on_a_non_scalar_without_gradient_names_the_shape():
    x = t64(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*gradient="):
        (x * 2.0).backward()


def test_backward_with_a_wrong_shaped_gradient_names_both_shapes():
    x = t64(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"gradient has shape \(3, 2\) but the output has shape \(2, 3\)"):
        (x * 2.0).backward(np.ones((3, 2)))


def test_backward_on_a_tensor_without_grad_fn():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0, 2.0]).sum().backward()


def test_backward_with_an_explicit_gradient():
    x = t64(X)
    (x * x).backward(np.array([1.0, 0.0, -2.0]))
    np.testing.assert_allclose(x.grad.data, 2 * X * np.array([1.0, 0.0, -2.0]))


def test_a_vjp_that_returns_none_still_lets_backward_finish():
    class FirstOnly(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a.data * 2 + b.data

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0, None  # b requires grad, but gets no gradient from here

    a, b = t64(X), t64(X)
    c = b * 3.0
    (FirstOnly.apply(a, c) + c.exp()).sum().backward()
    np.testing.assert_allclose(a.grad.data, np.full(3, 2.0))
    np.testing.assert_allclose(b.grad.data, 3 * np.exp(3 * X), rtol=1e-12)  # only the other path

    d = t64(X)
    FirstOnly.apply(a, d).sum().backward()  # d reached only through the None
    assert d.grad is None


# ───────────────────────────── broadcasting ─────────────────────────────


@settings(max_examples=30)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), st.integers(0, 2**32 - 1))
def test_gradients_are_summed_back_over_broadcast_dimensions(shapes, seed):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a_, b_, up = rng.standard_normal(sa), rng.standard_normal(sb), rng.standard_normal(out_shape)
    a, b = t64(a_), t64(b_)
    (a * b + a).backward(up)

    def unbroadcast(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
        return g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)

    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(a.grad.data, unbroadcast(up * b_ + up, sa), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.data, unbroadcast(up * a_, sb), rtol=1e-12, atol=1e-12)


def test_grad_runs_only_the_nodes_between_outputs_and_inputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    seen = []
    x.register_hook(lambda g: seen.append(g))
    (gy,) = autograd.grad((y * y).sum(), y)
    np.testing.assert_allclose(gy.data, 2 * np.exp([1.0, 2.0]), rtol=1e-6)
    assert seen == []  # exp's rule did not run, so x's hook never fired
    y.sum().backward()  # and exp's saved values were not freed by grad()
    np.testing.assert_allclose(x.grad.data, np.exp([1.0, 2.0]), rtol=1e-6)


def test_an_ndarray_gradient_for_one_output_is_one_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = autograd.grad(x * 2, x, grad_outputs=np.array([1.0, 5.0]))
    np.testing.assert_allclose(g.data, [2.0, 10.0])
    autograd.backward(x * 3, np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.data, [3.0, 6.0])


def test_a_reused_set_grad_enabled_object_switches_each_time():
    switch = autograd.set_grad_enabled(False)
    autograd.set_grad_enabled(True)
    for _ in range(2):
        with switch:
            assert not autograd.is_grad_enabled()
        assert autograd.is_grad_enabled()


def test_a_leaf_gradient_keeps_the_leaf_dtype_when_numpy_promotes_the_forward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * np.array([1.0, 2.0])  # float32 * float64 computes in float64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [1.0, 2.0])


def test_grad_with_no_path_to_any_input_gives_none_when_unused_is_allowed():
    """No output reaches the inputs: allow_unused gives None (it used to fail unpacking an empty root list)."""
    x = Tensor(np.ones(2), requires_grad=True)
    w = Tensor(np.ones(2), requires_grad=True)
    z = (w * 3.0).sum()
    assert autograd.grad(z, [x], allow_unused=True) == (None,)
    with pytest.raises(RuntimeError, match="was not used"):
        autograd.grad((w * 3.0).sum(), [x])
