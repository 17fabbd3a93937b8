"""Module-level functions with NumPy's names: creation, math, reductions, shape and joining of tensors.

``autograd.exp(x)``, ``autograd.max(x, axis=1)``, ``autograd.moveaxis(x, 0, -1)``,
``autograd.concatenate([a, b])``, ``autograd.where(mask, a, b)`` and friends. Each is a
short call into the primitive table or a Tensor method; arguments follow NumPy's names and
order. ``sum``, ``max``, ``min``, ``abs`` and ``pow`` shadow the builtins in this module:
code here that needs a builtin writes ``builtins.max``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import ops
from . import random as _random
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


def full_like(x: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``x``'s shape filled with ``fill_value``, as ``numpy.full_like`` / ``torch.full_like``.

    Args:
        x: a Tensor or array-like whose shape (and, unless ``dtype`` is given, dtype) the result takes.
        fill_value: the value of every element.
        dtype: the result's dtype; None keeps ``x``'s.
        requires_grad: make the result a leaf that requires grad.

    Returns:
        A new leaf Tensor.
    """
    like = _as_tensor(x).data
    return Tensor(np.full_like(like, fill_value, dtype=dtype), requires_grad=requires_grad)


def arange(*args: float, dtype: Any = None) -> Tensor:
    """Evenly spaced values, as ``numpy.arange``."""
    return Tensor(np.arange(*args, dtype=dtype))


def _as_tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if x.__class__ is np.ndarray and x.dtype != object:  # a copy by a primitive, which a recorded step replays
        return ops.array(x, None)
    return _make(_to_array(x), None)


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


def sign(x: Any, /) -> Tensor:
    """-1, 0 or 1 elementwise, as ``numpy.sign`` (not differentiable).

    Args:
        x: a Tensor or array-like.

    Returns:
        A Tensor of ``x``'s shape and dtype that never requires grad.
    """
    return _as_tensor(x).sign()


def power(x1: Any, x2: Any, /) -> Tensor:
    """``x1 ** x2`` elementwise, broadcast as ``numpy.power``.

    Args:
        x1: the base: a Tensor, array-like or number.
        x2: the exponent: a Tensor, array-like or number. A Python number keeps the cheap
            ``x ** c`` primitive; a Tensor exponent is differentiated too (which needs ``x1 > 0``).

    Returns:
        A Tensor of the broadcast shape.
    """
    if isinstance(x1, Tensor):
        return x1.pow(x2)
    if isinstance(x2, Tensor):
        return _constant(x1, x2).pow(x2)
    return _as_tensor(x1).pow(x2)


def pow(x1: Any, x2: Any, /) -> Tensor:
    """Alias of `power` (NumPy 2's array-API name).

    Args:
        x1: the base.
        x2: the exponent.

    Returns:
        A Tensor of the broadcast shape.
    """
    return power(x1, x2)


def astype(x: Any, dtype: Any, /) -> Tensor:
    """``x`` converted to ``dtype``, as ``numpy.astype`` (differentiable between float dtypes).

    Unlike NumPy's ``copy=True`` default, a Tensor that already has ``dtype`` is returned as it is.

    Args:
        x: a Tensor or array-like.
        dtype: the target dtype; an integer or boolean dtype gives a Tensor that never requires grad.

    Returns:
        A Tensor of ``dtype``.
    """
    return _as_tensor(x).astype(dtype)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis``."""
    return _as_tensor(x).sum(axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``."""
    return _as_tensor(x).mean(axis, keepdims)


