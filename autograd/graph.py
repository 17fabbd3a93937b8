"""The recorded graph: `Node` (one per recorded primitive call) and grad mode.

A `Node` stands for one call of a primitive. It keeps what the engine needs to send
gradient messages backwards: the primitive (which knows its vector-Jacobian products),
the parent nodes of its inputs, the values saved for backward, and the gradient that is
pending while a backward pass runs. Leaf tensors that require grad get a `LeafNode`,
so the engine only ever sees nodes.

Grad mode (`no_grad`, `enable_grad`, `set_grad_enabled`) is thread-local.

This module imports nothing from the rest of the package (NumPy and the standard library only).
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np


class _GradMode(threading.local):
    enabled = True


grad_mode = _GradMode()  # ``grad_mode.enabled``: record operations (read on every op, so a plain attribute)

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """Return True when operations on tensors that require grad are being recorded."""
    return grad_mode.enabled


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
        self._construction_previous = grad_mode.enabled
        self._previous: list[bool] = []
        grad_mode.enabled = self.mode

    def __enter__(self) -> None:
        self._previous.append(grad_mode.enabled if self._previous else self._construction_previous)
        grad_mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self._previous.pop()
        self._construction_previous = grad_mode.enabled

    def __call__(self, func: F) -> F:
        mode = self.mode
        grad_mode.enabled = self._construction_previous  # used as a decorator: undo the immediate switch

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
        self._previous.append(grad_mode.enabled)
        grad_mode.enabled = self._mode_inside

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self._previous.pop()

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
        epoch: the in-place mutation count when the node was made (see `GraphState`).
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
        self.epoch = state.mutation_epoch

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
        """Run ``hook(grad)`` on this node's gradient before it is used; a non-None result replaces it.

        A hook with a true ``only_when_accumulating`` attribute runs in ``backward()`` only, not in
        ``autograd.grad()`` (``retain_grad`` stores into ``.grad``, which ``grad()`` leaves alone).
        """
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)

    def __repr__(self) -> str:
        return f"<{self.prim.name}>"


# ───────────── graph state: switches and counters the core reads, observers set ─────────────


def base_array(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (itself unless it is a view)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class GraphState:
    """The process-wide state of recording, in one object (`state`); grad mode is thread-local, apart.

    Attributes:
        mutation_epoch: how many in-place changes were made through the Tensor API (``add_``,
            ``__setitem__``, ...). Every node remembers the epoch it was made in; a node made
            before the latest change has its saved tensors checked before its rule runs.
        recent_mutations: the last ``mutations_kept`` changes as ``(epoch, owning array, op)``.
        mutations_kept: how many changes are remembered; older ones are forgotten.
        checks_anomalies: True while `autograd.detect_anomaly` watches; off, the core pays one
            attribute read per op.
        anomaly_forward: ``(prim, node, data, inputs)`` hook run after each recorded op.
        anomaly_backward: ``(node, grad, grads)`` hook run after each node's rule.
        saves_all_inputs: every node keeps its inputs, also where its rule does not read them
            (a primitive made with ``saves_input=False`` otherwise keeps none, so intermediates
            are freed early). Observers that re-run rules on a node's inputs switch it on.
        tracer: while `autograd.compile_step` records a step, its recorder (see
            `autograd.replay`), told of what a tape of primitive calls cannot hold: leaf
            accumulation, tensor hooks, values read back into Python. None otherwise.
    """

    __slots__ = (
        "mutation_epoch",
        "recent_mutations",
        "mutations_kept",
        "checks_anomalies",
        "anomaly_forward",
        "anomaly_backward",
        "saves_all_inputs",
        "tracer",
    )

    def __init__(self) -> None:
        self.mutation_epoch = 0
        self.recent_mutations: list = []
        self.mutations_kept = 256
        self.checks_anomalies = False
        self.anomaly_forward: Callable | None = None
        self.anomaly_backward: Callable | None = None
        self.saves_all_inputs = False
        self.tracer: Any = None

    def note_mutation(self, array: Any, op: str) -> None:
        """Record that ``op`` changed ``array`` (or the array it is a view of) in place."""
        self.mutation_epoch += 1
        self.recent_mutations.append((self.mutation_epoch, base_array(array), op))
        if len(self.recent_mutations) > self.mutations_kept:
            del self.recent_mutations[0]

    def mutations_since(self, epoch: int) -> list[tuple[Any, str]]:
        """``(owning array, op)`` of the remembered changes made after ``epoch``."""
        return [(base, op) for when, base, op in self.recent_mutations if when > epoch]

    @contextmanager
    def saving_all_inputs(self) -> Iterator[None]:
        """Inside the block, every recorded node keeps its inputs (see ``saves_all_inputs``)."""
        previous, self.saves_all_inputs = self.saves_all_inputs, True
        try:
            yield
        finally:
            self.saves_all_inputs = previous

    @contextmanager
    def checking_anomalies(self, forward: Callable, backward: Callable) -> Iterator[None]:
        """Inside the block, the core calls ``forward`` after each recorded op and ``backward`` after each rule."""
        saved = (self.checks_anomalies, self.anomaly_forward, self.anomaly_backward, self.saves_all_inputs)
        self.anomaly_forward, self.anomaly_backward = forward, backward
        self.checks_anomalies = True
        self.saves_all_inputs = True  # the backward check reads each node's inputs (a non-finite input excuses it)
        try:
            yield
        finally:
            self.checks_anomalies, self.anomaly_forward, self.anomaly_backward, self.saves_all_inputs = saved


state = GraphState()


def refuse_stale_saved_values(node: Node) -> None:
    """Raise if a tensor ``node`` saved for backward (or its output) was changed in place after it was saved."""
    later = state.mutations_since(node.epoch)
    if not later:
        return
    name = node.prim.name
    for position, tensor in enumerate(node.prim.inputs(node)):
        owner = base_array(tensor.data)
        for base, op in later:
            if base is owner:
                label = f" {tensor.name!r}" if tensor.name else ""
                raise RuntimeError(
                    f"backward: input {position}{label} (shape {tensor.shape}) of {name!r} was changed in "
                    f"place by {op} after {name!r} saved it for backward, so its gradient would use the "
                    "new values; change a copy instead (autograd.tensor(t.data) makes one), or change it after backward"
                )
    if node.out_data is not None:
        owner = base_array(node.out_data)
        for base, op in later:
            if base is owner:
                raise RuntimeError(
                    f"backward: the output of {name!r} was changed in place by {op} after it was saved "
                    "for backward, so its gradient would use the new values"
                )


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

    def accumulate(self, grad: Any) -> None:
        """Add ``grad`` into the leaf tensor's ``.grad`` (nothing, if the tensor is gone)."""
        if state.tracer is not None:  # a step being recorded: the tape replays this call, not its insides
            state.tracer.accumulate(self, grad)
            return
        self.add_to_grad(grad)

    def add_to_grad(self, grad: Any) -> None:
        """What `accumulate` does, unconditionally (a recorded step's replay calls this)."""
        tensor = self.tensor_ref()
        if tensor is None:
            return
        data = grad.data
        if not data.flags.c_contiguous:
            # Matmul rules can hand back transposed (Fortran-order) views, and every optimizer update
            # mixing memory orders is then far slower (benchmarks/README.md, "C-ordered gradients").
            # One copy here keeps every .grad C-ordered.
            grad = grad._with_data(np.ascontiguousarray(data))
        if tensor.grad is None:
            # Gradients may share memory (add sends one array to both inputs): make accidental
            # in-place writes through .grad.data fail loudly instead of corrupting a neighbour.
            grad.data.setflags(write=False)
            tensor.grad = grad
        else:
            tensor.grad = tensor.grad + grad

    def __repr__(self) -> str:
        return "<AccumulateGrad>"
