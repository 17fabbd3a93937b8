"""In-place changes through the Tensor API never give a silently wrong gradient."""

import numpy as np
import pytest

import autograd as ag


def _setup():
    x = ag.tensor([1.0, 2.0, 3.0])
    w = ag.tensor([0.5, -1.0, 2.0], requires_grad=True, name="w")
    return x, w


@pytest.mark.parametrize(
    "change, op",
    [
        (lambda x: x.add_(1.0), "add_"),
        (lambda x: x.sub_(ag.tensor([1.0, 1.0, 1.0]), alpha=2), "sub_"),
        (lambda x: x.mul_(3.0), "mul_"),
        (lambda x: x.div_(2.0), "div_"),
        (lambda x: x.clip_(0.0, 1.5), "clip_"),
        (lambda x: x.zero_(), "zero_"),
        (lambda x: x.fill_(7.0), "fill_"),
        (lambda x: x.copy_(np.array([4.0, 5.0, 6.0])), "copy_"),
        (lambda x: x.__setitem__(1, 9.0), "setitem"),
        (lambda x: x[0:2].add_(1.0), "add_"),  # through a view of the saved array
    ],
)
def test_changing_a_saved_tensor_before_backward_is_an_error_naming_op_and_tensor(change, op):
    x, w = _setup()
    loss = (w * x).sum()  # mul saves x for w's gradient
    change(x)
    with pytest.raises(RuntimeError, match=rf"input 1 \(shape \(3,\)\) of 'mul' was changed in place by {op}"):
        loss.backward()


def test_changing_a_saved_output_is_caught_too():
    w = ag.tensor([0.5, 1.0], requires_grad=True)
    y = w.exp()  # exp saves its output
    with ag.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="output of 'exp' was changed in place by mul_"):
        y.sum().backward()


def test_changes_after_backward_or_to_unsaved_tensors_are_fine():
    x, w = _setup()
    unrelated = ag.tensor([1.0, 1.0])
    loss = (w * x).sum()
    unrelated.mul_(5.0)
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0, 3.0])
    x.add_(1.0)  # after backward: nothing saved it any more
    np.testing.assert_array_equal(x.data, [2.0, 3.0, 4.0])


def test_in_place_values_follow_numpy():
    t = ag.tensor([1.0, 2.0, 3.0, 4.0])
    t.add_(1.0).mul_(2.0).sub_(ag.tensor(1.0), alpha=3).div_(2.0)
    np.testing.assert_allclose(t.data, (((np.array([1.0, 2.0, 3.0, 4.0]) + 1) * 2) - 3) / 2)
    t[np.array([0, 3])] = 0.0
    t[1:3] = ag.tensor([10.0, 20.0])
    np.testing.assert_array_equal(t.data, [0.0, 10.0, 20.0, 0.0])
    t.clip_(None, 15.0)
    assert t.data.max() == 15.0 and t.dtype == np.float32


def test_tensors_that_require_grad_change_only_under_no_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: this tensor .* requires grad"):
        w.add_(1.0)
    with ag.no_grad():
        w.sub_(ag.tensor([0.5, 0.5]))  # a hand-written SGD step
    np.testing.assert_array_equal(w.data, [0.5, 1.5])
    assert w.requires_grad and w.is_leaf


def test_gradient_arrays_are_read_only():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    with pytest.raises(ValueError, match="read-only"):
        w.grad.zero_()
    with pytest.raises(ValueError, match="read-only"):
        w.grad.data[0] = 1.0  # raw NumPy writes are refused too


def test_bad_in_place_shapes_and_indices_are_clear_errors():
    t = ag.tensor([1.0, 2.0])
    with pytest.raises(ag.ShapeError, match=r"add_: cannot change a tensor of shape \(2,\)"):
        t.add_(ag.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(IndexError, match=r"setitem: index 5 does not fit shape \(2,\)"):
        t[5] = 1.0
