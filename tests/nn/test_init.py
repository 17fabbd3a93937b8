"""Tests for nn.init: distributions against their closed forms, fans, gains, seeding, in-place and dtype rules.

Sample moments are compared with tolerances from sampling theory: five standard errors,
with SE(mean) = std / sqrt(n) and SE(std) = std * sqrt((kurtosis - 1) / (4 n)).
"""

import math

import numpy as np
import pytest

import autograd as ag
from nn import init
from nn.random import manual_seed

UNIFORM_KURTOSIS = 9 / 5
NORMAL_KURTOSIS = 3.0


def assert_moments(sample, mean, std, kurtosis):
    sample = np.asarray(sample, dtype=np.float64).reshape(-1)
    n = sample.size
    assert abs(sample.mean() - mean) <= 5 * std / math.sqrt(n), (sample.mean(), mean)
    assert abs(sample.std() - std) <= 5 * std * math.sqrt((kurtosis - 1) / (4 * n)), (sample.std(), std)


def rng(seed=0):
    return np.random.default_rng(seed)


def weight(shape, dtype=np.float32):
    return ag.Tensor(np.zeros(shape, dtype=dtype), requires_grad=True)


# ───────────── gains and fans ─────────────


@pytest.mark.parametrize(
    ("name", "param", "expected"),
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / (1 + 0.2**2))),
        ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected)


def test_calculate_gain_rejects_unknown_names_and_bad_slopes():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize(
    ("shape", "fan_in", "fan_out"),
    [((5, 3), 3, 5), ((7, 4, 3), 4 * 3, 7 * 3), ((8, 2, 3, 5), 2 * 15, 8 * 15), ((1, 1), 1, 1)],
)
def test_fans_follow_pytorch(shape, fan_in, fan_out):
    assert init._calculate_fan_in_and_fan_out(weight(shape)) == (fan_in, fan_out)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init._calculate_fan_in_and_fan_out(weight((4,)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(weight((4,)))


# ───────────── distributions ─────────────


def test_uniform_bounds_and_moments():
    t = init.uniform_(weight((400, 250)), -0.5, 1.5, rng=rng())
    assert t.data.min() >= -0.5 and t.data.max() <= 1.5
    assert_moments(t.data, 0.5, 2 / math.sqrt(12), UNIFORM_KURTOSIS)


def test_normal_moments():
    t = init.normal_(weight((400, 250)), 2.0, 0.3, rng=rng())
    assert_moments(t.data, 2.0, 0.3, NORMAL_KURTOSIS)


def test_constant_zeros_ones():
    t = weight((3, 2))
    np.testing.assert_array_equal(init.constant_(t, 0.25).data, 0.25)
    np.testing.assert_array_equal(init.ones_(t).data, 1.0)
    np.testing.assert_array_equal(init.zeros_(t).data, 0.0)


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_uniform(gain):
    fan_out, fan_in = 300, 200
    t = init.xavier_uniform_(weight((fan_out, fan_in)), gain=gain, rng=rng())
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(t.data).max() <= bound
    assert np.abs(t.data).max() > 0.99 * bound
    assert_moments(t.data, 0.0, bound / math.sqrt(3), UNIFORM_KURTOSIS)


def test_xavier_normal():
    t = init.xavier_normal_(weight((300, 200)), gain=2.0, rng=rng())
    assert_moments(t.data, 0.0, 2.0 * math.sqrt(2 / 500), NORMAL_KURTOSIS)


def test_kaiming_uniform_with_sqrt5_gives_pytorch_linear_bound():
    t = init.kaiming_uniform_(weight((300, 250)), a=math.sqrt(5), rng=rng())
    bound = 1 / math.sqrt(250)
    assert np.abs(t.data).max() <= bound
    assert_moments(t.data, 0.0, bound / math.sqrt(3), UNIFORM_KURTOSIS)


@pytest.mark.parametrize(("mode", "fan"), [("fan_in", 4 * 9), ("fan_out", 500 * 9)])
def test_kaiming_uniform_relu_modes(mode, fan):
    t = init.kaiming_uniform_(weight((500, 4, 3, 3)), mode=mode, nonlinearity="relu", rng=rng())
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert np.abs(t.data).max() <= bound
    assert_moments(t.data, 0.0, math.sqrt(2 / fan), UNIFORM_KURTOSIS)


def test_kaiming_normal():
    t = init.kaiming_normal_(weight((400, 250)), nonlinearity="relu", rng=rng())
    assert_moments(t.data, 0.0, math.sqrt(2 / 250), NORMAL_KURTOSIS)
    t = init.kaiming_normal_(weight((400, 250)), a=0.2, mode="fan_out", rng=rng(1))
    assert_moments(t.data, 0.0, math.sqrt(2 / (1 + 0.04)) / math.sqrt(400), NORMAL_KURTOSIS)


def test_kaiming_rejects_bad_mode():
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_uniform_(weight((2, 2)), mode="fan_avg")


# ───────────── in place, dtype, seeding ─────────────


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "fill",
    [
        lambda t: init.uniform_(t, -1, 1),
        lambda t: init.normal_(t),
        lambda t: init.xavier_uniform_(t),
        lambda t: init.xavier_normal_(t),
        lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
        lambda t: init.kaiming_normal_(t),
        lambda t: init.constant_(t, 3.0),
    ],
)
def test_fills_in_place_keeping_dtype(fill, dtype):
    t = weight((4, 3), dtype=dtype)
    array = t.data
    assert fill(t) is t
    assert t.data is array and t.dtype == dtype
    assert t.requires_grad and t.is_leaf and t.grad is None
    assert np.any(t.data != 0)


def test_works_on_ndarrays():
    array = np.zeros((3, 4))
    assert init.xavier_uniform_(array, rng=rng()) is array
    assert np.any(array != 0)


def test_rejects_integer_tensors():
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(ag.Tensor(np.zeros(3, dtype=np.int64)))


def test_seeded_generators_reproduce():
    a = init.kaiming_uniform_(weight((5, 4)), rng=rng(7)).data
    b = init.kaiming_uniform_(weight((5, 4)), rng=rng(7)).data
    c = init.kaiming_uniform_(weight((5, 4)), rng=rng(8)).data
    np.testing.assert_array_equal(a, b)
    assert np.any(a != c)


def test_shared_generator_follows_manual_seed():
    manual_seed(123)
    a = init.normal_(weight((6,))).data.copy()
    b = init.normal_(weight((6,))).data.copy()
    manual_seed(123)
    np.testing.assert_array_equal(init.normal_(weight((6,))).data, a)
    np.testing.assert_array_equal(init.normal_(weight((6,))).data, b)
    assert np.any(a != b)


def test_empty_tensors_are_left_alone():
    t = weight((0, 3))
    assert init.kaiming_uniform_(t) is t
    assert init.xavier_normal_(t) is t
