"""Drawing the recorded graph: where gradient messages travel, and where they vanish, explode or turn NaN.

``to_dot(loss, model)`` gives Graphviz DOT text (no Graphviz needed), ``draw_graph(loss, model)``
a ``graphviz.Digraph`` (shown inline in Jupyter; ``.render("graph", format="png")``) and
``to_mermaid(loss, model)`` Mermaid text for Markdown pages. ``graph_stats(loss, model)``
counts nodes, depth and the bytes saved for backward, per op and per module.

Each box is one recorded node: an op (its name, output shape and dtype) or a leaf tensor
(its parameter name when a module or a ``name -> Tensor`` dict is passed). Nodes are grouped
into nested clusters by the module call that made them (``blocks.0.attn``); ``max_depth=1``
draws each top-level module as one box, and graphs above ``max_nodes`` are collapsed to the
deepest level that fits (long chains of single ops are summarised when even that is not
enough). After backward, boxes are coloured by gradient norm (darker is larger; red: NaN or
inf; grey: zero gradient). Interior nodes free their saved values during backward, so record
their gradients and shapes first::

    rec = trace_gradients(loss)      # hooks on every node, before backward
    loss.backward()
    draw_graph(loss, model, grads=rec).render("loss_graph", format="svg")

Every walk is iterative (`autograd.engine.topological_order`), so a 100,000-node chain is fine.
Pictures come from the system Graphviz ``dot`` when there is one, else from the ``graphviz-pure``
program that gradwire's dependencies install (`find_renderer`).

An observer: it reads public graph attributes (``parents``, ``prim``, ``saved``, ``scopes``,
``add_hook``) and is never imported by the core. The ``graphviz`` Python package is imported
inside `draw_graph` only; nothing here imports ``nn`` (a module is any object with
``named_parameters()`` and ``named_modules()``).
"""

from __future__ import annotations

import html
import math
import os
import shutil
import subprocess
import sys
import sysconfig
import weakref
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .engine import topological_order
from .graph import Node, recorded_scopes
from .tensor import Tensor

__all__ = [
    "GradientRecorder",
    "GraphStats",
    "RendererNotFoundError",
    "TensorStats",
    "draw_graph",
    "find_renderer",
    "graph_stats",
    "to_dot",
    "to_mermaid",
    "trace_gradients",
]

# Colours: gradient norm on a light-to-dark blue scale (ColorBrewer "Blues"), problems in red and grey.
GRAD_PALETTE = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
NAN_COLOR = "#e41a1c"  # a NaN or inf gradient, or a NaN or +inf value (-inf is how masks are written)
ZERO_COLOR = "#d9d9d9"  # the gradient is exactly zero everywhere
NO_GRAD_COLOR = "#ffffff"  # backward ran but no gradient reached this node
OP_COLOR = "#eef2f8"  # before backward: ops ...
PARAM_COLOR = "#fff1c1"  # ... parameters ...
INPUT_COLOR = "#e3f2df"  # ... other leaves ...
MODULE_COLOR = "#dbe4f3"  # ... and collapsed modules
ROOT_COLOR = "#c7e9c0"
CLUSTER_COLORS = ("#f6f8fc", "#ebf0f8", "#e0e7f3", "#d6dfee")
_FONT = "Helvetica"
_MIN_DECADES = 3.0  # the colour scale spans at least this many powers of ten, so near-equal norms look alike
_CHAIN_KEEP = 2  # a summarised chain keeps this many nodes at each end


# ───────────── statistics of one array ─────────────

_DTYPE_NAMES: dict[np.dtype, str] = {}


def _dtype_name(dtype: np.dtype) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


@dataclass(frozen=True)
class TensorStats:
    """Summary of one array (a node's output value or its gradient).

    Attributes:
        shape: the array's shape.
        dtype: its dtype, as a string ("float32").
        norm: the Euclidean norm over all elements (NaN when any element is NaN).
        min, max, mean: over the finite elements (NaN when there are none).
        nan, posinf, neginf: how many elements are NaN, +inf and -inf.
        zeros: how many elements are exactly zero.
        size: the number of elements.
    """

    shape: tuple
    dtype: str
    norm: float
    min: float
    max: float
    mean: float
    nan: int
    posinf: int
    neginf: int
    zeros: int
    size: int

    @classmethod
    def of(cls, array: Any) -> TensorStats:
        """Summarise an ndarray (or a Tensor's data)."""
        a = np.asarray(array)
        flat = a.reshape(-1).astype(np.float64, copy=False)
        size = flat.size
        nan = posinf = neginf = 0
        finite = flat
        total = float(flat.sum()) if size else 0.0
        if not math.isfinite(total):  # some element is NaN or infinite (or the sum overflowed)
            nan = int(np.count_nonzero(np.isnan(flat)))
            posinf = int(np.count_nonzero(np.isposinf(flat)))
            neginf = int(np.count_nonzero(np.isneginf(flat)))
            if nan or posinf or neginf:
                finite = flat[np.isfinite(flat)]
        if finite.size:
            lo, hi, mean = float(finite.min()), float(finite.max()), float(finite.mean())
        else:
            lo = hi = mean = math.nan
        return cls(
            shape=a.shape,
            dtype=_dtype_name(a.dtype),
            norm=math.sqrt(float(np.dot(flat, flat))) if size else 0.0,
            min=lo,
            max=hi,
            mean=mean,
            nan=nan,
            posinf=posinf,
            neginf=neginf,
            zeros=int(size - np.count_nonzero(flat)),
            size=int(size),
        )

    @property
    def inf(self) -> int:
        """How many elements are infinite (either sign)."""
        return self.posinf + self.neginf

    @property
    def finite(self) -> bool:
        """True when no element is NaN or infinite."""
        return self.nan == 0 and self.inf == 0

    @property
    def suspicious_value(self) -> bool:
        """True for NaN or +inf values; -inf alone is not flagged: masks are written with it (attention scores)."""
        return self.nan > 0 or self.posinf > 0

    @property
    def all_zero(self) -> bool:
        """True when every element is exactly zero."""
        return self.size > 0 and self.zeros == self.size