def max(a: Any, axis: int | Sequence[int] | None = None, *, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``, as ``numpy.max``; tied maxima share the gradient evenly.

    Args:
        a: a Tensor or array-like.
        axis: None (all axes), an int or a tuple of ints; negatives count from the end.
        keepdims: keep the reduced axes as size-1 dimensions.

    Returns:
        A Tensor of the reduced shape.

    Raises:
        ShapeError: an axis is out of range.
    """
    return _as_tensor(a).max(axis, keepdims)


amax = max  # NumPy's other name for the same function


def min(a: Any, axis: int | Sequence[int] | None = None, *, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``, as ``numpy.min``; tied minima share the gradient evenly.

    Args:
        a: a Tensor or array-like.
        axis: None (all axes), an int or a tuple of ints; negatives count from the end.
        keepdims: keep the reduced axes as size-1 dimensions.

    Returns:
        A Tensor of the reduced shape.

    Raises:
        ShapeError: an axis is out of range.
    """
    return _as_tensor(a).min(axis, keepdims)


amin = min  # NumPy's other name for the same function


def var(a: Any, axis: int | Sequence[int] | None = None, *, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance over ``axis``, as ``numpy.var``: the mean squared deviation, divided by ``n - ddof``.

    Args:
        a: a Tensor or array-like.
        axis: None (all axes), an int or a tuple of ints; negatives count from the end.
        ddof: delta degrees of freedom (0: the population variance, 1: the sample variance).
        keepdims: keep the reduced axes as size-1 dimensions.

    Returns:
        A Tensor of the reduced shape.

    Raises:
        ShapeError: an axis is out of range.
        ValueError: ``ddof`` is at least the number of values reduced (NumPy warns and gives inf or nan).
    """
    t = _as_tensor(a)
    return t.var(axis, keepdims, ddof)


def std(a: Any, axis: int | Sequence[int] | None = None, *, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation over ``axis``, as ``numpy.std`` (the square root of `var`).

    Args:
        a: a Tensor or array-like.
        axis: None (all axes), an int or a tuple of ints; negatives count from the end.
        ddof: delta degrees of freedom (0: divide by n, 1: by n - 1).
        keepdims: keep the reduced axes as size-1 dimensions.

    Returns:
        A Tensor of the reduced shape.

    Raises:
        ShapeError: an axis is out of range.
        ValueError: ``ddof`` is at least the number of values reduced.
    """
    t = _as_tensor(a)
    return t.std(axis, keepdims, ddof)


class TopK(NamedTuple):
    """What `topk` returns: the k values (differentiable) and their int64 indices along the axis."""

    values: Tensor
    indices: Tensor


def topk(input: Any, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> TopK:
    """The ``k`` largest (or smallest) entries along ``axis``, as ``torch.topk`` (with ``axis`` for ``dim``).

    The values are picked by indexing, so gradients flow back to the chosen entries only.
    Tied entries are taken in index order (PyTorch leaves their order unspecified).

    Args:
        input: a Tensor or array-like with at least one dimension.
        k: how many entries to take, ``0 <= k <= input.shape[axis]``.
        axis: the axis to search along.
        largest: the largest entries (False: the smallest).
        sorted: values in order, largest (or smallest) first; they always are here.

    Returns:
        ``TopK(values, indices)``, each with ``input``'s shape but ``k`` along ``axis``.

    Raises:
        ShapeError: a bad axis, or ``k`` outside ``0..input.shape[axis]``.
    """
    t = _as_tensor(input)
    if t.ndim == 0:
        raise ShapeError("topk: needs at least one dimension, got a 0-d tensor")
    if not -t.ndim <= axis < t.ndim:
        raise ShapeError(f"topk: axis {axis} is out of range for a tensor with {t.ndim} dimensions")
    axis %= t.ndim
    size = t.shape[axis]
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
        raise ShapeError(f"topk: k={k!r} must be an integer from 0 to {size} (the size of axis {axis} of {t.shape})")
    indices = ops.topk_indices(t, k, axis, largest)  # a primitive: the order depends on the values
    grid = list(np.ogrid[tuple(slice(n) for n in indices.shape)])
    grid[axis] = indices.data
    return TopK(t[tuple(grid)], indices)


def argmax(a: Any, axis: int | None = None, *, keepdims: bool = False) -> Tensor:
    """Index of the maximum, as ``numpy.argmax`` (not differentiable; the first of tied maxima).

    Args:
        a: a Tensor or array-like.
        axis: None (the index into the flattened tensor) or one int; negatives count from the end.
        keepdims: keep the reduced axis as a size-1 dimension.

    Returns:
        An int64 Tensor that never requires grad.

    Raises:
        ShapeError: ``axis`` is out of range.
        TypeError: ``axis`` is not an int.
    """
    t = _as_tensor(a)
    return t.argmax(_arg_axis(axis, t.ndim, "argmax"), keepdims)


def argmin(a: Any, axis: int | None = None, *, keepdims: bool = False) -> Tensor:
    """Index of the minimum, as ``numpy.argmin`` (not differentiable; the first of tied minima).

    Args:
        a: a Tensor or array-like.
        axis: None (the index into the flattened tensor) or one int; negatives count from the end.
        keepdims: keep the reduced axis as a size-1 dimension.

    Returns:
        An int64 Tensor that never requires grad.

    Raises:
        ShapeError: ``axis`` is out of range.
        TypeError: ``axis`` is not an int.
    """
    t = _as_tensor(a)
    return t.argmin(_arg_axis(axis, t.ndim, "argmin"), keepdims)


def _arg_axis(axis: Any, ndim: int, op: str) -> int | None:
    """An argmax/argmin axis checked: None, or one in-range int (a 0-d tensor takes 0 or -1, as in NumPy)."""
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int or None, got {axis!r}")
    return _axes(axis, builtins.max(ndim, 1), op)[0]


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


def masked_fill(x: Any, mask: Any, value: Any) -> Tensor:
    """``value`` where ``mask`` is True, ``x`` elsewhere, as ``torch.masked_fill`` (see `Tensor.masked_fill`).

    Args:
        x: a Tensor or array-like.
        mask: a boolean Tensor or array that broadcasts with ``x`` (not differentiated).
        value: a number, or a 0-d Tensor (differentiated: it receives the gradient of the filled places).

    Returns:
        A Tensor of the broadcast shape and ``x``'s dtype; the gradient to ``x`` is zero where filled.

    Raises:
        TypeError: the mask is not boolean.
        ShapeError: the mask does not broadcast with ``x``, or ``value`` is not 0-d.
    """
    return _as_tensor(x).masked_fill(mask, value)


def tril(x: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two axes, the rest zeroed, as ``torch.tril`` (``numpy.tril``'s ``k``).

    Keeps the entries ``[..., i, j]`` with ``j <= i + diagonal``; the gradient passes there and is 0 elsewhere.

    Args:
        x: a Tensor or array-like of at least 2 dimensions (a batch of matrices).
        diagonal: 0 keeps the main diagonal, 1 one more above it, -1 drops it.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Raises:
        ShapeError: ``x`` has fewer than 2 dimensions.
    """
    return _as_tensor(x).tril(diagonal)


def triu(x: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two axes, the rest zeroed, as ``torch.triu`` (``numpy.triu``'s ``k``).

    Keeps the entries ``[..., i, j]`` with ``j >= i + diagonal``; the gradient passes there and is 0 elsewhere.

    Args:
        x: a Tensor or array-like of at least 2 dimensions (a batch of matrices).
        diagonal: 0 keeps the main diagonal, 1 drops it, -1 keeps one more below it.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Raises:
        ShapeError: ``x`` has fewer than 2 dimensions.
    """
    return _as_tensor(x).triu(diagonal)


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


# ───────────── shape ─────────────


def _axes(axis: int | Sequence[int], ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (an int or a sequence of ints, negatives allowed) as non-negative ints, in the order given.

    Raises:
        ShapeError: an axis is out of range for ``ndim`` dimensions, or one appears twice.
    """
    given = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in given:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op}: axes must be ints, got {a!r}")
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: axis {axis} names an axis twice")
    return tuple(out)


def reshape(a: Any, /, shape: int | Sequence[int]) -> Tensor:
    """The same data in a new shape, as ``numpy.reshape`` (one dimension may be -1).

    Args:
        a: a Tensor or array-like.
        shape: an int or a sequence of ints with as many elements in all as ``a``.

    Returns:
        A Tensor of ``shape``.

    Raises:
        ShapeError: the sizes do not match.
    """
    return _as_tensor(a).reshape(shape)


def transpose(a: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes, as ``numpy.transpose``: result axis ``i`` is input axis ``axes[i]``.

    Args:
        a: a Tensor or array-like.
        axes: a permutation of all the axes (negatives allowed); None reverses them.

    Returns:
        A Tensor with the permuted shape.

    Raises:
        ShapeError: ``axes`` is not a permutation of the tensor's axes.
    """
    t = _as_tensor(a)
    if axes is None:
        return t.transpose()
    return t.transpose(tuple(axes))


def permute_dims(a: Any, /, axes: Sequence[int] | None = None) -> Tensor:
    """Alias of `transpose` (NumPy 2's array-API name).

    Args:
        a: a Tensor or array-like.
        axes: a permutation of all the axes; None reverses them.

    Returns:
        A Tensor with the permuted shape.
    """
    return transpose(a, axes)


def swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes, as ``numpy.swapaxes``.

    Args:
        a: a Tensor or array-like.
        axis1, axis2: the axes to exchange (negatives allowed).

    Returns:
        A Tensor with the two axes exchanged.

    Raises:
        ShapeError: an axis is out of range.
    """
    return _as_tensor(a).swapaxes(axis1, axis2)


def moveaxis(a: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move axes to new positions, the others keeping their order, as ``numpy.moveaxis``.

    Args:
        a: a Tensor or array-like.
        source: the axes to move (an int or a sequence of distinct ints).
        destination: where each of them goes, as many as ``source``.

    Returns:
        A Tensor with the moved axes.

    Raises:
        ShapeError: an axis is out of range or repeated, or ``source`` and ``destination`` differ in length.
    """
    t = _as_tensor(a)
    src, dst = _axes(source, t.ndim, "moveaxis"), _axes(destination, t.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ShapeError(f"moveaxis: source {source} and destination {destination} need as many axes each")
    order = [i for i in range(t.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return t.transpose(tuple(order))


def squeeze(a: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """Remove size-1 axes, as ``numpy.squeeze``: all of them, or exactly those in ``axis``.

    Args:
        a: a Tensor or array-like.
        axis: None (every size-1 axis), an int or a tuple of ints, each of size 1.

    Returns:
        A Tensor without those axes.

    Raises:
        ShapeError: an axis is out of range, repeated or not of size 1 (NumPy's rule;
            `Tensor.squeeze` skips such axes, as PyTorch does).
    """
    t = _as_tensor(a)
    if axis is not None and t.ndim:  # a 0-d tensor takes axis 0 or -1 (as in NumPy): the method checks that
        for i in _axes(axis, t.ndim, "squeeze"):
            if t.shape[i] != 1:
                raise ShapeError(f"squeeze: axis {i} of shape {t.shape} has size {t.shape[i]}, not 1")
    return t.squeeze(axis)


def expand_dims(a: Any, axis: int | Sequence[int]) -> Tensor:
    """Insert size-1 axes, as ``numpy.expand_dims`` (PyTorch's ``unsqueeze``).

    Args:
        a: a Tensor or array-like.
        axis: the positions of the new axes in the result (an int or a sequence of ints;
            negatives count from the end of the result).

    Returns:
        A Tensor with ``len(axis)`` more dimensions.

    Raises:
        ShapeError: a position is out of range for the result or repeated.
    """
    t = _as_tensor(a)
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = t.ndim + len(axis)
    new = set(_axes(axis, ndim, "expand_dims"))
    sizes = iter(t.shape)
    return t.reshape(tuple(1 if i in new else next(sizes) for i in range(ndim)))


def broadcast_to(array: Any, shape: int | Sequence[int]) -> Tensor:
    """Broadcast to ``shape`` under NumPy's rules, as ``numpy.broadcast_to``; the gradient sums back.

    Args:
        array: a Tensor or array-like.
        shape: the target shape (an int or a sequence of ints).

    Returns:
        A Tensor of ``shape`` (``array`` itself, already a Tensor, when the shape is unchanged).

    Raises:
        ShapeError: ``array``'s shape does not broadcast to ``shape``.
    """
    t = _as_tensor(array)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ShapeError(f"broadcast_to: the target shape {shape} has a negative dimension")
    return t.broadcast_to(shape)


# ───────────────────────────── sampling ─────────────────────────────


def multinomial(
    probs: Any, num_samples: int, replacement: bool = False, *, generator: np.random.Generator | None = None
) -> Tensor:
    """Category indices drawn from the rows of ``probs``, as ``torch.multinomial``.

    The weights in a row need not sum to 1 (they are normalized), but they must be finite and
    non-negative with a positive sum. Without replacement, each draw takes a category not yet
    drawn, with probability proportional to its weight among those left; once the categories
    of positive weight run out, the zero-weight ones follow in index order (as PyTorch does).

    Args:
        probs: a 1-D (one distribution) or 2-D (one per row) Tensor or array-like of weights.
        num_samples: how many indices to draw per row (at least 1; without replacement at most
            the number of categories).
        replacement: draw with replacement (independent draws) rather than without.
        generator: the ``numpy.random.Generator`` to draw from; None uses the shared one that
            ``autograd.manual_seed`` resets.

    Returns:
        An int64 Tensor of shape ``(num_samples,)`` or ``(rows, num_samples)`` that never requires grad.

    Raises:
        ShapeError: ``probs`` is not 1-D or 2-D, or has no categories.
        ValueError: a weight is negative, NaN or infinite, a row sums to 0, or ``num_samples`` is
            below 1 or, without replacement, above the number of categories.
        TypeError: the weights are not real numbers, or ``num_samples`` is not an int.
    """
    weights = probs.data if isinstance(probs, Tensor) else np.asarray(probs)
    if weights.dtype.kind not in "iuf":
        raise TypeError(f"multinomial: the probabilities must be real numbers, got {weights.dtype}")
    if weights.ndim not in (1, 2):
        raise ShapeError(f"multinomial: probs must be 1-D or 2-D, got shape {weights.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    categories = weights.shape[-1]
    if categories == 0:
        raise ShapeError(f"multinomial: probs of shape {weights.shape} has no categories")
    rows = weights.reshape(-1, categories).astype(np.float64)
    if num_samples < 1:
        raise ValueError(f"multinomial: num_samples must be at least 1, got {num_samples}")
    if not replacement and num_samples > categories:
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from {categories} categories "
            "(pass replacement=True)"
        )
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: the probabilities must be finite and non-negative (found a NaN, inf or < 0)")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError(
            f"multinomial: a row of probabilities sums to 0 (row {int(np.argmax(totals <= 0))}): nothing to draw"
        )
    rng = _random.default_rng(generator)
    if replacement:
        out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
        cumulative = np.cumsum(rows, axis=1)
        last = categories - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)  # the last category of positive weight
        draws = rng.random((rows.shape[0], num_samples)) * cumulative[:, -1:]
        for r in range(rows.shape[0]):
            # the first category whose cumulative weight exceeds the draw: never one of zero weight
            out[r] = np.minimum(np.searchsorted(cumulative[r], draws[r], side="right"), last[r])
    else:
        # Exponential race: E / w with E ~ Exp(1) is the arrival time of category w; the first arrivals
        # are a draw without replacement, in order (zero weights arrive at inf, after every other one).
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(rows.shape) / rows
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64)
    return _make(out.reshape(weights.shape[:-1] + (num_samples,)), None)
