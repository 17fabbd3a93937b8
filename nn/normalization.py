"""Batch normalization: `BatchNorm1d` for ``(N, C)`` and ``(N, C, L)``, `BatchNorm2d` for ``(N, C, H, W)``.

PyTorch's layers, names and conventions (Ioffe & Szegedy, 2015): each channel c is
normalised over every axis but the channel axis 1, then scaled and shifted::

    y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c

- In training, mean and var are the batch's statistics, var the BIASED one (divide by the
  n = N * L (or N * H * W) values of the channel); the output is differentiable through them.
  The running statistics move towards the batch's with factor ``momentum``:
  ``running = (1 - momentum) * running + momentum * batch``, where the batch variance is the
  UNBIASED one (divide by n - 1), as in PyTorch. ``momentum=None`` makes them the cumulative
  average of every batch seen (factor 1 / num_batches_tracked).
- In evaluation mode (``.eval()``) the running statistics are used, so the output of a
  sample does not depend on the rest of its batch. Without ``track_running_stats`` the
  batch's statistics are used in both modes and nothing is kept.
- Buffers ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (a
  0-d int64) are saved by ``state_dict`` under those names; parameters ``weight`` (ones) and
  ``bias`` (zeros) with ``affine``.

The normalisation is written in Tensor operations (a fused ``layer_norm`` over transposed
channels measured only 5-15% faster, not worth the transposes). The running statistics (and
``num_batches_tracked``) are updated in place, outside the graph, by ``autograd.ops.numpy_call``:
a primitive call, so that a recorded step (``autograd.compile_step``) replays the updates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd
from autograd import ShapeError, Tensor

from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "batch_norm"]


def _array(t: Any) -> np.ndarray | None:
    return t.data if isinstance(t, Tensor) else t


def _update_running(running: np.ndarray, batch: np.ndarray, momentum: Any, count: Any, n: Any) -> np.ndarray:
    """``running = (1 - m) running + m batch`` in place, m = ``momentum``, or ``1 / count`` for None (a cumulative
    average); with ``n``, the batch's biased variance of n values made unbiased (times n / (n - 1))."""
    if momentum is None:
        momentum = 1.0 / int(count)
    running *= 1.0 - momentum
    running += (momentum if n is None else momentum * n / (n - 1)) * batch.reshape(-1)
    return running


def _count_batch(count: np.ndarray) -> np.ndarray:
    """``num_batches_tracked += 1``, in place."""
    count += 1
    return count


def batch_norm(
    input: Tensor,
    running_mean: Tensor | np.ndarray | None,
    running_var: Tensor | np.ndarray | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
    num_batches_tracked: Tensor | np.ndarray | None = None,
) -> Tensor:
    """Normalise each channel (axis 1) of ``input``, PyTorch's ``F.batch_norm``.

    With ``training`` the batch's statistics are used (biased variance), and running
    statistics that are given are updated in place with ``momentum`` (unbiased variance);
    otherwise the running statistics are used.

    Args:
        input: ``(N, C, *)``, at least two axes.
        running_mean, running_var: ``(C,)`` Tensors or arrays, or None (training only).
        weight, bias: the optional per-channel scale and shift, ``(C,)``.
        training: use (and record) the batch's statistics.
        momentum: the factor of the running statistics' update; None for ``1 / num_batches_tracked``
            (a cumulative average, as the modules keep with ``momentum=None``).
        eps: added to the variance.
        num_batches_tracked: the 0-d count of batches seen, for ``momentum=None``.

    Returns:
        A Tensor of ``input``'s shape.

    Raises:
        ValueError: in training, when a channel has a single value (N * L == 1).
    """
    x = input
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over axis 1
    mean_array, var_array = _array(running_mean), _array(running_var)
    if training:
        axes = (0, *range(2, x.ndim))
        n = x.size // x.shape[1]
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(x.shape)}")
        mean = x.mean(axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axes, keepdims=True)  # biased: divide by n
        scale = (var + eps) ** -0.5
        count = _array(num_batches_tracked)
        if momentum is None and count is None and (mean_array is not None or var_array is not None):
            raise ValueError("batch_norm: momentum=None (a cumulative average) needs num_batches_tracked")
        if mean_array is not None:
            autograd.ops.numpy_call(_update_running, mean_array, mean, momentum, count, None)
        if var_array is not None:  # unbiased, as PyTorch keeps it
            autograd.ops.numpy_call(_update_running, var_array, var, momentum, count, n)
    else:
        if mean_array is None or var_array is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var (or training=True)")
        centred = x - mean_array.reshape(shape)
        # from a copy of the running variance made by a primitive: a recorded step reads the current one
        scale = ((autograd.ops.array(var_array, None) + eps) ** -0.5).reshape(shape)
    if weight is not None:
        scale = scale * weight.reshape(shape)  # (1, C, 1...): one multiplication of the full tensor below
    y = centred * scale
    return y if bias is None else y + bias.reshape(shape)


class _BatchNorm(Module):
    """The common part of `BatchNorm1d` and `BatchNorm2d` (PyTorch's ``_BatchNorm``)."""

    _ranks: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None (a cumulative average), got {momentum!r}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        self.weight = Parameter(np.ones(self.num_features, dtype=dtype)) if self.affine else None
        self.bias = Parameter(np.zeros(self.num_features, dtype=dtype)) if self.affine and bias else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """`reset_running_stats`, and weight 1, bias 0."""
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def _check_input(self, x: Tensor) -> None:
        name = type(self).__name__
        if x.ndim not in self._ranks:
            expected = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(f"{name}: expected {expected} input (got {x.ndim}D input)")
        if x.shape[1] != self.num_features:
            raise ShapeError(
                f"{name}: expected {self.num_features} channels on axis 1, got {x.shape[1]} (input shape {x.shape})"
            )

    def forward(self, input: Any) -> Tensor:
        """Normalise every channel with the batch's statistics (training) or the running ones (evaluation)."""
        # an ndarray is copied by a primitive, not by Tensor(): a recorded step replays the copy
        x = input if isinstance(input, Tensor) else autograd.ops.array(np.asarray(input), None)
        if x.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: the input must be a floating-point tensor, got dtype {x.dtype}")
        self._check_input(x)
        use_batch = self.training or not self.track_running_stats
        update = self.training and self.track_running_stats
        if update:  # in place, by a primitive (see the module docstring)
            autograd.ops.numpy_call(_count_batch, self.num_batches_tracked)
        return batch_norm(
            x,
            self.running_mean if update or not use_batch else None,
            self.running_var if update or not use_batch else None,
            self.weight,
            self.bias,
            use_batch,
            self.momentum if update else 0.0,  # None: a cumulative average of every batch seen
            self.eps,
            self.num_batches_tracked if update else None,
        )

    def extra_repr(self) -> str:
        """The options, as PyTorch prints them."""
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` inputs over N (and L), per channel C.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance.
        momentum: the factor of the running statistics' update; None for a cumulative average.
        affine: learn ``weight`` (ones) and ``bias`` (zeros), each ``(C,)``.
        track_running_stats: keep ``running_mean``, ``running_var`` and ``num_batches_tracked``
            and use them in evaluation mode (without: the batch's statistics always).
        bias: with ``affine``, learn the bias too (keyword-only, as in PyTorch 2.13).
        dtype: the dtype of the parameters and running statistics.
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` inputs over N, H and W, per channel C.

    The arguments are `BatchNorm1d`'s.
    """

    _ranks = (4,)
