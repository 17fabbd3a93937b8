"""gradcheck and gradgradcheck: they pass on correct gradients and catch planted wrong rules."""

import numpy as np
import pytest

import autograd as ag
from autograd import ops
from autograd.gradcheck import locate_wrong_rule


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [ag.Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def _composite(x, w):
    return ((x * w).tanh() @ w).sigmoid().log_softmax(0)


def test_passes_on_a_correct_composite_at_first_and_second_order():
    x, w = _inputs((3, 4), (4,))
    assert ag.gradcheck(_composite, (x, w))
    assert ag.gradgradcheck(_composite, (x, w))


def test_planted_wrong_rule_is_caught_and_named(monkeypatch):
    monkeypatch.setattr(ops.mul, "vjp_b", lambda g, out, a, b: g * a * 1.001)
    x, w = _inputs((3, 4), (4,))
    with pytest.raises(ag.GradcheckError) as caught:
        ag.gradcheck(_composite, (x, w))
    message = str(caught.value)
    assert "input 1 (shape (4,))" in message
    assert "analytic" in message and "numeric" in message and "tolerance" in message
    assert "first wrong rule: op 'mul'" in message
    assert "rule for input 1" in message


def test_wrong_rule_that_only_matters_at_second_order_is_caught_by_gradgradcheck(monkeypatch):
    # tanh_backward's rule for the saved output enters only gradients of gradients.
    monkeypatch.setattr(ops.tanh_backward, "vjp_b", lambda g2, out, g, y: g2 * g * y * -2.002)
    (x,) = _inputs((5,))
    assert ag.gradcheck(lambda x: x.tanh(), (x,))
    with pytest.raises(ag.GradcheckError, match="tanh_backward"):
        ag.gradgradcheck(lambda x: x.tanh(), (x,))


def test_large_inputs_are_checked_along_random_directions(monkeypatch):
    monkeypatch.setattr(ops.exp, "vjp", lambda g, out, x: g * out * 1.01)
    (x,) = _inputs((40, 10))
    with pytest.raises(ag.GradcheckError, match="random direction"):
        ag.gradcheck(lambda x: x.exp(), (x,), full_limit=100, locate=False)


def test_raise_exception_false_returns_false(monkeypatch):
    monkeypatch.setattr(ops.sin, "vjp", lambda g, out, x: g * x.cos() * 0.9)
    (x,) = _inputs((3,))
    assert ag.gradcheck(lambda x: x.sin(), (x,), raise_exception=False) is False


def test_float32_inputs_warn_and_are_checked_in_float64():
    x = ag.Tensor(np.linspace(-1, 1, 5, dtype=np.float32), requires_grad=True)
    seen = []
    with pytest.warns(UserWarning, match="float64"):
        ag.gradcheck(lambda t: seen.append(t.dtype) or t.tanh(), (x,))
    assert set(seen) == {np.dtype(np.float64)}


def test_constants_and_non_tensor_arguments_are_passed_through():
    x, y = _inputs((2, 3), (3,))
    constant = ag.Tensor(np.arange(6.0).reshape(2, 3))
    assert ag.gradcheck(lambda x, c, k, y: (x * c + y * k).sum(1), (x, constant, 3.0, y))


def test_several_outputs_are_all_checked(monkeypatch):
    x, y = _inputs((3,), (3,))
    assert ag.gradcheck(lambda x, y: (x * y, x.exp()), (x, y))
    monkeypatch.setattr(ops.exp, "vjp", lambda g, out, x: g * out * 0.98)
    with pytest.raises(ag.GradcheckError, match="op 'exp'"):
        ag.gradcheck(lambda x, y: (x * y, x.exp()), (x, y))


class _WrongCube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x  # wrong: should be 3 * x**2


def test_a_wrong_custom_function_is_named():
    (x,) = _inputs((4,))
    with pytest.raises(ag.GradcheckError, match="op '_WrongCube'"):
        ag.gradcheck(lambda x: _WrongCube.apply(x.sin()), (x,))


def test_work_done_outside_the_graph_is_reported_as_such():
    (x,) = _inputs((4,))

    def leaky(x):
        return x * ag.Tensor(x.data)  # x.data leaves the graph: d/dx misses a term

    with pytest.raises(ag.GradcheckError, match="every recorded op's rule agrees"):
        ag.gradcheck(leaky, (x,))


def test_locate_wrong_rule_returns_none_when_every_rule_is_right():
    x, w = _inputs((3, 4), (4,))
    assert locate_wrong_rule(_composite, (x, w)) is None


def test_no_input_requiring_grad_is_an_error():
    with pytest.raises(ValueError, match="nothing to check"):
        ag.gradcheck(lambda x: x * 2, (ag.Tensor([1.0, 2.0]),))
