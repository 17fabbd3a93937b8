"""Recorded-step replay: `compile_step` records the primitive calls of one step and replays them over arrays.

Most training loops run the same graph every step. ``step = compile_step(fn)`` runs ``fn``
eagerly on its first two calls with a given signature (the shapes and dtypes of its
arguments and the grad mode) and records, each time, a tape of every primitive forward
that ran: the forward pass, and the forward calls that the gradient rules make during
``backward()``, and the gradients leaves accumulate. When the two tapes agree, later calls
with that signature replay the tape: one generated Python function of plain NumPy calls,
with no Tensor, node or engine work, whose results are bit-identical to eager mode (it
runs the same NumPy calls on the same arrays in the same order).

A call whose signature is new records again (eagerly); a signature whose two tapes do not
agree, or whose step did something a tape cannot hold, stays eager and warns once with
`ReplayWarning` (or raises `ReplayError` with ``strict=True``). See `CompiledStep` for what
makes a step replayable.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .graph import grad_mode, state
from .ops import scalar_operand
from .primitive import REGISTRY
from .tensor import Tensor, _make

_ndarray = np.ndarray
_asarray = np.asarray
_MAX_SIGNATURES = 8


class ReplayWarning(UserWarning):
    """A compiled step runs eagerly for a signature, because its recording cannot be replayed faithfully."""


class ReplayError(RuntimeError):
    """Raised instead of `ReplayWarning` by a step compiled with ``strict=True``."""


# ───────────── recording: a tape of primitive forwards ─────────────

# An argument of a recorded call is a spec: ("slot", k) for an array the step computed or was
# given, ("const", value) for anything else (an array from outside, an axis, a slice), or
# ("list", specs) / ("tuple", specs) for containers, which are searched for arrays.


class _Recorder:
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
        """The spec of an argument (see the comment above `_Recorder`)."""
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
            if not _same_value(array, before)
        ]


def _same_value(a: Any, b: Any) -> bool:
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


def _describe(spec: tuple) -> str:
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


def _same_spec(a: tuple, b: tuple) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "slot":
        return a[1] == b[1]
    if a[0] == "const":
        return a[1] is b[1] or _same_value(a[1], b[1])
    if a[0] == "view":
        return a[1] == b[1]
    if a[0] == "tensor":
        return _same_spec(a[1], b[1])
    if a[0] == "dict":
        return [k for k, _ in a[1]] == [k for k, _ in b[1]] and all(
            _same_spec(x, y) for (_, x), (_, y) in zip(a[1], b[1])
        )
    return len(a[1]) == len(b[1]) and all(_same_spec(x, y) for x, y in zip(a[1], b[1]))


class _Recording:
    """What one eager, recorded call produced: the tape, the output's structure and the leaves it fed."""

    def __init__(self, recorder: _Recorder, output_spec: tuple, inputs: list) -> None:
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

    def first_difference(self, other: _Recording) -> str | None:
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
                    if not _same_spec(x, y):
                        return (
                            f"argument {argument} of operation {position} ({a[1]!r}) was {_describe(x)} in one "
                            f"recorded call and {_describe(y)} in the other: a value computed outside gradwire's "
                            "operations (NumPy on .data, a random draw) or data-dependent control flow"
                        )
            elif a[0] == "guard":
                if a[1] != b[1] or not _same_spec(a[2], b[2]) or not _same_value(a[3], b[3]):
                    return (
                        f"a value read into Python (Tensor.{a[1]}, operation {position}) differed between the two "
                        "recorded calls: data-dependent control flow"
                    )
            elif a[1][0] != b[1][0] or a[1][1] is not b[1][1] or not _same_spec(a[2], b[2]):
                return f"gradient accumulation {position} went to a different tensor in the two recorded calls"
        if not _same_spec(self.output_spec, other.output_spec):
            return "the step returned a differently made result in the two recorded calls"
        return None


# ───────────── replay: the tape as one generated function ─────────────


