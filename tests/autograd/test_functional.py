"""`autograd.functional`: vjp, jvp, jacobian, hessian, hvp and vhp against closed-form derivatives."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Function, ShapeError, Tensor
from autograd import functional as F

SEEDS = st.integers(0, 2**32 - 1)
SIZES = st.integers(1, 5)


def t64(array, requires_grad=False):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def tanh_layer(w):
    """x -> tanh(W x) and its Jacobian diag(1 - tanh(W x)^2) W, in NumPy."""

    def func(x):
        return (Tensor(w) @ x).tanh()

    def jac(x):
        return (1 - np.tanh(w @ x) ** 2)[:, None] * w

    return func, jac


def quartic(a):
    """f(x) = x^T A x + sum(x^4): gradient (A + A^T) x + 4 x^3, Hessian A + A^T + diag(12 x^2)."""

    def func(x):
        return x @ (Tensor(a) @ x) + (x**4).sum()

    def hess(x):
        return a + a.T + np.diag(12 * x**2)

    return func, hess


# ───────────────────────────── jacobian ─────────────────────────────


@settings(max_examples=20)
@given(SIZES, SIZES, SEEDS)
def test_jacobian_of_a_linear_map_is_its_matrix(m, n, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, n))
    x = t64(rng.standard_normal(n))
    jac = F.jacobian(lambda x: Tensor(a) @ x, x)
    assert isinstance(jac, Tensor)
    assert jac.shape == (m, n)
    np.testing.assert_allclose(jac.data, a, rtol=1e-12, atol=1e-12)


def test_jacobian_of_a_nonlinear_map_matches_the_closed_form():
    rng = np.random.default_rng(0)
    func, jac = tanh_layer(rng.standard_normal((3, 4)))
    x = rng.standard_normal(4)
    np.testing.assert_allclose(F.jacobian(func, t64(x)).data, jac(x), rtol=1e-12, atol=1e-12)


def test_jacobian_shape_is_output_shape_then_input_shape():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3))
    w = rng.standard_normal(3)
    jac = F.jacobian(lambda x: x @ Tensor(w), t64(x))  # (2, 3) -> (2,)
    assert jac.shape == (2, 2, 3)
    expected = np.einsum("ik,l->ikl", np.eye(2), w)  # d (Xw)_i / d X_kl = delta_ik w_l
    np.testing.assert_allclose(jac.data, expected, rtol=1e-12)

    elementwise = F.jacobian(lambda x: x.exp(), t64(x))
    assert elementwise.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(elementwise.data.reshape(6, 6), np.diag(np.exp(x).ravel()), rtol=1e-12)


def test_jacobian_of_tuple_inputs_and_outputs_nests_like_pytorch():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(3), rng.standard_normal(3)

    def func(a, b):
        return a * b, (a * a).sum() + b.sum()

    jac = F.jacobian(func, (t64(a), t64(b)))
    assert isinstance(jac, tuple) and len(jac) == 2
    assert all(isinstance(row, tuple) and len(row) == 2 for row in jac)
    np.testing.assert_allclose(jac[0][0].data, np.diag(b))
    np.testing.assert_allclose(jac[0][1].data, np.diag(a))
    np.testing.assert_allclose(jac[1][0].data, 2 * a)
    np.testing.assert_allclose(jac[1][1].data, np.ones(3))

    over_inputs = F.jacobian(lambda a, b: a * b, (t64(a), t64(b)))  # one output: a tuple over inputs
    assert isinstance(over_inputs, tuple) and all(isinstance(j, Tensor) for j in over_inputs)
    np.testing.assert_allclose(over_inputs[1].data, np.diag(a))

    over_outputs = F.jacobian(lambda a: (a * 2.0, a.sin()), t64(a))  # one input: a tuple over outputs
    assert isinstance(over_outputs, tuple) and all(isinstance(j, Tensor) for j in over_outputs)
    np.testing.assert_allclose(over_outputs[1].data, np.diag(np.cos(a)))


def test_jacobian_of_the_identity_is_the_identity_matrix():
    x = t64(np.arange(4.0))
    np.testing.assert_array_equal(F.jacobian(lambda x: x, x).data, np.eye(4))


def test_scalar_shapes_and_float32_are_kept():
    x = Tensor([1.0, 2.0])  # float32
    jac = F.jacobian(lambda t: t * t, x)
    assert jac.dtype == np.float32
    np.testing.assert_allclose(jac.data, np.diag([2.0, 4.0]))
    assert F.hessian(lambda t: (t**3).sum(), x).dtype == np.float32
    assert F.hvp(lambda t: (t**3).sum(), x, [1.0, 1.0])[1].dtype == np.float32
    assert F.jacobian(lambda t: t.sum(), Tensor(np.ones((2, 2)))).shape == (2, 2)  # 0-d output
    derivative = F.jacobian(lambda t: t * t, t64(3.0))  # 0-d input and output
    assert derivative.shape == () and derivative.item() == 6.0


# ───────────────────────────── vjp and jvp ─────────────────────────────


@settings(max_examples=15)
@given(SIZES, SIZES, SEEDS)
def test_vjp_is_v_times_the_jacobian(m, n, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((m, n))
    func, jac = tanh_layer(w)
    x, v = rng.standard_normal(n), rng.standard_normal(m)
    out, product = F.vjp(func, t64(x), t64(v))
    np.testing.assert_allclose(out.data, np.tanh(w @ x), rtol=1e-12)
    np.testing.assert_allclose(product.data, v @ jac(x), rtol=1e-10, atol=1e-12)


@settings(max_examples=15)
@given(SIZES, SIZES, SEEDS)
def test_jvp_is_the_jacobian_times_v(m, n, seed):
    rng = np.random.default_rng(seed)
    func, jac = tanh_layer(rng.standard_normal((m, n)))
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    out, product = F.jvp(func, t64(x), t64(v))
    assert out.shape == product.shape == (m,)
    np.testing.assert_allclose(product.data, jac(x) @ v, rtol=1e-10, atol=1e-12)


def test_vjp_and_jvp_with_tuples():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    u, w = rng.standard_normal(3), np.float64(rng.standard_normal())

    def func(a, b):
        return a * b, (a * a).sum() + b.sum()

    outs, (ga, gb) = F.vjp(func, (t64(a), t64(b)), (t64(u), t64(w)))
    np.testing.assert_allclose(outs[0].data, a * b)
    np.testing.assert_allclose(outs[1].data, a @ a + b.sum())
    np.testing.assert_allclose(ga.data, u * b + w * 2 * a)
    np.testing.assert_allclose(gb.data, u * a + w)

    da, db = rng.standard_normal(3), rng.standard_normal(3)
    outs, (t0, t1) = F.jvp(func, (t64(a), t64(b)), (t64(da), t64(db)))
    np.testing.assert_allclose(t0.data, da * b + a * db)
    np.testing.assert_allclose(t1.data, 2 * a @ da + db.sum())


def test_v_may_be_an_array_or_a_number():
    x = t64([0.5, 1.5])
    _, product = F.vjp(lambda x: x * x, x, np.array([1.0, -1.0]))
    np.testing.assert_allclose(product.data, [1.0, -3.0])
    _, tangent = F.jvp(lambda x: (x**3).sum(), t64(2.0), 0.5)
    assert tangent.item() == pytest.approx(3 * 4 * 0.5)


def test_v_defaults_to_one_for_one_element_outputs_and_inputs():
    x = t64([0.3, -1.2, 2.0])
    out, gradient = F.vjp(lambda x: (x**3).sum(), x)
    assert out.item() == pytest.approx(np.sum(x.data**3))
    np.testing.assert_allclose(gradient.data, 3 * x.data**2)
    _, tangent = F.jvp(lambda s: s.exp() * Tensor([1.0, 2.0]), t64(0.5))
    np.testing.assert_allclose(tangent.data, np.exp(0.5) * np.array([1.0, 2.0]))


def test_jvp_through_a_function_with_broadcasting_and_fan_out():
    rng = np.random.default_rng(4)
    x, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    dx, db = rng.standard_normal((2, 3)), rng.standard_normal(3)

    def func(x, b):
        y = x * b  # b is broadcast over rows
        return (y * y + y).sum(axis=1)

    _, tangent = F.jvp(func, (t64(x), t64(b)), (t64(dx), t64(db)))
    y, dy = x * b, dx * b + x * db
    np.testing.assert_allclose(tangent.data, ((2 * y + 1) * dy).sum(axis=1), rtol=1e-12)


# ───────────────────────────── hessian, hvp, vhp ─────────────────────────────


@settings(max_examples=20)
@given(SIZES, SEEDS)
def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    x = t64(rng.standard_normal(n))
    hess = F.hessian(lambda x: x @ (Tensor(a) @ x), x)
    assert hess.shape == (n, n)
    np.testing.assert_allclose(hess.data, a + a.T, rtol=1e-12, atol=1e-12)


def test_hessian_of_elementwise_functions_is_diagonal():
    x = np.array([0.2, 0.7, 1.9])
    np.testing.assert_allclose(F.hessian(lambda x: x.sin().sum(), t64(x)).data, np.diag(-np.sin(x)), atol=1e-15)
    np.testing.assert_allclose(F.hessian(lambda x: x.log().sum(), t64(x)).data, np.diag(-1 / x**2), rtol=1e-12)


def test_hessian_of_a_matrix_input_has_doubled_shape():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    hess = F.hessian(lambda x: (x**3).sum(), t64(x))
    assert hess.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(hess.data.reshape(6, 6), np.diag(6 * x.ravel()))


def test_hessian_with_tuple_inputs():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    hess = F.hessian(lambda a, b: (a * a * b).sum(), (t64(a), t64(b)))
    np.testing.assert_allclose(hess[0][0].data, np.diag(2 * b))
    np.testing.assert_allclose(hess[0][1].data, np.diag(2 * a))
    np.testing.assert_allclose(hess[1][0].data, np.diag(2 * a))
    np.testing.assert_array_equal(hess[1][1].data, np.zeros((3, 3)))


@settings(max_examples=15)
@given(SIZES, SEEDS)
def test_hvp_and_vhp_are_the_hessian_times_v(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    func, hess = quartic(a)
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    expected = hess(x) @ v
    out, hv = F.hvp(func, t64(x), t64(v))
    assert out.item() == pytest.approx(x @ a @ x + np.sum(x**4))
    np.testing.assert_allclose(hv.data, expected, rtol=1e-10, atol=1e-10)
    _, vh = F.vhp(func, t64(x), t64(v))
    np.testing.assert_allclose(vh.data, v @ hess(x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(F.hessian(func, t64(x)).data, hess(x), rtol=1e-10, atol=1e-10)


def test_hvp_and_vhp_with_tuple_inputs():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    va, vb = rng.standard_normal(3), rng.standard_normal(3)
    h_aa, h_ab, h_bb = np.diag(2 * b), np.diag(2 * a), np.zeros((3, 3))
    _, (ha, hb) = F.hvp(lambda a, b: (a * a * b).sum(), (t64(a), t64(b)), (t64(va), t64(vb)))
    np.testing.assert_allclose(ha.data, h_aa @ va + h_ab @ vb)
    np.testing.assert_allclose(hb.data, h_ab.T @ va + h_bb @ vb)
    _, (wa, wb) = F.vhp(lambda a, b: (a * a * b).sum(), (t64(a), t64(b)), (t64(va), t64(vb)))
    np.testing.assert_allclose(wa.data, va @ h_aa + vb @ h_ab.T)
    np.testing.assert_allclose(wb.data, va @ h_ab + vb @ h_bb)


def test_second_order_functions_through_a_custom_function():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.data**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(F.hessian(lambda x: Cube.apply(x).sum(), t64(x)).data, np.diag(6 * x))
    _, tangent = F.jvp(Cube.apply, t64(x), t64(np.ones(3)))
    np.testing.assert_allclose(tangent.data, 3 * x**2)


# ───────────────────────────── graph handling ─────────────────────────────


def test_results_are_detached_and_inputs_untouched_without_create_graph():
    x = t64([0.5, 1.0], requires_grad=True)
    func = lambda x: (x**3).sum()  # noqa: E731
    out, gradient = F.vjp(func, x)
    results = [out, gradient, F.jvp(func, x, t64([1.0, 0.0]))[1], F.jacobian(func, x), F.hessian(func, x)]
    results += [*F.hvp(func, x, t64([1.0, 1.0])), *F.vhp(func, x, t64([1.0, 1.0]))]
    for result in results:
        assert not result.requires_grad and result.grad_fn is None
    assert x.grad is None and x.is_leaf and x.requires_grad


def test_create_graph_lets_results_be_differentiated_with_respect_to_the_inputs():
    x = t64([0.5, 1.0, 2.0], requires_grad=True)
    jac = F.jacobian(lambda t: t**3, x, create_graph=True)  # diag(3 x^2)
    assert jac.requires_grad
    (g,) = autograd.grad(jac.sum(), x)
    np.testing.assert_allclose(g.data, 6 * x.data)

    hess = F.hessian(lambda t: (t**4).sum(), x, create_graph=True)  # diag(12 x^2)
    np.testing.assert_allclose(autograd.grad(hess.sum(), x)[0].data, 24 * x.data)

    _, hv = F.hvp(lambda t: (t**4).sum(), x, t64(np.ones(3)), create_graph=True)
    np.testing.assert_allclose(autograd.grad(hv.sum(), x)[0].data, 24 * x.data)

    _, vh = F.vhp(lambda t: (t**4).sum(), x, t64(np.ones(3)), create_graph=True)
    np.testing.assert_allclose(autograd.grad(vh.sum(), x)[0].data, 24 * x.data)

    out, tangent = F.jvp(lambda t: t**4, x, t64(np.ones(3)), create_graph=True)  # 4 x^3
    assert out.requires_grad
    np.testing.assert_allclose(autograd.grad(tangent.sum(), x)[0].data, 12 * x.data**2)
    assert x.grad is None


def test_create_graph_keeps_v_differentiable():
    x = t64([0.5, 1.0, 2.0])
    v = t64([1.0, 1.0, 1.0], requires_grad=True)
    _, product = F.vjp(lambda t: t * t, x, v, create_graph=True)  # v * 2x
    np.testing.assert_allclose(autograd.grad(product.sum(), v)[0].data, 2 * x.data)


def test_create_graph_on_inputs_without_grad_still_gives_graph_results():
    _, gradient = F.vjp(lambda t: (t**3).sum(), t64([1.0, 2.0]), create_graph=True)
    assert gradient.requires_grad


def test_functions_work_under_no_grad():
    x = t64([1.0, 2.0])
    with autograd.no_grad():
        jac = F.jacobian(lambda t: t * t, x)
        _, hv = F.hvp(lambda t: (t**3).sum(), x, t64([1.0, 0.0]))
        assert not autograd.is_grad_enabled()
    np.testing.assert_allclose(jac.data, np.diag([2.0, 4.0]))
    np.testing.assert_allclose(hv.data, [6.0, 0.0])


# ───────────────────────────── unused inputs and strict ─────────────────────────────


def test_unused_inputs_get_zeros_and_strict_raises():
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0, 5.0])

    def uses_a(a, b):
        return a * 2.0

    _, (ga, gb) = F.vjp(uses_a, (a, b), t64([1.0, 1.0]))
    np.testing.assert_array_equal(gb.data, np.zeros(3))
    np.testing.assert_array_equal(ga.data, [2.0, 2.0])
    jac = F.jacobian(uses_a, (a, b))
    np.testing.assert_array_equal(jac[1].data, np.zeros((2, 3)))
    _, tangent = F.jvp(lambda a, b: (a.sum(), Tensor(7.0)), (a, b), (t64([1.0, 1.0]), t64(np.ones(3))))
    assert tangent[0].item() == 2.0 and tangent[1].item() == 0.0

    for call in (
        lambda: F.vjp(uses_a, (a, b), t64([1.0, 1.0]), strict=True),
        lambda: F.jvp(uses_a, (a, b), (t64([1.0, 1.0]), t64(np.ones(3))), strict=True),
        lambda: F.jacobian(uses_a, (a, b), strict=True),
    ):
        with pytest.raises(RuntimeError, match="input 1.*strict=True"):
            call()


def test_strict_rejects_outputs_that_do_not_depend_on_the_inputs():
    with pytest.raises(RuntimeError, match="output 0 .*does not require grad"):
        F.vjp(lambda x: Tensor([1.0, 2.0]), t64([1.0, 2.0]), t64([1.0, 1.0]), strict=True)


def test_second_order_strict_rejects_a_linear_input():
    x, y = t64([1.0, 2.0]), t64([3.0, 4.0])

    def func(x, y):
        return (x**3).sum() + y.sum()  # linear in y: its Hessian rows are zero

    hess = F.hessian(func, (x, y))
    np.testing.assert_array_equal(hess[1][1].data, np.zeros((2, 2)))
    np.testing.assert_allclose(hess[0][0].data, np.diag(6 * x.data))
    for call in (
        lambda: F.hessian(func, (x, y), strict=True),
        lambda: F.hvp(func, (x, y), (t64([1.0, 1.0]), t64([1.0, 1.0])), strict=True),
        lambda: F.vhp(func, (x, y), (t64([1.0, 1.0]), t64([1.0, 1.0])), strict=True),
    ):
        with pytest.raises(RuntimeError, match="gradient does not depend on input 1"):
            call()


# ───────────────────────────── errors ─────────────────────────────


def test_wrong_v_shape_names_the_function_and_both_shapes():
    x = t64([1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match=r"vjp: v has shape \(4,\) but the output has shape \(3,\)"):
        F.vjp(lambda t: t * 2.0, x, t64(np.ones(4)))
    with pytest.raises(ShapeError, match=r"jvp: v has shape \(2,\) but the input has shape \(3,\)"):
        F.jvp(lambda t: t * 2.0, x, t64(np.ones(2)))
    with pytest.raises(ShapeError, match=r"hvp: v has shape \(3, 1\) but the input has shape \(3,\)"):
        F.hvp(lambda t: t.sum(), x, t64(np.ones((3, 1))))
    with pytest.raises(ShapeError, match=r"vhp: entry 1 of v has shape \(2,\) but input 1 has shape \(3,\)"):
        F.vhp(lambda a, b: (a * b).sum(), (x, x), (t64(np.ones(3)), t64(np.ones(2))))


def test_wrong_number_of_v_entries():
    x = t64([1.0, 2.0])
    with pytest.raises(ValueError, match=r"jvp: v must hold one tensor per input \(2\), but it holds 1"):
        F.jvp(lambda a, b: a * b, (x, x), (t64([1.0, 1.0]),))
    with pytest.raises(ValueError, match="vjp: v must be a single Tensor"):
        F.vjp(lambda a: a * 2.0, x, (t64([1.0, 1.0]), t64([1.0, 1.0])))


def test_v_can_be_left_out_only_for_one_element_tensors():
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"vjp: v may be left out only .* shape\(s\) \(2,\)"):
        F.vjp(lambda t: t * 2.0, x)
    with pytest.raises(RuntimeError, match=r"jvp: v may be left out only .* \(2,\)"):
        F.jvp(lambda t: t.sum(), x)
    with pytest.raises(RuntimeError, match="hvp: v may be left out only"):
        F.hvp(lambda t: (t * t).sum(), x)


def test_second_order_functions_need_one_output_element():
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"hessian: func must return a Tensor with one element.*\(2,\)"):
        F.hessian(lambda t: t * t, x)
    with pytest.raises(RuntimeError, match=r"hvp: .* shape \(2,\)"):
        F.hvp(lambda t: t * t, x, x)
    with pytest.raises(RuntimeError, match="vhp: func must return a single Tensor with one element, not a tuple"):
        F.vhp(lambda t: (t.sum(), t.sum()), x, x)


def test_inputs_and_outputs_must_be_tensors():
    with pytest.raises(TypeError, match="jacobian: inputs must be a Tensor or a tuple of Tensors.*index 1"):
        F.jacobian(lambda a, b: a, (t64([1.0]), [1.0]))
    with pytest.raises(TypeError, match="vjp: the output of func must be a Tensor.*has type float"):
        F.vjp(lambda t: 3.0, t64([1.0]))
    with pytest.raises(TypeError, match="hessian: input 0 has dtype int64"):
        F.hessian(lambda t: t.sum(), Tensor([1, 2]))
