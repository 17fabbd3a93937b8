"""Recording gradients during backward: `trace_gradients` and its `GradientRecorder`.

Backward frees what interior nodes saved, so a drawing made afterwards knows their values,
gradients and shapes only from a recorder attached before: it keeps `TensorStats` of each.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from ..graph import Node
from ..tensor import Tensor
from .reader import _as_roots, _Graph
from .stats import TensorStats


class _StatsHook:
    """A node hook that records its gradient's statistics and leaves the gradient unchanged."""

    __slots__ = ("recorder", "node_ref")

    def __init__(self, recorder: GradientRecorder, node: Node) -> None:
        self.recorder = recorder
        self.node_ref = weakref.ref(node)

    def __call__(self, grad: Tensor) -> None:
        node = self.node_ref()
        if node is not None:
            self.recorder.grads[node] = TensorStats.of(grad.data)


class GradientRecorder:
    """Statistics of every node's output value and gradient, for drawings made after backward.

    Made by `trace_gradients` before ``backward()``: it summarises each node's output value
    at once (while the saved values still exist) and registers a hook on every node that
    summarises its gradient when backward computes it. The last backward pass wins. It holds
    the nodes weakly. Use it as a context manager to take the hooks off afterwards.

    Attributes:
        values: node -> `TensorStats` of its output value (when an output tensor was still reachable).
        grads: node -> `TensorStats` of its gradient (filled in by backward).
        traced: the nodes it watches (a node watched but missing from ``grads`` got no gradient).
    """

    def __init__(self, roots: Tensor | Sequence[Tensor]) -> None:
        self.values: weakref.WeakKeyDictionary[Node, TensorStats] = weakref.WeakKeyDictionary()
        self.grads: weakref.WeakKeyDictionary[Node, TensorStats] = weakref.WeakKeyDictionary()
        self.traced: weakref.WeakSet[Node] = weakref.WeakSet()
        self._hooks: list[tuple[weakref.ref, _StatsHook]] = []
        graph = _Graph(_as_roots(roots), None, None)
        for i, node in enumerate(graph.nodes):
            tensor = graph.tensors[i]
            if tensor is not None:
                self.values[node] = TensorStats.of(tensor.data)
            hook = _StatsHook(self, node)
            node.add_hook(hook)
            self.traced.add(node)
            self._hooks.append((weakref.ref(node), hook))

    def remove(self) -> None:
        """Take this recorder's hooks off the graph (what it recorded stays)."""
        for node_ref, hook in self._hooks:
            node = node_ref()
            if node is not None and node.hooks and hook in node.hooks:
                node.hooks.remove(hook)
        self._hooks = []

    def __enter__(self) -> GradientRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<GradientRecorder: {len(self.values)} values, {len(self.grads)} gradients>"


def trace_gradients(root: Tensor | Sequence[Tensor]) -> GradientRecorder:
    """Start recording gradient statistics for every node behind ``root``; call before ``backward()``.

    Args:
        root: the output tensor (or tensors) whose graph backward will go through.

    Returns:
        A `GradientRecorder`; pass it as ``grads=`` to `to_dot`, `draw_graph` or `to_mermaid`.
    """
    return GradientRecorder(root)