# ───────────── recording gradients during backward ─────────────


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


# ───────────── reading the graph: nodes, shapes, names, module scopes ─────────────


class _Scope:
    """One module call: its output node, its input nodes and the nodes it made (indices into the graph)."""

    __slots__ = ("owner", "output", "inputs", "position", "members", "parent", "depth", "name", "kind", "frame")

    def __init__(self, owner: Any, output: int, inputs: list[int], position: int) -> None:
        self.owner = owner
        self.output = output
        self.inputs = inputs
        self.position = position  # index among the records on the output node: inner calls come first
        self.members: list[int] = []
        self.parent: _Scope | None = None
        self.depth = 1
        self.name = ""
        self.kind = type(owner).__name__
        self.frame = False  # a call of the module passed in: not drawn as a cluster (depth 0)


def _as_roots(root: Tensor | Sequence[Tensor]) -> list[Tensor]:
    roots = [root] if isinstance(root, Tensor) else list(root)
    if not roots:
        raise ValueError("viz: no tensor to draw")
    for i, t in enumerate(roots):
        if not isinstance(t, Tensor):
            raise TypeError(f"viz: root {i} is a {type(t).__name__}, not a Tensor")
        if t._node is None:
            raise ValueError(
                f"viz: root {i} (shape {t.shape}) has no graph: it does not require grad, or it was computed "
                "under no_grad"
            )
    return roots


def _parameter_names(params: Any) -> tuple[dict[int, str], dict[int, str], Any]:
    """Names by object id: parameters, modules, and the root module (None when a dict was passed)."""
    if params is None:
        return {}, {}, None
    if hasattr(params, "named_parameters"):
        names = {id(p): n for n, p in params.named_parameters()}
        modules = {id(m): n for n, m in params.named_modules()} if hasattr(params, "named_modules") else {}
        return names, modules, params
    if isinstance(params, Mapping):
        return {id(t): str(n) for n, t in params.items()}, {}, None
    raise TypeError(
        f"viz: params must be a module (with named_parameters()) or a dict of name -> Tensor, "
        f"not {type(params).__name__}"
    )


