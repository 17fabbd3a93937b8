"""The recorded graph: `Node` (one per recorded primitive call) and grad mode.

A `Node` stands for one call of a primitive. It keeps what the engine needs to send
gradient messages backwards: the primitive (which knows its vector-Jacobian products),
the parent nodes of its inputs, the values saved for backward, and the gradient that is
pending while a backward pass runs. Leaf tensors that require grad get a `LeafNode`,
so the engine only ever sees nodes.

Grad mode (`no_grad`, `enable_grad`, `set_grad_enabled`) is thread-local.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """Return True when operations on tensors that require grad are being recorded."""
    return _mode.enabled


class set_grad_enabled:
    """Switch recording on or off, in this thread: at once, for a ``with`` block, or for a decorated function.

    Called plainly, ``set_grad_enabled(False)`` switches the mode at once (as PyTorch does);
    as a context manager it restores the previous mode on exit; as a decorator it applies the
    mode to each call of the function only.

    Args:
        mode: True to record operations for backward, False to stop recording.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._construction_previous = _mode.enabled
        self._previous: list[bool] = []
        _mode.enabled = self.mode

    def __enter__(self) -> None:
        self._previous.append(_mode.enabled if self._previous else self._construction_previous)
        _mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous.pop()
        self._construction_previous = _mode.enabled

    def __call__(self, func: F) -> F:
        mode = self.mode
        _mode.enabled = self._construction_previous  # used as a decorator: undo the immediate switch

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad:
    """Stop recording operations, in this thread, inside a ``with`` block or a decorated function.

    Tensors computed under ``no_grad`` have no ``grad_fn`` and never require grad, which saves
    the memory and time of recording (evaluation, optimizer updates).
    """

    _mode_inside = False

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_mode.enabled)
        _mode.enabled = self._mode_inside

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous.pop()

    def __call__(self, func: F) -> F:
        cls = type(self)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with cls():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class enable_grad(no_grad):
    """Record operations again inside a ``no_grad`` region (a ``with`` block or a decorated function)."""

    _mode_inside = True


class Node:
    """One recorded call of a primitive: the unit the engine walks during backward.

    Attributes:
        prim: the primitive (see `autograd.primitive`); None for a leaf.
        parents: one entry per input: that input's node, or None when it needs no gradient.
        saved: the input tensors, kept for the vector-Jacobian products; None once released.
        attrs: non-tensor arguments of the call (axis, shape, index, scalar), as a tuple.
        out_data: the output array, kept only by primitives whose VJP uses the output.
        pending: the gradient summed so far for this node's output during a backward pass.
        deps: consumers not yet run during a backward pass (zero outside one).
        hooks: functions run on this node's gradient before it is used, or None.
        epoch: the in-place mutation count when the node was made (see `mutations`).
        scopes: ``(owner, input nodes)`` records of the modules whose output this is (see
            `record_scope`), or None.
    """

    # ``origin`` (where the user created the node) is set only under `autograd.detect_anomaly`.
    __slots__ = (
        "prim",
        "parents",
        "saved",
        "attrs",
        "out_data",
        "pending",
        "deps",
        "hooks",
        "scopes",
        "epoch",
        "origin",
        "__weakref__",
    )

    def __init__(self, prim: Any, parents: tuple, saved: Any, attrs: tuple, out_data: Any) -> None:
        self.prim = prim
        self.parents = parents
        self.saved = saved
        self.attrs = attrs
        self.out_data = out_data
        self.pending = None
        self.deps = 0
        self.hooks = None
        self.scopes = None
        self.epoch = mutations.epoch

    @property
    def name(self) -> str:
        """The primitive's name ("mul", "matmul", ...)."""
        return self.prim.name

    @property
    def is_leaf(self) -> bool:
        """True for the node of a leaf tensor (it accumulates into ``.grad``)."""
        return False

    @property
    def released(self) -> bool:
        """True once a backward pass has freed the values saved for this node."""
        return self.saved is None

    def add_hook(self, hook: Callable) -> None:
        """Run ``hook(grad)`` on this node's gradient before it is used; a non-None result replaces it."""
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)

    def __repr__(self) -> str:
        return f"<{self.prim.name}>"


# ───────────── anomaly checks: switched on by autograd.detect_anomaly, an observer ─────────────


class mutations:
    """In-place changes made through the Tensor API (``add_``, ``__setitem__``, ...), for backward's check.

    ``epoch`` counts them; every node remembers the epoch it was made in. A node made before
    the latest change has its saved tensors checked before its rule runs (`recent` keeps the
    last changes: epoch, the changed array's base, the op), so a gradient is never computed
    from values that were overwritten after they were saved. Nodes made after the latest
    change cost one integer comparison.
    """

    epoch = 0
    recent: list = []
    keep = 256  # changes remembered; older ones are forgotten


class anomaly_checks:
    """Hooks that `autograd.detect_anomaly` installs; the core calls them only while ``enabled``.

    ``forward(prim, node, data, inputs)`` runs after each recorded op and ``backward(node,
    grad, grads)`` after each node's rule. Off, they cost one attribute read per op.
    """

    enabled = False
    forward: Callable | None = None
    backward: Callable | None = None


class saving:
    """Whether every node keeps its inputs, also where its gradient rule does not read them.

    A primitive made with ``saves_input=False`` (tanh, mul_scalar, ...) keeps no reference
    to its input, so an intermediate result is freed as soon as nothing else uses it.
    Observers that re-run rules on a node's inputs (``gradcheck``'s rule locator,
    ``detect_anomaly``) switch ``all_inputs`` on while they record.
    """

    all_inputs = False


# ───────────── scopes: which part of a model produced a node (read by drawings, never by the engine) ─────────────


def record_scope(output: Node, owner: Any, inputs: tuple) -> None:
    """Note that ``owner`` (a module, say) computed ``output`` from the nodes ``inputs``.

    The nodes between ``inputs`` and ``output`` belong to ``owner``; nested calls give nested
    scopes. Drawings use this to cluster a graph by module; the engine never looks at it.
    """
    records = output.scopes
    if records is None:
        output.scopes = [(owner, inputs)]
    else:
        records.append((owner, inputs))


def recorded_scopes(node: Node) -> list:
    """The ``(owner, input nodes)`` records whose output is ``node``, innermost first."""
    return node.scopes or []


class LeafNode(Node):
    """The node of a leaf tensor that requires grad: the engine accumulates into its ``.grad``."""

    __slots__ = ("tensor_ref",)

    def __init__(self, tensor: Any) -> None:
        super().__init__(None, (), (), (), None)
        self.tensor_ref = weakref.ref(tensor)

    @property
    def name(self) -> str:
        """ "leaf", or the tensor's own name when it has one."""
        tensor = self.tensor_ref()
        return (tensor.name if tensor is not None and tensor.name else None) or "leaf"

    @property
    def is_leaf(self) -> bool:
        """Always True."""
        return True

    def __repr__(self) -> str:
        return "<AccumulateGrad>"
