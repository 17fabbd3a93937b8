"""Weight initialisation: uniform, normal, constant, Xavier (Glorot) and Kaiming (He), PyTorch's formulas.

Every function fills a tensor's array in place (``t.data``; a bare ndarray works too),
keeps its dtype, records nothing in the graph and returns the tensor. Random ones take an
optional ``rng`` (a ``numpy.random.Generator``) and otherwise use nn's shared generator
(`nn.random.default_rng`), so ``nn.manual_seed`` makes them reproducible.

Fans follow PyTorch: for a weight of shape ``(out, in, *kernel)``, fan_in = in * prod(kernel)
and fan_out = out * prod(kernel); a `Linear` weight ``(out_features, in_features)`` has
fan_in = in_features.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

from .random import default_rng

T = TypeVar("T")

_LINEAR_GAINS = (
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def _array(t: Any) -> np.ndarray:
    """The array to fill: ``t`` itself for an ndarray, else ``t.data``."""
    array = t if isinstance(t, np.ndarray) else t.data
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        raise TypeError(f"init: needs a floating-point tensor or ndarray, got {type(t).__name__}")
    return array


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's values).

    Args:
        nonlinearity: ``linear``/``identity``/``conv*``/``sigmoid`` (1), ``tanh`` (5/3),
            ``relu`` (sqrt 2), ``leaky_relu`` (sqrt(2 / (1 + slope**2))), ``selu`` (3/4).
        param: the negative slope for ``leaky_relu`` (default 0.01).

    Returns:
        The gain.
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(t: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape ``(out, in, *kernel)``.

    Returns:
        ``in * prod(kernel)`` and ``out * prod(kernel)``.
    """
    shape = np.shape(_array(t))
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need a tensor of at least 2 dimensions, got shape {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(t: Any, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(t: T, a: float = 0.0, b: float = 1.0, rng: np.random.Generator | None = None) -> T:
    """Fill with samples of U(a, b).

    Args:
        t: a floating-point Tensor (or ndarray), filled in place.
        a, b: the bounds.
        rng: the generator (default: nn's shared one).

    Returns:
        ``t``.
    """
    array = _array(t)
    array[...] = default_rng(rng).uniform(a, b, size=array.shape)
    return t


def normal_(t: T, mean: float = 0.0, std: float = 1.0, rng: np.random.Generator | None = None) -> T:
    """Fill with samples of N(mean, std**2).

    Args:
        t: a floating-point Tensor (or ndarray), filled in place.
        mean, std: the distribution's mean and standard deviation.
        rng: the generator (default: nn's shared one).

    Returns:
        ``t``.
    """
    array = _array(t)
    array[...] = default_rng(rng).normal(mean, std, size=array.shape)
    return t


def constant_(t: T, value: float) -> T:
    """Fill with ``value``.

    Returns:
        ``t``.
    """
    _array(t)[...] = value
    return t


def zeros_(t: T) -> T:
    """Fill with zeros.

    Returns:
        ``t``.
    """
    return constant_(t, 0.0)


def ones_(t: T) -> T:
    """Fill with ones.

    Returns:
        ``t``.
    """
    return constant_(t, 1.0)


def xavier_uniform_(t: T, gain: float = 1.0, rng: np.random.Generator | None = None) -> T:
    """Glorot & Bengio (2010): U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Args:
        t: a floating-point Tensor of at least 2 dimensions, filled in place.
        gain: scale factor (see `calculate_gain`).
        rng: the generator (default: nn's shared one).

    Returns:
        ``t``.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    if fan_in + fan_out == 0:  # an empty tensor: nothing to fill
        return t
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, rng)


def xavier_normal_(t: T, gain: float = 1.0, rng: np.random.Generator | None = None) -> T:
    """Glorot & Bengio (2010): N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Args:
        t: a floating-point Tensor of at least 2 dimensions, filled in place.
        gain: scale factor (see `calculate_gain`).
        rng: the generator (default: nn's shared one).

    Returns:
        ``t``.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    if fan_in + fan_out == 0:
        return t
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def kaiming_uniform_(
    t: T,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: np.random.Generator | None = None,
) -> T:
    """He et al. (2015): U(-bound, bound) with bound = gain * sqrt(3 / fan).

    With ``a=sqrt(5)`` (what `Linear` uses, like PyTorch) the bound is 1 / sqrt(fan_in).

    Args:
        t: a floating-point Tensor of at least 2 dimensions, filled in place.
        a: the negative slope of the leaky ReLU that follows (used by ``leaky_relu`` only).
        mode: ``"fan_in"`` keeps the forward variance, ``"fan_out"`` the backward one.
        nonlinearity: passed to `calculate_gain`.
        rng: the generator (default: nn's shared one).

    Returns:
        ``t``.
    """
    fan = _fan(t, mode)
    if fan == 0:  # an empty tensor: nothing to fill
        return t
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(t, -bound, bound, rng)


def kaiming_normal_(
    t: T,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: np.random.Generator | None = None,
) -> T:
    """He et al. (2015): N(0, std**2) with std = gain / sqrt(fan).

    Args:
        t: a floating-point Tensor of at least 2 dimensions, filled in place.
        a: the negative slope of the leaky ReLU that follows (used by ``leaky_relu`` only).
        mode: ``"fan_in"`` or ``"fan_out"``.
        nonlinearity: passed to `calculate_gain`.
        rng: the generator (default: nn's shared one).

    Returns:
        ``t``.
    """
    fan = _fan(t, mode)
    if fan == 0:  # an empty tensor: nothing to fill
        return t
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(t, 0.0, std, rng)
