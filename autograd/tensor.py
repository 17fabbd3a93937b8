"""`Tensor`: an n-dimensional array that records the operations applied to it.

A Tensor holds a NumPy array (``.data``), the node that produced it (``_node``: None for a
constant, a `LeafNode` for a leaf that requires grad, a `Node` for a recorded result) and,
for leaves, the accumulated gradient (``.grad``). Every operator and method is one short
call into the primitive table (`autograd.ops`); no derivative math lives here.
"""

from __future__ import annotations

import functools
import numbers
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .graph import LeafNode, Node, grad_mode, state

_new = object.__new__
_ndarray = np.ndarray


def _make(data: Any, node: Node | None) -> Tensor:
    """Build a Tensor around ``data`` without any checks (the internal, hot path)."""
    if data.__class__ is not _ndarray:  # NumPy returns scalars for 0-d results; .data is always an ndarray
        data = np.asarray(data)
    t = _new(Tensor)
    t.data = data
    t._node = node
    t.grad = None
    t.name = None
    return t


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Turn user data into a fresh array: Python floats become float32, NumPy data keeps its dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    keeps_dtype = isinstance(data, (np.ndarray, np.generic))
    array = np.array(data)
    if not keeps_dtype and array.dtype == np.float64:
        array = array.astype(np.float32)
    if array.dtype == object:
        raise TypeError(f"Tensor: cannot make a numeric array from {type(data).__name__} data")
    return array


def _scalar(value: Any) -> int | float | None:
    """The Python number for a scalar operand (NumPy scalars included), or None for anything else."""
    kind = type(value)
    if kind is float or kind is int:
        return value
    if isinstance(value, (np.generic, numbers.Real)) and np.ndim(value) == 0 and not isinstance(value, np.ndarray):
        return value.item() if isinstance(value, np.generic) else value
    return None


def _constant(value: Any, like: Tensor) -> Tensor:
    """A constant (no-grad) Tensor for an ndarray, list or scalar operand of ``like``."""
    if isinstance(value, np.ndarray):
        return _make(value, None)
    if _scalar(value) is not None and like.data.dtype.kind == "f":
        return _make(np.asarray(value, dtype=like.data.dtype), None)
    return _make(_to_array(value), None)


def _index(key: Any) -> Any:
    """An indexing key with Tensors and lists turned into arrays."""
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, list):
        return np.asarray(key)
    return key


class _RetainGrad:
    """Hook that stores a non-leaf tensor's gradient on it (see `Tensor.retain_grad`)."""

    __slots__ = ("tensor_ref",)
    only_when_accumulating = True  # autograd.grad() leaves .grad alone, like PyTorch: the engine skips this hook

    def __init__(self, tensor: Tensor) -> None:
        self.tensor_ref = weakref.ref(tensor)

    def __call__(self, grad: Tensor) -> None:
        tensor = self.tensor_ref()
        if tensor is not None:
            tensor.grad = grad if tensor.grad is None else tensor.grad + grad