class _Graph:
    """The nodes behind some roots, with what a drawing needs to know about each.

    Nodes are numbered in `topological_order` (the roots first); ``parents[i]`` lists the
    numbers of node ``i``'s inputs. ``tensors[i]`` is a tensor whose node is ``i`` (a leaf,
    a root, or an input saved by a consumer), the source of shapes before backward.
    """

    def __init__(self, roots: list[Tensor], params: Any, recorder: GradientRecorder | None) -> None:
        self.roots = roots
        self.recorder = recorder
        self.nodes: list[Node] = topological_order([t._node for t in roots])
        index = {id(n): i for i, n in enumerate(self.nodes)}
        self.index = index
        self.parents: list[list[int]] = [[index[id(p)] for p in n.parents if p is not None] for n in self.nodes]
        self.root_ids = {index[id(t._node)] for t in roots}
        self.tensors: list[Tensor | None] = [None] * len(self.nodes)
        for t in roots:
            self.tensors[index[id(t._node)]] = t
        for i, node in enumerate(self.nodes):
            if node.is_leaf:
                self.tensors[i] = node.tensor_ref()
            elif node.saved is not None:
                inputs = getattr(node.prim, "inputs", None)
                for t in inputs(node) if inputs is not None else ():
                    if isinstance(t, Tensor) and t._node is not None:
                        j = index.get(id(t._node))
                        if j is not None and self.tensors[j] is None:
                            self.tensors[j] = t
        self.param_names, self.module_names, self.root_module = _parameter_names(params)
        self._submodules: dict[int, set[int]] = {}
        self._owned: dict[int, dict[int, str]] = {}
        self._grad_cache: dict[int, TensorStats | None] = {}
        self._value_cache: dict[int, TensorStats | None] = {}
        self._inferred: list[tuple] | None = None
        self.full_values = False  # compute every value's statistics, not only suspicious ones (show_stats)
        self.scopes = self._find_scopes()
        self.inner: list[_Scope | None] = [None] * len(self.nodes)
        self._nest_scopes()
        self.backward_ran = self._backward_ran()

    # ─── modules ───

    def _subs(self, owner: Any) -> set[int]:
        """Ids of ``owner`` and every module inside it."""
        subs = self._submodules.get(id(owner))
        if subs is None:
            walk = getattr(owner, "named_modules", None)
            subs = {id(m) for _, m in walk()} if walk is not None else set()
            subs.add(id(owner))
            self._submodules[id(owner)] = subs
        return subs

    def owned_params(self, owner: Any) -> dict[int, str]:
        """Ids of the parameters inside ``owner`` -> their names relative to it."""
        owned = self._owned.get(id(owner))
        if owned is None:
            walk = getattr(owner, "named_parameters", None)
            owned = {id(p): n for n, p in walk()} if walk is not None else {}
            self._owned[id(owner)] = owned
        return owned

    def _find_scopes(self) -> list[_Scope]:
        scopes = []
        index = self.index
        for i, node in enumerate(self.nodes):
            for position, (owner, inputs) in enumerate(recorded_scopes(node)):
                ins = [index[id(n)] for n in inputs if n is not None and id(n) in index]
                if i in ins:
                    continue  # the module returned its input unchanged (dropout off): it made nothing
                scope = _Scope(owner, i, ins, position)
                scope.members = self._members(scope)
                scopes.append(scope)
        return scopes

    def _members(self, scope: _Scope) -> list[int]:
        """The nodes a module call made: reachable back from its output without crossing its inputs.

        A leaf belongs to it only when it is one of the module's own parameters; the walk also
        stops at nodes made by calls of modules outside this one (a tensor passed by keyword).
        """
        stop = set(scope.inputs)
        owned = self.owned_params(scope.owner)
        inside = self._subs(scope.owner)
        seen = {scope.output}
        stack = [scope.output]
        members = []
        nodes = self.nodes
        while stack:
            i = stack.pop()
            members.append(i)
            for j in self.parents[i]:
                if j in seen or j in stop:
                    continue
                seen.add(j)
                node = nodes[j]
                if node.is_leaf:
                    tensor = node.tensor_ref()
                    if tensor is None or id(tensor) not in owned:
                        continue
                elif node.scopes and not any(id(owner) in inside for owner, _ in node.scopes):
                    continue
                stack.append(j)
        return members

    def _nest_scopes(self) -> None:
        """Name the scopes, find each one's enclosing scope and depth, and each node's innermost scope."""
        counts: Counter = Counter()
        # Outer scopes first (more members; on a shared output node, later records are outer calls):
        ordered = sorted(range(len(self.scopes)), key=lambda k: (len(self.scopes[k].members), self.scopes[k].position))
        for k in reversed(ordered):
            scope = self.scopes[k]
            scope.parent = self.inner[scope.output]
            scope.frame = self.root_module is not None and scope.owner is self.root_module
            if scope.frame:
                scope.depth = 0
            else:
                scope.depth = scope.parent.depth + 1 if scope.parent is not None else 1
            for i in scope.members:
                self.inner[i] = scope
        instances: dict[int, str] = {}  # module id -> its name (or class name, numbered when several)
        for scope in sorted(self.scopes, key=lambda s: s.output, reverse=True):  # roughly the order of the calls
            owner = id(scope.owner)
            if owner not in instances:
                name = self.module_names.get(owner)
                if not name:
                    counts[scope.kind] += 1
                    name = scope.kind if counts[scope.kind] == 1 else f"{scope.kind} #{counts[scope.kind]}"
                instances[owner] = name
            counts[owner] += 1
            scope.name = instances[owner] + ("" if counts[owner] == 1 else f" (call {counts[owner]})")

    # ─── what is known about a node ───

    def _backward_ran(self) -> bool:
        if self.recorder is not None and len(self.recorder.grads):
            return True
        return any(self.tensors[i] is not None and self.tensors[i].grad is not None for i in self.leaves())

    def leaves(self) -> list[int]:
        """Numbers of the leaf nodes."""
        return [i for i, n in enumerate(self.nodes) if n.is_leaf]

    def value(self, i: int) -> TensorStats | None:
        """Statistics of node ``i``'s output value: the recorder's, else computed from a tensor when
        ``full_values`` is set, for a root, or when the value holds NaN or inf (a cheap check first)."""
        if i not in self._value_cache:
            stats = self.recorder.values.get(self.nodes[i]) if self.recorder is not None else None
            tensor = self.tensors[i]
            if stats is None and tensor is not None:
                data = tensor.data
                if self.full_values or i in self.root_ids or (data.dtype.kind in "fc" and not np.isfinite(data.sum())):
                    stats = TensorStats.of(data)
            self._value_cache[i] = stats
        return self._value_cache[i]

    def grad(self, i: int) -> TensorStats | None:
        """Statistics of node ``i``'s gradient: from the recorder, else a leaf's ``.grad``."""
        if i not in self._grad_cache:
            stats = self.recorder.grads.get(self.nodes[i]) if self.recorder is not None else None
            if stats is None and self.nodes[i].is_leaf:
                tensor = self.tensors[i]
                if tensor is not None and tensor.grad is not None:
                    stats = TensorStats.of(tensor.grad.data)
            self._grad_cache[i] = stats
        return self._grad_cache[i]

    def grad_known(self, i: int) -> bool:
        """True when a missing gradient for node ``i`` means that none reached it (a leaf, or a traced node)."""
        return self.nodes[i].is_leaf or (self.recorder is not None and self.nodes[i] in self.recorder.traced)

    def shape_dtype(self, i: int) -> tuple[tuple | None, str | None]:
        """Node ``i``'s output shape and dtype, or (None, None) when backward freed every trace of them."""
        tensor = self.tensors[i]
        if tensor is not None:
            return tensor.data.shape, _dtype_name(tensor.data.dtype)
        stats = None
        if self.recorder is not None:
            stats = self.recorder.values.get(self.nodes[i]) or self.recorder.grads.get(self.nodes[i])
        if stats is not None:
            return stats.shape, stats.dtype
        if self._inferred is None:
            self._inferred = self._infer_shapes()
        return self._inferred[i]

    def _infer_shapes(self) -> list[tuple]:
        """Shape and dtype of nodes no kept tensor shows (ops like tanh keep no input): from a saved
        output, else across elementwise ops (``keeps_shape``), from their input or their result."""
        known: list[tuple] = [(None, None)] * len(self.nodes)
        for i, node in enumerate(self.nodes):
            if self.tensors[i] is not None:
                known[i] = (self.tensors[i].data.shape, _dtype_name(self.tensors[i].data.dtype))
            elif node.out_data is not None:
                known[i] = (np.shape(node.out_data), _dtype_name(np.asarray(node.out_data).dtype))
        elementwise = [
            len(self.parents[i]) == 1 and getattr(node.prim, "keeps_shape", False) for i, node in enumerate(self.nodes)
        ]
        for _ in range(2):
            for i in reversed(range(len(self.nodes))):  # inputs before their consumers
                if known[i][0] is None and elementwise[i]:
                    known[i] = known[self.parents[i][0]]
            for i in range(len(self.nodes)):  # consumers before their inputs
                if known[i][0] is not None and elementwise[i] and known[self.parents[i][0]][0] is None:
                    known[self.parents[i][0]] = known[i]
        return known

    def leaf_name(self, i: int, cluster: _Scope | None) -> str:
        """A leaf's label: its parameter name (relative to the cluster it is drawn in), else its own name."""
        tensor = self.tensors[i]
        if tensor is None:
            return "leaf"
        name = self.param_names.get(id(tensor))
        if name is not None:
            prefix = self.module_names.get(id(cluster.owner)) if cluster is not None else None
            if prefix and name.startswith(prefix + "."):
                return name[len(prefix) + 1 :]
            return name
        scope = self.inner[i]
        if scope is not None:
            relative = self.owned_params(scope.owner).get(id(tensor))
            if relative is not None:
                return relative
        return tensor.name or "leaf"

    def is_param(self, i: int) -> bool:
        """True for a leaf that is a named parameter or belongs to a module call."""
        tensor = self.tensors[i]
        if tensor is None:
            return False
        return id(tensor) in self.param_names or self.inner[i] is not None