class _Emitter:
    """Writes a tape as the source of one Python function over arrays, with a name for every constant."""

    def __init__(self, recording: _Recording) -> None:
        self.recording = recording
        self.namespace: dict[str, Any] = {
            "_make": _make,
            "_asarray": _asarray,
            "_view": _view,
            "_same_value": _same_value,
            "_Diverged": _Diverged,
            "_progress": [0],
        }
        self.names_of: dict[int, str] = {}
        self.last_use = self._last_uses()
        self.var_of: dict[int, str] = {}
        self.free_vars: list[str] = []
        self.n_vars = 0
        self.var_of_freed: dict[int, str] = {}
        # The memory each slot lives in (named by its owning slot) decides when an array may be overwritten.
        # A slot's memory is its record-time owner's, unless that owner's result was written into
        # another slot's memory (``moved``); ``escaping``: memory handed to a ``.grad``.
        self.moved: dict[int, int] = {}
        self.escaping: set = set()
        self.members: dict[int, set] = {}  # buffer -> the live slots in it

    def _last_uses(self) -> dict[int, int]:
        last: dict[int, int] = {}
        for position, entry in enumerate(self.recording.entries):
            for slot in _slots(_entry_specs(entry)):
                last[slot] = position
        for slot in _slots((self.recording.output_spec,)):
            last[slot] = len(self.recording.entries)  # returned: never freed
        return last

    def _buffer(self, slot: int) -> int | None:
        """The memory ``slot`` lives in, named by a slot; None for memory from outside the replay."""
        owner = self.recording.layout[slot][2]
        return None if owner is None else self.moved.get(owner, owner)

    def _write_into(self, slot: int, reused: int) -> None:
        """``slot``'s result goes into ``reused``'s memory."""
        self.moved[slot] = self._buffer(reused)

    def _specialized(self, name: str, forward: Callable, specs: tuple) -> tuple[Callable, tuple]:
        """A cheaper call with the same result: ``x * c`` as ``np.multiply(x, c)`` with c's 0-d operand resolved."""
        ufunc = _SCALAR_UFUNCS.get(name)
        if ufunc is None or forward is not REGISTRY[name].forward or len(specs) != 2:
            return forward, specs
        (kind, x), (c_kind, c) = specs
        if c_kind != "const" or kind != "slot":
            return forward, specs
        dtype = self.recording.layout[x][1]
        return ufunc, (specs[0], ("const", scalar_operand(c, dtype)))

    def _overwritable(self, forward: Any, specs: tuple, position: int, out_slot: int) -> int | None:
        """An input slot of an elementwise ufunc call whose memory may take the result (dead, unshared, same layout)."""
        if forward.__class__ is not np.ufunc or forward.nout != 1 or forward.signature is not None:
            return None  # elementwise ufuncs only: not matmul (a gufunc)
        for kind, slot in specs:
            if kind == "slot" and self._may_overwrite(slot, position, out_slot):
                return slot
        return None

    def _may_overwrite(self, slot: int, position: int, out_slot: int) -> bool:
        """Whether entry ``position`` may write the result of ``out_slot`` into ``slot``'s memory.

        Only if the slot dies there, a forward allocated it, nothing leaves the replay through
        it, no live view shares its memory, and it has the result's layout: shape, dtype and
        strides (a result in other strides would sum in another order later on).
        """
        layout = self.recording.layout
        if slot < len(self.recording.inputs) or self.last_use.get(slot) != position:
            return False
        buffer = self._buffer(slot)
        if buffer is None or buffer in self.escaping:
            return False
        shape, dtype, _, strides = layout[out_slot]
        if layout[slot][0] != shape or layout[slot][1] != dtype or layout[slot][3] != strides:
            return False
        if layout[buffer][0] != shape:
            return False
        return not any(other != slot and self.last_use.get(other, -1) > position for other in self.members[buffer])

    def _tanh_backward(self, specs: tuple, position: int, slot: int, lines: list) -> bool:
        """``g * (1 - y * y)`` as three ufunc calls that allocate at most one array (none when ``y`` dies here)."""
        layout = self.recording.layout
        (g_kind, g), (y_kind, y) = specs
        if g_kind != "slot" or y_kind != "slot":
            return False
        shape, dtype, _, strides = layout[slot]
        if layout[y][0] != shape or layout[y][1] != dtype or layout[y][3] != strides or not _c_ordered(shape, strides):
            return False  # the three calls make a C-ordered array of y's layout, as the recorded call did
        g_var, y_var = self.var_of[g], self.var_of[y]
        into_y = self._may_overwrite(y, position, slot) and g != y
        one = self.constant(scalar_operand(1.0, dtype))
        multiply, subtract = self.constant(np.multiply), self.constant(np.subtract)
        if not into_y:
            target = self._var(slot)  # before g's name is freed: g is read by the last of the three calls
        freed = self._release(specs, position)
        if into_y:
            target = self.var_of_freed[y]
            self.free_vars.remove(target)
            self.var_of[slot] = target
            self._write_into(slot, y)
            self._enter(slot)
        lines.append(f"    {target} = {multiply}({y_var}, {y_var}{', ' + y_var if into_y else ''})  # tanh_backward")
        lines.append(f"    {subtract}({one}, {target}, {target})")
        lines.append(f"    {multiply}({g_var}, {target}, {target})")
        freed = [v for v in freed if v != target]
        if freed:
            lines.append(f"    del {', '.join(freed)}")
        return True

    def constant(self, value: Any) -> str:
        name = self.names_of.get(id(value))
        if name is None:
            name = self.names_of[id(value)] = f"c{len(self.names_of)}"
            self.namespace[name] = value
        return name

    def _var(self, slot: int) -> str:
        var = self.free_vars.pop() if self.free_vars else f"v{self._count()}"
        self.var_of[slot] = var
        self._enter(slot)
        return var

    def _enter(self, slot: int) -> None:
        buffer = self._buffer(slot)
        if buffer is not None:
            self.members.setdefault(buffer, set()).add(slot)

    def _count(self) -> int:
        self.n_vars += 1
        return self.n_vars - 1

    def expression(self, spec: tuple) -> str:
        kind, value = spec
        if kind == "slot":
            return self.var_of[value]
        if kind == "const":
            return self.constant(value)
        if kind == "view":
            slot, shape, dtype, strides, offset = value
            return f"_view({self.var_of[slot]}, {shape!r}, {self.constant(dtype)}, {strides!r}, {offset})"
        items = ", ".join(self.expression(s) for s in value)
        return f"[{items}]" if kind == "list" else f"({items}{',' if len(value) == 1 else ''})"

    def _release(self, specs: tuple, position: int) -> list[str]:
        """Free the variables of the slots whose last reader is entry ``position``; return them."""
        done = sorted({s for s in _slots(specs) if self.last_use.get(s) == position})
        variables = [self.var_of.pop(s) for s in done]
        self.var_of_freed = dict(zip(done, variables))
        for s in done:
            buffer = self._buffer(s)
            if buffer is not None:
                self.members[buffer].discard(s)
        self.free_vars.extend(variables)
        return variables

    def source(self) -> str:
        rec = self.recording
        lines = ["def replay(_inputs):"]
        for slot, (position, is_tensor) in enumerate(rec.inputs):
            lines.append(f"    {self._var(slot)} = _inputs[{position}]{'.data' if is_tensor else ''}")
        slot = len(rec.inputs)
        committed = False
        for position, entry in enumerate(rec.entries):
            if entry[0] == "call":
                _, name, forward, specs, made_array = entry
                if (
                    name == "tanh_backward"
                    and not made_array
                    and forward is REGISTRY[name].forward
                    and slot in self.last_use
                    and self._tanh_backward(specs, position, slot, lines)
                ):
                    slot += 1
                    continue
                forward, specs = self._specialized(name, forward, specs)
                reused = None if made_array else self._overwritable(forward, specs, position, slot)
                arguments = [self.expression(s) for s in specs]
                if reused is not None:  # the ufunc writes into a dead input's memory: no new array
                    arguments.append(self.var_of[reused])
                call = f"{self.constant(forward)}({', '.join(arguments)})"
                if made_array:
                    call = f"_asarray({call})"
                freed = self._release(specs, position)
                if reused is not None:
                    self.free_vars.remove(self.var_of_freed[reused])
                    target = self.var_of_freed[reused]
                    self.var_of[slot] = target
                    self._write_into(slot, reused)
                    self._enter(slot)
                else:
                    target = self._var(slot)
                lines.append(f"    {target} = {call}  # {name}")
                freed = [v for v in freed if v != target]
                if slot not in self.last_use:  # computed but never read (a rule's unused value): free at once
                    freed.append(target)
                    self.free_vars.append(self.var_of.pop(slot))
                    if self._buffer(slot) is not None:
                        self.members[self._buffer(slot)].discard(slot)
                if freed:
                    lines.append(f"    del {', '.join(freed)}")
                slot += 1
            elif entry[0] == "guard":
                _, how, spec, expected = entry
                if how == "bool":
                    test = f"bool({self.expression(spec)}) is not {expected}"
                else:
                    test = f"not _same_value({self.expression(spec)}, {self.constant(expected)})"
                lines.append(f"    if {test}:  # Tensor.{how} was read here when recorded")
                lines.append("        raise _Diverged")
                freed = self._release((spec,), position)
                if freed:
                    lines.append(f"    del {', '.join(freed)}")
            else:
                if not committed:  # from here on the replay changes .grad: a failure can no longer run eagerly
                    lines.append("    _progress[0] = 1")
                    committed = True
                _, (kind, target), spec = entry
                self.escaping.update(self._buffer(s) for s in _slots((spec,)))  # it becomes a .grad
                receiver = f"_inputs[{target}]._node" if kind == "input" else self.constant(target)
                lines.append(f"    {receiver}.add_to_grad(_make({self.expression(spec)}, None))")
                freed = self._release((spec,), position)
                if freed:
                    lines.append(f"    del {', '.join(freed)}")
        lines.append(f"    return {self._result(rec.output_spec)}")
        return "\n".join(lines) + "\n"

    def _result(self, spec: tuple) -> str:
        kind, value = spec
        if kind == "tensor":
            return f"_make({self.expression(value)}, None)"
        if kind in ("list", "tuple"):
            items = ", ".join(self._result(s) for s in value)
            return f"[{items}]" if kind == "list" else f"({items}{',' if len(value) == 1 else ''})"
        if kind == "dict":
            return "{" + ", ".join(f"{self.constant(k)}: {self._result(s)}" for k, s in value) + "}"
        return self.expression(spec)