class RemovableHandle:
    """Returned by `Tensor.register_hook`; ``remove()`` takes the hook off again."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        """Stop running the hook."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    """An array that records the operations applied to it, so that gradients can flow back.

    Args:
        data: a number, a (nested) list, an ndarray or a Tensor; the data is copied.
            Python floats become float32; NumPy data keeps its dtype.
        requires_grad: make this a leaf whose gradient ``backward()`` accumulates in ``.grad``
            (floating-point tensors only).
        dtype: convert the data to this dtype.
        name: a label shown by ``repr`` and by graph drawings.
    """

    __slots__ = ("data", "_node", "grad", "name", "__weakref__")
    __hash__ = object.__hash__  # == is elementwise, so hashing is by identity, as in PyTorch

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> None:
        if state.tracer is not None and isinstance(data, (np.ndarray, Tensor)):
            self.data = ops.array(data, dtype).data  # a step being recorded: the copy goes on its tape
        else:
            self.data = _to_array(data, dtype)
        self._node = None
        self.grad = None
        self.name = name
        if requires_grad:
            self.requires_grad = True

    # ───────────── state ─────────────

    @property
    def shape(self) -> tuple:
        """The shape of the data."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the data."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def requires_grad(self) -> bool:
        """True when gradients flow to this tensor (a leaf that asked for them, or a recorded result)."""
        return self._node is not None

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        node = self._node
        if node is not None and not node.is_leaf:
            if not flag:
                raise RuntimeError(
                    "requires_grad can only be switched off on leaf tensors; use .detach() for a non-leaf tensor"
                )
            return
        if not flag:
            self._node = None
            return
        if self.data.dtype.kind != "f":
            raise TypeError(
                f"requires_grad=True needs a floating-point tensor, but this tensor is {self.data.dtype} "
                "(integer and boolean tensors never require grad)"
            )
        if node is None:
            self._node = LeafNode(self)

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self._node is None or self._node.is_leaf

    @property
    def grad_fn(self) -> Node | None:
        """The node of the operation that produced this tensor (None for leaves)."""
        node = self._node
        return None if node is None or node.is_leaf else node

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed."""
        return self.transpose()

    @property
    def mT(self) -> Tensor:
        """The tensor with its last two axes exchanged (a batch of transposed matrices)."""
        ndim = self.data.ndim
        if ndim < 2:
            raise ops.ShapeError(f"mT: needs at least 2 dimensions, got shape {self.shape}")
        return ops.transpose(self, _SWAP_LAST_TWO[ndim] if ndim < 8 else _swap_last_two(ndim))

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a Python number, not shape {self.shape}")
        if state.tracer is not None:
            state.tracer.read(self.data, "item")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return np.asarray(self.data)

    def tolist(self) -> Any:
        """The data as (nested) Python lists."""
        if state.tracer is not None:
            state.tracer.read(self.data, "tolist")
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing this data but cut from the graph (it never requires grad)."""
        return _make(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set `requires_grad` in place and return the tensor."""
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (leaves always keep theirs)."""
        node = self._node
        if node is None:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        if node.is_leaf or any(isinstance(h, _RetainGrad) for h in node.hooks or ()):
            return
        node.add_hook(_RetainGrad(self))

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        node = self._node
        if node is None:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        node.add_hook(hook)
        return RemovableHandle(node.hooks, hook)

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        Args:
            gradient: the upstream gradient; may be left out only for a one-element tensor.
            retain_graph: keep saved values so that backward can run through the graph again
                (defaults to ``create_graph``).
            create_graph: record the backward pass too, for gradients of gradients.
        """
        backprop.tensor_backward(self, gradient, retain_graph, create_graph)

    def _with_data(self, data: np.ndarray) -> Tensor:
        """The same values in another array (a contiguous copy, say), on the same node: for `LeafNode.accumulate`."""
        return _make(data, self._node)

    def __copy__(self) -> Tensor:
        return _copy_leaf(self, self.data, "copy")

    def __deepcopy__(self, memo: dict) -> Tensor:
        copied = _copy_leaf(self, self.data.copy(), "deepcopy")
        if self.grad is not None:
            copied.grad = _make(self.grad.data.copy(), None)
        memo[id(self)] = copied
        return copied

    def __reduce__(self) -> tuple:
        if not self.is_leaf:
            raise RuntimeError(
                "pickle: only leaf tensors can be pickled (a recorded result carries its graph); use .detach()"
            )
        return (_rebuild, (type(self), np.asarray(self.data), self.requires_grad, self.name))

    def astype(self, dtype: Any) -> Tensor:
        """The tensor converted to ``dtype`` (differentiable between float dtypes)."""
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if dtype.kind != "f":
            return ops.array(self, dtype)  # a constant: no gradient reaches integers or booleans
        return ops.astype(self, dtype)

    def float(self) -> Tensor:
        """The tensor as float32."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """The tensor as float64."""
        return self.astype(np.float64)

    # ───────────── in-place changes (not recorded; checked by backward) ─────────────

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """Add ``alpha * other`` to this tensor's values in place; returns the tensor."""
        value = _raw(other)
        return _mutate(self, "add_", lambda a: np.add(a, value if alpha == 1 else np.multiply(value, alpha), out=a))

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """Subtract ``alpha * other`` in place; returns the tensor."""
        value = _raw(other)
        return _mutate(
            self, "sub_", lambda a: np.subtract(a, value if alpha == 1 else np.multiply(value, alpha), out=a)
        )

    def mul_(self, other: Any) -> Tensor:
        """Multiply by ``other`` in place; returns the tensor."""
        value = _raw(other)
        return _mutate(self, "mul_", lambda a: np.multiply(a, value, out=a))

    def div_(self, other: Any) -> Tensor:
        """Divide by ``other`` in place; returns the tensor."""
        value = _raw(other)
        return _mutate(self, "div_", lambda a: np.divide(a, value, out=a))

    def clip_(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Limit the values to [lo, hi] in place; returns the tensor."""
        return _mutate(self, "clip_", lambda a: np.clip(a, lo, hi, out=a))

    def zero_(self) -> Tensor:
        """Set every value to 0 in place; returns the tensor."""
        return _mutate(self, "zero_", lambda a: a.fill(0))

    def fill_(self, value: float) -> Tensor:
        """Set every value to ``value`` in place; returns the tensor."""
        return _mutate(self, "fill_", lambda a: a.fill(value))

    def copy_(self, source: Any) -> Tensor:
        """Copy ``source``'s values (broadcast to this shape) into this tensor; returns the tensor."""
        value = _raw(source)
        return _mutate(self, "copy_", lambda a: np.copyto(a, value, casting="same_kind"))

    def __setitem__(self, key: Any, value: Any) -> None:
        index, raw = _index(key), _raw(value)

        def assign(a: np.ndarray) -> None:
            try:
                a[index] = raw
            except IndexError as error:
                raise IndexError(f"setitem: index {key!r} does not fit shape {a.shape}: {error}") from None

        _mutate(self, "setitem", assign)

    # ───────────── arithmetic operators ─────────────

    def __add__(self, other: Any) -> Tensor:
        kind = other.__class__  # the common cases first: no conversion needed
        if kind is Tensor:
            return ops.add(self, other)
        if kind is float or kind is int:
            return ops.add_scalar(self, other)
        return _add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        kind = other.__class__
        if kind is float or kind is int:
            return ops.add_scalar(self, other)
        return _add(self, other)

    def __sub__(self, other: Any) -> Tensor:
        if other.__class__ is Tensor:
            return ops.sub(self, other)
        return _sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _rsub(self, other)

    def __mul__(self, other: Any) -> Tensor:
        kind = other.__class__
        if kind is Tensor:
            return ops.mul(self, other)
        if kind is float or kind is int:
            return ops.mul_scalar(self, other)
        return _mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        kind = other.__class__
        if kind is float or kind is int:
            return ops.mul_scalar(self, other)
        return _mul(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        return _div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _rdiv(self, other)

    def __pow__(self, other: Any) -> Tensor:
        return _pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.pow(_constant(other, self), self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(_constant(other, self), self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    # ───────────── comparisons (not differentiable; return boolean tensors) ─────────────

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.not_equal(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return ops.less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return ops.less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return ops.greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ops.greater_equal(self, other)

    # ───────────── containers and conversion ─────────────

    def __getitem__(self, key: Any) -> Tensor:
        return ops.getitem(self, _index(key))

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all() on .data"
            )
        if state.tracer is not None:
            state.tracer.read(self.data, "bool")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = np.asarray(self.data, dtype=dtype)
        return array.copy() if copy else array

    # NumPy's protocols (NEP 13, NEP 18): np.exp(t), ndarray + t, np.sum(t) ... give recorded Tensors.
    # Only NumPy calls these (a NumPy function, or an ndarray on the left of an operator); the
    # operators above never go through them.

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _interop().array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
        return _interop().array_function(func, types, args, kwargs)

    def __repr__(self) -> str:
        body = np.array2string(np.asarray(self.data), separator=", ", prefix="tensor(")
        extras = [f"dtype={self.data.dtype}"]
        node = self._node
        if node is not None:
            extras.append("requires_grad=True" if node.is_leaf else f"grad_fn=<{node.prim.name}>")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"tensor({body}, {', '.join(extras)})"

    # ───────────── elementwise math ─────────────

    def exp(self) -> Tensor:
        """e ** x, elementwise."""
        return ops.exp(self)

    def log(self) -> Tensor:
        """Natural logarithm, elementwise."""
        return ops.log(self)

    def sqrt(self) -> Tensor:
        """Square root, elementwise."""
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        """Absolute value, elementwise (gradient 0 at 0)."""
        return ops.abs(self)

    def sin(self) -> Tensor:
        """Sine, elementwise."""
        return ops.sin(self)

    def cos(self) -> Tensor:
        """Cosine, elementwise."""
        return ops.cos(self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent, elementwise."""
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        """Logistic sigmoid 1 / (1 + e**-x), elementwise."""
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        """max(x, 0), elementwise (gradient 0 at 0)."""
        return ops.relu(self)

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Values limited to [lo, hi]; the gradient passes where lo <= x <= hi."""
        if lo is None and hi is None:
            raise ValueError("clip: give lo, hi or both")
        return ops.clip(self, lo, hi)

    def pow(self, exponent: Any) -> Tensor:
        """self ** exponent."""
        return _pow(self, exponent)

    def matmul(self, other: Any) -> Tensor:
        """self @ other."""
        return self @ other

    def sign(self) -> Tensor:
        """-1, 0 or 1, elementwise (not differentiable)."""
        return ops.sign(self)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where ``mask`` is True, this tensor elsewhere (PyTorch's ``masked_fill``).

        Args:
            mask: a boolean Tensor or array that broadcasts with this tensor (not differentiated).
            value: a number, or a 0-d Tensor (which receives the gradient of the filled places).

        Returns:
            A Tensor of the broadcast shape and this tensor's dtype; its gradient is zero where filled.
        """
        keep = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        if keep.dtype != np.bool_:
            raise TypeError(f"masked_fill: the mask must be boolean, got {keep.dtype} (compare first: mask = x > 0)")
        try:
            np.broadcast_shapes(keep.shape, self.data.shape)
        except ValueError:
            raise ops.ShapeError(
                f"masked_fill: the mask of shape {keep.shape} does not broadcast with shape {self.shape}"
            ) from None
        if isinstance(value, Tensor):
            if value.data.ndim:
                raise ops.ShapeError(
                    f"masked_fill: the value must be a number or a 0-d tensor, got shape {value.shape}"
                )
            fill = value.astype(self.data.dtype)
        else:
            if np.ndim(value):
                raise ops.ShapeError(
                    f"masked_fill: the value must be a number or a 0-d tensor, got shape {np.shape(value)}"
                )
            fill = _make(np.asarray(value, dtype=self.data.dtype), None)
        return ops.where(fill, self, keep)

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two axes (the rest zeroed): entries with ``j <= i + diagonal``."""
        return _triangle(self, diagonal, "tril")

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two axes (the rest zeroed): entries with ``j >= i + diagonal``."""
        return _triangle(self, diagonal, "triu")

    # ───────────── reductions ─────────────

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (None: all; int or tuple of ints)."""
        return ops.sum(self, ops._normalize_axes(axis, self.data.ndim, "sum"), keepdims)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis``."""
        axes = ops._normalize_axes(axis, self.data.ndim, "mean")
        return ops.sum(self, axes, keepdims) * (1.0 / _count(self.shape, axes))

    def var(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Variance over ``axis`` with NumPy's ``ddof`` (0: divide by n, the population variance)."""
        return _variance(self, axis, keepdims, ddof, "var")

    def std(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Standard deviation over ``axis`` (square root of `var`)."""
        return _variance(self, axis, keepdims, ddof, "std").sqrt()

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; tied maxima share the gradient evenly."""
        return ops.max(self, ops._normalize_axes(axis, self.data.ndim, "max"), keepdims)

    def min(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; tied minima share the gradient evenly."""
        return ops.min(self, ops._normalize_axes(axis, self.data.ndim, "min"), keepdims)

    def logsumexp(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``axis``, without overflow."""
        return ops.logsumexp(self, ops._normalize_axes(axis, self.data.ndim, "logsumexp"), keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis``, without overflow."""
        return ops.softmax(self, _one_axis(axis, self.data.ndim, "softmax"))

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - logsumexp(x) along ``axis``, without overflow."""
        return ops.log_softmax(self, _one_axis(axis, self.data.ndim, "log_softmax"))

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the maximum (not differentiable)."""
        return ops.argmax(self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the minimum (not differentiable)."""
        return ops.argmin(self, axis, keepdims)

    # ───────────── shape ─────────────

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same data in a new shape (one dimension may be -1)."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def view(self, *shape: int | Sequence[int]) -> Tensor:
        """Alias of `reshape`."""
        return self.reshape(*shape)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        """Merge the axes from ``start_axis`` to ``end_axis`` into one."""
        shape = self.shape
        if not shape:
            return self.reshape((1,))
        start = _one_axis(start_axis, len(shape), "flatten")
        end = _one_axis(end_axis, len(shape), "flatten")
        return self.reshape(shape[:start] + (-1,) + shape[end + 1 :])

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """Permute the axes (no arguments: reverse them)."""
        if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
            axes = tuple(axes[0])
        ndim = self.data.ndim
        if not axes:
            return ops.transpose(self, tuple(range(ndim - 1, -1, -1)))
        # Non-negative axes: the rule inverts the permutation as it was given.
        order = tuple(int(a) + ndim if -ndim <= a < 0 else a for a in axes)
        if sorted(order) != list(range(ndim)):
            raise ops.ShapeError(
                f"transpose: axes {tuple(axes)} are not a permutation of the {ndim} axes of shape {self.shape}"
            )
        return ops.transpose(self, order)

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        """Alias of `transpose` with the axes given in full."""
        return self.transpose(*axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Exchange two axes."""
        ndim = self.data.ndim
        order = list(range(ndim))
        a, b = _one_axis(axis1, ndim, "swapaxes"), _one_axis(axis2, ndim, "swapaxes")
        order[a], order[b] = order[b], order[a]
        return ops.transpose(self, tuple(order))

    def squeeze(self, axis: int | Sequence[int] | None = None) -> Tensor:
        """Remove size-1 axes (all of them, or those in ``axis`` that have size 1)."""
        shape = self.shape
        if axis is None:
            dropped = {i for i, s in enumerate(shape) if s == 1}
        else:
            dropped = {a for a in ops._normalize_axes(axis, len(shape), "squeeze") if shape[a] == 1}
        return ops.reshape(self, tuple(s for i, s in enumerate(shape) if i not in dropped))

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert a size-1 axis at position ``axis``."""
        shape = self.shape
        position = _one_axis(axis, len(shape) + 1, "unsqueeze")
        return ops.reshape(self, shape[:position] + (1,) + shape[position:])

    def broadcast_to(self, *shape: int | Sequence[int]) -> Tensor:
        """Broadcast to ``shape`` (NumPy rules); the gradient sums back."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        if shape == self.shape:
            return self
        return ops.broadcast_to(self, shape)

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """Like `broadcast_to`; -1 keeps that dimension's size (PyTorch's ``expand``)."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        lead = len(shape) - self.data.ndim
        shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
        return self.broadcast_to(shape)

    def sum_to(self, shape: Sequence[int]) -> Tensor:
        """Sum the broadcast dimensions away, giving ``shape`` (the inverse of `broadcast_to`)."""
        shape = tuple(shape)
        if shape == self.shape:
            return self
        return ops.sum_to(self, shape)


@functools.cache
def _interop() -> Any:
    """`autograd.numpy_interop`, imported on first use: its tables name routines, which import this module."""
    from . import numpy_interop

    return numpy_interop


def _swap_last_two(ndim: int) -> tuple:
    return (*range(ndim - 2), ndim - 1, ndim - 2)


_SWAP_LAST_TWO = {n: _swap_last_two(n) for n in range(2, 8)}


def _raw(value: Any) -> Any:
    """The array (or number) behind an operand of an in-place change."""
    return value.data if isinstance(value, Tensor) else value


def _mutate(t: Tensor, op: str, change: Any) -> Tensor:
    """Apply ``change`` to ``t``'s array in place and note it, so backward can refuse stale saved values."""
    if t._node is not None and grad_mode.enabled:
        raise RuntimeError(
            f"{op}: this tensor (shape {t.shape}) requires grad, and in-place changes are not recorded for "
            "backward; use the out-of-place operation, or make the change under autograd.no_grad()"
        )
    data = t.data
    if not data.flags.writeable:
        raise ValueError(f"{op}: the tensor's array is read-only (a .grad, or a broadcast view); change a copy instead")
    try:
        change(data)
    except ValueError as error:
        raise ops.ShapeError(f"{op}: cannot change a tensor of shape {t.shape} this way: {error}") from None
    state.note_mutation(data, op)
    return t


def _copy_leaf(t: Tensor, data: np.ndarray, how: str) -> Tensor:
    """A new leaf with its own node (so its gradient goes to the copy, not to the original)."""
    if not t.is_leaf:
        raise RuntimeError(f"{how}: only leaf tensors can be copied (this one has a grad_fn); use .detach() first")
    copied = _new(type(t))
    copied.data = data
    copied._node = None
    copied.grad = None
    copied.name = t.name
    if t.requires_grad:
        copied._node = LeafNode(copied)
    return copied


def _rebuild(cls: type, data: np.ndarray, requires_grad: bool, name: str | None) -> Tensor:
    """Unpickle a leaf tensor (of ``cls``: Tensor or a subclass such as nn.Parameter)."""
    t = _new(cls)
    t.data = data
    t._node = None
    t.grad = None
    t.name = name
    if requires_grad:
        t._node = LeafNode(t)
    return t


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _variance(x: Tensor, axis: Any, keepdims: bool, ddof: int, op: str) -> Tensor:
    axes = ops._normalize_axes(axis, x.data.ndim, op)
    n = _count(x.shape, axes)
    if ddof >= n:  # NumPy warns and returns inf or nan; a negative or infinite "variance" helps no one
        raise ValueError(f"{op}: ddof={ddof} leaves no degrees of freedom: {n} values per result (shape {x.shape})")
    centred = x - ops.sum(x, axes, True) * (1.0 / n)
    return ops.sum(centred * centred, axes, keepdims) * (1.0 / (n - ddof))


def _one_axis(axis: int, ndim: int, op: str) -> int:
    if not -ndim <= axis < ndim:
        raise ops.ShapeError(f"{op}: axis {axis} is out of range for {ndim} dimensions")
    return axis % ndim


def _triangle(x: Tensor, diagonal: int, op: str) -> Tensor:
    """``x`` with the entries outside the triangle of its last two axes set to 0 (by selection: inf stays out)."""
    if isinstance(diagonal, bool) or not isinstance(diagonal, (int, np.integer)):
        raise TypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    if x.data.ndim < 2:
        raise ops.ShapeError(f"{op}: needs at least 2 dimensions, got shape {x.shape}")
    rows, cols = x.data.shape[-2:]
    if op == "tril":
        keep = np.tri(rows, cols, int(diagonal), dtype=bool)
    else:
        keep = ~np.tri(rows, cols, int(diagonal) - 1, dtype=bool)
    return ops.where(x, _make(np.zeros((), dtype=x.data.dtype), None), keep)


def _add(x: Tensor, y: Any) -> Tensor:
    if isinstance(y, Tensor):
        return ops.add(x, y)
    c = _scalar(y)
    return ops.add(x, _constant(y, x)) if c is None else ops.add_scalar(x, c)


def _sub(x: Tensor, y: Any) -> Tensor:
    if isinstance(y, Tensor):
        return ops.sub(x, y)
    c = _scalar(y)
    return ops.sub(x, _constant(y, x)) if c is None else ops.add_scalar(x, -c)


def _rsub(x: Tensor, y: Any) -> Tensor:
    c = _scalar(y)
    return ops.sub(_constant(y, x), x) if c is None else ops.add_scalar(ops.neg(x), c)


def _mul(x: Tensor, y: Any) -> Tensor:
    if isinstance(y, Tensor):
        return ops.mul(x, y)
    c = _scalar(y)
    return ops.mul(x, _constant(y, x)) if c is None else ops.mul_scalar(x, c)


def _div(x: Tensor, y: Any) -> Tensor:
    if isinstance(y, Tensor):
        return ops.div(x, y)
    c = _scalar(y)
    if c is None or c == 0:
        return ops.div(x, _constant(y, x))
    return ops.mul_scalar(x, 1.0 / c)


def _rdiv(x: Tensor, y: Any) -> Tensor:
    return ops.div(_constant(y, x), x)


def _pow(x: Tensor, y: Any) -> Tensor:
    if isinstance(y, Tensor):
        return ops.pow(x, y)
    c = _scalar(y)
    return ops.pow(x, _constant(y, x)) if c is None else ops.pow_scalar(x, c)


# ops and backprop build Tensors, so they import this module; import them once Tensor exists.
from . import backprop, ops  # noqa: E402
