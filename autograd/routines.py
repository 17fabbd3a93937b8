"""Module-level functions with NumPy's names: creation, math and joining of tensors.

``autograd.exp(x)``, ``autograd.concatenate([a, b])``, ``autograd.where(mask, a, b)`` and
friends. Each is a short call into the primitive table or a Tensor method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from .primitive import ShapeError
from .tensor import Tensor, _constant, _make, _to_array


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> Tensor:
    """Make a Tensor (same as ``Tensor(...)``): Python floats become float32, NumPy data keeps its dtype."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def _full(shape: Any, value: float, dtype: Any, requires_grad: bool) -> Tensor:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return Tensor(np.full(shape, value, dtype=np.float32 if dtype is None else dtype), requires_grad=requires_grad)


def zeros(shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise)."""
    return _full(shape, 0, dtype, requires_grad)


def ones(shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (float32 unless ``dtype`` says otherwise)."""
    return _full(shape, 1, dtype, requires_grad)


def full(shape: int | Sequence[int], value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``value`` (float32 unless ``dtype`` says otherwise)."""
    return _full(shape, value, dtype, requires_grad)


def zeros_like(x: Tensor, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape and dtype of ``x``."""
    return Tensor(np.zeros_like(_as_tensor(x).data), requires_grad=requires_grad)


def ones_like(x: Tensor, requires_grad: bool = False) -> Tensor:
    """Ones with the shape and dtype of ``x``."""
    return Tensor(np.ones_like(_as_tensor(x).data), requires_grad=requires_grad)


def arange(*args: float, dtype: Any = None) -> Tensor:
    """Evenly spaced values, as ``numpy.arange``."""
    return Tensor(np.arange(*args, dtype=dtype))


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _make(_to_array(x), None)


def exp(x: Any) -> Tensor:
    """e ** x, elementwise."""
    return _as_tensor(x).exp()


def log(x: Any) -> Tensor:
    """Natural logarithm, elementwise."""
    return _as_tensor(x).log()


def sqrt(x: Any) -> Tensor:
    """Square root, elementwise."""
    return _as_tensor(x).sqrt()


def abs(x: Any) -> Tensor:
    """Absolute value, elementwise."""
    return _as_tensor(x).abs()


def sin(x: Any) -> Tensor:
    """Sine, elementwise."""
    return _as_tensor(x).sin()


def cos(x: Any) -> Tensor:
    """Cosine, elementwise."""
    return _as_tensor(x).cos()


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    return _as_tensor(x).tanh()


def sigmoid(x: Any) -> Tensor:
    """Logistic sigmoid, elementwise."""
    return _as_tensor(x).sigmoid()


def relu(x: Any) -> Tensor:
    """max(x, 0), elementwise."""
    return _as_tensor(x).relu()


def clip(x: Any, lo: float | None, hi: float | None) -> Tensor:
    """Values limited to [lo, hi]."""
    return _as_tensor(x).clip(lo, hi)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis``."""
    return _as_tensor(x).sum(axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``."""
    return _as_tensor(x).mean(axis, keepdims)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``."""
    return _as_tensor(x).softmax(axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``."""
    return _as_tensor(x).log_softmax(axis)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis``."""
    return _as_tensor(x).logsumexp(axis, keepdims)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules (batched, broadcast batch dimensions, 1-D operands)."""
    return _as_tensor(a) @ b


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; on ties each input receives half the gradient."""
    a, b = _pair(a, b)
    return ops.maximum(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; on ties each input receives half the gradient."""
    a, b = _pair(a, b)
    return ops.minimum(a, b)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (all three broadcast together).

    Args:
        condition: a boolean Tensor or array (not differentiated).
        a, b: Tensors, arrays or numbers.
    """
    mask = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if mask.dtype != bool:
        raise TypeError(f"where: condition must be boolean, got {mask.dtype}")
    a, b = _pair(a, b)
    return ops.where(a, b, mask)


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; numbers take the dtype of the tensor beside them."""
    if isinstance(a, Tensor):
        return a, b if isinstance(b, Tensor) else _constant(b, a)
    if isinstance(b, Tensor):
        return _constant(a, b), b
    return _as_tensor(a), _as_tensor(b)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    xs = tuple(_as_tensor(t) for t in tensors)
    if not xs:
        raise ValueError("concatenate: needs at least one tensor")
    return ops.concatenate(xs, axis)


def cat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Alias of `concatenate` (PyTorch's name)."""
    return concatenate(tensors, axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    xs = [_as_tensor(t) for t in tensors]
    if not xs:
        raise ValueError("stack: needs at least one tensor")
    shapes = {x.shape for x in xs}
    if len(shapes) > 1:
        raise ShapeError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    return concatenate([x.unsqueeze(axis) for x in xs], axis)


def split(x: Tensor, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split along ``axis`` as ``numpy.split``: into N equal parts, or at the given indices."""
    x = _as_tensor(x)
    size = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0 or size % indices_or_sections:
            raise ShapeError(f"split: axis {axis} of size {size} does not divide into {indices_or_sections} parts")
        step = size // indices_or_sections
        bounds = list(range(0, size + 1, step))
    else:
        bounds = [0, *indices_or_sections, size]
    lead = (slice(None),) * (axis % x.ndim)
    return [x[lead + (slice(start, stop),)] for start, stop in zip(bounds[:-1], bounds[1:])]