# ───────────── what one drawing shows: visible items, clusters, edges ─────────────


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


# ───────────── how each box looks ─────────────


@dataclass
class _Look:
    lines: list[str]  # the first is the title
    fill: str
    text: str  # title colour
    sub: str  # colour of the other lines
    shape: str
    style: str
    css: str  # a class name in SVG output (and Mermaid): op, param, input, module, chain, nan, zero-grad, no-grad
    tooltip: str
    penwidth: str = "1"
    border: str = "#7f8c9f"


def _num(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    return f"{x:.2e}"


def _shape_text(shape: tuple | None, dtype: str | None) -> str:
    if shape is None:
        return ""
    text = "scalar" if shape == () else "(" + ", ".join(str(s) for s in shape) + ")"
    return f"{text} {dtype}" if dtype else text


def _stats_text(prefix: str, stats: TensorStats) -> str:
    return f"{prefix} min {_num(stats.min)} mean {_num(stats.mean)} max {_num(stats.max)}"


def _problems(stats: TensorStats | None) -> str:
    if stats is None or stats.finite:
        return ""
    parts = [(stats.nan, "NaN"), (stats.posinf, "+inf"), (stats.neginf, "-inf")]
    return ", ".join(f"{n} {what}" for n, what in parts if n)


def _single(stats: TensorStats) -> str:
    """The value of a one-element array."""
    if stats.nan:
        return "nan"
    if stats.inf:
        return "inf" if stats.posinf else "-inf"
    return _num(stats.mean)


def _signature(graph: _Graph, scope: _Scope) -> str:
    """A module call's input and output shapes: "(2, 8, 16) -> (2, 8, 11) float32"."""
    out, dtype = graph.shape_dtype(scope.output)
    if out is None:
        return ""
    ins = dict.fromkeys(shape for shape, _ in map(graph.shape_dtype, scope.inputs) if shape is not None)
    return ", ".join(_shape_text(shape, None) for shape in ins) + " -> " + _shape_text(out, dtype)


class _Styler:
    """Turns boxes into labels and colours; the gradient colour scale is fitted to the boxes drawn."""

    def __init__(self, graph: _Graph, view: _View, show_stats: bool) -> None:
        self.graph = graph
        self.show_stats = show_stats
        self.grad_mode = graph.backward_ran
        graph.full_values = show_stats
        norms = [self._norm(item) for item in view.items]
        logs = [math.log10(n) for n in norms if n is not None and math.isfinite(n) and n > 0]
        if logs:
            lo, hi = min(logs), max(logs)
            if hi - lo < _MIN_DECADES:
                mid = (lo + hi) / 2
                lo, hi = mid - _MIN_DECADES / 2, mid + _MIN_DECADES / 2
            self.scale: tuple[float, float] | None = (lo, hi)
        else:
            self.scale = None

    def _norm(self, item: _Item) -> float | None:
        """The gradient norm a box is coloured by: its node's, or a module's parameters' together."""
        g = self.graph
        if item.kind in ("op", "leaf"):
            stats = g.grad(item.node)
            return stats.norm if stats is not None else None
        if item.kind == "module":
            squares = [g.grad(i).norm ** 2 for i in item.members if g.nodes[i].is_leaf and g.grad(i) is not None]
            if squares:
                return math.sqrt(sum(squares))
            stats = g.grad(item.scope.output)
            return stats.norm if stats is not None else None
        return None

    def color(self, norm: float) -> str:
        """The palette colour for a gradient norm."""
        if self.scale is None or norm <= 0:
            return GRAD_PALETTE[0]
        lo, hi = self.scale
        t = (math.log10(norm) - lo) / (hi - lo)
        return GRAD_PALETTE[min(len(GRAD_PALETTE) - 1, max(0, int(t * len(GRAD_PALETTE))))]

    def _text_on(self, fill: str) -> tuple[str, str]:
        if fill == NAN_COLOR or (fill in GRAD_PALETTE and GRAD_PALETTE.index(fill) >= 5):
            return "#ffffff", "#e8eef7"
        if fill == ZERO_COLOR:
            return "#6b6b6b", "#7d7d7d"
        return "#111111", "#3d4654"

    def look(self, item: _Item) -> _Look:
        """Label lines, colours and shape of one box."""
        g = self.graph
        if item.kind == "chain":
            ops = Counter("leaf" if g.nodes[i].is_leaf else g.nodes[i].name for i in item.members)
            common = ", ".join(f"{name} x{n}" for name, n in ops.most_common(3))
            more = ", ..." if len(ops) > 3 else ""
            lines = [f"... {len(item.members)} more nodes ...", common + more]
            bad = g.recorder is not None and any(
                not s.finite for i in item.members if (s := g.recorder.grads.get(g.nodes[i])) is not None
            )
            fill = NAN_COLOR if bad else "#ffffff"
            text, sub = self._text_on(fill)
            return _Look(lines, fill, text, sub, "box", "dashed,filled", "nan" if bad else "chain", "\n".join(lines))
        if item.kind == "module":
            return self._module_look(item)
        return self._node_look(item)

    def _node_look(self, item: _Item) -> _Look:
        g = self.graph
        i = item.node
        node = g.nodes[i]
        shape, dtype = g.shape_dtype(i)
        value = g.value(i)
        grad = g.grad(i)
        is_root = i in g.root_ids
        if node.is_leaf:
            param = g.is_param(i)
            title = g.leaf_name(i, item.cluster)
            kind, base = ("param", PARAM_COLOR) if param else ("input", INPUT_COLOR)
            box, style = "box", "filled"
        else:
            title = node.name
            kind, base = "op", OP_COLOR
            box, style = "box", "rounded,filled"
        lines = [title]
        shape_line = _shape_text(shape, dtype)
        if shape_line:
            lines.append(shape_line)
        if is_root and value is not None and value.size == 1:
            lines.append(f"= {_single(value)}")
        elif self.show_stats and value is not None:
            lines.append(_stats_text("x", value))
        if value is not None and value.suspicious_value:
            lines.append(f"value: {_problems(value)}")
        fill, css, dashed = base, kind, False
        if self.grad_mode:
            if grad is None and g.grad_known(i):
                fill, css, dashed = NO_GRAD_COLOR, "no-grad", True
                lines.append("no grad")
            elif grad is not None:
                lines.append(f"|grad| {_num(grad.norm)}")
                if self.show_stats:
                    lines.append(_stats_text("grad", grad))
                if not grad.finite:
                    fill, css = NAN_COLOR, "nan"
                    lines.append(f"grad: {_problems(grad)}")
                elif grad.all_zero:
                    fill, css = ZERO_COLOR, "zero-grad"
                else:
                    fill = self.color(grad.norm)
        if value is not None and value.suspicious_value:
            fill, css = NAN_COLOR, "nan"
        if is_root and not self.grad_mode:
            fill = ROOT_COLOR
        if dashed:
            style += ",dashed"
        text, sub = self._text_on(fill)
        tooltip = [f"{title}: {shape_line}"]
        if value is not None:
            tooltip.append(_stats_text("value", value) + (f" ({_problems(value)})" if _problems(value) else ""))
        if grad is not None:
            tooltip.append(f"grad norm {_num(grad.norm)}; " + _stats_text("grad", grad))
            if grad.zeros:
                tooltip.append(f"{grad.zeros} of {grad.size} gradient elements are zero")
        look = _Look(lines, fill, text, sub, box, style, css, "\n".join(tooltip))
        if is_root:
            look.penwidth, look.border = "2.5", "#1b5e20"
        return look

    def _module_look(self, item: _Item) -> _Look:
        g = self.graph
        scope = item.scope
        ops = sum(1 for i in item.members if not g.nodes[i].is_leaf)
        params = [i for i in item.members if g.nodes[i].is_leaf]
        values = sum(g.tensors[i].size for i in params if g.tensors[i] is not None)
        lines = [scope.name, scope.kind if scope.kind != scope.name else ""]
        detail = f"{ops} ops"
        if params:
            detail += f", {len(params)} params ({values:,} values)"
        lines.append(detail)
        lines.append(_signature(g, scope))
        lines = [line for line in lines if line]
        fill, css, style = MODULE_COLOR, "module", "filled,bold"
        bad = any(
            (s := g.grad(i)) is not None and not s.finite or (v := g.value(i)) is not None and v.suspicious_value
            for i in item.members
        )
        if self.grad_mode:
            norm = self._norm(item)
            if norm is None:
                fill, css = NO_GRAD_COLOR, "no-grad"
                lines.append("no grad")
                style += ",dashed"
            else:
                lines.append(f"|grad| {_num(norm)}" + (" (params)" if params else " (output)"))
                fill = ZERO_COLOR if norm == 0 else self.color(norm)
                css = "zero-grad" if norm == 0 else "module"
        if bad:
            fill, css = NAN_COLOR, "nan"
            lines.append("NaN/inf inside")
        text, sub = self._text_on(fill)
        return _Look(lines, fill, text, sub, "box3d", style, css, "\n".join(lines))


# ───────────── DOT text ─────────────


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _html_label(look: _Look) -> str:
    title = html.escape(look.lines[0])
    rest = "".join(
        f'<br/><font point-size="9" color="{look.sub}">{html.escape(line)}</font>' for line in look.lines[1:]
    )
    return f'<<font color="{look.text}"><b>{title}</b></font>{rest}>'


def _dot_body(
    graph: _Graph,
    view: _View,
    note: str,
    direction: str,
    show_stats: bool,
    legend: bool,
    title: str | None,
) -> list[str]:
    """The lines inside ``digraph { ... }``, each ending in a newline."""
    styler = _Styler(graph, view, show_stats)
    heading = title
    if heading is None:
        model = type(graph.root_module).__name__ + " " if graph.root_module is not None else ""
        what = "gradient graph" if styler.grad_mode else "graph"
        heading = f"{model}{what}: {len(graph.nodes)} nodes"
        if view.depth is not None and not note:
            heading += f", modules at depth {view.depth} collapsed ({len(view.items)} boxes)"
    if any(item.kind == "op" and graph.shape_dtype(item.node)[0] is None for item in view.items):
        note = (note + "; " if note else "") + "shapes of freed nodes unknown: call trace_gradients() before backward"
    label = f"<<b>{html.escape(heading)}</b>" + (
        f'<br/><font point-size="10">{html.escape(note)}</font>' if note else ""
    )
    lines = [
        f'graph [label={label}> labelloc=t fontname="{_FONT}" fontsize=14 rankdir=TB nodesep=0.25 ranksep=0.32 '
        f'newrank=true bgcolor="#ffffff"]\n',
        f'node [fontname="{_FONT}" fontsize=11 margin="0.10,0.05" height=0.3 penwidth=1]\n',
        'edge [color="#5f6b7a" arrowsize=0.6 penwidth=1]\n',
    ]
    children: dict[int | None, list[_Scope]] = {}
    for scope in view.clusters:
        parent = _drawn(scope.parent)
        children.setdefault(id(parent) if parent is not None else None, []).append(scope)
    members: dict[int | None, list[_Item]] = {}
    for item in view.items:
        members.setdefault(id(item.cluster) if item.cluster is not None else None, []).append(item)

    def emit_item(item: _Item, indent: str) -> None:
        look = styler.look(item)
        lines.append(
            f"{indent}{item.id} [label={_html_label(look)} shape={look.shape} style={_quote(look.style)} "
            f'fillcolor="{look.fill}" color="{look.border}" penwidth={look.penwidth} class="{look.css}" '
            f"tooltip={_quote(look.tooltip)}]\n"
        )

    for item in members.get(None, []):
        emit_item(item, "")
    # Clusters nest, so they are written with an explicit stack (open, then close) instead of recursion.
    stack: list[tuple[_Scope, bool]] = [(scope, False) for scope in reversed(children.get(None, []))]
    while stack:
        scope, closing = stack.pop()
        outer, inner = "  " * (scope.depth - 1), "  " * scope.depth
        if closing:
            lines.append(f"{outer}}}\n")
            continue
        fill = CLUSTER_COLORS[min(scope.depth - 1, len(CLUSTER_COLORS) - 1)]
        kind = f' <font color="#5f6b7a">{html.escape(scope.kind)}</font>' if scope.kind != scope.name else ""
        lines.append(
            f"{outer}subgraph {_quote('cluster_' + scope.name)} {{\n"
            f'{inner}label=<<b>{html.escape(scope.name)}</b>{kind}> labeljust=l fontsize=11 style="rounded,filled" '
            f'fillcolor="{fill}" color="#9aa8c0" margin=8\n'
        )
        for item in members.get(id(scope), []):
            emit_item(item, inner)
        stack.append((scope, True))
        stack.extend((child, False) for child in reversed(children.get(id(scope), [])))
    for a, b in view.edges:
        lines.append(f"{b} -> {a}\n" if direction == "backward" else f"{a} -> {b}\n")
    if legend and styler.grad_mode and styler.scale is not None:
        lines.append(_legend(styler))
    return lines


def _legend(styler: _Styler) -> str:
    lo, hi = styler.scale
    steps = len(GRAD_PALETTE)
    cells = "".join(f'<td bgcolor="{c}" width="14"> </td>' for c in GRAD_PALETTE)
    return (
        'legend [shape=plaintext fontsize=9 label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
        f'<tr><td colspan="{steps}"><b>|grad| (darker: larger)</b></td></tr><tr>{cells}</tr>'
        f'<tr><td colspan="{steps // 2}" align="left">{_num(10**lo)}</td>'
        f'<td colspan="{steps - steps // 2}" align="right">{_num(10**hi)}</td></tr>'
        f'<tr><td colspan="3" bgcolor="{NAN_COLOR}"><font color="#ffffff">NaN/inf</font></td>'
        f'<td colspan="3" bgcolor="{ZERO_COLOR}">zero</td><td colspan="3" style="dashed">no grad</td></tr>'
        "</table>>]\n"
    )


def _check_direction(direction: str) -> None:
    if direction not in ("backward", "forward"):
        raise ValueError(f"viz: direction must be 'backward' (gradient flow) or 'forward', not {direction!r}")


def to_dot(
    root: Tensor | Sequence[Tensor],
    params: Any = None,
    *,
    grads: GradientRecorder | None = None,
    direction: str = "backward",
    max_depth: int | None = None,
    max_nodes: int | None = 300,
    show_stats: bool = False,
    legend: bool = True,
    title: str | None = None,
    name: str = "gradwire",
) -> str:
    """The graph behind ``root`` as Graphviz DOT text (needs no Graphviz).

    Args:
        root: the output tensor (a loss), or several.
        params: a module (names its parameters and module clusters, e.g. ``blocks.0.attn``) or a
            dict of name -> Tensor (names leaves only).
        grads: a `GradientRecorder` from `trace_gradients`, made before backward: gives every
            node's gradient norm and shape after backward. Without it, only leaves' ``.grad``
            is shown, and interior shapes only while the graph is unfreed.
        direction: "backward" draws edges the way gradient messages travel (from the root to
            the leaves); "forward" the way values flow.
        max_depth: draw module calls at this depth as single boxes (1: the model's children,
            e.g. ``blocks.0``; 0: the model passed in); None draws every node.
        max_nodes: with ``max_depth=None``, collapse to the deepest level that fits this many
            boxes, summarising long chains if needed (the graph's label says so); None: never.
        show_stats: add min/mean/max of values and gradients to each label.
        legend: draw the colour legend (when gradients are known).
        title: the graph's label (default: model, node count and what was collapsed).
        name: the DOT graph name.

    Returns:
        DOT source text.
    """
    _check_direction(direction)
    graph = _Graph(_as_roots(root), params, grads)
    view, note = _choose_view(graph, max_depth, max_nodes)
    body = _dot_body(graph, view, note, direction, show_stats, legend, title)
    head = (
        name
        if name.isidentifier() and name.lower() not in ("graph", "digraph", "subgraph", "node", "edge", "strict")
        else _quote(name)
    )
    return f"digraph {head} {{\n" + "".join(body) + "}\n"


# ───────────── Mermaid text ─────────────


def _mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label, with Mermaid's entity codes (``#lt;``) for characters it would misread."""
    for char, code in (("&", "#amp;"), ("<", "#lt;"), (">", "#gt;"), ('"', "#quot;")):
        text = text.replace(char, code)
    return text


def to_mermaid(
    root: Tensor | Sequence[Tensor],
    params: Any = None,
    *,
    grads: GradientRecorder | None = None,
    direction: str = "backward",
    max_depth: int | None = None,
    max_nodes: int | None = 300,
    show_stats: bool = False,
) -> str:
    """The graph behind ``root`` as a Mermaid flowchart, for Markdown pages.

    Same boxes, clusters (as subgraphs) and colours as `to_dot`; see it for the arguments.

    Returns:
        Mermaid source text (``flowchart TB ...``).
    """
    _check_direction(direction)
    graph = _Graph(_as_roots(root), params, grads)
    view, note = _choose_view(graph, max_depth, max_nodes)
    styler = _Styler(graph, view, show_stats)
    lines = ["flowchart TB"]
    if note:
        lines.append(f"  %% {note}")
    members: dict[int | None, list[_Item]] = {}
    for item in view.items:
        members.setdefault(id(item.cluster) if item.cluster is not None else None, []).append(item)
    children: dict[int | None, list[_Scope]] = {}
    for scope in view.clusters:
        parent = _drawn(scope.parent)
        children.setdefault(id(parent) if parent is not None else None, []).append(scope)
    styles = []

    def emit_item(item: _Item, indent: str) -> None:
        look = styler.look(item)
        text = "<b>" + _mermaid_text(look.lines[0]) + "</b>"
        text += "".join("<br/>" + _mermaid_text(line) for line in look.lines[1:])
        opening, closing = {"op": ("(", ")"), "module": ("[[", "]]"), "chain": ("{{", "}}")}.get(item.kind, ("[", "]"))
        lines.append(f'{indent}{item.id}{opening}"{text}"{closing}')
        dash = ",stroke-dasharray: 4 3" if "dashed" in look.style else ""
        styles.append(f"  style {item.id} fill:{look.fill},color:{look.text},stroke:{look.border}{dash}")

    for item in members.get(None, []):
        emit_item(item, "  ")
    stack: list[tuple[_Scope, bool]] = [(scope, False) for scope in reversed(children.get(None, []))]
    count = 0
    while stack:
        scope, closing = stack.pop()
        outer, inner = "  " * scope.depth, "  " * (scope.depth + 1)
        if closing:
            lines.append(f"{outer}end")
            continue
        count += 1
        lines.append(f'{outer}subgraph c{count}["{_mermaid_text(scope.name)}"]')
        for item in members.get(id(scope), []):
            emit_item(item, inner)
        stack.append((scope, True))
        stack.extend((child, False) for child in reversed(children.get(id(scope), [])))
    for a, b in view.edges:
        lines.append(f"  {b} --> {a}" if direction == "backward" else f"  {a} --> {b}")
    return "\n".join(lines + styles) + "\n"


# ───────────── rendering pictures ─────────────


class RendererNotFoundError(RuntimeError):
    """Raised when neither the system Graphviz ``dot`` nor ``graphviz-pure`` can be found."""


_NO_RENDERER = (
    "no Graphviz renderer found to draw the graph: gradwire's dependencies install one "
    "(`pip install graphviz-pure`, then it is found next to this Python), or install the system Graphviz "
    "(`apt install graphviz`, `brew install graphviz`, `conda install graphviz`). "
    "to_dot() and to_mermaid() need neither."
)


def find_renderer() -> str | None:
    """The program that turns DOT into pictures: the system Graphviz ``dot``, else ``graphviz-pure``.

    ``graphviz-pure`` (a self-contained port of ``dot``, installed with gradwire) is looked for on
    ``PATH`` and next to the running Python, so a virtual environment works without activation.

    Returns:
        The program's path, or None when there is neither.
    """
    dot = shutil.which("dot")
    if dot:
        return dot
    for directory in (None, sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        found = shutil.which("graphviz-pure", path=directory)
        if found:
            return found
    return None


def _run_renderer(source: str, engine: str, format: str, encoding: str, quiet: bool) -> bytes:
    program = find_renderer()
    if program is None:
        raise RendererNotFoundError(_NO_RENDERER)
    cmd = [program, f"-K{engine}", f"-T{format}"]
    proc = subprocess.run(cmd, input=source.encode(encoding), capture_output=True, check=False)
    if proc.returncode != 0:
        hint = ""
        if Path(program).name.startswith("graphviz-pure"):
            hint = " (graphviz-pure writes svg, png, jpeg, json, dot and plain; install the system Graphviz for pdf)"
        raise RuntimeError(f"{program} -T{format} failed{hint}: {proc.stderr.decode(errors='replace').strip()}")
    if proc.stderr and not quiet:
        sys.stderr.write(proc.stderr.decode(errors="replace"))
    return proc.stdout


@cache
def _digraph_class() -> type:
    """A ``graphviz.Digraph`` whose ``pipe`` and ``render`` fall back to ``graphviz-pure`` without a system ``dot``."""
    import graphviz

    class GradientGraph(graphviz.Digraph):
        """A ``graphviz.Digraph`` drawn by `find_renderer`'s program when there is no system ``dot``."""

        def pipe(
            self,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op: bool | int | None = None,
            quiet: bool = False,
            *,
            engine: str | None = None,
            encoding: str | None = None,
        ) -> bytes | str:
            """The picture as bytes (or text, with ``encoding``), as ``graphviz.Digraph.pipe``."""
            if shutil.which("dot"):
                return super().pipe(
                    format=format,
                    renderer=renderer,
                    formatter=formatter,
                    neato_no_op=neato_no_op,
                    quiet=quiet,
                    engine=engine,
                    encoding=encoding,
                )
            fmt = ":".join(f for f in (format or self.format, renderer, formatter) if f)
            data = _run_renderer(self.source, engine or self.engine, fmt, self.encoding, quiet)
            return data.decode(encoding) if encoding is not None else data

        def render(
            self,
            filename: str | os.PathLike | None = None,
            directory: str | os.PathLike | None = None,
            view: bool = False,
            cleanup: bool = False,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op: bool | int | None = None,
            quiet: bool = False,
            quiet_view: bool = False,
            *,
            outfile: str | os.PathLike | None = None,
            engine: str | None = None,
            raise_if_result_exists: bool = False,
            overwrite_source: bool = False,
        ) -> str:
            """Save the DOT source and write the picture next to it; returns the picture's path.

            As ``graphviz.Digraph.render``: ``render("graph", format="png")`` writes ``graph`` and
            ``graph.png``; ``render(outfile="graph.svg")`` takes the format from the suffix.
            """
            if shutil.which("dot"):
                return super().render(
                    filename,
                    directory=directory,
                    view=view,
                    cleanup=cleanup,
                    format=format,
                    renderer=renderer,
                    formatter=formatter,
                    neato_no_op=neato_no_op,
                    quiet=quiet,
                    quiet_view=quiet_view,
                    outfile=outfile,
                    engine=engine,
                    raise_if_result_exists=raise_if_result_exists,
                    overwrite_source=overwrite_source,
                )
            if outfile is not None:
                outfile = Path(outfile)
                format = format or outfile.suffix.lstrip(".") or self.format
                if filename is None and directory is None:
                    filename = outfile.with_suffix(".gv")
            source_path = Path(self.save(filename, directory=directory))
            if outfile is None:
                format = format or self.format
                outfile = Path(f"{source_path}.{format}")
            if raise_if_result_exists and outfile.exists():
                raise graphviz.FileExistsError(f"output file exists: {os.fspath(outfile)!r}")
            data = self.pipe(
                format=format,
                renderer=renderer,
                formatter=formatter,
                neato_no_op=neato_no_op,
                quiet=quiet,
                engine=engine,
            )
            outfile.parent.mkdir(parents=True, exist_ok=True)
            outfile.write_bytes(data)
            if cleanup:
                source_path.unlink()
            if view or quiet_view:
                graphviz.view(outfile, quiet=quiet_view)
            return os.fspath(outfile)

    return GradientGraph


def draw_graph(
    root: Tensor | Sequence[Tensor],
    params: Any = None,
    *,
    grads: GradientRecorder | None = None,
    direction: str = "backward",
    max_depth: int | None = None,
    max_nodes: int | None = 300,
    show_stats: bool = False,
    legend: bool = True,
    title: str | None = None,
    name: str = "gradwire",
    format: str = "svg",
) -> Any:
    """The graph behind ``root`` as a ``graphviz.Digraph`` (shown inline in Jupyter).

    Takes the arguments of `to_dot`, plus ``format``, the default for ``.render()``. Pictures
    come from the system ``dot`` when installed, else from ``graphviz-pure`` (`find_renderer`).

    Example::

        draw_graph(loss, model, grads=rec).render("loss_graph", format="png")  # writes loss_graph.png

    Returns:
        A ``graphviz.Digraph`` (a subclass whose ``render``/``pipe`` know about ``graphviz-pure``).
    """
    _check_direction(direction)
    graph = _Graph(_as_roots(root), params, grads)
    view, note = _choose_view(graph, max_depth, max_nodes)
    body = _dot_body(graph, view, note, direction, show_stats, legend, title)
    return _digraph_class()(name=name, body=body, format=format)


# ───────────── numbers about a graph ─────────────


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
