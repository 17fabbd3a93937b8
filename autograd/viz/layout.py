"""What one drawing shows: its boxes (nodes, collapsed module calls, summarised chains),
the clusters they sit in, the edges between them, and the walk over the cluster tree.

`_plan` picks the view to draw (collapsing modules and chains to fit ``max_nodes``); `_walk`
puts its boxes and nested clusters in the order a text writer emits them, the one walk that
`to_dot` and `to_mermaid` share; `_arrows` orients the edges.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from ..tensor import Tensor
from .reader import _as_roots, _Graph, _Scope
from .recorder import GradientRecorder

_CHAIN_KEEP = 2  # a summarised chain keeps this many nodes at each end


@dataclass
class _Item:
    """One box in a drawing: a node, a collapsed module call, or a summarised chain of nodes."""

    id: str
    kind: str  # "op", "leaf", "module" or "chain"
    cluster: _Scope | None
    node: int = -1  # for "op" and "leaf"
    scope: _Scope | None = None  # for "module"
    members: list[int] = field(default_factory=list)  # for "module" and "chain"


@dataclass
class _View:
    items: list[_Item]
    edges: list[tuple[str, str]]  # producer -> consumer
    clusters: list[_Scope]  # drawn clusters, outer before inner
    depth: int | None
    summarised: int = 0  # nodes folded into chain summaries


def _build_view(graph: _Graph, depth: int | None) -> _View:
    """The boxes, clusters and edges when module calls at ``depth`` are collapsed (None: nothing is)."""
    items: list[_Item] = []
    rep: list[_Item | None] = [None] * len(graph.nodes)
    boxes: dict[int, _Item] = {}
    for i, node in enumerate(graph.nodes):
        scope = graph.inner[i]
        if scope is not None and depth is not None and scope.depth >= depth:
            while scope.depth > depth and scope.parent is not None:
                scope = scope.parent
            if scope.depth != depth:  # depth 0 without the model passed in: no module structure at all
                items.append(_Item(f"n{i}", "leaf" if node.is_leaf else "op", None, node=i))
                rep[i] = items[-1]
                continue
            box = boxes.get(id(scope))
            if box is None:
                box = boxes[id(scope)] = _Item(f"m{len(boxes)}", "module", _drawn(scope.parent), scope=scope)
                items.append(box)
            box.members.append(i)
            rep[i] = box
        else:
            item = _Item(f"n{i}", "leaf" if node.is_leaf else "op", _drawn(scope), node=i)
            items.append(item)
            rep[i] = item
    edges: dict[tuple[str, str], None] = {}
    for i, parents in enumerate(graph.parents):
        b = rep[i]
        for j in parents:
            a = rep[j]
            if a is not b:
                edges[(a.id, b.id)] = None
    return _View(items, list(edges), _clusters_of(items), depth)


def _drawn(scope: _Scope | None) -> _Scope | None:
    """The cluster a box sits in: its scope, unless that is the frame of the model passed in."""
    return scope if scope is not None and not scope.frame else None


def _clusters_of(items: list[_Item]) -> list[_Scope]:
    """Every cluster that holds a box, with the clusters around it, outer before inner."""
    found: dict[int, _Scope] = {}
    for item in items:
        scope = item.cluster
        while scope is not None and not scope.frame and id(scope) not in found:
            found[id(scope)] = scope
            scope = scope.parent
    return sorted(found.values(), key=lambda s: s.depth)


def _summarise_chains(graph: _Graph, view: _View, min_length: int = 2 * _CHAIN_KEEP + 3) -> _View:
    """Fold the middle of every long chain of one-input, one-consumer boxes into one summary box."""
    by_id = {item.id: item for item in view.items}
    succ: dict[str, list[str]] = {}
    pred: dict[str, list[str]] = {}
    for a, b in view.edges:
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)

    def linked(x: str) -> bool:
        item = by_id[x]
        return (
            len(pred.get(x, ())) == 1
            and len(succ.get(x, ())) == 1
            and item.kind != "leaf"
            and item.node not in graph.root_ids
        )

    folded: dict[str, str] = {}  # box id -> summary id
    summaries: list[_Item] = []
    for item in reversed(view.items):  # forward order: a chain is met at its start
        x = item.id
        if x in folded or not linked(x):
            continue
        (before,) = pred[x]
        if linked(before) and by_id[before].cluster is item.cluster:
            continue  # not the start of its chain
        chain = [x]
        while True:
            (nxt,) = succ[chain[-1]]
            if not linked(nxt) or by_id[nxt].cluster is not item.cluster:
                break
            chain.append(nxt)
        if len(chain) < min_length:
            continue
        middle = chain[_CHAIN_KEEP:-_CHAIN_KEEP]
        summary = _Item(f"s{len(summaries)}", "chain", item.cluster)
        for y in middle:
            folded[y] = summary.id
            inner = by_id[y]
            summary.members.extend(inner.members if inner.kind == "module" else [inner.node])
        summaries.append(summary)
    if not summaries:
        return view
    by_summary = {s.id: s for s in summaries}
    items: list[_Item] = []
    for item in view.items:  # a summary takes the place of the first box of its chain met (root first)
        if item.id not in folded:
            items.append(item)
        elif folded[item.id] in by_summary:
            items.append(by_summary.pop(folded[item.id]))
    edges: dict[tuple[str, str], None] = {}
    for a, b in view.edges:
        a, b = folded.get(a, a), folded.get(b, b)
        if a != b:
            edges[(a, b)] = None
    count = sum(len(s.members) for s in summaries)
    return _View(items, list(edges), view.clusters, view.depth, count)


def _choose_view(graph: _Graph, max_depth: int | None, max_nodes: int | None) -> tuple[_View, str]:
    """The view to draw and a note on what was collapsed to fit ``max_nodes``."""
    if max_depth is not None and max_depth < 0:
        raise ValueError(f"viz: max_depth must be 0 or more, got {max_depth}")
    view = _build_view(graph, max_depth)
    if max_nodes is None or len(view.items) <= max_nodes:
        return view, ""
    full = len(graph.nodes)
    if max_depth is None:
        deepest = max((s.depth for s in graph.scopes), default=0)
        for depth in range(deepest, 0, -1):
            view = _build_view(graph, depth)
            if len(view.items) <= max_nodes:
                return view, f"collapsed to max_depth={depth} to fit max_nodes={max_nodes} (full graph: {full} nodes)"
    view = _summarise_chains(graph, view)
    note = f"full graph: {full} nodes"
    if view.depth is not None and max_depth is None:
        note += f"; collapsed to max_depth={view.depth}"
    if view.summarised:
        note += f"; {view.summarised} nodes in long chains summarised"
    if len(view.items) > max_nodes:
        note += f"; still above max_nodes={max_nodes}"
    return view, note + " (pass max_nodes=None to draw everything)"


def _check_direction(direction: str) -> None:
    if direction not in ("backward", "forward"):
        raise ValueError(f"viz: direction must be 'backward' (gradient flow) or 'forward', not {direction!r}")


def _plan(
    root: Tensor | Sequence[Tensor],
    params: Any,
    grads: GradientRecorder | None,
    direction: str,
    max_depth: int | None,
    max_nodes: int | None,
) -> tuple[_Graph, _View, str]:
    """Check the arguments of a drawing, read the graph behind ``root`` and choose the view to draw.

    Returns:
        The graph, the view, and the note on what was collapsed (see `_choose_view`).
    """
    _check_direction(direction)
    graph = _Graph(_as_roots(root), params, grads)
    view, note = _choose_view(graph, max_depth, max_nodes)
    return graph, view, note


def _arrows(view: _View, direction: str) -> list[tuple[str, str]]:
    """The edges as drawn, tail first: "backward" goes from consumer to producer (the gradient's way)."""
    return [(b, a) if direction == "backward" else (a, b) for a, b in view.edges]


class _Step(NamedTuple):
    """One step of `_walk`: a cluster opens, a box is drawn, or a cluster closes."""

    kind: Literal["open", "item", "close"]
    level: int  # how far in its line sits: 0 at the top, 1 inside one cluster, ...
    scope: _Scope | None  # the cluster opened or closed, or the one the box is drawn in (None: at the top)
    item: _Item | None = None  # the box, for "item"


def _walk(view: _View) -> Iterator[_Step]:
    """The boxes and clusters of a view in the order a text writer puts them down.

    First the boxes outside every cluster; then each top-level cluster in turn: it opens, its
    own boxes follow, then the clusters inside it (the same way), then it closes. Clusters nest,
    so the walk keeps an explicit stack (open, then close) instead of recursing.
    """
    children: dict[int | None, list[_Scope]] = {}
    for scope in view.clusters:
        parent = _drawn(scope.parent)
        children.setdefault(id(parent) if parent is not None else None, []).append(scope)
    members: dict[int | None, list[_Item]] = {}
    for item in view.items:
        members.setdefault(id(item.cluster) if item.cluster is not None else None, []).append(item)
    for item in members.get(None, []):
        yield _Step("item", 0, None, item)
    stack: list[tuple[_Scope, bool]] = [(scope, False) for scope in reversed(children.get(None, []))]
    while stack:
        scope, closing = stack.pop()
        if closing:
            yield _Step("close", scope.depth - 1, scope)
            continue
        yield _Step("open", scope.depth - 1, scope)
        for item in members.get(id(scope), []):
            yield _Step("item", scope.depth, scope, item)
        stack.append((scope, True))
        stack.extend((child, False) for child in reversed(children.get(id(scope), [])))
