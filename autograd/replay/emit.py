"""Replay: a `Recording` written out as the source of one Python function over arrays (`compile_replay`).

Each entry becomes one line (a few for ``tanh_backward``). Constants and functions are
names in the function's namespace. A variable is freed at its slot's last use, and an
elementwise ufunc writes into the memory of an input that dies at that call when nothing
else can see that memory and the layout matches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..ops import scalar_operand
from ..primitive import REGISTRY
from ..tensor import _make
from .tape import Recording, entry_specs, same_value, slots

_asarray = np.asarray


# ───────────── replay: the tape as one generated function ─────────────


class Emitter:
    """Writes a tape as the source of one Python function over arrays, with a name for every constant."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.namespace: dict[str, Any] = {
            "_make": _make,
            "_asarray": _asarray,
            "_view": _view,
            "same_value": same_value,
            "Diverged": Diverged,
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
            for slot in slots(entry_specs(entry)):
                last[slot] = position
        for slot in slots((self.recording.output_spec,)):
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
        """A cheaper call with the same result, where the recorded arguments allow one.

        ``x * c`` becomes ``np.multiply(x, c)`` with c's 0-d operand resolved; ``x.sum(axis,
        keepdims)`` becomes ``np.add.reduce`` (what the method calls); the weight gradient of
        a 2-D ``linear`` becomes ``g.T @ x``. Each is the primitive's own NumPy call, without the
        Python function around it.
        """
        if forward is not REGISTRY[name].forward:
            return forward, specs
        layout = self.recording.layout
        ufunc = _SCALAR_UFUNCS.get(name)
        if ufunc is not None and len(specs) == 2 and specs[0][0] == "slot" and specs[1][0] == "const":
            return ufunc, (specs[0], ("const", scalar_operand(specs[1][1], layout[specs[0][1]][1])))
        if name == "sum" and len(specs) == 3 and specs[0][0] == "slot":
            x, axis, keepdims = specs
            return _ADD_REDUCE, (x, axis, ("const", None), ("const", None), keepdims)
        if name == "linear_weight_grad" and all(k == "slot" and len(layout[v][0]) == 2 for k, v in specs):
            return np.matmul, (("T", specs[0]), specs[1])
        return forward, specs

    def _linear(self, specs: tuple, position: int, slot: int, lines: list) -> bool:
        """``x @ weight.T (+ bias)`` with a weight from outside the step: the transposed view made once, here."""
        if len(specs) != 1 or specs[0][0] != "list":
            return False
        parts = specs[0][1]  # linear's forward takes one list: [x, weight] or [x, weight, bias]
        if len(parts) not in (2, 3) or parts[1][0] != "const":
            return False
        weight = parts[1][1]
        if weight.__class__ is not np.ndarray or weight.ndim != 2:
            return False
        matmul = self.constant(np.matmul)
        x = self.expression(parts[0])
        bias = self.expression(parts[2]) if len(parts) == 3 else None
        target = self._var(slot)  # before the inputs' names are freed: the bias is read by the second call
        freed = [v for v in self._release(specs, position) if v != target]
        lines.append(f"    {target} = {matmul}({x}, {self.constant(weight.T)})  # linear")
        if bias is not None:
            lines.append(f"    {self.constant(np.add)}({target}, {bias}, {target})")
        if freed:
            lines.append(f"    del {', '.join(freed)}")
        return True

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
        if kind == "T":
            return f"{self.expression(value)}.T"
        items = ", ".join(self.expression(s) for s in value)
        return f"[{items}]" if kind == "list" else f"({items}{',' if len(value) == 1 else ''})"

    def _release(self, specs: tuple, position: int) -> list[str]:
        """Free the variables of the slots whose last reader is entry ``position``; return them."""
        done = sorted({s for s in slots(specs) if self.last_use.get(s) == position})
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
                template = _TEMPLATES.get(name)
                if (
                    template is not None
                    and not made_array
                    and forward is REGISTRY[name].forward
                    and slot in self.last_use
                    and getattr(self, template)(specs, position, slot, lines)
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
                    test = f"not same_value({self.expression(spec)}, {self.constant(expected)})"
                lines.append(f"    if {test}:  # Tensor.{how} was read here when recorded")
                lines.append("        raise Diverged")
                freed = self._release((spec,), position)
                if freed:
                    lines.append(f"    del {', '.join(freed)}")
            else:
                if not committed:  # from here on the replay changes .grad: a failure can no longer run eagerly
                    lines.append("    _progress[0] = 1")
                    committed = True
                _, (kind, target), spec = entry
                self.escaping.update(self._buffer(s) for s in slots((spec,)))  # it becomes a .grad
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
_ADD_REDUCE = np.add.reduce  # one object (each attribute read makes a new bound method)
# Primitives written as a few NumPy calls by an `Emitter` method of this name (which may decline).
_TEMPLATES = {"tanh_backward": "_tanh_backward", "linear": "_linear"}


def _view(base: np.ndarray, shape: tuple, dtype: np.dtype, strides: tuple, offset: int) -> np.ndarray:
    """The view of ``base`` that the recorded step made with NumPy (a reshape, a slice) of the same layout."""
    return np.ndarray(shape, dtype, buffer=base, offset=offset, strides=strides)


class Diverged(Exception):
    """Raised inside a replay when a value read into Python when recording is different now."""


def compile_replay(recording: Recording) -> tuple[Callable, str, list]:
    """The replay function, its source, and its progress flag (set once it starts changing ``.grad``)."""
    emitter = Emitter(recording)
    source = emitter.source()
    code = compile(source, "<gradwire replay>", "exec")
    exec(code, emitter.namespace)  # noqa: S102 - our own generated source: one call per recorded primitive
    return emitter.namespace["replay"], source, emitter.namespace["_progress"]
