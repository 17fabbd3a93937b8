"""Kinds of primitive: how a table entry in `ops.py` or `fused.py` runs forward and backward.

A primitive is a NumPy forward plus one vector-Jacobian product (VJP) per input, written
in Tensor operations. Calling it runs the forward on the inputs' arrays and, when grad
mode is on and an input requires grad, records a `Node`. During backward the engine calls
``prim.backward(node, grad)``, which runs the VJPs of the inputs that need a gradient and
checks that each gradient has its input's shape (broadcast dimensions are summed away by
``sum_to`` here, the one place binary rules need it).

Kinds: `Unary` (one tensor plus attributes), `Binary` (two tensors, NumPy broadcasting),
`Variadic` (a sequence of tensors: concatenate) and `NonDifferentiable` (comparisons,
argmax: never recorded). Every primitive registers itself in `REGISTRY` by name so that
tests and documentation can walk the whole table.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

import numpy as np

from .graph import Node, grad_mode, state
from .tensor import Tensor, _make

REGISTRY: dict[str, Primitive] = {}

_new = object.__new__
_ndarray = np.ndarray
_asarray = np.asarray
_data_of = attrgetter("data")  # map() over these runs no Python frame per input
_node_of = attrgetter("_node")


class ShapeError(ValueError):
    """Raised when the shapes given to an operation do not fit together."""


class Primitive:
    """Common part of every primitive: a name, a NumPy forward and registration."""

    __slots__ = ("name", "forward", "saves_output", "keeps_shape", "doc")
    differentiable = True

    def __init__(
        self, name: str, forward: Callable, *, saves_output: bool = False, keeps_shape: bool = False, doc: str = ""
    ) -> None:
        """Register a primitive.

        Args:
            name: the op's name, unique in `REGISTRY` (drawings and error messages show it).
            forward: the NumPy forward.
            saves_output: the node keeps the output array, for rules that read ``out``.
            keeps_shape: the output has its (first) input's shape and dtype (elementwise ops);
                drawings carry shapes across such ops.
            doc: one line for the op list in README.md.
        """
        if name in REGISTRY:
            raise ValueError(f"primitive {name!r} is defined twice")
        self.name = name
        self.forward = forward
        self.saves_output = saves_output
        self.keeps_shape = keeps_shape
        self.doc = doc
        REGISTRY[name] = self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} primitive {self.name}>"


def _fit_grad(grad: Tensor, x: Tensor, prim: str, position: int) -> Tensor:
    """Give a gradient its input's shape (summing broadcast dimensions away) and dtype, or say which rule is wrong."""
    shape = x.data.shape
    if grad.data.shape != shape:
        try:
            grad = REGISTRY["sum_to"](grad, shape)
        except ShapeError:
            raise ShapeError(
                f"{prim}: the gradient rule for input {position} returned shape {grad.shape}, "
                f"which does not reduce to the input's shape {x.shape}"
            ) from None
    if grad.data.dtype != x.data.dtype:  # NumPy promoted the forward (float32 * float64): cast back
        grad = REGISTRY["astype"](grad, x.data.dtype)
    return grad


_UNSAVED = ()  # a node's ``saved`` when its rule does not read its input (None means released)


class Unary(Primitive):
    """A primitive of one tensor and optional attributes: ``forward(x, *attrs)``.

    ``vjp(grad, out, x, *attrs)`` returns the gradient with respect to ``x``. With
    ``saves_input=False`` (an elementwise rule written from ``grad`` and ``out`` alone, or
    from the attributes) the node keeps no reference to ``x``, so the rule gets ``()`` for it.
    """

    __slots__ = ("vjp", "saves_input")

    def __init__(self, name: str, forward: Callable, vjp: Callable, *, saves_input: bool = True, **facts: Any) -> None:
        super().__init__(name, forward, **facts)
        self.vjp = vjp
        self.saves_input = saves_input

    def __call__(self, x: Tensor, *attrs: Any) -> Tensor:
        data = self.forward(x.data, *attrs)
        if data.__class__ is not _ndarray:  # _make inlined (the hot path): 0-d results come back as scalars
            data = _asarray(data)
        out = _new(Tensor)
        out.data = data
        out.grad = out.name = None
        parent = x._node
        if parent is None or not grad_mode.enabled:
            out._node = None
            return out
        saved = x if self.saves_input or state.saves_all_inputs else _UNSAVED
        node = out._node = Node(self, (parent,), saved, attrs, data if self.saves_output else None)
        if state.checks_anomalies:
            state.anomaly_forward(self, node, data, (x,))
        return out

    def backward(self, node: Node, grad: Tensor) -> tuple:
        """Gradients for the node's input (one-element tuple)."""
        x = node.saved
        if self.saves_output:
            gx = self.vjp(grad, _make(node.out_data, node), x, *node.attrs)
        else:
            gx = self.vjp(grad, None, x, *node.attrs)
        if gx is not None and x is not _UNSAVED and gx.data.shape != x.data.shape:
            gx = _fit_grad(gx, x, self.name, 0)
        return (gx,)

    def inputs(self, node: Node) -> tuple:
        """The node's input tensors: empty where the node did not keep its input."""
        saved = node.saved
        return () if saved is _UNSAVED else (saved,)

    def evaluate(self, arrays: tuple, attrs: tuple) -> np.ndarray:
        """Run the forward on raw arrays (used by gradcheck to test a single rule)."""
        return self.forward(arrays[0], *attrs)