def _entry_specs(entry: tuple) -> tuple:
    """The argument specs an entry reads."""
    kind = entry[0]
    if kind == "call":
        return entry[3]
    return (entry[2],)


def _slots(specs: tuple) -> list[int]:
    found: list[int] = []
    for kind, value in specs:
        if kind == "slot":
            found.append(value)
        elif kind == "view":
            found.append(value[0])
        elif kind in ("list", "tuple", "tensor"):
            found.extend(_slots(value if kind != "tensor" else (value,)))
        elif kind == "dict":
            found.extend(_slots(tuple(s for _, s in value)))
    return found


def _c_ordered(shape: tuple, strides: tuple) -> bool:
    """Whether ``strides`` are those of a C-ordered array of ``shape`` (of any item size)."""
    if not shape:
        return True
    expected = strides[-1] if strides else 0
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


_SCALAR_UFUNCS = {"mul_scalar": np.multiply, "add_scalar": np.add}


def _view(base: np.ndarray, shape: tuple, dtype: np.dtype, strides: tuple, offset: int) -> np.ndarray:
    """The view of ``base`` that the recorded step made with NumPy (a reshape, a slice) of the same layout."""
    return np.ndarray(shape, dtype, buffer=base, offset=offset, strides=strides)


class _Diverged(Exception):
    """Raised inside a replay when a value read into Python when recording is different now."""


