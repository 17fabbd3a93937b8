"""Recording a step: the tape of primitive forwards one eager call ran, and how two tapes are compared.

A `Recorder` is set as ``state.tracer`` and wrapped around every primitive's forward while
a step runs eagerly (`run_recorded`). Each outermost forward call becomes an entry whose
arguments are specs: ``("slot", k)`` for an array the step computed or was given,
``("view", ...)`` for a NumPy view of one, ``("const", value)`` for anything else, and
``("list" | "tuple", specs)`` for containers. Leaf accumulations and values read into Python
(guards) are entries too. A `Recording` is what one call left; `Recording.first_difference`
says where the next call's differs.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..graph import state
from ..primitive import REGISTRY
from ..tensor import Tensor

_ndarray = np.ndarray
_asarray = np.asarray


# ───────────── recording: a tape of primitive forwards ─────────────

# An argument of a recorded call is a spec: ("slot", k) for an array the step computed or was
# given, ("const", value) for anything else (an array from outside, an axis, a slice), or
# ("list", specs) / ("tuple", specs) for containers, which are searched for arrays.


class Recorder:
    """Records one eager run of a step: set as ``state.tracer`` and wrapped around every primitive's forward."""

    def __init__(self, inputs: list) -> None:
        self.slot_of: dict[int, int] = {}
        self.arrays: list = []  # every array with a slot, kept alive so that ids stay unique
        # per slot: (shape, dtype, the slot owning its memory or None, strides); a slot owns its memory
        # when a forward allocated it afresh (nothing else holds it), which a replay may then overwrite
        # in place, where the result would be laid out the same (strides decide a reduction's order)
        self.layout: list[tuple] = []
        self.entries: list[tuple] = []  # ("call", prim name, forward, specs, made_array) or ("acc", target, spec)
        self.outside: dict[int, tuple] = {}  # id -> (array, copy at first sight) of arrays from outside the step
        self.refusals: list[str] = []
        self.depth = 0  # > 0 while a forward (or an accumulation) runs: primitive calls inside it are its own
        self.leaves: dict[int, int] = {}  # id(LeafNode) of an input tensor -> its argument position
        self.owners: dict[int, Any] = {}  # id -> the modules (record_scope owners) that ran
        for array in inputs:
            self._new_slot(array)

    def _new_slot(self, array: np.ndarray, fresh: bool = False) -> int:
        slot = len(self.arrays)
        owner = slot if fresh and array.base is None else self._owner_of(array)
        self.arrays.append(array)
        self.slot_of[id(array)] = slot
        self.layout.append((array.shape, array.dtype, owner, array.strides))
        return slot

    def _owner_of(self, array: np.ndarray) -> int | None:
        base = array.base
        while base.__class__ is _ndarray:
            slot = self.slot_of.get(id(base))
            if slot is not None and self.arrays[slot] is base:
                return self.layout[slot][2]
            base = base.base
        return None

    def spec(self, value: Any) -> tuple:
        """The spec of an argument (see the comment above `Recorder`)."""
        kind = value.__class__
        if kind is _ndarray:
            slot = self.slot_of.get(id(value))
            if slot is not None and self.arrays[slot] is value:
                return ("slot", slot)
            view = self._view_of_slot(value)
            if view is not None:
                return view
            if id(value) not in self.outside:
                self.outside[id(value)] = (value, value.copy())
            return ("const", value)
        if kind is list or kind is tuple:
            return ("list" if kind is list else "tuple", tuple(self.spec(v) for v in value))
        if isinstance(value, Tensor):
            self.refuse(f"a Tensor reached a primitive's forward as an attribute ({value.shape})")
        return ("const", value)

    def _view_of_slot(self, value: np.ndarray) -> tuple | None:
        """A ("view", ...) spec when ``value`` is a NumPy view (``y.reshape(-1)``, ``x[:, 0]``) of a C-ordered slot."""
        base = value.base
        while base.__class__ is _ndarray:
            slot = self.slot_of.get(id(base))
            if slot is not None and self.arrays[slot] is base:
                if not base.flags.c_contiguous:
                    return None
                offset = value.__array_interface__["data"][0] - base.__array_interface__["data"][0]
                return ("view", (slot, value.shape, value.dtype, value.strides, offset))
            base = base.base
        return None

    def wrap(self, prim: Any) -> Callable:
        """``prim.forward``, recording each outermost call."""
        forward = prim.forward
        name = prim.name

        @functools.wraps(forward)
        def recorded(*args: Any) -> Any:
            if self.depth:
                return forward(*args)
            self.depth += 1
            try:
                out = forward(*args)
            finally:
                self.depth -= 1
            made_array = out.__class__ is not _ndarray
            if made_array:  # the caller would make this array itself; make it here, so that it gets a slot
                out = _asarray(out)
            fresh = sys.getrefcount(out) == 2  # only this frame holds it (not a cache, not an input returned)
            specs = tuple(self.spec(a) for a in args)
            self.entries.append(("call", name, forward, specs, made_array))
            self._new_slot(out, fresh)
            return out

        return recorded

    def accumulate(self, leaf: Any, grad: Tensor) -> None:
        """`LeafNode.accumulate` while recording: note it on the tape, then do it (its insides unrecorded)."""
        if grad._node is not None:
            self.refuse("a gradient with a graph of its own was accumulated (backward with create_graph=True)")
        target = ("input", self.leaves[id(leaf)]) if id(leaf) in self.leaves else ("leaf", leaf)
        self.entries.append(("acc", target, self.spec(grad.data)))
        self.depth += 1
        try:
            leaf.add_to_grad(grad)
        finally:
            self.depth -= 1

    def read(self, array: np.ndarray, how: str) -> None:
        """A value was read into Python (``Tensor.item``, ``bool``, ``tolist``): the replay guards it.

        Python code may branch on it, so a replay first checks that it is what it was when
        recorded (a truth value: the same truth value) and otherwise runs the step eagerly
        again. A read after gradients were accumulated cannot be guarded (the replay would
        have changed ``.grad`` before finding out) and keeps the step eager.
        """
        if self.depth:
            return
        if any(entry[0] == "acc" for entry in self.entries):
            self.refuse(f"a value was read into Python (Tensor.{how}) after gradients were accumulated")
            return
        expected = bool(array) if how == "bool" else array.copy()
        self.entries.append(("guard", how, self.spec(array), expected))

    def note_owner(self, owner: Any) -> None:
        """A module ran (`record_scope`): its ``training`` flag becomes part of what a replay checks."""
        self.owners.setdefault(id(owner), owner)

    def refuse(self, reason: str) -> None:
        """Note something the step did that a replay would not do."""
        if reason not in self.refusals:
            self.refusals.append(reason)

    def changed_outside_arrays(self) -> list[str]:
        """Arrays from outside the step that it read and that changed in place during it (untraced writes)."""
        return [
            f"an array of shape {array.shape} that the step reads was changed in place during the step"
            for array, before in self.outside.values()
            if not same_value(array, before)
        ]


