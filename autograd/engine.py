"""The engine: the only place the chain rule runs.

`run_backward` orders the nodes reachable from the roots by counting, for each node, the
consumers that must send it a gradient first (an iterative pass: no recursion, so a
100,000-node chain is fine). A node runs once all its consumers have run: its pending
gradient, summed over every path, goes through its primitive's rule to its parents.
Leaves accumulate into ``.grad``. Saved values are released as each node runs unless
``retain_graph`` is set (``saved``, ``attrs`` and ``out_data`` become None; ``released``
reads that). The loop sees nodes only through ``parents``, ``prim.backward``, ``hooks``,
``pending``/``deps`` and those three fields.

`backward` and `grad` are the Tensor-level entry points (checks and seed gradients).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np

from .graph import LeafNode, Node, _mode, anomaly_checks, mutations
from .tensor import Tensor, _base_array, _make, _RetainGrad

_FREED = (
    "backward through a graph that was already freed: the values that {op!r} saved for backward were released "
    "by an earlier backward() (call the first backward with retain_graph=True to go through a graph twice)"
)


def topological_order(roots: Sequence[Node]) -> list[Node]:
    """All nodes reachable from ``roots``, each after every node that consumes its output.

    Used by observers (gradcheck, drawings); iterative, so deep graphs are fine.
    """
    order: list[Node] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent is not None and id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append((parent, iter(parent.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _count_consumers(roots: Sequence[Node], needed: set | None) -> list[Node]:
    """Set ``deps`` on every node reachable from ``roots`` (within ``needed``, if given); return them."""
    nodes: list[Node] = []
    stack: list[Node] = []
    for root in roots:
        if root.deps == 0:
            nodes.append(root)
            stack.append(root)
        root.deps += 1  # held until the roots are seeded, so a root reached again is not re-added
    add, pop, push = nodes.append, stack.pop, stack.append
    while stack:
        node = pop()
        if node.saved is None:
            _reset(nodes)
            raise RuntimeError(_FREED.format(op=node.prim.name))
        for parent in node.parents:
            if parent is not None and (needed is None or parent in needed):
                deps = parent.deps
                if deps == 0:
                    add(parent)
                    if parent.parents:  # a leaf has nothing further to visit
                        push(parent)
                parent.deps = deps + 1
    return nodes


def _reset(nodes: list[Node]) -> None:
    for node in nodes:
        node.deps = 0
        node.pending = None


def _check_saved_values_unchanged(node: Node) -> None:
    """Refuse to run a rule whose saved tensors were changed in place after the node saved them."""
    later = [(base, op) for epoch, base, op in mutations.recent if epoch > node.epoch]
    if not later:
        return
    saved = list(enumerate(node.prim.inputs(node)))
    for position, tensor in saved:
        owner = _base_array(tensor.data)
        for base, op in later:
            if base is owner:
                label = f" {tensor.name!r}" if tensor.name else ""
                raise RuntimeError(
                    f"backward: input {position}{label} (shape {tensor.shape}) of {node.prim.name!r} was changed in "
                    f"place by {op} after {node.prim.name!r} saved it for backward, so its gradient would use the "
                    "new values; change a copy instead (autograd.tensor(t.data) makes one), or change it after backward"
                )
    if node.out_data is not None:
        owner = _base_array(node.out_data)
        for base, op in later:
            if base is owner:
                raise RuntimeError(
                    f"backward: the output of {node.prim.name!r} was changed in place by {op} after it was saved "
                    "for backward, so its gradient would use the new values"
                )


def _run_hooks(hooks: list, grad: Tensor, accumulating: bool) -> Tensor:
    for hook in hooks:
        if not accumulating and isinstance(hook, _RetainGrad):
            continue  # grad() leaves .grad alone, like PyTorch
        result = hook(grad)
        if result is not None:
            grad = result
    return grad


def _accumulate(node: LeafNode, grad: Tensor) -> None:
    tensor = node.tensor_ref()
    if tensor is None:
        return
    data = grad.data
    if not data.flags.c_contiguous:
        # Matmul rules can hand back transposed (Fortran-order) views; optimizers then pay up to
        # 10x on every mixed-order update. One copy here keeps every .grad C-ordered.
        grad = _make(np.ascontiguousarray(data), grad._node)
    if tensor.grad is None:
        # Gradients may share memory (add sends one array to both inputs): make accidental
        # in-place writes through .grad.data fail loudly instead of corrupting a neighbour.
        grad.data.setflags(write=False)
        tensor.grad = grad
    else:
        tensor.grad = tensor.grad + grad


def run_backward(
    roots: Sequence[Node],
    seeds: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    capture: dict | None = None,
) -> list | None:
    """Send ``seeds`` back from ``roots`` through the graph.

    Args:
        roots: the nodes of the output tensors.
        seeds: the gradient for each root.
        retain_graph: keep saved values for another backward pass.
        create_graph: record the backward pass (grad mode on) for higher-order gradients.
        capture: for `grad`: maps nodes to positions; their gradients are returned in a list
            and no leaf ``.grad`` is touched.

    Returns:
        The captured gradients (None where nothing flowed), or None without ``capture``.
    """
    needed = to_run = None
    if capture is not None:
        needed, to_run = _nodes_leading_to(roots, capture)
        roots, seeds = zip(*[(r, s) for r, s in zip(roots, seeds) if r in needed]) or ((), ())
    nodes = _count_consumers(roots, needed)
    captured = [None] * len(capture) if capture is not None else None
    accumulating = capture is None
    ready = []
    for root, seed in zip(roots, seeds):
        root.pending = seed if root.pending is None else root.pending + seed
        root.deps -= 1
        if root.deps == 0:
            ready.append(root)
    previous = _mode.enabled
    _mode.enabled = create_graph
    # Read once: hooks do not switch these during a pass, and locals are cheaper in the loop.
    mutation_epoch = mutations.epoch
    check_anomalies = anomaly_checks.enabled
    capturing = capture is not None
    release = not retain_graph
    pop, push = ready.pop, ready.append
    try:
        while ready:
            node = pop()
            grad = node.pending
            node.pending = None
            if node.hooks and grad is not None:
                grad = _run_hooks(node.hooks, grad, accumulating)
            if capturing:
                if node in capture:
                    captured[capture[node]] = grad
                if node not in to_run:
                    continue
            prim = node.prim
            if prim is None:
                if grad is not None and accumulating:
                    _accumulate(node, grad)
                continue
            if node.epoch < mutation_epoch:
                _check_saved_values_unchanged(node)
            if grad is None:
                grads = repeat(None)
            else:
                grads = prim.backward(node, grad)
                if check_anomalies:
                    anomaly_checks.backward(node, grad, grads)
            if release:  # free what the node saved for backward; its place in the graph stays
                node.saved = node.attrs = node.out_data = None
            for parent, g in zip(node.parents, grads):
                if parent is None or (needed is not None and parent not in needed):
                    continue
                if g is not None:
                    pending = parent.pending
                    parent.pending = g if pending is None else pending + g
                deps = parent.deps - 1
                parent.deps = deps
                if deps == 0:
                    if parent.prim is None and accumulating and not parent.hooks:
                        # a leaf with nothing to run first: accumulate now rather than queue it
                        pending = parent.pending
                        parent.pending = None
                        if pending is not None:
                            _accumulate(parent, pending)
                    else:
                        push(parent)
    except BaseException:
        _reset(nodes)
        raise
    finally:
        _mode.enabled = previous
    return captured


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


def _nodes_leading_to(roots: Sequence[Node], targets: dict) -> tuple[set, set]:
    """For grad(): the nodes on some path from ``roots`` to a target, and those of them that must run.

    A target whose own inputs lead to no other target is only read, not run (as in PyTorch,
    ``grad(z, y)`` does not run or free the op that made ``y``).
    """
    needed: set = set()
    to_run: set = set()
    for node in reversed(topological_order(roots)):  # inputs before the nodes that consume them
        feeds_target = any(p is not None and p in needed for p in node.parents)
        if feeds_target:
            to_run.add(node)
        if feeds_target or node in targets:
            needed.add(node)
    return needed, to_run


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
    if isinstance(gradient, Tensor):
        seed = _make(np.array(gradient.data, dtype=gradient.data.dtype), gradient._node)
    else:
        seed = _make(np.array(gradient, dtype=output.data.dtype), None)
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