def _compile(recording: _Recording) -> tuple[Callable, str, list]:
    """The replay function, its source, and its progress flag (set once it starts changing ``.grad``)."""
    emitter = _Emitter(recording)
    source = emitter.source()
    code = compile(source, "<gradwire replay>", "exec")
    exec(code, emitter.namespace)  # noqa: S102 - our own generated source: one call per recorded primitive
    return emitter.namespace["replay"], source, emitter.namespace["_progress"]


# ───────────── the public API ─────────────


class _Plan:
    """Per-signature state: recordings so far, then either the replay function or the reason it stays eager."""

    __slots__ = ("recordings", "replay", "source", "progress", "leaf_data", "modes", "eager_reason")

    def __init__(self) -> None:
        self.recordings: list[_Recording] = []
        self.replay: Callable | None = None
        self.source = ""
        self.progress: list = [0]
        self.leaf_data: list = []
        self.modes: list = []
        self.eager_reason: str | None = None


class CompiledStep:
    """A step function that replays its recorded primitive calls once two recordings agree (see `compile_step`).

    A step replays faithfully when it is a fixed sequence of gradwire operations on its
    arguments and on tensors it reads by reference (parameters):

    - Pass what changes from step to step (the batch) as arguments, Tensors or ndarrays. Tensors
      the function reads from elsewhere are read by reference: change them in place (optimizers
      do); a leaf whose ``.data`` is rebound is recorded again; call `reset` after rebinding any
      other captured tensor.
    - Data-dependent control flow is not replayable. Reading a value into Python inside the
      step (``.item()``, ``bool(t)``, ``.tolist()``) therefore keeps it eager, as do tensor hooks,
      ``create_graph=True``, in-place changes to arrays the step reads (an optimizer step inside
      the function: call it outside), and anything whose constants differ between the two
      recorded calls (NumPy on ``.data``, random draws such as dropout's mask).
    - The replayed result has no ``grad_fn``: backward already ran inside the step. Gradients
      accumulate into ``.grad`` exactly as in eager mode (zero them outside the step).
    - Replay skips the checks eager mode makes (shapes are guarded by the signature; a label out
      of range, say, fails inside NumPy); recording is not thread-safe.
    """

    def __init__(self, fn: Callable, strict: bool = False) -> None:
        self.fn = fn
        self.strict = strict
        self._plans: dict[tuple, _Plan] = {}
        self.replays = 0  # how many calls so far were replays (the others ran eagerly)
        functools.update_wrapper(self, fn)

    def reset(self) -> None:
        """Forget every recording: the next calls record again."""
        self._plans.clear()

    def replay_source(self) -> str:
        """The generated source of the most recent replay function (empty before there is one): a debugging aid."""
        sources = [plan.source for plan in self._plans.values() if plan.source]
        return sources[-1] if sources else ""

    def __call__(self, *args: Any) -> Any:
        key = _signature(args)
        plan = self._plans.get(key) if key is not None else None
        if plan is not None and plan.replay is not None:
            if _still_valid(plan):
                progress = plan.progress
                progress[0] = 0
                try:
                    result = plan.replay(args)
                except Exception:
                    if progress[0]:  # it had started to change .grad: nothing to fall back to
                        raise
                else:
                    self.replays += 1
                    return result
            # A parameter was rebound, a module switched mode, a value read when recording differs now, or
            # the forward failed (bad input: eager mode says why): record afresh.
            plan = self._plans[key] = _Plan()
        if key is None or state.checks_anomalies or state.tracer is not None:
            return self.fn(*args)  # an unhashable argument, anomaly detection or a nested step: plain eager
        if plan is None:
            if len(self._plans) >= _MAX_SIGNATURES:
                self._give_up(f"more than {_MAX_SIGNATURES} different argument signatures")
                return self.fn(*args)
            plan = self._plans[key] = _Plan()
        if plan.eager_reason is not None:
            return self.fn(*args)
        return self._record(plan, args)

    def _record(self, plan: _Plan, args: tuple) -> Any:
        inputs = [(i, isinstance(a, Tensor)) for i, a in enumerate(args) if isinstance(a, (Tensor, _ndarray))]
        recorder = _Recorder([args[i].data if is_tensor else args[i] for i, is_tensor in inputs])
        for position, a in enumerate(args):
            if isinstance(a, Tensor) and a._node is not None:
                if not a._node.is_leaf:
                    recorder.refuse(f"argument {position} has a grad_fn: pass leaf tensors (detach it)")
                recorder.leaves[id(a._node)] = position
        epoch = state.mutation_epoch
        result = _run_recorded(self.fn, args, recorder)
        if state.mutation_epoch != epoch:
            recorder.refuse("a tensor was changed in place during the step")
        recorder.refusals.extend(recorder.changed_outside_arrays())
        output_spec = _output_spec(result, recorder)
        if recorder.refusals:
            self._stay_eager(plan, "; ".join(recorder.refusals))
            return result
        recording = _Recording(recorder, output_spec, inputs)
        plan.recordings.append(recording)
        if len(plan.recordings) == 2:
            difference = plan.recordings[0].first_difference(recording)
            if difference is not None:
                self._stay_eager(plan, difference)
            else:
                plan.replay, plan.source, plan.progress = _compile(plan.recordings[0])
                plan.leaf_data = plan.recordings[0].leaf_data
                plan.modes = plan.recordings[0].modes
            plan.recordings = []
        return result

    def _stay_eager(self, plan: _Plan, reason: str) -> None:
        plan.eager_reason = reason
        plan.recordings = []
        self._give_up(reason)

    def _give_up(self, reason: str) -> None:
        message = f"compile_step({getattr(self.fn, '__name__', 'fn')}): runs eagerly, not replayed: {reason}"
        if self.strict:
            raise ReplayError(message)
        warnings.warn(message, ReplayWarning, stacklevel=4)


