"""Reading a graph: the nodes behind some roots, their shapes, values, gradients and names,
and the module calls (scopes) that made them, nested and named (``blocks.0.attn``).

Everything a drawing or a count needs to know about the recorded graph comes through `_Graph`;
it reads only public graph attributes (``parents``, ``prim``, ``saved``, ``scopes``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import topological_order
from ..graph import Node, recorded_scopes
from ..tensor import Tensor
from .stats import TensorStats, _dtype_name

if TYPE_CHECKING:
    from .recorder import GradientRecorder


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
