"""The engine: the only place the chain rule runs. It sees nodes, never tensors.

`run_backward` orders the nodes reachable from the roots by counting, for each node, the
consumers that must send it a gradient first (an iterative pass: no recursion, so a
100,000-node chain is fine). A node runs once all its consumers have run: its pending
gradient, summed over every path, goes through its primitive's rule to its parents.
Leaves accumulate through ``LeafNode.accumulate``. Saved values are released as each node
runs unless ``retain_graph`` is set (``saved``, ``attrs`` and ``out_data`` become None;
``released`` reads that).

The loop sees a node only through ``parents``, ``prim.backward``, ``hooks``,
``pending``/``deps``, ``epoch``, those three saved fields and ``accumulate`` on leaves; a
gradient only through ``+``. The Tensor-level entry points (`backward`, `grad`: checks and
seed gradients) are in `autograd.backprop`. Imports: `autograd.graph` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Any

from .graph import Node, grad_mode, refuse_stale_saved_values, state

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


def _run_hooks(hooks: list, grad: Any, accumulating: bool) -> Any:
    if state.tracer is not None:
        state.tracer.refuse("a tensor hook (register_hook or retain_grad) ran during backward")
    for hook in hooks:
        if not accumulating and getattr(hook, "only_when_accumulating", False):
            continue  # grad() leaves .grad alone, like PyTorch: retain_grad's hook sits this one out
        result = hook(grad)
        if result is not None:
            grad = result
    return grad


def run_backward(
    roots: Sequence[Node],
    seeds: Sequence[Any],
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
    needed = to_run = captured = None
    if capture is not None:
        needed, to_run = _nodes_leading_to(roots, capture)
        kept = [(r, s) for r, s in zip(roots, seeds) if r in needed]
        roots, seeds = (tuple(r for r, _ in kept), tuple(s for _, s in kept))
        captured = [None] * len(capture)
    nodes = _count_consumers(roots, needed)
    ready = []
    for root, seed in zip(roots, seeds):
        root.pending = seed if root.pending is None else root.pending + seed
        root.deps -= 1
        if root.deps == 0:
            ready.append(root)
    # Read once: nothing switches these during a pass, and locals are cheaper in the loop.
    accumulating = capture is None
    release = not retain_graph
    mutation_epoch = state.mutation_epoch
    check_anomalies = state.checks_anomalies
    pop, push = ready.pop, ready.append
    previous, grad_mode.enabled = grad_mode.enabled, create_graph
    try:
        while ready:
            # 1. Take a node whose consumers have all run, and its summed gradient.
            node = pop()
            grad = node.pending
            node.pending = None
            if node.hooks and grad is not None:
                grad = _run_hooks(node.hooks, grad, accumulating)
            if not accumulating:
                if node in capture:
                    captured[capture[node]] = grad
                if node not in to_run:
                    continue
            # 2. A leaf accumulates; any other node runs its rule (once its saved values are known fresh).
            prim = node.prim
            if prim is None:
                if grad is not None and accumulating:
                    node.accumulate(grad)
                continue
            if node.epoch < mutation_epoch:
                refuse_stale_saved_values(node)
            if grad is None:
                grads = repeat(None)
            else:
                grads = prim.backward(node, grad)
                if check_anomalies:
                    state.anomaly_backward(node, grad, grads)
            if release:  # free what the node saved for backward; its place in the graph stays
                node.saved = node.attrs = node.out_data = None
            # 3. Send each gradient to its parent; a parent with no consumers left is ready.
            for parent, g in zip(node.parents, grads):
                if parent is None or (needed is not None and parent not in needed):
                    continue
                if g is not None:
                    pending = parent.pending
                    parent.pending = g if pending is None else pending + g
                deps = parent.deps - 1
                parent.deps = deps
                if deps == 0:
                    push(parent)
    except BaseException:
        _reset(nodes)
        raise
    finally:
        grad_mode.enabled = previous
    return captured


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