def compile_step(fn: Callable | None = None, *, strict: bool = False) -> Any:
    """Record the primitive calls of a step function and replay them over arrays on later calls.

    Use it as ``step = autograd.compile_step(fn)`` or as a decorator (``@compile_step`` or
    ``@compile_step(strict=True)``). ``fn`` takes Tensors, ndarrays and other (hashable)
    arguments, typically runs a forward pass and ``loss.backward()``, and returns a Tensor (or
    a tuple, list or dict of them, or None). The first two calls with a signature (argument
    shapes and dtypes, non-array arguments, grad mode) run eagerly and record; when their
    tapes agree, later calls replay, bit-identical to eager mode. See `CompiledStep` for when a
    step is replayable.

    Args:
        fn: the step function.
        strict: raise `ReplayError` where the step cannot be replayed, instead of warning with
            `ReplayWarning` and running it eagerly.

    Returns:
        A `CompiledStep` (or, called with only ``strict``, a decorator that makes one).
    """
    if fn is None:
        return lambda f: CompiledStep(f, strict=strict)
    return CompiledStep(fn, strict=strict)


def _still_valid(plan: _Plan) -> bool:
    """The leaves' arrays and the modules' modes are those the tape was recorded with."""
    for tensor_ref, data in plan.leaf_data:
        tensor = tensor_ref()
        if tensor is None or tensor.data is not data:
            return False
    for owner, training in plan.modes:
        if owner.training is not training:
            return False
    return True


