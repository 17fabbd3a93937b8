"""User-defined operations: subclass `Function` with a forward and a backward.

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.data ** 3            # a Tensor or an ndarray

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x       # Tensor ops: gradients of gradients work too

    y = Cube.apply(x)

``forward`` runs with recording off, receives the arguments given to ``apply`` (tensors as
Tensors) and returns one Tensor or array. ``backward`` receives the gradient of the output
and returns one gradient per argument of ``forward`` (None for non-tensors or where none is
needed). It runs in Tensor operations with grad mode equal to ``create_graph``, so a
backward written with Tensor ops supports higher-order gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .graph import Node, grad_mode, no_grad, state
from .primitive import _fit_grad
from .tensor import Tensor, _make


class FunctionCtx:
    """Carries what a `Function`'s forward leaves for its backward.

    Attributes:
        needs_input_grad: one bool per argument of ``forward``: does it need a gradient?
        saved_tensors: the tensors given to `save_for_backward`.
    """

    def __init__(self, needs_input_grad: tuple = ()) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for backward (released with the graph after backward)."""
        self.saved_tensors = tensors


class _FunctionPrimitive:
    """Adapts a `Function` subclass to the interface the engine and gradcheck use."""

    differentiable = True
    saves_output = False

    def __init__(self, function: type) -> None:
        self.function = function
        self.name = function.__name__

    def backward(self, node: Node, grad: Tensor) -> tuple:
        ctx, args = node.attrs
        grads = self.function.backward(ctx, grad)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(args):
            raise RuntimeError(
                f"{self.name}.backward returned {len(grads)} gradients but forward took {len(args)} arguments"
            )
        out = []
        position = 0
        for arg, g in zip(args, grads):
            if not isinstance(arg, Tensor):
                continue
            parent = node.parents[position]
            if parent is None or g is None:
                out.append(None)
            else:
                if not isinstance(g, Tensor):
                    g = _make(np.asarray(g, dtype=arg.dtype), None)
                out.append(_fit_grad(g, arg, self.name, position))
            position += 1
        return tuple(out)

    def inputs(self, node: Node) -> tuple:
        """The node's tensor arguments."""
        return node.saved

    def evaluate(self, arrays: tuple, attrs: tuple) -> np.ndarray:
        """Run forward on raw arrays in place of the tensor arguments (used by gradcheck)."""
        _, args = attrs
        replaced = iter(arrays)
        new_args = [_make(next(replaced), None) if isinstance(a, Tensor) else a for a in args]
        with no_grad():
            result = self.function.forward(FunctionCtx(), *new_args)
        return result.data if isinstance(result, Tensor) else np.asarray(result)

    def __repr__(self) -> str:
        return f"<Function {self.name}>"


class Function:
    """Base class for operations with a hand-written backward (see the module docstring)."""

    _primitives: dict = {}

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        """Compute the output from the arguments; save what backward needs on ``ctx``."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Any:
        """Return the gradient for each argument of forward (a tuple, or one value for one argument)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run the operation on ``args`` and record it when an argument requires grad."""
        tensors = tuple(a for a in args if isinstance(a, Tensor))
        parents = tuple(t._node for t in tensors)
        record = grad_mode.enabled and any(p is not None for p in parents)
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a._node is not None for a in args))
        with no_grad():
            result = cls.forward(ctx, *args)
        data = result.data if isinstance(result, Tensor) else np.asarray(result)
        if not record:
            return _make(data, None)
        primitive = Function._primitives.get(cls)
        if primitive is None:
            primitive = Function._primitives[cls] = _FunctionPrimitive(cls)
        node = Node(primitive, parents, tensors, (ctx, args), None)
        if state.checks_anomalies:
            state.anomaly_forward(primitive, node, data, tensors)
        return _make(data, node)
