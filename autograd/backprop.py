"""`backward` and `grad`: the Tensor-level entry points to the engine.

They check the outputs, build the seed gradients (ones for a scalar loss) and hand the
nodes to `autograd.engine.run_backward`, which never sees a Tensor. ``Tensor.backward``
calls `tensor_backward` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import primitive
from .engine import run_backward
from .graph import Node
from .tensor import Tensor, _make


def _as_list(tensors: Any) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _gradients_list(gradients: Any, count: int) -> list:
    """User gradients as a list: one Tensor, ndarray or number counts as one gradient."""
    if gradients is None:
        return [None] * count
    if isinstance(gradients, (list, tuple)):
        return list(gradients)
    return [gradients]


_SCALAR_ONES: dict = {}


def _seed(output: Tensor, gradient: Any, op: str) -> Tensor:
    """The upstream gradient for ``output``: ones for a one-element output, else the user's."""
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{op}: the output has shape {output.shape}; a gradient can be created implicitly only for "
                "a one-element output: pass gradient= (or grad_outputs=) with the output's shape"
            )
        dtype = output.data.dtype
        if output.data.ndim:
            return _make(np.ones(output.data.shape, dtype=dtype), None)
        ones = _SCALAR_ONES.get(dtype)
        if ones is None:  # the usual seed (a scalar loss): one shared read-only 1 per dtype, not a new array
            ones = _SCALAR_ONES[dtype] = np.ones((), dtype=dtype)
            ones.flags.writeable = False
        return _make(ones, None)
    # The copy is the astype primitive's forward, so that a recorded step (autograd.compile_step)
    # sees the seed come from the user's gradient rather than as a constant.
    if isinstance(gradient, Tensor):
        seed = _make(primitive.REGISTRY["astype"].forward(gradient.data, gradient.data.dtype), gradient._node)
    else:
        seed = _make(primitive.REGISTRY["astype"].forward(np.asarray(gradient), output.data.dtype), None)
    if seed.shape != output.shape:
        raise ValueError(f"{op}: gradient has shape {seed.shape} but the output has shape {output.shape}")
    return seed


def _root_nodes(outputs: list, op: str) -> list[Node]:
    nodes = []
    for i, output in enumerate(outputs):
        if not isinstance(output, Tensor):
            raise TypeError(f"{op}: output {i} is a {type(output).__name__}, not a Tensor")
        if output._node is None:
            raise RuntimeError(
                f"{op}: output {i} (shape {output.shape}) does not require grad and has no grad_fn: "
                "no input that requires grad reached it, or it was computed under no_grad"
            )
        nodes.append(output._node)
    return nodes


def tensor_backward(output: Tensor, gradient: Any, retain_graph: bool | None, create_graph: bool) -> None:
    """What ``output.backward(gradient, retain_graph, create_graph)`` does (see `Tensor.backward`)."""
    node = output._node
    if gradient is None and node is not None:  # the usual call, loss.backward(): no lists to build
        seed = _seed(output, None, "backward")
        run_backward((node,), (seed,), create_graph if retain_graph is None else retain_graph, create_graph)
        return
    backward((output,), None if gradient is None else (gradient,), retain_graph, create_graph)


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Tensor | Sequence[Any] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves they depend on.

    Args:
        tensors: the outputs to differentiate.
        grad_tensors: an upstream gradient per output (None for one-element outputs).
        retain_graph: keep saved values for another pass (defaults to ``create_graph``).
        create_graph: record the backward pass for higher-order gradients.
    """
    outputs = _as_list(tensors)
    grads = _gradients_list(grad_tensors, len(outputs))
    if len(grads) != len(outputs):
        raise ValueError(f"backward: {len(outputs)} outputs but {len(grads)} gradients")
    roots = _root_nodes(outputs, "backward")
    seeds = [_seed(o, g, "backward") for o, g in zip(outputs, grads)]
    run_backward(roots, seeds, create_graph if retain_graph is None else retain_graph, create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Any] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Return the gradients of ``outputs`` with respect to ``inputs`` (PyTorch's ``autograd.grad``).

    No ``.grad`` attribute is changed.

    Args:
        outputs: tensors to differentiate.
        inputs: tensors (leaves or not) to differentiate with respect to.
        grad_outputs: an upstream gradient per output (None for one-element outputs).
        retain_graph: keep saved values for another pass (defaults to ``create_graph``).
        create_graph: record this computation, for higher-order gradients.
        allow_unused: return None for an input the outputs do not depend on, instead of raising.

    Returns:
        A tuple with one gradient (or None) per input.
    """
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    grads = _gradients_list(grad_outputs, len(outs))
    if len(grads) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(grads)} grad_outputs")
    capture: dict = {}
    for i, x in enumerate(ins):
        if not isinstance(x, Tensor) or x._node is None:
            raise RuntimeError(f"grad: input {i} does not require grad, so no gradient can be computed for it")
        capture.setdefault(x._node, len(capture))
    roots = _root_nodes(outs, "grad")
    seeds = [_seed(o, g, "grad") for o, g in zip(outs, grads)]
    captured = run_backward(roots, seeds, create_graph if retain_graph is None else retain_graph, create_graph, capture)
    result = []
    for i, x in enumerate(ins):
        g = captured[capture[x._node]]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; pass allow_unused=True "
                "to get None for it"
            )
        result.append(g)
    return tuple(result)
