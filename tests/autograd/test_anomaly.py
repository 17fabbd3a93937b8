"""detect_anomaly names the op, and the line of user code, that first produced NaN or inf."""

import warnings

import numpy as np
import pytest

import autograd as ag
import nn


@pytest.fixture(autouse=True)
def _quiet_numpy():
    # The planted overflows below warn in NumPy; the point here is the AnomalyError.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_forward_overflow_is_named_with_the_users_line():
    x = ag.tensor([1.0, 1000.0], requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as caught:
        (x * 2).exp()  # the line the report must quote
    message = str(caught.value)
    assert "forward of 'exp'" in message and "1 inf of 2 values" in message
    assert "test_anomaly.py" in message and "(x * 2).exp()  # the line the report must quote" in message


def test_backward_rule_that_produces_inf_is_named_with_the_line_that_created_the_op():
    a = ag.tensor([0.0, 4.0], requires_grad=True)
    with ag.detect_anomaly():
        y = a.sqrt().sum()  # sqrt is finite at 0, its gradient is not
        with pytest.raises(ag.AnomalyError) as caught:
            y.backward()
    message = str(caught.value)
    assert "gradient rule of 'sqrt' for input 0" in message
    assert "y = a.sqrt().sum()  # sqrt is finite at 0" in message


def test_non_finite_constants_passed_in_are_not_blamed_on_the_op():
    scores = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    causal = np.tril(np.ones((2, 2), dtype=bool))
    with ag.detect_anomaly():
        masked = ag.where(causal, scores, -np.inf)  # a deliberate -inf mask
        loss = masked.softmax(-1).sum()
        loss.backward()
    assert np.isfinite(scores.grad.data).all()


def test_errors_inside_modules_point_at_the_users_line_not_the_library():
    model = nn.Linear(2, 1)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as caught:
        model(ag.tensor([[1.0, 2.0]])).log() * 0 + (model.weight.sum() / 0.0)  # user line
    assert "test_anomaly.py" in str(caught.value) and "# user line" in str(caught.value)


def test_custom_functions_are_checked_too():
    class BadInverse(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return 1.0 / x.data

        @staticmethod
        def backward(ctx, grad):
            return grad

    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="'BadInverse'"):
        BadInverse.apply(ag.tensor([0.0, 1.0], requires_grad=True))


def test_switch_is_restored_after_the_block_even_on_error_and_works_as_a_decorator():
    assert not ag.is_anomaly_enabled()
    with pytest.raises(ValueError), ag.detect_anomaly():
        assert ag.is_anomaly_enabled()
        raise ValueError("boom")
    assert not ag.is_anomaly_enabled()

    @ag.detect_anomaly()
    def inside():
        return ag.is_anomaly_enabled()

    assert inside() and not ag.is_anomaly_enabled()


def test_without_detect_anomaly_nothing_is_checked():
    x = ag.tensor([1000.0], requires_grad=True)
    y = x.exp()  # overflows quietly, as NumPy does
    assert np.isinf(y.data).all()