def same_value(a: Any, b: Any) -> bool:
    if a.__class__ is _ndarray or b.__class__ is _ndarray:
        if not (a.__class__ is _ndarray and b.__class__ is _ndarray):
            return False
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:  # a value without a plain ==: only the same object counts as the same
        return a is b


def describe(spec: tuple) -> str:
    kind, value = spec
    if kind == "slot":
        return f"the result of operation-or-input slot {value}"
    if kind == "view":
        return f"a view of slot {value[0]}"
    if kind == "const":
        if value.__class__ is _ndarray:
            return f"a constant array of shape {value.shape}"
        return f"the constant {value!r}"
    return f"a {kind} of {len(value)} items"


def same_spec(a: tuple, b: tuple) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "slot":
        return a[1] == b[1]
    if a[0] == "const":
        return a[1] is b[1] or same_value(a[1], b[1])
    if a[0] == "view":
        return a[1] == b[1]
    if a[0] == "tensor":
        return same_spec(a[1], b[1])
    if a[0] == "dict":
        return [k for k, _ in a[1]] == [k for k, _ in b[1]] and all(
            same_spec(x, y) for (_, x), (_, y) in zip(a[1], b[1])
        )
    return len(a[1]) == len(b[1]) and all(same_spec(x, y) for x, y in zip(a[1], b[1]))