class Binary(Primitive):
    """A primitive of two tensors under NumPy broadcasting: ``forward(a, b, *attrs)``.

    ``vjp_a`` and ``vjp_b`` take ``(grad, out, a, b, *attrs)``; they may return a gradient
    of the broadcast shape, which is summed back to the input's shape here. When the forward
    refuses the shapes, ``shape_message(shape_a, shape_b)`` (default: "not broadcastable")
    says why in the `ShapeError`.
    """

    __slots__ = ("vjp_a", "vjp_b", "shape_message")

    def __init__(
        self,
        name: str,
        forward: Callable,
        vjp_a: Callable,
        vjp_b: Callable,
        *,
        shape_message: Callable[[tuple, tuple], str] | None = None,
        **facts: Any,
    ) -> None:
        super().__init__(name, forward, **facts)
        self.vjp_a = vjp_a
        self.vjp_b = vjp_b
        self.shape_message = shape_message or self._not_broadcastable

    def __call__(self, a: Tensor, b: Tensor, *attrs: Any) -> Tensor:
        try:
            data = self.forward(a.data, b.data, *attrs)
        except ValueError:
            raise ShapeError(self.shape_message(a.shape, b.shape)) from None
        if data.__class__ is not _ndarray:  # _make inlined, as in Unary
            data = _asarray(data)
        out = _new(Tensor)
        out.data = data
        out.grad = out.name = None
        pa = a._node
        pb = b._node
        if (pa is None and pb is None) or not grad_mode.enabled:
            out._node = None
            return out
        node = out._node = Node(self, (pa, pb), (a, b), attrs, data if self.saves_output else None)
        if state.checks_anomalies:
            state.anomaly_forward(self, node, data, (a, b))
        return out

    def _not_broadcastable(self, sa: tuple, sb: tuple) -> str:
        return f"{self.name}: shapes {sa} and {sb} are not broadcastable"

    def backward(self, node: Node, grad: Tensor) -> tuple:
        """Gradients for the node's two inputs (None where an input needs none)."""
        a, b = node.saved
        pa, pb = node.parents
        out = _make(node.out_data, node) if self.saves_output else None
        attrs = node.attrs
        ga = gb = None
        if pa is not None:
            ga = self.vjp_a(grad, out, a, b, *attrs)
            if ga is not None and (ga.data.shape != a.data.shape or ga.data.dtype != a.data.dtype):
                ga = _fit_grad(ga, a, self.name, 0)
        if pb is not None:
            gb = self.vjp_b(grad, out, a, b, *attrs)
            if gb is not None and (gb.data.shape != b.data.shape or gb.data.dtype != b.data.dtype):
                gb = _fit_grad(gb, b, self.name, 1)
        return (ga, gb)

    def inputs(self, node: Node) -> tuple:
        """The node's input tensors."""
        return node.saved

    def evaluate(self, arrays: tuple, attrs: tuple) -> np.ndarray:
        """Run the forward on raw arrays (used by gradcheck to test a single rule)."""
        return self.forward(arrays[0], arrays[1], *attrs)


class Variadic(Primitive):
    """A primitive of a sequence of tensors: ``forward(arrays, *attrs)``.

    ``vjp(grad, out, inputs, needs, *attrs)`` returns one gradient per input (``needs[i]``
    says whether input ``i`` wants one; the rule may return None where it does not). A
    ``fitted`` rule promises None where ``needs`` is False and otherwise the input's own
    shape and dtype, so its list is used as it is (``linear``, whose backward runs once per
    layer per step).
    """

    __slots__ = ("vjp", "fitted")

    def __init__(self, name: str, forward: Callable, vjp: Callable, *, fitted: bool = False, **facts: Any) -> None:
        super().__init__(name, forward, **facts)
        self.vjp = vjp
        self.fitted = fitted

    def __call__(self, xs: tuple, *attrs: Any) -> Tensor:
        data = self.forward(list(map(_data_of, xs)), *attrs)
        parents = tuple(map(_node_of, xs))
        if data.__class__ is not _ndarray:  # _make inlined, as in Unary
            data = _asarray(data)
        out = _new(Tensor)
        out.data = data
        out.grad = out.name = None
        if not grad_mode.enabled or parents.count(None) == len(parents):
            out._node = None
            return out
        saved = xs if xs.__class__ is tuple else tuple(xs)
        node = out._node = Node(self, parents, saved, attrs, data if self.saves_output else None)
        if state.checks_anomalies:
            state.anomaly_forward(self, node, data, xs)
        return out

    def backward(self, node: Node, grad: Tensor) -> tuple:
        """Gradients for each input (None where an input needs none)."""
        xs = node.saved
        parents = node.parents
        needs = [p is not None for p in parents]
        out = None if node.out_data is None else _make(node.out_data, node)
        grads = self.vjp(grad, out, xs, needs, *node.attrs)
        if self.fitted:
            return grads
        if grads.__class__ is not list:  # filled in place below
            grads = list(grads)
        for position, g in enumerate(grads):
            if g is None:
                continue
            x = xs[position]
            if not needs[position]:
                grads[position] = None
            elif g.data.shape != x.data.shape or g.data.dtype != x.data.dtype:
                grads[position] = _fit_grad(g, x, self.name, position)
        return grads

    def inputs(self, node: Node) -> tuple:
        """The node's input tensors."""
        return node.saved

    def evaluate(self, arrays: tuple, attrs: tuple) -> np.ndarray:
        """Run the forward on raw arrays (used by gradcheck to test a single rule)."""
        return self.forward(list(arrays), *attrs)


class NonDifferentiable(Primitive):
    """A primitive whose result carries no gradient (comparisons, argmax, sign): never recorded."""

    __slots__ = ()
    differentiable = False

    def __call__(self, *args: Any) -> Tensor:
        return _make(self.forward(*[a.data if isinstance(a, Tensor) else a for a in args]), None)