def _signature(args: tuple) -> tuple | None:
    """The key a recording is valid for; None when an argument cannot be part of a key."""
    parts: list = [grad_mode.enabled]
    for a in args:
        if isinstance(a, Tensor):
            data = a.data
            parts.append(("T", data.shape, data.dtype.str, data.flags.c_contiguous, a._node is not None))
        elif a.__class__ is _ndarray:
            parts.append(("A", a.shape, a.dtype.str, a.flags.c_contiguous))
        else:
            try:
                hash(a)
            except TypeError:
                return None
            parts.append(("V", type(a), a))
    return tuple(parts)


def _output_spec(result: Any, recorder: _Recorder) -> tuple:
    """The structure of the step's result, with the arrays of its Tensors as specs."""
    if isinstance(result, Tensor):
        return ("tensor", recorder.spec(result.data))
    if isinstance(result, (list, tuple)) and not hasattr(result, "_fields"):
        return ("list" if isinstance(result, list) else "tuple", tuple(_output_spec(r, recorder) for r in result))
    if isinstance(result, dict):
        return ("dict", tuple((k, _output_spec(v, recorder)) for k, v in result.items()))
    if result is None:
        return ("const", None)
    recorder.refuse(f"the step returned a {type(result).__name__}; return Tensors (or containers of them) or None")
    return ("const", result)


def _run_recorded(fn: Callable, args: tuple, recorder: _Recorder) -> Any:
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