class Recording:
    """What one eager, recorded call produced: the tape, the output's structure and the leaves it fed."""

    def __init__(self, recorder: Recorder, output_spec: tuple, inputs: list) -> None:
        self.entries = recorder.entries
        self.output_spec = output_spec
        self.inputs = inputs  # (argument position, is a Tensor) of each array argument, in slot order
        self.layout = recorder.layout
        # Leaves that receive gradients, and the array each one held: checked before every replay,
        # because the tape reads that array (a rebound ``.data`` must be recorded again).
        self.leaf_data = []
        for entry in recorder.entries:
            if entry[0] == "acc" and entry[1][0] == "leaf":
                tensor = entry[1][1].tensor_ref()
                if tensor is not None and id(tensor.data) in recorder.outside:
                    self.leaf_data.append((entry[1][1].tensor_ref, tensor.data))
        # Modules that ran, with their mode: train() and eval() change what a module computes.
        owners = recorder.owners.values()
        self.modes = [(o, o.training) for o in owners if isinstance(getattr(o, "training", None), bool)]

    def first_difference(self, other: Recording) -> str | None:
        """Where ``other`` (the next call's recording) differs from this one, in words; None if nowhere."""
        if len(self.entries) != len(other.entries):
            return f"the two recorded calls ran {len(self.entries)} and {len(other.entries)} operations"
        for position, (a, b) in enumerate(zip(self.entries, other.entries)):
            if a[0] != b[0]:
                return f"operation {position} differs between the recorded calls"
            if a[0] == "call":
                if a[2] is not b[2] or a[4] != b[4]:
                    return f"operation {position} was {a[1]!r} in one recorded call and {b[1]!r} in the other"
                for argument, (x, y) in enumerate(zip(a[3], b[3])):
                    if not same_spec(x, y):
                        return (
                            f"argument {argument} of operation {position} ({a[1]!r}) was {describe(x)} in one "
                            f"recorded call and {describe(y)} in the other: a value computed outside gradwire's "
                            "operations (NumPy on .data, a random draw) or data-dependent control flow"
                        )
            elif a[0] == "guard":
                if a[1] != b[1] or not same_spec(a[2], b[2]) or not same_value(a[3], b[3]):
                    return (
                        f"a value read into Python (Tensor.{a[1]}, operation {position}) differed between the two "
                        "recorded calls: data-dependent control flow"
                    )
            elif a[1][0] != b[1][0] or a[1][1] is not b[1][1] or not same_spec(a[2], b[2]):
                return f"gradient accumulation {position} went to a different tensor in the two recorded calls"
        if not same_spec(self.output_spec, other.output_spec):
            return "the step returned a differently made result in the two recorded calls"
        return None


def entry_specs(entry: tuple) -> tuple:
    """The argument specs an entry reads."""
    kind = entry[0]
    if kind == "call":
        return entry[3]
    return (entry[2],)


def slots(specs: tuple) -> list[int]:
    found: list[int] = []
    for kind, value in specs:
        if kind == "slot":
            found.append(value)
        elif kind == "view":
            found.append(value[0])
        elif kind == "T":  # the transpose of a spec (written by the emitter's specializations)
            found.extend(slots((value,)))
        elif kind in ("list", "tuple", "tensor"):
            found.extend(slots(value if kind != "tensor" else (value,)))
        elif kind == "dict":
            found.extend(slots(tuple(s for _, s in value)))
    return found


def output_spec(result: Any, recorder: Recorder) -> tuple:
    """The structure of the step's result, with the arrays of its Tensors as specs."""
    if isinstance(result, Tensor):
        return ("tensor", recorder.spec(result.data))
    if isinstance(result, (list, tuple)) and not hasattr(result, "_fields"):
        return ("list" if isinstance(result, list) else "tuple", tuple(output_spec(r, recorder) for r in result))
    if isinstance(result, dict):
        return ("dict", tuple((k, output_spec(v, recorder)) for k, v in result.items()))
    if result is None:
        return ("const", None)
    recorder.refuse(f"the step returned a {type(result).__name__}; return Tensors (or containers of them) or None")
    return ("const", result)


def run_recorded(fn: Callable, args: tuple, recorder: Recorder) -> Any:
    """Run ``fn`` eagerly with every primitive's forward recorded into ``recorder``."""
    originals = {prim: prim.forward for prim in REGISTRY.values()}
    for prim in originals:
        prim.forward = recorder.wrap(prim)
    state.tracer = recorder
    try:
        return fn(*args)
    finally:
        state.tracer = None
        for prim, forward in originals.items():
            prim.forward = forward
