"""Numbers about a graph: `graph_stats` counts nodes, depth and the bytes saved for backward,
per op and per module, and names the parameters that get no gradient.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..tensor import Tensor
from .layout import _drawn
from .reader import _as_roots, _Graph


@dataclass
class GraphStats:
    """Counts for the graph behind a tensor (see `graph_stats`).

    Attributes:
        nodes: recorded nodes: ops plus leaves that require grad.
        ops: op nodes.
        leaves: leaf nodes (tensors that require grad: parameters and inputs).
        depth: nodes on the longest path from the root back to a leaf.
        saved_bytes: bytes of the arrays the graph keeps for backward, each buffer counted once;
            parameters and other leaves that require grad are not counted (they exist anyway).
            Zero once backward has freed the graph.
        saved_bytes_by_op: the same, split by op name (a buffer counts for the first op that saves it).
        saved_bytes_by_module: the same, split by the innermost module call ("" for nodes outside modules).
        ops_by_name: how many nodes each op has.
        params_without_grad: names of parameters (of the module or dict passed) that require grad
            but get no gradient: the graph does not reach them, or backward left their ``.grad`` None.
    """

    nodes: int
    ops: int
    leaves: int
    depth: int
    saved_bytes: int
    saved_bytes_by_op: dict[str, int]
    saved_bytes_by_module: dict[str, int]
    ops_by_name: dict[str, int]
    params_without_grad: list[str]

    def __str__(self) -> str:
        lines = [
            f"{self.nodes} nodes ({self.ops} ops, {self.leaves} leaves), depth {self.depth}, "
            f"{self.saved_bytes:,} bytes saved for backward"
        ]
        for name, size in sorted(self.saved_bytes_by_module.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {name or '(outside modules)'}: {size:,} bytes")
        if self.params_without_grad:
            lines.append("parameters without gradient: " + ", ".join(self.params_without_grad))
        return "\n".join(lines)


def _buffer(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory of a (possibly view) array."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def graph_stats(root: Tensor | Sequence[Tensor], params: Any = None) -> GraphStats:
    """Count nodes, depth and the memory saved for backward, per op and per module.

    Args:
        root: the output tensor (a loss), or several.
        params: a module or a dict of name -> Tensor: names modules, and the parameters
            checked for a missing gradient.

    Returns:
        A `GraphStats` (``print`` it for a summary).
    """
    graph = _Graph(_as_roots(root), params, None)
    nodes = graph.nodes
    longest = [1] * len(nodes)
    for i in range(len(nodes)):  # consumers come before their inputs
        for j in graph.parents[i]:
            longest[j] = max(longest[j], longest[i] + 1)
    by_op: Counter = Counter()
    by_module: Counter = Counter()
    keep = [_buffer(graph.tensors[i].data) for i in graph.leaves() if graph.tensors[i] is not None]
    counted = {id(b) for b in keep}  # leaves' buffers (parameters, and views of them) exist anyway
    for i in reversed(range(len(nodes))):  # forward order: a buffer counts for its first user
        node = nodes[i]
        if node.is_leaf or node.saved is None:
            continue
        inputs = getattr(node.prim, "inputs", None)
        saved = inputs(node) if inputs is not None else ()
        arrays = [t.data for t in saved if isinstance(t, Tensor) and (t._node is None or not t._node.is_leaf)]
        if node.out_data is not None:
            arrays.append(np.asarray(node.out_data))
        size = 0
        for array in arrays:
            buffer = _buffer(array)
            if id(buffer) not in counted:
                counted.add(id(buffer))
                keep.append(buffer)
                size += buffer.nbytes
        if size:
            by_op[node.name] += size
            scope = _drawn(graph.inner[i])
            by_module[scope.name if scope is not None else ""] += size
    in_graph = {id(graph.tensors[i]) for i in graph.leaves() if graph.tensors[i] is not None}
    missing = []
    named = params.named_parameters() if hasattr(params, "named_parameters") else (params or {}).items()
    for name, p in named:
        if (
            isinstance(p, Tensor)
            and p.requires_grad
            and (id(p) not in in_graph or (graph.backward_ran and p.grad is None))
        ):
            missing.append(name)
    ops = sum(1 for n in nodes if not n.is_leaf)
    return GraphStats(
        nodes=len(nodes),
        ops=ops,
        leaves=len(nodes) - ops,
        depth=max(longest, default=0),
        saved_bytes=sum(by_op.values()),
        saved_bytes_by_op=dict(by_op),
        saved_bytes_by_module=dict(by_module),
        ops_by_name=dict(Counter(n.name for n in nodes if not n.is_leaf)),
        params_without_grad=missing,
    )
