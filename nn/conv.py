"""Convolution and pooling layers: `Conv2d`, `Conv1d`, `MaxPool2d`, `AvgPool2d` and `Flatten`.

PyTorch's layers, names and defaults: ``Conv2d.weight`` is ``(out_channels, in_channels / groups,
kH, kW)`` and ``bias`` ``(out_channels,)``, both initialised as PyTorch does (``kaiming_uniform_``
with ``a=sqrt(5)``, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * kH * kW;
the bias from the same distribution), drawn from nn's shared generator unless an ``rng`` is
given. So a PyTorch ``state_dict`` loads by name. The forwards are `nn.functional`'s.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter


def _tuple(value: Any, n: int, name: str, layer: str) -> tuple[int, ...]:
    """An int repeated ``n`` times, or a sequence of ``n`` ints, as a tuple (PyTorch keeps them so)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    values = tuple(int(v) for v in value)
    if len(values) != n:
        raise ValueError(f"{layer}: {name} must be an int or {n} ints, got {value!r}")
    return values


class _ConvNd(Module):
    """What Conv1d and Conv2d share: PyTorch's signature, the checks, the parameters and their initialisation."""

    _dims = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: Any = np.float32,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        layer, n = type(self).__name__, self._dims
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{layer}: groups={groups} must be positive and divide in_channels ({in_channels}) "
                f"and out_channels ({out_channels})"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(f"{layer}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", layer)
        self.stride = _tuple(stride, n, "stride", layer)
        self.dilation = _tuple(dilation, n, "dilation", layer)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{layer}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{layer}: padding='same' needs stride 1, got stride {self.stride}")
            self.padding = padding
        else:
            self.padding = _tuple(padding, n, "padding", layer)
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        if bias:
            fan_in = math.prod(shape[1:])
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
            init.uniform_(self.bias, -bound, bound, rng)
        else:
            self.bias = None

    def extra_repr(self) -> str:
        """PyTorch's summary: channels, kernel, stride, and what differs from the defaults."""
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            text += f", padding={self.padding}"  # a string unquoted, as PyTorch prints it
        if self.dilation != (1,) * self._dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) images (or an unbatched (C_in, H, W)), as PyTorch's.

    Args:
        in_channels, out_channels: the channels of the input and of the output.
        kernel_size: an int or (kH, kW).
        stride, padding, dilation: ints or pairs; padding may be ``"same"`` (stride 1) or ``"valid"``.
        groups: independent convolutions over ``groups`` slices of the channels.
        bias: learn an additive bias per output channel.
        padding_mode: only ``"zeros"``.
        dtype: the parameters' dtype.
        rng: the generator for initialisation (default: nn's shared one).

    Attributes:
        weight: (out_channels, in_channels / groups, kH, kW).
        bias: (out_channels,), or None.
    """

    _dims = 2

    def forward(self, x: Tensor) -> Tensor:
        """The convolution of ``x`` (see `nn.functional.conv2d`)."""
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) sequences (or an unbatched (C_in, L)), as PyTorch's.

    Args:
        in_channels, out_channels: the channels of the input and of the output.
        kernel_size: an int (or a 1-tuple).
        stride, padding, dilation: ints; padding may be ``"same"`` (stride 1) or ``"valid"``.
        groups, bias, padding_mode, dtype, rng: as for `Conv2d`.

    Attributes:
        weight: (out_channels, in_channels / groups, k).
        bias: (out_channels,), or None.
    """

    _dims = 1

    def forward(self, x: Tensor) -> Tensor:
        """The convolution of ``x`` (see `nn.functional.conv1d`)."""
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)


class MaxPool2d(Module):
    """The maximum over each window of (N, C, H, W), as PyTorch's (see `nn.functional.max_pool2d`).

    A window's gradient goes to its first maximum in row-major order.

    Args:
        kernel_size: an int or (kH, kW).
        stride: an int or a pair; None means ``kernel_size``.
        padding: an int or a pair (-inf padding), at most half the kernel.
        dilation: spacing between a window's elements.
        return_indices: also return the flat ``h * W + w`` index of each maximum.
        ceil_mode: round the output size up.
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """Max-pool ``x``."""
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        """The pooling geometry, for repr."""
        stride = self.kernel_size if self.stride is None else self.stride
        return (
            f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """The mean over each window of (N, C, H, W), as PyTorch's (see `nn.functional.avg_pool2d`).

    Args:
        kernel_size: an int or (kH, kW).
        stride: an int or a pair; None means ``kernel_size``.
        padding: an int or a pair (zero padding), at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: divide by the whole window, padding included (the default).
        divisor_override: divide every window by this number instead.
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        """Average-pool ``x``."""
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        """The pooling geometry, for repr."""
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class Flatten(Module):
    """Merge the axes ``start_dim`` to ``end_dim`` into one; the default keeps the batch axis (as PyTorch's)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        """``x`` with the axes merged (see `nn.functional.flatten`)."""
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        """The axes, for repr."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
